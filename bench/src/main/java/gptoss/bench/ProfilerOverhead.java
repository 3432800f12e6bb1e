package gptoss.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import gptoss.model.checkpoint.Checkpoint;
import gptoss.runtime.backend.Backend;
import gptoss.runtime.backend.BackendProvider;
import gptoss.runtime.backend.BackendRequest;
import gptoss.runtime.backend.Shard;
import gptoss.runtime.engine.Engine;
import gptoss.runtime.engine.Placement;
import gptoss.runtime.engine.Sequence;
import gptoss.runtime.profile.RoutingProfiler;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Decode cost of the routing profiler, measured in one process so that load from other processes hits both sides
 * alike: blocks of greedy decode steps alternate between no listener and a {@link RoutingProfiler} with a sink that
 * writes every decision as a JSON line to a file (Jackson over the decision record, heavier than the CLI's trace
 * writer). Reports wall time and process CPU time per token.
 *
 * <pre>java -cp ... gptoss.bench.ProfilerOverhead MODEL_DIR [rounds] [tokens-per-block] [threads]</pre>
 */
public final class ProfilerOverhead {
    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: ProfilerOverhead MODEL_DIR [rounds=6] [tokens-per-block=8] [threads=all]");
            System.exit(2);
        }
        Path model = Path.of(args[0]);
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 6, block = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        int threads = args.length > 3 ? Integer.parseInt(args[3]) : Runtime.getRuntime().availableProcessors();
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        Path trace = Files.createTempFile("profiler-overhead", ".jsonl");
        ObjectMapper json = new ObjectMapper();
        try (Checkpoint ckpt = Checkpoint.open(model);
             BufferedWriter traceOut = Files.newBufferedWriter(trace)) {
            var c = ckpt.config();
            Backend backend = BackendProvider.named("cpu").create(new BackendRequest(c, ckpt.weights(), 0, threads, Shard.all(c), false));
            try (Engine engine = new Engine(c, ckpt.weights(), Placement.single(backend, c), 4096, Engine.DEFAULT_PREFILL_CHUNK);
                 Sequence seq = engine.newSequence()) {
                float[] logits = engine.forward(seq, new int[]{200006, 17360, 200008, 3575, 553, 290, 1636, 30, 200007}, false);
                int[] token = {argmax(logits)};
                for (int i = 0; i < 3; i++) token[0] = step(engine, seq, token[0]); // warm-up
                List<double[]> off = new ArrayList<>(), on = new ArrayList<>();
                for (int r = 0; r < rounds; r++) {
                    for (int half = 0; half < 2; half++) {
                        boolean profiled = (r + half) % 2 == 1; // alternate which side goes first
                        RoutingProfiler profiler = null;
                        if (profiled) {
                            profiler = RoutingProfiler.attach(engine);
                            profiler.addSink(d -> {
                                try {
                                    traceOut.write(json.writeValueAsString(d));
                                    traceOut.newLine();
                                } catch (IOException e) {
                                    throw new UncheckedIOException(e);
                                }
                            });
                        }
                        long wall0 = System.nanoTime(), cpu0 = os.getProcessCpuTime();
                        for (int i = 0; i < block; i++) token[0] = step(engine, seq, token[0]);
                        double wall = (System.nanoTime() - wall0) / 1e6 / block, cpu = (os.getProcessCpuTime() - cpu0) / 1e6 / block;
                        if (profiler != null) profiler.close();
                        (profiled ? on : off).add(new double[]{wall, cpu});
                        System.out.printf(Locale.ROOT, "round %d %-12s %8.1f ms/token wall %8.1f ms/token cpu%n", r, profiled ? "profiler" : "no listener", wall, cpu);
                    }
                }
                report("wall", off, on, 0, block);
                report("cpu ", off, on, 1, block);
                traceOut.flush();
                System.out.printf(Locale.ROOT, "trace lines written: %d%n", Files.lines(trace).count());
            }
        } finally {
            Files.deleteIfExists(trace);
        }
    }

    private static void report(String what, List<double[]> off, List<double[]> on, int column, int block) {
        double[] a = off.stream().mapToDouble(x -> x[column]).sorted().toArray(), b = on.stream().mapToDouble(x -> x[column]).sorted().toArray();
        double ma = median(a), mb = median(b), sa = Arrays.stream(a).sum(), sb = Arrays.stream(b).sum();
        System.out.printf(Locale.ROOT, "%s ms/token: no listener median %.1f (%.2f tok/s), profiler median %.1f (%.2f tok/s): "
                        + "overhead %+.2f %% by medians, %+.2f %% by totals (%d blocks of %d tokens each)%n",
                what, ma, 1000 / ma, mb, 1000 / mb, 100 * (mb / ma - 1), 100 * (sb / sa - 1), a.length, block);
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static int step(Engine engine, Sequence seq, int token) {
        return argmax(engine.forward(seq, new int[]{token}, false));
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
