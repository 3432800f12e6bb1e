package gptoss.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gptoss.model.testing.GoldenCase;
import gptoss.model.tokenizer.HarmonyTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code gptoss profile} and {@code profile diff} on golden case A, checked against the reference router. */
class ProfileCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final int L = 4, E = 8, K = 2;

    @TempDir
    Path dir;

    static String tokensLine(int[] ids) {
        return "{\"tokens\": [" + Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(", ")) + "]}";
    }

    Path profile(String name, List<String> inputLines, String... extra) throws IOException {
        Path input = dir.resolve(name + ".jsonl"), out = dir.resolve(name);
        Files.write(input, inputLines);
        String[] args = {"profile", "--model", GoldenCase.caseA().toString(), "--input", input.toString(), "--out", out.toString(), "--threads", "2"};
        String[] all = Arrays.copyOf(args, args.length + extra.length);
        System.arraycopy(extra, 0, all, args.length, extra.length);
        CliRunner.Run r = CliRunner.run(all);
        assertEquals(0, r.exitCode(), r.err());
        return out;
    }

    /** Expert counts [L][E] and co-activation [L][E][E] computed from golden ids [L, T, k]. */
    static long[][] counts(int[] ids, int T) {
        long[][] c = new long[L][E];
        for (int l = 0; l < L; l++) for (int t = 0; t < T; t++) for (int s = 0; s < K; s++) c[l][ids[(l * T + t) * K + s]]++;
        return c;
    }

    @Test
    void recordsTheGoldenRouterChoicesAndTheirStatistics() throws IOException {
        int[] prompt = GoldenCase.golden("prompt_tokens.npy").toInts();
        int[] ids = GoldenCase.golden("router_topk_ids_prompt.npy").toInts(); // [L, T, k]
        int T = prompt.length;
        Path out = profile("a", List.of(tokensLine(prompt)));

        // trace: every (layer, position) once, with the golden experts in router order
        List<String> lines = Files.readAllLines(out.resolve("trace.jsonl"));
        assertEquals(L * T, lines.size());
        boolean[][] seen = new boolean[L][T];
        for (String line : lines) {
            JsonNode n = JSON.readTree(line);
            int layer = n.get("layer").asInt(), pos = n.get("pos").asInt();
            assertEquals(0, n.get("prompt").asInt());
            assertEquals(prompt[pos], n.get("token").asInt());
            int[] experts = {n.get("experts").get(0).asInt(), n.get("experts").get(1).asInt()};
            assertArrayEquals(Arrays.copyOfRange(ids, (layer * T + pos) * K, (layer * T + pos) * K + K), experts, line);
            assertFalse(n.has("logits"));
            seen[layer][pos] = true;
        }
        for (boolean[] layer : seen) for (boolean s : layer) assertTrue(s, "a (layer, position) is missing from the trace");

        // summary: counts and entropy from the golden ids
        JsonNode summary = JSON.readTree(out.resolve("summary.json").toFile());
        assertEquals(L, summary.get("num_layers").asInt());
        assertEquals(E, summary.get("num_experts").asInt());
        assertEquals(T, summary.get("tokens").asInt());
        long[][] expected = counts(ids, T);
        for (int l = 0; l < L; l++) {
            JsonNode layer = summary.get("layers").get(l);
            assertEquals(l, layer.get("layer").asInt());
            long[] c = new long[E];
            double mass = 0;
            for (int e = 0; e < E; e++) {
                c[e] = layer.get("expert_counts").get(e).asLong();
                mass += layer.get("expert_weight_mass").get(e).asDouble();
            }
            assertArrayEquals(expected[l], c, "expert counts, layer " + l);
            assertEquals(T, mass, 1e-4, "routing weights of a token sum to 1");
            double entropy = 0, max = 0, min = Double.MAX_VALUE;
            for (long x : expected[l]) {
                if (x > 0) entropy -= x / (double) (T * K) * Math.log(x / (double) (T * K)) / Math.log(2);
                max = Math.max(max, x);
                min = Math.min(min, x);
            }
            assertEquals(entropy, layer.get("entropy_bits").asDouble(), 1e-12, "entropy, layer " + l);
            if (min > 0) assertEquals(max / min, layer.get("max_min_load_ratio").asDouble(), 1e-12);
            else assertTrue(layer.get("max_min_load_ratio").isNull());
            double chi = 0;
            for (long x : expected[l]) chi += Math.pow(x - T * K / (double) E, 2) / (T * K / (double) E);
            assertEquals(chi, layer.get("chi_square").get("statistic").asDouble(), 1e-9);
            assertEquals(E, layer.get("top_tokens").size());
        }

        // co-activation: JSON and CSV agree with pairs counted from the golden ids
        JsonNode co = JSON.readTree(out.resolve("coactivation.json").toFile());
        for (int l = 0; l < L; l++) {
            long[][] pairs = new long[E][E];
            for (int t = 0; t < T; t++) {
                int a = ids[(l * T + t) * K], b = ids[(l * T + t) * K + 1];
                pairs[a][b]++;
                pairs[b][a]++;
                pairs[a][a]++;
                pairs[b][b]++;
            }
            List<String> csv = Files.readAllLines(out.resolve("coactivation/layer-0" + l + ".csv"));
            assertEquals(E + 1, csv.size());
            for (int a = 0; a < E; a++) {
                String[] cells = csv.get(a + 1).split(",");
                for (int b = 0; b < E; b++) {
                    assertEquals(pairs[a][b], co.get("layers").get(l).get("matrix").get(a).get(b).asLong());
                    assertEquals(pairs[a][b], Long.parseLong(cells[b + 1]));
                }
            }
        }

        // pictures and the report: PNGs that decode, and a page whose every local reference exists
        BufferedImage load = ImageIO.read(out.resolve("load-heatmap.png").toFile());
        assertNotNull(load);
        assertTrue(load.getWidth() > E * 10 && load.getHeight() > L * 10);
        for (int l = 0; l < L; l++) assertNotNull(ImageIO.read(out.resolve("coactivation/layer-0" + l + ".png").toFile()));
        String html = Files.readString(out.resolve("report.html"));
        Matcher m = Pattern.compile("(?:src|href)=\"([^\"#]+)\"").matcher(html);
        int refs = 0;
        while (m.find()) {
            assertFalse(m.group(1).contains(":"), "only relative references: " + m.group(1));
            assertTrue(Files.isRegularFile(out.resolve(m.group(1))), "report refers to a missing file " + m.group(1));
            refs++;
        }
        assertTrue(refs >= 1 + 2 * L, "heatmaps and CSVs are linked");
    }

    @Test
    void continuationsAreProfiledTooAndFollowTheGreedyReference() throws IOException {
        int[] prompt = GoldenCase.golden("prompt_tokens.npy").toInts();
        int[] greedy = GoldenCase.golden("greedy_tokens.npy").toInts();
        int[] ids = GoldenCase.golden("router_topk_ids_full_seq.npy").toInts(); // [L, T + 16, k]
        int T = prompt.length + greedy.length;
        Path out = profile("gen", List.of(tokensLine(Arrays.copyOf(prompt, 5)), tokensLine(prompt)),
                "--max-tokens", String.valueOf(greedy.length), "--no-stop-on-eos", "--router-logits", "--no-trace");
        assertFalse(Files.exists(out.resolve("trace.jsonl")));
        out = profile("gen2", List.of(tokensLine(prompt)), "--max-tokens", String.valueOf(greedy.length), "--no-stop-on-eos", "--router-logits");
        int[] tokens = new int[T];
        for (String line : Files.readAllLines(out.resolve("trace.jsonl"))) {
            JsonNode n = JSON.readTree(line);
            int layer = n.get("layer").asInt(), pos = n.get("pos").asInt();
            tokens[pos] = n.get("token").asInt();
            assertEquals(E, n.get("logits").size());
            int[] experts = {n.get("experts").get(0).asInt(), n.get("experts").get(1).asInt()};
            assertArrayEquals(Arrays.copyOfRange(ids, (layer * T + pos) * K, (layer * T + pos) * K + K), experts, line);
        }
        assertArrayEquals(greedy, Arrays.copyOfRange(tokens, prompt.length, T), "generated tokens are the greedy reference");
        JsonNode summary = JSON.readTree(out.resolve("summary.json").toFile());
        assertEquals(T, summary.get("tokens").asInt());
        assertEquals(greedy.length, summary.get("source").get("generated_tokens").asInt());
        long[][] expected = counts(ids, T);
        for (int l = 0; l < L; l++) {
            for (int e = 0; e < E; e++) assertEquals(expected[l][e], summary.get("layers").get(l).get("expert_counts").get(e).asLong());
        }
    }

    @Test
    void diffOfTwoProfiles() throws IOException {
        int[] prompt = GoldenCase.golden("prompt_tokens.npy").toInts();
        int[] ids = GoldenCase.golden("router_topk_ids_prompt.npy").toInts();
        int T = prompt.length, half = 12;
        Path a = profile("whole", List.of(tokensLine(prompt)));
        Path b = profile("half", List.of(tokensLine(Arrays.copyOf(prompt, half))));
        Path out = dir.resolve("diff");
        CliRunner.Run r = CliRunner.run("profile", "diff", a.toString(), b.resolve("summary.json").toString(), "--top", "5", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("total variation"), r.out());
        JsonNode d = JSON.readTree(out.resolve("diff.json").toFile());
        long[][] ca = counts(ids, T);
        // the first half of a prompt routes as the prompt's first positions do (causal attention)
        long[][] cb = new long[L][E];
        for (int l = 0; l < L; l++) for (int t = 0; t < half; t++) for (int s = 0; s < K; s++) cb[l][ids[(l * T + t) * K + s]]++;
        for (int l = 0; l < L; l++) {
            double tv = 0;
            for (int e = 0; e < E; e++) tv += Math.abs(ca[l][e] / (double) (T * K) - cb[l][e] / (double) (half * K)) / 2;
            assertEquals(tv, d.get("layers").get(l).get("total_variation").asDouble(), 1e-12, "layer " + l);
        }
        assertEquals(5, d.get("top_shifts").size());
        assertNotNull(ImageIO.read(out.resolve("diff-heatmap.png").toFile()));

        CliRunner.Run same = CliRunner.run("profile", "diff", a.toString(), a.toString(), "--top", "0");
        assertEquals(0, same.exitCode(), same.err());
        assertTrue(same.out().contains("0.0000       0.0000"), same.out());
    }

    @Test
    void textAndChatPromptsAreRenderedThroughHarmony() throws IOException {
        Path tiny = dir.resolve("tiny");
        assertEquals(0, CliRunner.run("synth", "--out", tiny.toString(), "--preset", "tiny", "--seed", "4").exitCode());
        Path input = dir.resolve("corpus.jsonl"), out = dir.resolve("text");
        Files.write(input, List.of("{\"prompt\": \"Why is the sky blue?\"}",
                "{\"messages\": [{\"role\": \"user\", \"content\": \"Name a prime.\"}]}"));
        CliRunner.Run r = CliRunner.run("profile", "--model", tiny.toString(), "--input", input.toString(), "--out", out.toString(),
                "--no-system", "--max-tokens", "3", "--threads", "2");
        assertEquals(0, r.exitCode(), r.err());

        HarmonyTokenizer tok = HarmonyTokenizer.instance();
        int[] expected0 = tok.encodeWithSpecialTokens("<|start|>user<|message|>Why is the sky blue?<|end|><|start|>assistant");
        java.util.Map<Integer, java.util.TreeMap<Integer, Integer>> tokens = new java.util.HashMap<>();
        for (String line : Files.readAllLines(out.resolve("trace.jsonl"))) {
            JsonNode n = JSON.readTree(line);
            if (n.get("layer").asInt() == 0) tokens.computeIfAbsent(n.get("prompt").asInt(), k -> new java.util.TreeMap<>()).put(n.get("pos").asInt(), n.get("token").asInt());
        }
        int[] seen0 = tokens.get(0).values().stream().mapToInt(Integer::intValue).toArray();
        assertArrayEquals(expected0, Arrays.copyOf(seen0, expected0.length), "text prompt as a user message for completion");
        assertTrue(seen0.length <= expected0.length + 3);
        String chat = tok.decode(tokens.get(1).values().stream().mapToInt(Integer::intValue).toArray());
        assertTrue(chat.startsWith("<|start|>system<|message|>") && chat.contains("<|start|>user<|message|>Name a prime.<|end|><|start|>assistant"), chat);

        JsonNode summary = JSON.readTree(out.resolve("summary.json").toFile());
        JsonNode top = summary.get("layers").get(0).get("top_tokens");
        int checked = 0;
        for (JsonNode expert : top) {
            for (JsonNode t : expert) {
                int id = t.get("id").asInt();
                if (id < HarmonyTokenizer.ORDINARY_TOKENS && tok.decode(new int[]{id}).indexOf('\uFFFD') < 0) {
                    assertEquals(tok.decode(new int[]{id}), t.get("text").asText());
                    checked++;
                }
            }
        }
        assertTrue(checked > 0, "top tokens carry their text");
        assertTrue(Files.readString(out.resolve("report.html")).contains("<code>&lt;|start|&gt;</code>"), "the report shows token text");
    }

    @Test
    void badInputsEndWithOneLineNamingTheProblem() throws IOException {
        CliRunner.Run none = CliRunner.run("profile", "--model", GoldenCase.caseA().toString());
        assertEquals(2, none.exitCode());
        assertTrue(none.err().contains("--input"), none.err());

        Path text = dir.resolve("bad.jsonl");
        Files.write(text, List.of("{\"tokens\": [1, 2]}", "{\"tokens\": [1, 99999]}"));
        CliRunner.Run vocab = CliRunner.run("profile", "--model", GoldenCase.caseA().toString(), "--input", text.toString(), "--out", dir.resolve("x").toString());
        assertEquals(1, vocab.exitCode());
        assertTrue(vocab.err().contains("line 2") && vocab.err().contains("99999"), vocab.err());

        CliRunner.Run missing = CliRunner.run("profile", "diff", dir.resolve("nothing").toString(), dir.resolve("nothing").toString());
        assertEquals(1, missing.exitCode());
        assertTrue(missing.err().startsWith("error: no profile summary at"), missing.err());
    }
}
