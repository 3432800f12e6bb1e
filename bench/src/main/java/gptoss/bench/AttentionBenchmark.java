package gptoss.bench;

import gptoss.runtime.cpu.WorkerPool;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Attention of a prompt chunk with gpt-oss shapes (64 query heads of 64, 8 KV heads, sinks): {@code chunk} rows
 * at positions {@code context .. context + chunk - 1} over a cache holding everything before them, on a full or a
 * sliding-window (128) layer, split over {@code threads} pool threads as the backend splits it. {@code tiled} is
 * the backend's kernel ({@link Attention}: units of one KV head × 16 query rows, key tiles shared by all of them);
 * {@code rows} the kernel it replaced ({@link RowAttention}: one row at a time, one unit per KV head).
 * {@code chunk = 1} is a decoding step. The {@code :flops} row counts the products q·k and p·v of the visible keys.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class AttentionBenchmark {
    @Param({"tiled", "rows"})
    public String kernel;

    @Param({"0", "4096", "16384"})
    public int context;

    @Param({"full", "sliding"})
    public String layer;

    @Param({"512"})
    public int chunk;

    @Param({"2"})
    public int threads;

    private static final int HEADS = 64, KV_HEADS = 8, D = 64, GROUP = HEADS / KV_HEADS, Q = HEADS * D, KV = KV_HEADS * D;
    private static final int WINDOW = 128, RING = 256, QUERY_TILE = 16;
    private static final float SCALE = 0.125f;
    private int capacity, window;
    private long flopsPerChunk;
    private float[] q, keys, values, sinks, out;
    private float[][] scratch;
    private WorkerPool pool;

    @Setup(Level.Trial)
    public void setUp() {
        boolean sliding = layer.equals("sliding"), tiled = kernel.equals("tiled");
        window = sliding ? WINDOW : Attention.FULL;
        int slots = context + chunk;
        capacity = tiled ? (sliding ? RING : round(slots, Attention.KEY_TILE)) : (sliding ? WINDOW : round(slots, Lanes.L));
        q = RandomWeights.gaussian(chunk * Q, 5);
        keys = RandomWeights.gaussian(KV * capacity, 6);   // tiled: [kvHead][tile][d][slot]; rows: [kvHead][d][slot]
        values = RandomWeights.gaussian(KV * capacity, 7); // tiled: [kvHead][slot][d]; rows: [slot][kvHead][d]
        sinks = RandomWeights.gaussian(HEADS, 8);
        out = new float[chunk * Q];
        pool = new WorkerPool(threads);
        scratch = new float[threads][tiled ? Attention.scratchSize(QUERY_TILE, GROUP, D) : RowAttention.scratchSize(GROUP, slots)];
        for (int p = context; p < slots; p++) flopsPerChunk += 4L * HEADS * D * visible(p);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
    }

    private static int round(int n, int multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }

    private int visible(int position) {
        return Math.min(position + 1, window);
    }

    @Benchmark
    public float[] attend(Traffic traffic) {
        if (kernel.equals("tiled")) {
            int tiles = (chunk + QUERY_TILE - 1) / QUERY_TILE, ring = window == WINDOW ? RING : 0;
            pool.run(KV_HEADS * tiles, 1, (thread, from, to) -> {
                for (int unit = from; unit < to; unit++) {
                    int kv = unit / tiles, first = unit % tiles * QUERY_TILE, rows = Math.min(QUERY_TILE, chunk - first);
                    int head = kv * GROUP * D, block = kv * capacity * D;
                    Attention.attend(q, first * Q + head, Q, rows, context + first, GROUP, D, keys, block, ring, values, block, D,
                            window, sinks, kv * GROUP, SCALE, scratch[thread], out, first * Q + head, Q);
                }
            });
        } else {
            for (int t = 0; t < chunk; t++) {
                int row = t, count = visible(context + t);
                pool.run(KV_HEADS, 1, (thread, from, to) -> {
                    for (int kv = from; kv < to; kv++) {
                        int head = kv * GROUP * D;
                        RowAttention.attend(q, row * Q + head, GROUP, D, keys, kv * D * capacity, capacity, values, kv * D, KV, count,
                                sinks, kv * GROUP, SCALE, scratch[thread], out, row * Q + head);
                    }
                });
            }
        }
        traffic.flops += flopsPerChunk;
        return out;
    }
}
