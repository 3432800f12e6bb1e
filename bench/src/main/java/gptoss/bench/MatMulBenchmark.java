package gptoss.bench;

import gptoss.runtime.cpu.WorkerPool;
import gptoss.runtime.cpu.kernel.Gemm;
import gptoss.runtime.cpu.kernel.MatMul;
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
 * Prefill: one expert-sized weight matrix (5760 × 2880, an expert's gate/up) times a batch of token rows.
 * {@code gemm} is the packed, register-blocked {@link Gemm} (the backend's kernel for several tokens);
 * {@code vector} decodes four weight rows at a time and applies them to every token with a 4×4 tile of dot
 * products (the kernel before it); {@code scalar} is the element-by-element reference, row by row. The
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

    @Param({"gemm", "vector", "scalar"})
    public String kernel;

    @Param({"16", "64", "128"})
    public int tokens;

    @Param({"2"})
    public int threads;

    private static final int ROWS = 5760, COLS = 2880;
    private Arena arena;
    private WorkerPool pool;
    private CpuRate rate;
    private WeightMatrix matrix;
    private float[] x, input, out;
    private float[][] weights, sums, values;
    private MatMul.RowSink[] sinks;
    private WorkerPool.Task task;
    private float[] packed;
    private Gemm.Scratch[] scratch;
    private Gemm.Epilogue[] epilogues;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        var tensor = RandomWeights.tensor(format, arena, (long) ROWS * COLS, 3);
        matrix = kernel.equals("vector") ? WeightMatrix.of(tensor, ROWS, COLS) : WeightMatrix.scalar(tensor, 0, ROWS, COLS);
        x = RandomWeights.gaussian(tokens * COLS, 4);
        input = new float[tokens * COLS];
        for (int t = 0; t < tokens; t++) matrix.decodeLayout().arrange(x, t * COLS, COLS, input, t * COLS);
        out = new float[tokens * ROWS];
        pool = new WorkerPool(threads);
        rate = new CpuRate(pool);
        weights = new float[threads][4 * COLS];
        sums = new float[threads][16];
        values = new float[threads][4];
        sinks = new MatMul.RowSink[threads];
        for (int i = 0; i < threads; i++) {
            sinks[i] = (token, row, count, v) -> {
                for (int r = 0; r < count; r++) out[token * ROWS + row + r] = v[r];
            };
        }
        packed = new float[Gemm.packedLength(tokens, COLS)];
        scratch = new Gemm.Scratch[threads];
        epilogues = new Gemm.Epilogue[threads];
        for (int i = 0; i < threads; i++) {
            scratch[i] = new Gemm.Scratch();
            epilogues[i] = (row, count, n, c, cOffset, cStride) -> {
                for (int r = 0; r < count; r++) {
                    for (int t = 0; t < n; t++) out[t * ROWS + row + r] = c[cOffset + r * cStride + t];
                }
            };
        }
        if (kernel.equals("gemm")) {
            task = (thread, from, to) -> {
                for (int u = from; u < to; u++) {
                    int row = u * Gemm.UNIT_ROWS;
                    Gemm.rows(matrix, row, Math.min(Gemm.UNIT_ROWS, ROWS - row), packed, tokens, scratch[thread], epilogues[thread]);
                }
            };
        } else task = kernel.equals("vector")
                ? (thread, from, to) -> {
                    for (int b = from; b < to; b++) {
                        MatMul.rowBlock(matrix, 4 * b, 4, input, COLS, tokens, weights[thread], sums[thread], values[thread], sinks[thread]);
                    }
                }
                : (thread, from, to) -> {
                    for (int b = from; b < to; b++) {
                        for (int r = 4 * b; r < 4 * b + 4; r++) {
                            for (int t = 0; t < tokens; t++) out[t * ROWS + r] = matrix.dotScalar(r, x, t * COLS);
                        }
                    }
                };
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
        if (kernel.equals("gemm")) {
            Gemm.pack(input, 0, COLS, tokens, COLS, packed);  // once per product, as the backend does
            int units = (ROWS + Gemm.UNIT_ROWS - 1) / Gemm.UNIT_ROWS;
            pool.run(units, Math.max(1, units / (threads * 8)), task);
        } else {
            pool.run(ROWS / 4, Math.max(1, ROWS / 4 / (threads * 8)), task);
        }
        rate.end(2L * ROWS * COLS * tokens);
        traffic.bytes += matrix.bytes();
        traffic.flops += 2L * ROWS * COLS * tokens;
        return out;
    }
}
