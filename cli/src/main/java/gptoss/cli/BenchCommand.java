package gptoss.cli;

import gptoss.api.LoadedModel;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gptoss.measure.ProcessMemory;
import gptoss.measure.TokenTraffic;
import gptoss.runtime.backend.Backend;
import gptoss.runtime.backend.DeviceTraffic;
import gptoss.runtime.cpu.ReadBandwidth;
import gptoss.runtime.cpu.WorkerPool;
import gptoss.runtime.cpu.kernel.Lanes;
import gptoss.runtime.engine.Engine;
import gptoss.runtime.engine.Sequence;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import gptoss.runtime.profile.RoutingProfiler;
import picocli.CommandLine.Option;

import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code gptoss bench}: prompt processing and generation speed, and generation against the machine's read
 * bandwidth measured in the same run. Each repetition processes a random prompt on a fresh sequence, then
 * generates greedily in blocks of {@code --bandwidth-every} tokens, each block preceded by three streaming passes over a
 * buffer larger than the caches (the best counts; bandwidth and generation are sampled in the same moments); its
 * roofline fraction is (tokens/s × bytes per token) / (mean of its bandwidth samples). Medians over repetitions are reported; the
 * resident set is sampled while generating after the stream buffer is freed.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure prompt processing and generation tokens/s, bytes read per generated token, "
                + "and generation as a fraction of the memory read bandwidth measured in the same run.")
final class BenchCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--prompt-tokens", defaultValue = "512", paramLabel = "N", description = "Prompt length (default: ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--gen-tokens", defaultValue = "64", paramLabel = "N", description = "Tokens generated after the prompt (default: ${DEFAULT-VALUE}).")
    int genTokens;

    @Option(names = "--repetitions", defaultValue = "3", paramLabel = "N", description = "Measured runs (default: ${DEFAULT-VALUE}).")
    int repetitions;

    @Option(names = "--bandwidth-buffer-mib", defaultValue = "1024", paramLabel = "MIB",
            description = "Buffer streamed to measure read bandwidth; must exceed the caches (default: ${DEFAULT-VALUE}).")
    int bufferMib;

    @Option(names = "--bandwidth-every", defaultValue = "16", paramLabel = "N",
            description = "Generated tokens between two bandwidth samples (default: ${DEFAULT-VALUE}).")
    int block;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the random prompt (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--profile-experts", description = "Record every routing decision with the expert profiler during the run (measures its overhead).")
    boolean profileExperts;

    @Option(names = "--sequences", defaultValue = "1", paramLabel = "N",
            description = "Also measure batched decoding: N sequences per engine step against 1, alternating in the same run "
                    + "(each after a prompt of min(--prompt-tokens, 128) tokens; default: ${DEFAULT-VALUE} = off).")
    int sequences;

    @Option(names = "--json", description = "Print one JSON object instead of a table.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (promptTokens < 1 || genTokens < 1 || repetitions < 1) throw new IllegalArgumentException("--prompt-tokens, --gen-tokens and --repetitions must be >= 1");
        if (sequences < 1) throw new IllegalArgumentException("--sequences must be >= 1");
        if (bufferMib < 1 || block < 1) throw new IllegalArgumentException("--bandwidth-buffer-mib and --bandwidth-every must be >= 1");
        double loadBefore = ProcessMemory.loadAverage();
        int threads = model.threads();
        try (LoadedModel m = model.load()) {
            Engine engine = m.engine();
            RoutingProfiler profiler = profileExperts ? RoutingProfiler.attach(engine) : null;
            int V = m.config().vocabSize();
            if (promptTokens + genTokens > engine.maxContext()) {
                throw new IllegalArgumentException("--prompt-tokens + --gen-tokens exceed the context of " + engine.maxContext());
            }
            SplittableRandom random = new SplittableRandom(seed);
            int[] prompt = new int[promptTokens];
            for (int i = 0; i < promptTokens; i++) prompt[i] = random.nextInt(V);
            float[] logits = new float[V];
            TokenTraffic traffic = new TokenTraffic(m.config(), m.checkpoint().weights());

            // Page the whole checkpoint in first, so that no measured step waits for the disk; not where the weights
            // live on a device that runs whole steps (the host never reads them again, and the backend gave their
            // pages back after the upload).
            if (engine.runsWholeSteps()) {
                System.err.println("weights on the device (whole-step backend): the checkpoint is not paged in");
            } else {
                long total = m.checkpoint().totalBytes();
                int[] shown = {-1};
                m.checkpoint().pageIn(done -> {
                    int percent = (int) (100 * done / total);
                    if (percent / 10 == shown[0] / 10 && done < total) return;
                    shown[0] = percent;
                    System.err.printf(Locale.ROOT, "\rpaging in weights: %3d%% of %.2f GiB", percent, total / (double) (1L << 30));
                });
                System.err.println();
            }

            // Warm-up: let the JIT compile the matrix-matrix (prompt) and matrix-vector (generation) kernels. The whole
            // prompt, as llama-bench warms up with its whole -p prompt: the paths a 512-token chunk takes (experts with
            // ~64 rows through the GEMM and its epilogue) are not those of a short prompt (experts with a few rows), and
            // a shorter warm-up left them to be compiled inside the first timed repetition (10-25 % slower than the next).
            try (Sequence warm = engine.newSequence()) {
                engine.forward(warm, prompt, false, logits);
                generate(engine, warm, logits, Math.min(genTokens, 16));
            }

            double[] pp = new double[repetitions], tg = new double[repetitions], bandwidth = new double[repetitions];
            double[] bytesPerToken = new double[repetitions], fraction = new double[repetitions];
            DeviceTraffic device = DeviceTraffic.NONE; // task-graph executions and host/device copies while generating
            long rss, kv, hugeWeights;
            Sequence last = null;
            try (Arena arena = Arena.ofShared(); WorkerPool streamPool = new WorkerPool(threads)) {
                ReadBandwidth.Pass pass = new ReadBandwidth.Pass(arena, (long) bufferMib << 20, threads);
                bandwidthNow(pass, streamPool); // compiles the streaming loop
                for (int r = 0; r < repetitions; r++) {
                    if (last != null) last.close();
                    Sequence seq = last = engine.newSequence();
                    long start = System.nanoTime();
                    engine.forward(seq, prompt, false, logits);
                    pp[r] = promptTokens * 1e9 / (System.nanoTime() - start);
                    traffic.reset();
                    engine.addListener(traffic);
                    // --profile-kernels: what is printed at the end is the last generation phase alone.
                    engine.placement().backends().forEach(Backend::drainKernelTimings);
                    DeviceTraffic before = deviceTraffic(engine);
                    // Generation in blocks of --bandwidth-every tokens, each preceded by a bandwidth sample, so the bandwidth is
                    // sampled in the same moments (a shared machine's bandwidth changes from second to second).
                    long nanos = 0;
                    double gigabytes = 0;
                    for (int done = 0; done < genTokens; done += block) {
                        gigabytes += bandwidthNow(pass, streamPool);
                        start = System.nanoTime();
                        generate(engine, seq, logits, Math.min(block, genTokens - done));
                        nanos += System.nanoTime() - start;
                    }
                    engine.removeListener(traffic);
                    device = device.plus(deviceTraffic(engine).minus(before));
                    tg[r] = genTokens * 1e9 / nanos;
                    bandwidth[r] = gigabytes / ((genTokens + block - 1) / block);
                    bytesPerToken[r] = traffic.bytesPerToken();
                    fraction[r] = tg[r] * bytesPerToken[r] / 1e9 / bandwidth[r];
                }
            }
            // The stream buffer is gone: the resident set while generating is the engine's own.
            try (Sequence seq = last) {
                generate(engine, seq, logits, 2);
                rss = ProcessMemory.residentBytes();
                hugeWeights = ProcessMemory.fileHugePageBytes();
                kv = seq.cacheBytes();
            }
            double[] batch1 = null, batchN = null;
            if (sequences > 1) {
                int context = Math.min(promptTokens, 128);
                batch1 = new double[repetitions];
                batchN = new double[repetitions];
                batchDecode(engine, sequences, context, 2, random, false); // warm-up of the multi-row kernels
                for (int r = 0; r < repetitions; r++) {
                    batch1[r] = batchDecode(engine, 1, context, genTokens, random, model.profileKernels);
                    batchN[r] = batchDecode(engine, sequences, context, genTokens, random, model.profileKernels);
                    System.err.printf(Locale.ROOT, "batched decode %d/%d: 1 sequence %.2f tok/s, %d sequences %.2f tok/s%n",
                            r + 1, repetitions, batch1[r], sequences, batchN[r]);
                }
            }
            double bpt = median(bytesPerToken);
            Report report = new Report(m, threads, promptTokens, genTokens, model.prefillChunk, pp, tg, bandwidth, bytesPerToken,
                    fraction, bpt, median(tg) * bpt / 1e9, median(fraction), rss, kv, hugeWeights, loadBefore, ProcessMemory.loadAverage(),
                    traffic.fixedBytesPerToken(), device, (long) repetitions * genTokens, sequences, batch1, batchN);
            if (model.profileKernels && device.executions() > 0) System.err.println(report.deviceLine());
            System.out.println(json ? report.json() : report.table());
            if (profiler != null) {
                profiler.close();
                System.err.println("expert profiler was attached: " + profiler.profile().tokens() + " positions recorded in each of " + m.config().numLayers() + " layers");
            }
        }
        return 0;
    }

    /**
     * The read bandwidth now, in GB/s: the best of three back-to-back streaming passes. A single pass after other
     * work measured up to a quarter slower than passes in a row on this VM, while generation keeps the memory
     * busy without pause; the best of three also skips the milliseconds the engine's workers spin after their
     * last task.
     */
    private static double bandwidthNow(ReadBandwidth.Pass pass, WorkerPool pool) {
        double best = 0;
        for (int i = 0; i < 3; i++) {
            long start = System.nanoTime();
            pass.run(pool);
            best = Math.max(best, pass.bytes() / (double) (System.nanoTime() - start));
        }
        return best;
    }

    /** The device work of all backends so far (executions and copies; zero for host backends). */
    private static DeviceTraffic deviceTraffic(Engine engine) {
        DeviceTraffic sum = DeviceTraffic.NONE;
        for (Backend b : engine.placement().backends()) sum = sum.plus(b.deviceTraffic());
        return sum;
    }

    /**
     * Aggregate decode rate of {@code n} sequences stepped together (one {@link Engine#decode} call per step), each
     * after its own random prompt of {@code context} tokens: n × steps / time, in tokens per second. With
     * {@code profile} (--profile-kernels), prints the timed steps' kernel times per step.
     */
    private static double batchDecode(Engine engine, int n, int context, int steps, SplittableRandom random, boolean profile) {
        int V = engine.config().vocabSize();
        Sequence[] seqs = new Sequence[n];
        int[] tokens = new int[n];
        try {
            float[] logits = new float[V];
            for (int i = 0; i < n; i++) {
                seqs[i] = engine.newSequence();
                int[] prompt = new int[context];
                for (int t = 0; t < context; t++) prompt[t] = random.nextInt(V);
                engine.forward(seqs[i], prompt, false, logits);
                tokens[i] = argmax(logits);
            }
            if (profile) engine.placement().backends().forEach(Backend::drainKernelTimings);
            long start = System.nanoTime();
            for (int s = 0; s < steps; s++) {
                float[] rows = engine.decode(seqs, tokens);
                for (int i = 0; i < n; i++) tokens[i] = argmax(rows, i * V, V);
            }
            long nanos = System.nanoTime() - start;
            if (profile) printStepProfile(engine, n, steps, nanos);
            return (double) n * steps * 1e9 / nanos;
        } finally {
            for (Sequence s : seqs) if (s != null) s.close();
        }
    }

    /** One line per backend: the step time and each kernel's milliseconds (and calls) per step, largest first. */
    private static void printStepProfile(Engine engine, int n, int steps, long nanos) {
        for (Backend b : engine.placement().backends()) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "step profile, %d sequence%s (%s): %.2f ms per step",
                    n, n == 1 ? "" : "s", b.name(), nanos / 1e6 / steps));
            b.drainKernelTimings().entrySet().stream().sorted((a, z) -> Long.compare(z.getValue().nanos(), a.getValue().nanos()))
                    .forEach(e -> line.append(String.format(Locale.ROOT, "; %s %.2f (%d)", e.getKey(),
                            e.getValue().nanos() / 1e6 / steps, e.getValue().calls() / steps)));
            System.err.println(line);
        }
    }

    private static int argmax(float[] v, int offset, int length) {
        int best = 0;
        for (int i = 1; i < length; i++) if (v[offset + i] > v[offset + best]) best = i;
        return best;
    }

    /** Decodes {@code count} tokens greedily, starting from the logits of the previous step. */
    private static void generate(Engine engine, Sequence seq, float[] logits, int count) {
        int[] token = new int[1];
        for (int i = 0; i < count; i++) {
            token[0] = argmax(logits);
            engine.forward(seq, token, false, logits);
        }
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    static double min(double[] v) {
        return Arrays.stream(v).min().orElse(0);
    }

    static double max(double[] v) {
        return Arrays.stream(v).max().orElse(0);
    }

    private record Report(LoadedModel m, int threads, int promptTokens, int genTokens, int prefillChunk, double[] pp, double[] tg, double[] bandwidth,
                          double[] runBytesPerToken, double[] runFractions, double bytesPerToken,
                          double achievedGbPerSecond, double rooflineFraction, long rssBytes, long kvBytes, long hugePageWeightBytes,
                          double loadBefore, double loadAfter, long fixedBytesPerToken, DeviceTraffic device, long generated,
                          int sequences, double[] batch1, double[] batchN) {

        /** Device work per generated token (for device backends): executions and host/device bytes, both directions. */
        String deviceLine() {
            return String.format(Locale.ROOT, "device work per generated token: %.2f task-graph executions, %.0f host<->device bytes (%.0f to the device, %.0f back)",
                    device.executions() / (double) generated, device.bytes() / (double) generated,
                    device.hostToDeviceBytes() / (double) generated, device.deviceToHostBytes() / (double) generated);
        }

        String json() throws Exception {
            ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            ObjectNode o = mapper.createObjectNode();
            o.put("model", m.checkpoint().directory().toString());
            o.put("threads", threads);
            o.put("vectors", Lanes.describe());
            o.put("prompt_tokens", promptTokens);
            o.put("gen_tokens", genTokens);
            o.put("prefill_chunk", prefillChunk);
            o.put("repetitions", pp.length);
            o.put("pp_tokens_per_s", median(pp));
            o.put("pp_tokens_per_s_min", BenchCommand.min(pp));
            o.put("pp_tokens_per_s_max", BenchCommand.max(pp));
            o.put("tg_tokens_per_s", median(tg));
            o.put("tg_tokens_per_s_min", BenchCommand.min(tg));
            o.put("tg_tokens_per_s_max", BenchCommand.max(tg));
            o.put("pp_to_tg_ratio", median(pp) / median(tg));
            o.put("bytes_per_token", Math.round(bytesPerToken));
            o.put("tg_gb_s", achievedGbPerSecond);
            o.put("read_bandwidth_gb_s", median(bandwidth));
            o.put("read_bandwidth_gb_s_min", BenchCommand.min(bandwidth));
            o.put("read_bandwidth_gb_s_max", BenchCommand.max(bandwidth));
            o.put("tg_roofline_fraction", rooflineFraction);
            o.put("rss_bytes", rssBytes);
            o.put("checkpoint_bytes", m.checkpoint().totalBytes());
            o.put("kv_cache_bytes", kvBytes);
            o.put("rss_limit_bytes", (long) ((m.checkpoint().totalBytes() + kvBytes) * 1.1));
            o.put("heap_used_bytes", ProcessMemory.heapUsedBytes());
            o.put("weights_in_huge_pages_bytes", hugePageWeightBytes);
            o.put("load_average_before", loadBefore);
            o.put("load_average_after", loadAfter);
            if (device.executions() > 0) {
                o.put("device_executions_per_token", device.executions() / (double) generated);
                o.put("host_device_bytes_per_token", device.bytes() / (double) generated);
                o.put("host_to_device_bytes_per_token", device.hostToDeviceBytes() / (double) generated);
                o.put("device_to_host_bytes_per_token", device.deviceToHostBytes() / (double) generated);
            }
            if (batchN != null) {
                o.put("sequences", sequences);
                o.put("tg_aggregate_tokens_per_s", median(batchN));
                o.put("tg_aggregate_tokens_per_s_min", BenchCommand.min(batchN));
                o.put("tg_aggregate_tokens_per_s_max", BenchCommand.max(batchN));
                o.put("tg_batch1_tokens_per_s", median(batch1));
                o.put("tg_aggregate_speedup", median(batchN) / median(batch1));
            }
            var runs = o.putArray("runs");
            for (int r = 0; r < pp.length; r++) {
                runs.addObject().put("pp_tokens_per_s", pp[r]).put("tg_tokens_per_s", tg[r]).put("read_bandwidth_gb_s", bandwidth[r])
                        .put("bytes_per_token", Math.round(runBytesPerToken[r])).put("tg_roofline_fraction", runFractions[r]);
            }
            return mapper.writeValueAsString(o);
        }

        String table() {
            StringBuilder b = new StringBuilder();
            b.append(String.format(Locale.ROOT, "%s, %d threads, %s; prompt %d tokens (chunks of %d), %d generated%n",
                    m.checkpoint().directory(), threads, Lanes.describe(), promptTokens, prefillChunk, genTokens));
            b.append(String.format(Locale.ROOT, "%-26s %10s %10s %10s%n", "", "median", "min", "max"));
            row(b, "prompt tokens/s", pp);
            row(b, "generated tokens/s", tg);
            row(b, "read bandwidth GB/s", bandwidth);
            b.append(String.format(Locale.ROOT, "bytes read per token       %.1f MB (%.1f MB outside the experts)%n",
                    bytesPerToken / 1e6, fixedBytesPerToken / 1e6));
            b.append(String.format(Locale.ROOT, "generation reads           %.2f GB/s = %.1f %% of the read bandwidth%n",
                    achievedGbPerSecond, 100 * rooflineFraction));
            b.append(String.format(Locale.ROOT, "prompt / generation        %.2f x%n", median(pp) / median(tg)));
            long checkpoint = m.checkpoint().totalBytes();
            b.append(String.format(Locale.ROOT, "resident memory            %.2f GiB (checkpoint %.2f GiB + KV cache %.1f MiB; heap in use %.1f MiB)%n",
                    rssBytes / (double) (1L << 30), checkpoint / (double) (1L << 30), kvBytes / (double) (1 << 20),
                    ProcessMemory.heapUsedBytes() / (double) (1 << 20)));
            if (hugePageWeightBytes >= 0) {
                b.append(String.format(Locale.ROOT, "weights in 2 MiB pages     %.2f GiB of %.2f GiB mapped%s%n", hugePageWeightBytes / (double) (1L << 30),
                        checkpoint / (double) (1L << 30), hugePageWeightBytes < checkpoint / 2
                                ? " (parts cached in small pages before; see README, Performance)" : ""));
            }
            if (device.executions() > 0) {
                b.append(String.format(Locale.ROOT, "device work per token      %.2f executions, %.1f KiB host<->device%n",
                        device.executions() / (double) generated, device.bytes() / (double) generated / 1024));
            }
            if (batchN != null) {
                row(b, "batch of 1: tokens/s", batch1);
                row(b, "batch of " + sequences + ": tokens/s", batchN);
                b.append(String.format(Locale.ROOT, "batched decode speedup     %.2f x (aggregate over %d sequences / 1 sequence)%n",
                        median(batchN) / median(batch1), sequences));
            }
            b.append(String.format(Locale.ROOT, "load average               %.2f before, %.2f after", loadBefore, loadAfter));
            return b.toString();
        }

        private static void row(StringBuilder b, String name, double[] v) {
            b.append(String.format(Locale.ROOT, "%-26s %10.2f %10.2f %10.2f%n", name, median(v), BenchCommand.min(v), BenchCommand.max(v)));
        }
    }
}
