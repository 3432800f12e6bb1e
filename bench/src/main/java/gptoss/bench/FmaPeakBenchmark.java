package gptoss.bench;

import gptoss.runtime.cpu.WorkerPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
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
 * This machine's fp32 FMA peak as the JVM reaches it: each thread runs 16 independent chains of vector FMAs on
 * registers (enough to cover the FMA latency on two ports), no memory traffic. Run it in the same JMH invocation
 * as {@link MatMulBenchmark} so each GEMM figure can be given as a fraction of the peak measured in the same
 * minutes ({@code :flops} rows, a multiply-add counting 2; the {@link CpuRate} printed at the end of each trial
 * is the per-thread rate while running, the one to compare on a busy machine).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx256m"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class FmaPeakBenchmark {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int CHAINS = 16;
    private static final int STEPS = 1 << 18;  // an int loop: C2 does not unroll or intrinsify as well with a long counter

    @Param({"2"})
    public int threads;

    private WorkerPool pool;
    private CpuRate rate;
    private final float[] sink = new float[64];
    private WorkerPool.Task task;

    @Setup(Level.Trial)
    public void setUp() {
        pool = new WorkerPool(threads);
        rate = new CpuRate(pool);
        task = (thread, from, to) -> {
            for (int i = from; i < to; i++) sink[thread] += chains(STEPS, sink[thread] + i);
        };
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        rate.print("fma");
        pool.close();
    }

    /** 16 independent chains c = c·m + a, {@code steps} FMAs each. */
    static float chains(int steps, float seed) {
        FloatVector m = FloatVector.broadcast(F, 0.9999999f), a = FloatVector.broadcast(F, 1e-7f);
        FloatVector c0 = FloatVector.broadcast(F, seed), c1 = c0.add(1), c2 = c0.add(2), c3 = c0.add(3);
        FloatVector c4 = c0.add(4), c5 = c0.add(5), c6 = c0.add(6), c7 = c0.add(7);
        FloatVector c8 = c0.add(8), c9 = c0.add(9), c10 = c0.add(10), c11 = c0.add(11);
        FloatVector c12 = c0.add(12), c13 = c0.add(13), c14 = c0.add(14), c15 = c0.add(15);
        for (int s = 0; s < steps; s++) {
            c0 = c0.fma(m, a); c1 = c1.fma(m, a); c2 = c2.fma(m, a); c3 = c3.fma(m, a);
            c4 = c4.fma(m, a); c5 = c5.fma(m, a); c6 = c6.fma(m, a); c7 = c7.fma(m, a);
            c8 = c8.fma(m, a); c9 = c9.fma(m, a); c10 = c10.fma(m, a); c11 = c11.fma(m, a);
            c12 = c12.fma(m, a); c13 = c13.fma(m, a); c14 = c14.fma(m, a); c15 = c15.fma(m, a);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7)
                .add(c8).add(c9).add(c10).add(c11).add(c12).add(c13).add(c14).add(c15).reduceLanes(VectorOperators.ADD);
    }

    @Benchmark
    public float[] fma(Traffic traffic) {
        rate.begin();
        pool.run(threads, 1, task);
        long flops = (long) threads * STEPS * CHAINS * 2 * F.length();
        rate.end(flops);
        traffic.flops += flops;
        return sink;
    }
}
