package gptoss.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gptoss.sampling.LogitSampler;
import gptoss.sampling.SamplingParams;
import gptoss.sampling.constraint.JsonGrammar;
import gptoss.sampling.constraint.JsonSchemaConstraint;
import gptoss.sampling.constraint.TokenVocabulary;
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

import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Per-token cost of structured output and sampling on the o200k vocabulary (201,088 logits), as sample-time
 * distributions (median, p99):
 * <ul>
 * <li>{@code mask}: the JSON-schema token mask of one step ({@code record.schema.json}: nested objects, arrays,
 *     enums, required fields) written onto a logit row, replayed along 64 recorded temperature-1 generations.</li>
 * <li>{@code sample}: one draw at temperature 1 with the given top-p / top-k over unconstrained Gaussian logits
 *     (σ = 3), the row copy included (see {@code copyRow} for that alone).</li>
 * </ul>
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class SamplingBenchmark {
    static final int V = 201_088;

    static float[] gaussian(long seed, int n) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * 3);
        return a;
    }

    @State(Scope.Thread)
    public static class Mask {
        JsonSchemaConstraint constraint;
        int[][] runs;
        int run, pos;
        float[] row = new float[V];

        @Setup
        public void setup() throws Exception {
            JsonNode schema;
            try (InputStream in = SamplingBenchmark.class.getResourceAsStream("/record.schema.json")) {
                schema = new ObjectMapper().readTree(in);
            }
            TokenVocabulary vocab = TokenVocabulary.o200k();
            JsonGrammar grammar = JsonGrammar.compile(schema);
            float[] pool = gaussian(1, 3 * V);
            Random r = new Random(2);
            List<int[]> recorded = new ArrayList<>();
            float[] logits = new float[V];
            for (int g = 0; g < 64; g++) {
                JsonSchemaConstraint c = JsonSchemaConstraint.of(grammar, vocab);
                LogitSampler s = SamplingParams.defaults().withSeed(g).newSampler(V, c);
                List<Integer> tokens = new ArrayList<>();
                for (int step = 0; step < 70 && !c.isTerminated(); step++) {
                    System.arraycopy(pool, r.nextInt(2 * V), logits, 0, V);
                    c.setRemainingTokens(70 - step);
                    int t = s.sample(logits, 0, V);
                    s.accept(t);
                    tokens.add(t);
                }
                recorded.add(tokens.stream().mapToInt(Integer::intValue).toArray());
            }
            runs = recorded.toArray(new int[0][]);
            constraint = JsonSchemaConstraint.of(grammar, vocab);
        }
    }

    /** One step of constrained decoding: the mask onto a logit row, then advancing by the recorded token. */
    @Benchmark
    public float mask(Mask m) {
        int[] tokens = m.runs[m.run];
        m.constraint.setRemainingTokens(70 - m.pos);
        m.constraint.mask(m.row, 0, V);
        m.constraint.accept(tokens[m.pos]);
        if (++m.pos == tokens.length) {
            m.pos = 0;
            m.run = (m.run + 1) % m.runs.length;
            m.constraint.reset();
        }
        return m.row[tokens[m.pos]];
    }

    @State(Scope.Thread)
    public static class Draw {
        @Param({"0.9"})
        public double topP;

        @Param({"0"})
        public int topK;

        float[][] rows;
        float[] row = new float[V];
        double[] baselineProbs = new double[V];
        Integer[] baselineOrder = new Integer[V];
        java.util.SplittableRandom baselineRandom = new java.util.SplittableRandom(7);
        int i;
        LogitSampler sampler;

        @Setup
        public void setup() {
            rows = new float[8][];
            for (int k = 0; k < rows.length; k++) rows[k] = gaussian(10 + k, V);
            sampler = SamplingParams.defaults().withTopP(topP).withTopK(topK).withSeed(7).newSampler(V);
        }
    }

    /** One sampled token from 201,088 logits (the row copy included: sampling modifies its row). */
    @Benchmark
    public int sample(Draw d) {
        System.arraycopy(d.rows[d.i = (d.i + 1) & 7], 0, d.row, 0, V);
        return d.sampler.sample(d.row, 0, V);
    }

    /**
     * The yardstick: the sampler this module had before (softmax, then a full sort of 201,088 boxed Integers per
     * token for top-p), same logits and top-p.
     */
    @Benchmark
    public int sortBaseline(Draw d) {
        float[] logits = d.rows[d.i = (d.i + 1) & 7];
        int vocab = V;
        double[] probabilities = d.baselineProbs;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) max = Math.max(max, logits[i]);
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            double p = Math.exp(logits[i] - max);
            probabilities[i] = p;
            sum += p;
        }
        for (int i = 0; i < vocab; i++) probabilities[i] /= sum;
        Integer[] order = d.baselineOrder;
        for (int i = 0; i < vocab; i++) order[i] = i;
        java.util.Arrays.sort(order, 0, vocab, (a, b) -> Double.compare(probabilities[b], probabilities[a]));
        double mass = 0;
        int keep = 0;
        while (keep < vocab && mass < d.topP) mass += probabilities[order[keep++]];
        double r = d.baselineRandom.nextDouble() * mass;
        for (int i = 0; i < keep; i++) {
            r -= probabilities[order[i]];
            if (r < 0) return order[i];
        }
        return order[keep - 1];
    }

    /** The row copy alone, to subtract from {@code sample}. */
    @Benchmark
    public float copyRow(Draw d) {
        System.arraycopy(d.rows[d.i = (d.i + 1) & 7], 0, d.row, 0, V);
        return d.row[d.i];
    }
}
