package gptoss.bench;

import gptoss.runtime.cpu.kernel.Attention;
import gptoss.runtime.cpu.kernel.Lanes;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Attention of one query row with gpt-oss shapes (64 query heads of 64, 8 KV heads, sinks) over a cache of
 * {@code context} positions, one thread: scores, softmax and the value mix. {@code vector} is the backend's
 * kernel, {@code scalar} the reference loops.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class AttentionBenchmark {
    @Param({"vector", "scalar"})
    public String kernel;

    @Param({"512", "4096"})
    public int context;

    private static final int HEADS = 64, KV_HEADS = 8, D = 64, GROUP = HEADS / KV_HEADS, KV = KV_HEADS * D;
    private int capacity;
    private float[] q, keys, values, sinks, scratch, out;

    @Setup(Level.Trial)
    public void setUp() {
        capacity = (context + Lanes.L - 1) / Lanes.L * Lanes.L;
        q = RandomWeights.gaussian(HEADS * D, 5);
        keys = RandomWeights.gaussian(KV * capacity, 6);
        values = RandomWeights.gaussian(capacity * KV, 7);
        sinks = RandomWeights.gaussian(HEADS, 8);
        scratch = new float[Attention.scratchSize(GROUP, context)];
        out = new float[HEADS * D];
    }

    @Benchmark
    public float[] attend(Traffic traffic) {
        float scale = 0.125f;
        for (int kv = 0; kv < KV_HEADS; kv++) {
            if (kernel.equals("vector")) {
                Attention.attend(q, kv * GROUP * D, GROUP, D, keys, kv * D * capacity, capacity, values, kv * D, KV, context,
                        sinks, kv * GROUP, scale, scratch, out, kv * GROUP * D);
            } else {
                Attention.attendScalar(q, kv * GROUP * D, GROUP, D, keys, kv * D * capacity, capacity, values, kv * D, KV, context,
                        sinks, kv * GROUP, scale, scratch, out, kv * GROUP * D);
            }
        }
        traffic.bytes += 2L * context * KV * 4;
        traffic.flops += 4L * HEADS * context * D;
        return out;
    }
}
