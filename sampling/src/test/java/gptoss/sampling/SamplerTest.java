package gptoss.sampling;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {
    @Test
    void greedyPicksTheLargestLogitAndTheLowerIdOnTies() {
        assertEquals(2, new GreedySampler().sample(new float[]{0f, 1f, 3f, 3f, -1f}, 0, 5));
        assertEquals(1, new GreedySampler().sample(new float[]{9f, 0f, 1f, 0f}, 1, 3), "offset respected");
    }

    @Test
    void temperatureSamplingFollowsTheSoftmax() {
        // logits ln(1), ln(3): probabilities 1/4 and 3/4 at temperature 1.
        float[] logits = {0f, (float) Math.log(3)};
        Sampler s = Sampler.of(1.0, 1.0, 42);
        int ones = 0, n = 40_000;
        for (int i = 0; i < n; i++) ones += s.sample(logits, 0, 2);
        double share = ones / (double) n;
        assertTrue(Math.abs(share - 0.75) < 0.01, "share of token 1 = " + share);
    }

    @Test
    void topPKeepsOnlyTheNucleus() {
        // probabilities 0.6, 0.3, 0.1: top-p 0.7 keeps tokens 0 and 1 only.
        float[] logits = {(float) Math.log(0.6), (float) Math.log(0.3), (float) Math.log(0.1)};
        Sampler s = Sampler.of(1.0, 0.7, 7);
        int[] counts = new int[3];
        for (int i = 0; i < 30_000; i++) counts[s.sample(logits, 0, 3)]++;
        assertEquals(0, counts[2]);
        double share0 = counts[0] / 30_000.0;
        assertTrue(Math.abs(share0 - 2.0 / 3) < 0.015, "renormalised share of token 0 = " + share0);
    }

    @Test
    void sameSeedSameTokens() {
        float[] logits = {0.1f, 0.2f, 0.3f, 0.4f};
        Sampler a = Sampler.of(0.8, 0.95, 5), b = Sampler.of(0.8, 0.95, 5);
        for (int i = 0; i < 100; i++) assertEquals(a.sample(logits, 0, 4), b.sample(logits, 0, 4));
    }

    @Test
    void invalidParametersAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> Sampler.of(-1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> Sampler.of(1, 0, 0));
    }
}
