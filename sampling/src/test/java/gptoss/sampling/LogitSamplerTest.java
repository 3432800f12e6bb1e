package gptoss.sampling;

import gptoss.model.tokenizer.SpecialTokens;
import org.apache.commons.math3.stat.inference.ChiSquareTest;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sampled frequencies against the intended distribution, computed here independently (full sort, straight from
 * the definitions), by a chi-square goodness-of-fit test at significance α = 0.001 (seeded, so deterministic).
 */
class LogitSamplerTest {
    static final double ALPHA = 0.001;
    static final float[] LOGITS = {2.0f, 1.5f, 1.1f, 0.7f, 0.3f, -0.2f, -0.6f, -1.0f, 0.9f, 1.8f, -2.5f, 0.05f};

    /** The reference: bias, penalties, temperature, top-k, top-p (relative to the top-k mass), min-p; then normalise. */
    static double[] reference(float[] logits, SamplingParams p, int[] history) {
        int n = logits.length;
        double[] l = new double[n];
        for (int i = 0; i < n; i++) l[i] = logits[i];
        for (Map.Entry<Integer, Float> e : p.logitBias().entrySet()) l[e.getKey()] += e.getValue();
        int[] counts = new int[n];
        int from = p.penaltyWindow() == 0 ? 0 : Math.max(0, history.length - p.penaltyWindow());
        for (int i = from; i < history.length; i++) counts[history[i]]++;
        for (int i = 0; i < n; i++) {
            if (counts[i] == 0) continue;
            l[i] = l[i] > 0 ? l[i] / p.repetitionPenalty() : l[i] * p.repetitionPenalty();
            l[i] -= p.presencePenalty() + p.frequencyPenalty() * counts[i];
        }
        double max = Arrays.stream(l).max().orElseThrow();
        double[] w = new double[n];
        for (int i = 0; i < n; i++) w[i] = Math.exp((l[i] - max) / p.temperature());
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -w[i]).thenComparingInt(i -> i));
        boolean[] keep = new boolean[n];
        int k = p.topK() == 0 ? n : Math.min(p.topK(), n);
        double kMass = 0;
        for (int r = 0; r < k; r++) kMass += w[order[r]];
        double cum = 0;
        for (int r = 0; r < k; r++) {
            keep[order[r]] = true;
            cum += w[order[r]];
            if (cum >= p.topP() * kMass) break;
        }
        for (int i = 0; i < n; i++) if (w[i] < p.minP() * 1.0) keep[i] = false;
        double sum = 0;
        for (int i = 0; i < n; i++) if (keep[i]) sum += w[i];
        double[] probs = new double[n];
        for (int i = 0; i < n; i++) probs[i] = keep[i] ? w[i] / sum : 0;
        return probs;
    }

    static long[] sampleCounts(float[] logits, SamplingParams p, int[] history, int draws) {
        LogitSampler s = p.newSampler(logits.length);
        for (int t : history) s.accept(t);
        long[] counts = new long[logits.length];
        float[] row = new float[logits.length];
        for (int i = 0; i < draws; i++) {
            System.arraycopy(logits, 0, row, 0, logits.length); // sample() modifies the row in place
            counts[s.sample(row, 0, row.length)]++;
        }
        return counts;
    }

    /** Zero counts where the reference has probability 0; chi-square p-value > α elsewhere (small bins merged). */
    static void assertFollows(float[] logits, SamplingParams p, int[] history) {
        assertFollows(logits, p, history, 60_000);
    }

    static void assertFollows(float[] logits, SamplingParams p, int[] history, int draws) {
        double[] probs = reference(logits, p, history);
        long[] counts = sampleCounts(logits, p, history, draws);
        List<Double> expected = new ArrayList<>();
        List<Long> observed = new ArrayList<>();
        double smallE = 0;
        long smallO = 0;
        for (int i = 0; i < probs.length; i++) {
            if (probs[i] == 0) {
                assertEquals(0, counts[i], "token " + i + " is excluded by " + p + " but was sampled");
                continue;
            }
            double e = probs[i] * draws;
            if (e < 5) {
                smallE += e;
                smallO += counts[i];
            } else {
                expected.add(e);
                observed.add(counts[i]);
            }
        }
        if (smallE > 0) {
            expected.add(smallE);
            observed.add(smallO);
        }
        if (expected.size() < 2) {
            assertEquals(draws, observed.stream().mapToLong(Long::longValue).sum());
            return;
        }
        double pValue = new ChiSquareTest().chiSquareTest(expected.stream().mapToDouble(Double::doubleValue).toArray(),
                observed.stream().mapToLong(Long::longValue).toArray());
        assertTrue(pValue > ALPHA, "chi-square p = " + pValue + " for " + p + ": expected " + expected + ", observed " + observed);
    }

    static final SamplingParams T1 = SamplingParams.defaults().withSeed(11);

    @Test
    void temperature() {
        assertFollows(LOGITS, T1, new int[0]);
        assertFollows(LOGITS, T1.withTemperature(0.5), new int[0]);
        assertFollows(LOGITS, T1.withTemperature(2.0), new int[0]);
    }

    @Test
    void topK() {
        assertFollows(LOGITS, T1.withTopK(3), new int[0]);
        assertFollows(LOGITS, T1.withTopK(1), new int[0]);
        assertFollows(LOGITS, T1.withTopK(7).withTemperature(0.8), new int[0]);
    }

    @Test
    void topP() {
        assertFollows(LOGITS, T1.withTopP(0.8), new int[0]);
        assertFollows(LOGITS, T1.withTopP(0.3), new int[0]);
        assertFollows(LOGITS, T1.withTopP(0.95).withTemperature(1.5), new int[0]);
    }

    @Test
    void minP() {
        assertFollows(LOGITS, T1.withMinP(0.2), new int[0]);
        assertFollows(LOGITS, T1.withMinP(0.5).withTemperature(0.7), new int[0]);
    }

    @Test
    void penalties() {
        int[] history = {0, 0, 9, 5, 5, 5, 2};
        assertFollows(LOGITS, T1.withRepetitionPenalty(1.5), history);
        assertFollows(LOGITS, T1.withRepetitionPenalty(0.8), history);
        assertFollows(LOGITS, T1.withPresencePenalty(1.0), history);
        assertFollows(LOGITS, T1.withFrequencyPenalty(0.7), history);
        assertFollows(LOGITS, T1.withFrequencyPenalty(-0.5).withPresencePenalty(0.3), history);
        assertFollows(LOGITS, T1.withRepetitionPenalty(2.0).withPenaltyWindow(3), history); // only 5, 5, 2 count
    }

    @Test
    void logitBias() {
        assertFollows(LOGITS, T1.withLogitBias(Map.of(10, 4.0f, 0, -100f)), new int[0]);
        assertFollows(LOGITS, T1.withLogitBias(Map.of(3, 100f)), new int[0]);
    }

    @Test
    void combinations() {
        int[] history = {1, 1, 9, 3};
        SamplingParams all = T1.withTemperature(0.7).withTopK(8).withTopP(0.9).withMinP(0.05).withRepetitionPenalty(1.3)
                .withPresencePenalty(0.5).withFrequencyPenalty(0.2).withLogitBias(Map.of(7, 2.5f));
        assertFollows(LOGITS, all, history);
        assertFollows(LOGITS, T1.withTopK(6).withTopP(0.7).withTemperature(1.3), history);
        assertFollows(LOGITS, T1.withTopP(0.85).withMinP(0.1).withFrequencyPenalty(0.4), history);
    }

    @Test
    void partialSelectionOnALargeVocabularyMatchesTheReference() {
        // 1,500 tokens: the nucleus and the top-k set found by partitioning equal the reference's full sort
        // (membership), and the frequencies follow it.
        Random r = new Random(3);
        float[] logits = new float[1500];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) (r.nextGaussian() * 2);
        assertFollows(logits, T1.withTopP(0.9), new int[0], 20_000);
        assertFollows(logits, T1.withTopK(40).withTopP(0.5), new int[0], 20_000);
        assertFollows(logits, T1.withTopK(700).withMinP(0.01), new int[0], 20_000);
    }

    @Test
    void greedyTakesTheArgmaxAfterPenaltiesAndBias() {
        LogitSampler g = SamplingParams.greedy().newSampler(LOGITS.length);
        assertEquals(0, g.sample(LOGITS.clone(), 0, LOGITS.length));
        LogitSampler biased = SamplingParams.greedy().withLogitBias(Map.of(4, 5f)).newSampler(LOGITS.length);
        assertEquals(4, biased.sample(LOGITS.clone(), 0, LOGITS.length));
        LogitSampler penalised = SamplingParams.greedy().withRepetitionPenalty(2).newSampler(LOGITS.length);
        penalised.accept(0);
        assertEquals(9, penalised.sample(LOGITS.clone(), 0, LOGITS.length), "2.0 / 2 = 1.0 < 1.8");
    }

    @Test
    void reservedIdsAreNeverSampled() {
        float[] logits = new float[SpecialTokens.END_ID];
        Random r = new Random(5);
        for (int i = 0; i < logits.length; i++) logits[i] = (float) r.nextGaussian();
        for (int id = 200_014; id < SpecialTokens.END_ID; id += 7) logits[id] = 30f; // reserved, would dominate
        logits[200_000] = 40f;
        logits[SpecialTokens.RETURN] = 25f;                                            // named: allowed
        LogitSampler s = SamplingParams.defaults().withSeed(1).newSampler(logits.length);
        float[] row = new float[logits.length];
        for (int i = 0; i < 200; i++) {
            System.arraycopy(logits, 0, row, 0, row.length);
            int t = s.sample(row, 0, row.length);
            assertTrue(!ReservedTokens.isReserved(t), "sampled reserved id " + t);
        }
        System.arraycopy(logits, 0, row, 0, row.length);
        assertEquals(SpecialTokens.RETURN, SamplingParams.greedy().newSampler(row.length).sample(row, 0, row.length));
        assertEquals(SpecialTokens.RETURN, new GreedySampler().sample(logits.clone(), 0, logits.length));
    }

    @Test
    void sameSeedSameTokensDifferentSeedDifferentTokens() {
        Random r = new Random(9);
        float[] logits = new float[5000];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) r.nextGaussian();
        SamplingParams p = SamplingParams.defaults().withTopP(0.9).withTopK(100).withSeed(42).withRepetitionPenalty(1.1);
        int[] a = run(p, logits), b = run(p, logits), c = run(p.withSeed(43), logits);
        assertTrue(Arrays.equals(a, b));
        assertNotEquals(Arrays.toString(a), Arrays.toString(c));
    }

    private static int[] run(SamplingParams p, float[] logits) {
        LogitSampler s = p.newSampler(logits.length);
        int[] out = new int[50];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.sample(logits.clone(), 0, logits.length);
            s.accept(out[i]);
        }
        return out;
    }

    @Test
    void invalidParametersNameTheField() {
        SamplingParams d = SamplingParams.defaults();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> d.withTemperature(-1)).getMessage().startsWith("temperature"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> d.withTopP(0)).getMessage().startsWith("topP"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> d.withTopP(1.5)).getMessage().startsWith("topP"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> d.withTopK(-2)).getMessage().startsWith("topK"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> d.withMinP(1)).getMessage().startsWith("minP"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> d.withRepetitionPenalty(0)).getMessage().startsWith("repetitionPenalty"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> d.withPresencePenalty(3)).getMessage().startsWith("presencePenalty"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> d.withFrequencyPenalty(-3)).getMessage().startsWith("frequencyPenalty"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> d.withLogitBias(Map.of(1, 200f))).getMessage().startsWith("logitBias"));
    }

    @Test
    void aFullyMaskedRowIsAnError() {
        float[] row = new float[4];
        Arrays.fill(row, Float.NEGATIVE_INFINITY);
        assertThrows(IllegalStateException.class, () -> SamplingParams.defaults().newSampler(4).sample(row, 0, 4));
    }
}
