package gptoss.bench;

import gptoss.runtime.cpu.ReadBandwidth;
import gptoss.runtime.cpu.WorkerPool;
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

/** The roofline: streaming reads of a buffer larger than the caches, as {@code gptoss bench} measures it. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ReadBandwidthBenchmark {
    @Param({"1", "2"})
    public int threads;

    @Param({"1024"})
    public int megabytes;

    private Arena arena;
    private WorkerPool pool;
    private ReadBandwidth.Pass pass;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        pool = new WorkerPool(threads);
        pass = new ReadBandwidth.Pass(arena, (long) megabytes << 20, threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @Benchmark
    public long stream(Traffic traffic) {
        long sum = pass.run(pool);
        traffic.bytes += pass.bytes();
        return sum;
    }
}
