package gptoss.bench;

import gptoss.model.memory.HugePages;
import gptoss.runtime.cpu.CpuBackend;
import gptoss.runtime.cpu.ReadBandwidth;
import gptoss.runtime.cpu.WorkerPool;
import gptoss.runtime.cpu.kernel.WeightMatrix;
import org.openjdk.jmh.annotations.AuxCounters;
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
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * Issue 17's criterion as one measurement: the matrix-vector product of a 5760×2880 matrix (gpt-oss-20b's expert
 * gate/up shape; the memory holds 512 MB of them, cycled, so rows come from memory; other shapes with {@link #shape})
 * against a plain Java read of as
 * many bytes of another 512 MB buffer, <b>alternating within every invocation</b> (about a millisecond each; the
 * order flips every invocation), both on the same {@link WorkerPool} of {@link #threads} threads. The machine's
 * bandwidth swings 2× within a minute here; two benchmarks run one after the other compare different minutes, these
 * two slices see the same ones.
 *
 * <p>The read is as good as we could make plain Java read memory: each thread claims 256 KiB chunks (the kernel
 * claims about 550 KB of an expert's rows) and reads a chunk as {@link #streams} interleaved streams of 512-bit loads summed
 * into four accumulators. The kernel is the backend's: {@link WeightMatrix#dotRows} over claimed row ranges as
 * {@code CpuBackend} runs it ({@code kernel=vector}: the native kernel where the build compiled it; {@code java}:
 * the Java Vector API kernel).
 *
 * <p>Results ({@link Share}, JMH's operation-rate counters, mean ± error over the iterations): {@code kernelGBs}
 * and {@code readGBs} are each side's bytes over its own time (10^9 B/s; the JMH unit label says "ops/s"), and
 * {@code sharePercent} is 100 × kernel rate / read rate of the same iteration. (JMH divides an operation counter by
 * the iteration's time; the getters scale by that time, which the benchmark measures itself, so each prints the
 * rate or percentage it names.)
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 10, time = 1)
public class MatVecShareBenchmark {
    /** {@code mxfp4} or {@code bf16}. */
    @Param({"mxfp4"})
    public String format;

    /** {@code vector}: the backend's kernel (native where built); {@code java}: the Java Vector API kernel. */
    @Param({"vector"})
    public String kernel;

    @Param({"2"})
    public int threads;

    /** Interleaved streams per 256 KiB chunk of the read. */
    @Param({"8"})
    public int streams;

    /** Rows × columns of each matrix: 5760×2880 (an expert's gate/up), 5120×2880 (attention q/k/v), 2880×4096 (attention out), 201088×2880 (the unembedding). */
    @Param({"5760x2880"})
    public String shape;

    /** Rows of a pass: {@code spread}, the backend's {@link WeightMatrix#dotRows}; {@code adjacent}, r..r+7 by {@link WeightMatrix#dot8}. */
    @Param({"spread"})
    public String rows8;

    /** Claims per thread the rows are cut into, as {@code CpuBackend} cuts them (its default since session 6: 8; it was 32). */
    @Param({"8"})
    public int claims;

    /** Size of the matrices' memory and of the read buffer, each: larger than every cache. */
    @Param({"512"})
    public int megabytes;

    private int rows, cols; // of each matrix, from shape
    private static final long READ_CHUNK = 256 << 10;
    private Arena arena;
    private WorkerPool pool;
    private WeightMatrix[] matrices;
    private WeightMatrix matrix;
    private MemorySegment buffer;
    private long sliceBytes, sliceStart;
    private int slices, next, grain;
    private long invocations;
    private float[] input, out;
    private final float[][] passes = new float[16][WeightMatrix.PASS_ROWS];
    private final long[] sums = new long[16 * 8];

    private final WorkerPool.Task product = (thread, from, to) -> {
        if (rows8.equals("spread")) {
            matrix.dotRows(from, to, input, 0, out, 0, passes[thread]);
        } else {
            int r = from;
            for (; r + WeightMatrix.PASS_ROWS <= to; r += WeightMatrix.PASS_ROWS) matrix.dot8(r, input, 0, out, r);
            for (; r < to; r++) out[r] = matrix.dot(r, input, 0);
        }
    };

    private final WorkerPool.Task read = (thread, from, to) -> {
        long sum = 0;
        for (long c = sliceStart + from * READ_CHUNK, end = Math.min(sliceStart + to * READ_CHUNK, sliceStart + sliceBytes); c < end; c += READ_CHUNK) {
            long chunkEnd = Math.min(c + READ_CHUNK, end);
            // eight interleaved streams as ReadBandwidth reads; one sequential stream for streams != 8 and the slice's last, partial chunk
            sum += streams == 8 && chunkEnd - c == READ_CHUNK ? ReadBandwidth.readInterleaved(buffer, c, chunkEnd) : ReadBandwidth.readSequential(buffer, c, chunkEnd);
        }
        sums[thread * 8] += sum;
    };

    /** Bytes and nanoseconds of both sides in the current iteration; the getters are what JMH reports. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Share {
        long kernelBytes, kernelNanos, readBytes, readNanos;

        @Setup(Level.Iteration)
        public void clear() {
            kernelBytes = kernelNanos = readBytes = readNanos = 0;
        }

        private double totalNanos() {
            return kernelNanos + readNanos;
        }

        /** The kernel's GB/s (scaled by the iteration time that JMH divides by). */
        public double kernelGBs() {
            return kernelNanos == 0 ? 0 : kernelBytes / (double) kernelNanos * totalNanos() / 1e9;
        }

        /** The read's GB/s. */
        public double readGBs() {
            return readNanos == 0 ? 0 : readBytes / (double) readNanos * totalNanos() / 1e9;
        }

        /** 100 × kernel GB/s / read GB/s, over the same iteration. */
        public double sharePercent() {
            if (kernelNanos == 0 || readNanos == 0) return 0;
            double share = (kernelBytes / (double) kernelNanos) / (readBytes / (double) readNanos);
            return 100 * share * totalNanos() / 1e9;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        String[] rc = shape.split("x");
        rows = Integer.parseInt(rc[0]);
        cols = Integer.parseInt(rc[1]);
        double rowBytes = format.equals("bf16") ? 2.0 * cols : cols / 32 * 17.0;
        int count = Math.max(1, (int) (megabytes * (1L << 20) / (rowBytes * rows)));
        arena = Arena.ofShared();
        var tensor = RandomWeights.tensor(format, arena, (long) count * rows * cols, 1);
        matrices = new WeightMatrix[count];
        for (int i = 0; i < count; i++) {
            long offset = (long) i * rows * cols;
            matrices[i] = kernel.equals("java") ? WeightMatrix.javaKernels(tensor, offset, rows, cols) : WeightMatrix.of(tensor, offset, rows, cols);
        }
        matrix = matrices[0];
        sliceBytes = matrix.bytes() / 64 * 64;
        slices = count;
        buffer = HugePages.allocate(slices * sliceBytes, arena);
        buffer.fill((byte) 1);
        float[] x = RandomWeights.gaussian(cols, 2);
        input = new float[matrix.dotLayout().length(cols)];
        matrix.dotLayout().arrange(x, 0, cols, input, 0);
        out = new float[rows];
        pool = new WorkerPool(threads);
        grain = CpuBackend.claimRows(matrix.bytes(), matrix.bytes() / rows, threads, claims); // as the backend claims rows
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @Benchmark
    public long alternate(Share share) {
        int i = next;
        next = next + 1 == slices ? 0 : next + 1;
        matrix = matrices[i];
        sliceStart = i * sliceBytes;
        int chunks = (int) ((sliceBytes + READ_CHUNK - 1) / READ_CHUNK);
        boolean kernelFirst = (invocations++ & 1) == 0;
        long t0 = System.nanoTime();
        if (kernelFirst) CpuBackend.runClaims(pool, rows, grain, WeightMatrix.PASS_ROWS, product);
        else pool.run(chunks, 1, read);
        long t1 = System.nanoTime();
        if (kernelFirst) pool.run(chunks, 1, read);
        else CpuBackend.runClaims(pool, rows, grain, WeightMatrix.PASS_ROWS, product);
        long t2 = System.nanoTime();
        share.kernelNanos += kernelFirst ? t1 - t0 : t2 - t1;
        share.readNanos += kernelFirst ? t2 - t1 : t1 - t0;
        share.kernelBytes += matrix.bytes();
        share.readBytes += sliceBytes;
        return sums[0] + Float.floatToRawIntBits(out[i % rows]);
    }
}
