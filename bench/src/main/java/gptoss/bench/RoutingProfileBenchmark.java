package gptoss.bench;

import gptoss.runtime.profile.RoutingProfile;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Cost of recording one routing decision into a {@link RoutingProfile}: what the profiler adds per (layer, token)
 * on top of a forward pass. Shapes of gpt-oss-20b (32 experts, top-4) and 120b (128 experts, top-4).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class RoutingProfileBenchmark {
    @Param({"32", "128"})
    int experts;

    static final int LAYERS = 24, K = 4, DECISIONS = 4096;

    RoutingProfile profile;
    int[][] chosen;
    float[][] weights, logits;
    int[] tokens;
    int next;

    @Setup
    public void setUp() {
        profile = new RoutingProfile(LAYERS, experts, K);
        Random r = new Random(1);
        chosen = new int[DECISIONS][];
        weights = new float[DECISIONS][K];
        logits = new float[DECISIONS][experts];
        tokens = new int[DECISIONS];
        for (int i = 0; i < DECISIONS; i++) {
            chosen[i] = r.ints(0, experts).distinct().limit(K).toArray();
            for (int s = 0; s < K; s++) weights[i][s] = r.nextFloat();
            for (int e = 0; e < experts; e++) logits[i][e] = (float) r.nextGaussian();
            tokens[i] = r.nextInt(201_088);
        }
    }

    @Benchmark
    public RoutingProfile recordDecision() {
        int i = next++ & (DECISIONS - 1);
        profile.record(i % LAYERS, tokens[i], chosen[i], weights[i], logits[i]);
        return profile;
    }
}
