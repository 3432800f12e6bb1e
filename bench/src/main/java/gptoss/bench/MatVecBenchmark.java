package gptoss.bench;

import gptoss.runtime.cpu.CpuBackend;
import gptoss.runtime.cpu.WorkerPool;
import gptoss.runtime.cpu.kernel.WeightMatrix;
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

import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;

/**
 * Decoding one token: a weight matrix (2880 wide, larger than the caches) times one activation vector, output
 * rows split across threads, eight rows per pass as the backend does. {@code vector} is the backend's kernel (the
 * native MXFP4 kernel where the build compiled it), {@code java} the Java Vector API kernel, {@code scalar} the
 * element-by-element reference. With {@code shape=expert}, the memory holds many 5760×2880 matrices (gpt-oss-20b's
 * gate/up shape) and each invocation multiplies the next one, as decoding goes from expert to expert: rows out of
 * cache, one dispatch per matrix. GGUF's formats: {@code q8_0} and {@code ggml-mxfp4}; with {@code shape=paired}
 * (those two), many 2880×2880 gate and up matrices of two tensors, read as the backend's SwiGLU kernel reads GGUF
 * experts: (gate, up) row pairs, four pairs per {@link WeightMatrix#dot8} pass. Compare the {@code :bytes} rate
 * with {@link ReadBandwidthBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class MatVecBenchmark {
    /** {@code bf16}, {@code mxfp4}, or GGUF's {@code q8_0}, {@code ggml-mxfp4}. */
    @Param({"bf16", "mxfp4"})
    public String format;

    @Param({"vector", "java", "scalar"})
    public String kernel;

    /**
     * {@code matrix}: one matrix of {@link #megabytes}; {@code expert}: that memory as 5760×2880 matrices, one per
     * invocation; {@code paired}: GGUF gate/up pairs (see the class comment).
     */
    @Param({"matrix"})
    public String shape;

    @Param({"1", "2"})
    public int threads;

    /**
     * Rows of a pass: {@code spread}, the backend's {@link WeightMatrix#dotRows} (over the chunk for BF16, eight long
     * streams), or {@code adjacent} (r..r+7 for every format), to compare with.
     */
    @Param({"adjacent", "spread"})
    public String rows8;

    /** Size of the matrix: larger than every cache. */
    @Param({"512"})
    public int megabytes;

    private static final int COLS = 2880, EXPERT_ROWS = 5760;
    private Arena arena;
    private WorkerPool pool;
    private WeightMatrix matrix;
    private WeightMatrix[] matrices;
    private int next;
    private int rows, grain;
    private float[] x, input, out;
    private final float[][] passes = new float[16][WeightMatrix.PASS_ROWS];
    private final WorkerPool.Task task = (thread, from, to) -> {
        if (shape.equals("paired") && !kernel.equals("scalar")) {
            // units are (gate, up) row pairs, four per pass, as CpuBackend's SwiGLU kernel reads them
            int j = from;
            for (; j + WeightMatrix.PASS_ROWS / 2 <= to; j += WeightMatrix.PASS_ROWS / 2) matrix.dot8(2 * j, input, 0, out, 2 * j);
            for (; j < to; j++) {
                out[2 * j] = matrix.dot(2 * j, input, 0);
                out[2 * j + 1] = matrix.dot(2 * j + 1, input, 0);
            }
        } else if (!kernel.equals("scalar") && rows8.equals("spread")) {
            matrix.dotRows(from, to, input, 0, out, 0, passes[thread]);
        } else if (!kernel.equals("scalar")) {
            int r = from;
            for (; r + WeightMatrix.PASS_ROWS <= to; r += WeightMatrix.PASS_ROWS) matrix.dot8(r, input, 0, out, r);
            for (; r < to; r++) out[r] = matrix.dot(r, input, 0);
        } else {
            for (int r = from; r < to; r++) out[r] = matrix.dotScalar(r, x, 0);
        }
    };

    @Setup(Level.Trial)
    public void setUp() {
        double rowBytes = switch (format) {
            case "bf16" -> 2.0 * COLS;
            case "q8_0" -> COLS / 32 * 34.0;
            default -> COLS / 32 * 17.0;
        };
        int total = (int) (megabytes * (1L << 20) / rowBytes);
        boolean paired = shape.equals("paired");
        if (shape.equals("expert")) total = Math.max(1, total / EXPERT_ROWS) * EXPERT_ROWS;
        if (paired) total = Math.max(1, total / 2 / COLS) * COLS; // rows of each of the two tensors
        rows = shape.equals("expert") ? EXPERT_ROWS : paired ? 2 * COLS : total;
        arena = Arena.ofShared();
        var tensor = RandomWeights.tensor(format, arena, (long) total * COLS, 1);
        var up = paired ? RandomWeights.tensor(format, arena, (long) total * COLS, 3) : null;
        matrices = new WeightMatrix[paired ? total / COLS : total / rows];
        for (int i = 0; i < matrices.length; i++) {
            if (paired) {
                var both = new gptoss.model.tensor.InterleavedRowsTensor(tensor, up, COLS);
                long offset = (long) i * rows * COLS;
                matrices[i] = switch (kernel) {
                    case "vector" -> WeightMatrix.of(both, offset, rows, COLS);
                    case "java" -> WeightMatrix.javaKernels(both, offset, rows, COLS);
                    default -> WeightMatrix.scalar(both, offset, rows, COLS);
                };
                continue;
            }
            long offset = (long) i * rows * COLS;
            matrices[i] = switch (kernel) {
                case "vector" -> WeightMatrix.of(tensor, offset, rows, COLS);
                case "java" -> WeightMatrix.javaKernels(tensor, offset, rows, COLS);
                default -> WeightMatrix.scalar(tensor, offset, rows, COLS);
            };
        }
        matrix = matrices[0];
        x = RandomWeights.gaussian(COLS, 2);
        input = new float[matrix.dotLayout().length(COLS)];
        matrix.dotLayout().arrange(x, 0, COLS, input, 0);
        out = new float[rows];
        pool = new WorkerPool(threads);
        grain = CpuBackend.claimRows(matrix.bytes(), matrix.bytes() / rows, threads, CpuBackend.claimsPerThread()); // as the backend claims rows
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @Benchmark
    public float[] matvec(Traffic traffic) {
        matrix = matrices[next];
        next = next + 1 == matrices.length ? 0 : next + 1;
        boolean paired = shape.equals("paired"); // units of two rows
        CpuBackend.runClaims(pool, paired ? rows / 2 : rows, paired ? Math.max(4, grain / 2) : grain,
                paired ? WeightMatrix.PASS_ROWS / 2 : WeightMatrix.PASS_ROWS, task); // as the backend dispatches
        traffic.bytes += matrix.bytes();
        traffic.flops += 2L * rows * COLS;
        return out;
    }
}
