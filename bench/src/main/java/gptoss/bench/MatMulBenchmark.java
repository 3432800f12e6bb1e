package gptoss.bench;

import gptoss.runtime.cpu.WorkerPool;
import gptoss.runtime.cpu.kernel.Gemm;
import gptoss.runtime.cpu.kernel.VectorLayout;
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
 * Prefill and batched decode: one expert-sized weight matrix (5760 × 2880, an expert's gate/up) times a batch of
 * token rows. {@code gemm} is {@link Gemm} (the backend's kernel for two rows or more), its epilogue described by a
 * {@link Gemm.Output} as the backend's is (from 16 tokens the native GEMM then folds and writes in C); {@code rows} runs the
 * single-row kernels ({@link WeightMatrix#dotRows}, the backend's path for one row) once per token, the figure a
 * batch of a few rows must beat; {@code scalar} is the element-by-element reference, row by row. The
 * {@code :flops} rate is the figure of merit: run {@link FmaPeakBenchmark} in the same invocation to give it as a
 * fraction of this machine's peak.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class MatMulBenchmark {
    @Param({"bf16", "mxfp4"})
    public String format;

    @Param({"gemm", "rows", "scalar"})
    public String kernel;

    @Param({"2", "8", "128"})
    public int tokens;

    @Param({"2"})
    public int threads;

    private static final int ROWS = 5760, COLS = 2880, ROW_BLOCK = 64;
    private Arena arena;
    private WorkerPool pool;
    private CpuRate rate;
    private WeightMatrix matrix;
    private float[] x, input, out;
    private int stride;
    private WorkerPool.Task task;
    private int units;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        var tensor = RandomWeights.tensor(format, arena, (long) ROWS * COLS, 3);
        matrix = kernel.equals("scalar") ? WeightMatrix.scalar(tensor, 0, ROWS, COLS) : WeightMatrix.of(tensor, ROWS, COLS);
        x = RandomWeights.gaussian(tokens * COLS, 4);
        stride = Gemm.stride(matrix);
        input = new float[tokens * stride];
        VectorLayout layout = kernel.equals("rows") ? matrix.dotLayout() : matrix.decodeLayout();
        for (int t = 0; t < tokens; t++) layout.arrange(x, t * COLS, COLS, input, t * stride);
        out = new float[tokens * ROWS];
        pool = new WorkerPool(threads);
        rate = new CpuRate(pool);
        switch (kernel) {
            case "gemm" -> {
                Gemm.Scratch[] scratch = new Gemm.Scratch[threads];
                Gemm.Epilogue[] epilogues = new Gemm.Epilogue[threads];
                for (int i = 0; i < threads; i++) {
                    scratch[i] = new Gemm.Scratch();
                    Gemm.Output output = new Gemm.Output();
                    epilogues[i] = new Gemm.Epilogue() { // as the engine's: the native epilogue writes token-major rows (no bias here)
                        @Override
                        public void write(int row, int count, int n, float[] c, int cOffset, int cStride) {
                            for (int r = 0; r < count; r++) {
                                for (int t = 0; t < n; t++) out[t * ROWS + row + r] = c[cOffset + r * cStride + t];
                            }
                        }

                        @Override
                        public Gemm.Output output(int row, int count) {
                            java.util.Arrays.fill(output.set(out, row, ROWS, false, 0f, 0f, count), 0, count, 0f);
                            return output;
                        }
                    };
                }
                int unit = Gemm.unitRows(tokens);
                units = (ROWS + unit - 1) / unit;
                task = (thread, from, to) -> {
                    for (int u = from; u < to; u++) {
                        int row = u * unit;
                        Gemm.rows(matrix, row, Math.min(unit, ROWS - row), input, 0, stride, tokens, scratch[thread], epilogues[thread]);
                    }
                };
            }
            case "rows" -> {
                float[][] pass = new float[threads][WeightMatrix.PASS_ROWS];
                units = ROWS / ROW_BLOCK;
                task = (thread, from, to) -> {
                    for (int t = 0; t < tokens; t++) {
                        matrix.dotRows(from * ROW_BLOCK, to * ROW_BLOCK, input, t * stride, out, t * ROWS, pass[thread]);
                    }
                };
            }
            default -> {
                units = ROWS / ROW_BLOCK;
                task = (thread, from, to) -> {
                    for (int r = from * ROW_BLOCK; r < to * ROW_BLOCK; r++) {
                        for (int t = 0; t < tokens; t++) out[t * ROWS + r] = matrix.dotScalar(r, x, t * COLS);
                    }
                };
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        rate.print("matmul " + format + " " + kernel + " " + tokens + " tokens");
        pool.close();
        arena.close();
    }

    @Benchmark
    public float[] matmul(Traffic traffic) {
        rate.begin();
        pool.run(units, Math.max(1, units / (threads * 8)), task);
        rate.end(2L * ROWS * COLS * tokens);
        traffic.bytes += matrix.bytes();
        traffic.flops += 2L * ROWS * COLS * tokens;
        return out;
    }
}
