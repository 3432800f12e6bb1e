package gptoss.runtime.profile;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RoutingProfileTest {

    /** Random top-k decisions, reproducible. */
    static void fill(RoutingProfile p, Random r, int positions) {
        int E = p.experts(), k = p.expertsPerToken();
        for (int t = 0; t < positions; t++) {
            int token = r.nextInt(50);
            for (int l = 0; l < p.layers(); l++) {
                int[] experts = r.ints(0, E).distinct().limit(k).toArray();
                float[] weights = new float[k];
                for (int i = 0; i < k; i++) weights[i] = r.nextFloat();
                float[] logits = new float[E];
                for (int e = 0; e < E; e++) logits[e] = (float) r.nextGaussian();
                p.record(l, token, experts, weights, logits);
            }
        }
    }

    @Test
    void mergingTwoHalvesEqualsRecordingTheWhole() {
        RoutingProfile whole = new RoutingProfile(3, 6, 2), a = new RoutingProfile(3, 6, 2), b = new RoutingProfile(3, 6, 2);
        fill(whole, new Random(7), 200);
        Random r = new Random(7);
        fill(a, r, 120);
        fill(b, r, 80);
        a.merge(b);
        assertEquals(whole.tokens(), a.tokens());
        for (int l = 0; l < 3; l++) {
            assertArrayEquals(whole.expertCounts(l), a.expertCounts(l));
            assertArrayEquals(whole.expertWeightMass(l), a.expertWeightMass(l), 1e-9);
            assertArrayEquals(whole.meanRouterLogits(l), a.meanRouterLogits(l), 1e-9);
            assertArrayEquals(whole.coactivation(l), a.coactivation(l));
            for (int e = 0; e < 6; e++) assertEquals(whole.topTokens(l, e, 5), a.topTokens(l, e, 5));
        }
        assertEquals(80, b.tokens(), "merge leaves its argument alone");
    }

    @Test
    void handCountedDecisions() {
        RoutingProfile p = new RoutingProfile(1, 4, 2);
        p.record(0, 10, new int[]{2, 0}, new float[]{0.75f, 0.25f}, null);
        p.record(0, 11, new int[]{2, 1}, new float[]{0.5f, 0.5f}, null);
        p.record(0, 10, new int[]{0, 2}, new float[]{0.625f, 0.375f}, null);
        assertArrayEquals(new long[]{2, 1, 3, 0}, p.expertCounts(0));
        assertArrayEquals(new double[]{0.875, 0.5, 1.625, 0}, p.expertWeightMass(0), 1e-7);
        long[][] co = p.coactivation(0);
        assertArrayEquals(new long[]{2, 0, 2, 0}, co[0]);
        assertArrayEquals(new long[]{2, 1, 3, 0}, co[2]);
        assertEquals(0, co[3][3]);
        assertEquals(List.of(new RoutingProfile.ExpertToken(10, 2, 2), new RoutingProfile.ExpertToken(11, 1, 1)), p.topTokens(0, 2, 5));
        assertEquals(List.of(new RoutingProfile.ExpertToken(11, 1, 1)), p.topTokens(0, 1, 5));
        assertEquals(List.of(new RoutingProfile.ExpertToken(10, 2, 2)), p.topTokens(0, 2, 1));
        assertEquals(2, p.occurrences(0, 10));
        assertEquals(null, p.meanRouterLogits(0));
        assertEquals(3, p.tokens());
    }

    @Test
    void rejectsDecisionsThatCannotComeFromTheRouter() {
        RoutingProfile p = new RoutingProfile(2, 4, 2);
        assertThrows(IllegalArgumentException.class, () -> p.record(2, 0, new int[]{0, 1}, new float[2], null));
        assertThrows(IllegalArgumentException.class, () -> p.record(0, 0, new int[]{0, 4}, new float[2], null));
        assertThrows(IllegalArgumentException.class, () -> p.record(0, 0, new int[]{1, 1}, new float[2], null));
        assertThrows(IllegalArgumentException.class, () -> p.record(0, 0, new int[]{1}, new float[1], null));
        assertThrows(IllegalArgumentException.class, () -> p.record(0, 0, new int[]{0, 1}, new float[2], new float[3]));
        assertThrows(IllegalArgumentException.class, () -> p.merge(new RoutingProfile(2, 5, 2)));
        assertEquals(0, p.tokens(), "rejected decisions leave no trace");
        assertArrayEquals(new long[4], p.expertCounts(0));
    }
}
