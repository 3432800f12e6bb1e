package gptoss.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * A load test of a running server on loopback: {@code clients} concurrent streaming clients send
 * {@code /v1/completions} requests for {@code seconds}. Client i always asks prompt i with seed i, so every answer
 * must equal the answer to the same request sent alone first (the reference run): any difference is mixed output.
 * Every {@code disconnectEvery}-th request of a client hangs up after a few tokens, to check that abandoned
 * streams free their sequences. Reports time to first token and inter-token latency percentiles, measured on the
 * text deltas (a token that completes no character, e.g. half of a UTF-8 sequence, arrives with the next).
 */
public final class LoadTest {
    /**
     * @param temperature        sampling temperature of every request (each client has its own seed). With random weights the
     *                           next-token distribution is nearly flat (some 5e-6 per token), so the last-bit differences
     *                           between the single-row and multi-row kernels (the engine promises ≤ 1e-5, not bit equality)
     *                           move sampling boundaries across the draw; greedy (0) or a low temperature keeps the check
     *                           about cross-talk, not rounding
     * @param disconnectEvery    every n-th request of a client hangs up early; 0 never
     * @param minRequestsPerClient each client sends at least this many requests, however long they take
     */
    public record Settings(String baseUrl, String apiKey, String model, int clients, double seconds, int maxTokens, int disconnectEvery,
                           int minRequestsPerClient, double temperature) {
    }

    /** What the load test saw. */
    public record Report(int clients, double seconds, int requests, int completed, int disconnected, int errors, int mismatches,
                         long tokens, double tokensPerSecond, double ttftP50Ms, double ttftP99Ms, double itlP50Ms, double itlP99Ms,
                         double activeSequencesAfter, List<String> problems) {
        public boolean ok() {
            return errors == 0 && mismatches == 0 && activeSequencesAfter == 0 && completed > 0;
        }

        public ObjectNode json() {
            ObjectNode o = OpenAiServer.JSON.createObjectNode().put("clients", clients).put("seconds", seconds).put("requests", requests)
                    .put("completed", completed).put("disconnected_on_purpose", disconnected).put("errors", errors).put("mismatches", mismatches)
                    .put("generated_tokens", tokens).put("tokens_per_s", tokensPerSecond).put("ttft_p50_ms", ttftP50Ms)
                    .put("ttft_p99_ms", ttftP99Ms).put("itl_p50_ms", itlP50Ms).put("itl_p99_ms", itlP99Ms)
                    .put("active_sequences_after", activeSequencesAfter).put("ok", ok());
            var p = o.putArray("problems");
            problems.stream().limit(20).forEach(p::add);
            return o;
        }

        public String table() {
            return String.format(Locale.ROOT, """
                    %d clients for %.0f s: %d requests, %d completed, %d hung up on purpose, %d errors, %d mismatched answers
                    generated %d tokens = %.1f tokens/s in all
                    time to first token   p50 %8.1f ms   p99 %8.1f ms
                    inter-token latency   p50 %8.1f ms   p99 %8.1f ms
                    active sequences after the test: %.0f%s""", clients, seconds, requests, completed, disconnected, errors, mismatches,
                    tokens, tokensPerSecond, ttftP50Ms, ttftP99Ms, itlP50Ms, itlP99Ms, activeSequencesAfter,
                    problems.isEmpty() ? "" : "\nproblems:\n  " + String.join("\n  ", problems.subList(0, Math.min(10, problems.size()))));
        }
    }

    private record Answer(String text, String finish, long firstTokenNanos, List<Long> gaps, int deltas) {
    }

    private final Settings s;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    public LoadTest(Settings settings) {
        this.s = settings;
    }

    private String body(int client) {
        ObjectNode o = OpenAiServer.JSON.createObjectNode().put("model", s.model())
                .put("prompt", "Client " + client + " asks: tell me story number " + (client * 7 + 3) + ".")
                .put("max_tokens", s.maxTokens()).put("temperature", s.temperature()).put("seed", 1000 + client).put("stream", true);
        return o.toString();
    }

    /** Sends one streaming request; hangs up after {@code hangUpAfter} deltas when positive. */
    private Answer send(int client, int hangUpAfter) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.baseUrl() + "/v1/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body(client)));
        if (s.apiKey() != null) b.header("Authorization", "Bearer " + s.apiKey());
        long start = System.nanoTime();
        HttpResponse<Stream<String>> res = http.send(b.build(), HttpResponse.BodyHandlers.ofLines());
        if (res.statusCode() != 200) {
            String text = String.join("\n", res.body().toList());
            throw new IOException("HTTP " + res.statusCode() + ": " + text);
        }
        StringBuilder text = new StringBuilder();
        String finish = null;
        long first = -1, last = -1;
        List<Long> gaps = new ArrayList<>();
        int deltas = 0;
        try (Stream<String> lines = res.body()) {
            Iterator<String> it = lines.iterator();
            while (it.hasNext()) {
                String line = it.next();
                if (!line.startsWith("data: ")) continue;
                String data = line.substring(6);
                if (data.equals("[DONE]")) break;
                JsonNode chunk = OpenAiServer.JSON.readTree(data);
                if (chunk.has("error")) throw new IOException("stream error: " + chunk.get("error"));
                JsonNode choice = chunk.path("choices").path(0);
                String delta = choice.path("text").asText("");
                long now = System.nanoTime();
                if (!delta.isEmpty()) {
                    if (first < 0) first = now - start;
                    else gaps.add(now - last);
                    last = now;
                    text.append(delta);
                    deltas++;
                    if (hangUpAfter > 0 && deltas >= hangUpAfter) return new Answer(null, "hung up", first, gaps, deltas);
                }
                if (!choice.path("finish_reason").isNull() && !choice.path("finish_reason").isMissingNode()) finish = choice.get("finish_reason").asText();
            }
        }
        return new Answer(text.toString(), finish, first, gaps, deltas);
    }

    public Report run() throws Exception {
        // Reference: each client's request alone, after a warm-up round. (Cold, not yet compiled Vector API code sums
        // lanes in another order, so a request answered before the JIT has compiled the kernels may differ in the last
        // bits of its logits, and at temperature > 0 in a sampled token; that is JIT state, not batch composition.)
        for (int c = 0; c < s.clients(); c++) send(c, 0);
        String[] expected = new String[s.clients()];
        for (int c = 0; c < s.clients(); c++) expected[c] = send(c, 0).text();

        AtomicInteger requests = new AtomicInteger(), completed = new AtomicInteger(), disconnected = new AtomicInteger(),
                errors = new AtomicInteger(), mismatches = new AtomicInteger();
        AtomicLong tokens = new AtomicLong();
        List<Long> ttft = Collections.synchronizedList(new ArrayList<>()), itl = Collections.synchronizedList(new ArrayList<>());
        List<String> problems = Collections.synchronizedList(new ArrayList<>());
        ConcurrentHashMap<Integer, Integer> perClient = new ConcurrentHashMap<>();
        long start = System.nanoTime(), end = start + (long) (s.seconds() * 1e9);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> futures = new ArrayList<>();
            for (int c = 0; c < s.clients(); c++) {
                int client = c;
                futures.add(pool.submit(() -> {
                    int n = 0;
                    while (System.nanoTime() < end || n < s.minRequestsPerClient()) {
                        n++;
                        requests.incrementAndGet();
                        boolean hangUp = s.disconnectEvery() > 0 && n % s.disconnectEvery() == 0;
                        try {
                            Answer a = send(client, hangUp ? 3 : 0);
                            if (a.firstTokenNanos() >= 0) ttft.add(a.firstTokenNanos());
                            itl.addAll(a.gaps());
                            tokens.addAndGet(a.deltas());
                            if (hangUp) {
                                disconnected.incrementAndGet();
                                continue;
                            }
                            completed.incrementAndGet();
                            if (!a.text().equals(expected[client])) {
                                mismatches.incrementAndGet();
                                problems.add("client " + client + " request " + n + ": got '" + a.text() + "', alone it was '" + expected[client] + "'");
                            }
                        } catch (Exception e) {
                            errors.incrementAndGet();
                            problems.add("client " + client + " request " + n + ": " + e.getMessage());
                        }
                    }
                    perClient.put(client, n);
                    return null;
                }));
            }
            for (Future<?> f : futures) f.get();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double active = activeSequences();
        return new Report(s.clients(), seconds, requests.get(), completed.get(), disconnected.get(), errors.get(), mismatches.get(),
                tokens.get(), tokens.get() / seconds, percentile(ttft, 50), percentile(ttft, 99), percentile(itl, 50), percentile(itl, 99),
                active, new ArrayList<>(problems));
    }

    /** gptoss_active_sequences from /metrics, once the cancelled streams have left (waits up to 5 s). */
    private double activeSequences() throws Exception {
        double value = -1;
        for (int i = 0; i < 50; i++) {
            String metrics = http.send(HttpRequest.newBuilder(URI.create(s.baseUrl() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
            value = metrics.lines().filter(l -> l.startsWith("gptoss_active_sequences ")).mapToDouble(l -> Double.parseDouble(l.substring(l.indexOf(' ') + 1)))
                    .findFirst().orElse(-1);
            if (value == 0) return 0;
            Thread.sleep(100);
        }
        return value;
    }

    private static double percentile(List<Long> nanos, int p) {
        if (nanos.isEmpty()) return Double.NaN;
        long[] v;
        synchronized (nanos) {
            v = nanos.stream().mapToLong(Long::longValue).toArray();
        }
        Arrays.sort(v);
        int i = (int) Math.ceil(p / 100.0 * v.length) - 1;
        return v[Math.max(0, Math.min(v.length - 1, i))] / 1e6;
    }
}
