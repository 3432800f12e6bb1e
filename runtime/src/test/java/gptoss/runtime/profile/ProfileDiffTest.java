package gptoss.runtime.profile;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ProfileDiffTest {

    static ProfileSummary summary(long[]... counts) {
        double[][] mass = new double[counts.length][counts[0].length];
        return new ProfileSummary(counts.length, counts[0].length, 1, 10, counts, mass);
    }

    @Test
    void handComputedDistances() {
        double[] p = {0.5, 0.5}, q = {1, 0};
        assertEquals(0.5, ProfileDiff.totalVariation(p, q), 1e-12);
        // KL(p||m) = .5 log2(2/3) + .5 log2 2, KL(q||m) = log2(4/3), m = (3/4, 1/4)
        double jsd = 0.5 * (0.5 * log2(2 / 3.0) + 0.5) + 0.5 * log2(4 / 3.0);
        assertEquals(Math.sqrt(jsd), ProfileDiff.jensenShannonDistance(p, q), 1e-12);
        assertEquals(0, ProfileDiff.jensenShannonDistance(p, p), 1e-12);
        assertEquals(1, ProfileDiff.jensenShannonDistance(new double[]{1, 0}, new double[]{0, 1}), 1e-12);
    }

    @Test
    void layersAndTopShifts() {
        ProfileSummary a = summary(new long[]{5, 5, 0, 0}, new long[]{1, 1, 1, 1});
        ProfileSummary b = summary(new long[]{5, 5, 0, 0}, new long[]{4, 0, 0, 0});
        ProfileDiff d = ProfileDiff.compare(a, b, 3);
        assertEquals(0, d.layers().get(0).totalVariation(), 0);
        assertEquals(0.75, d.layers().get(1).totalVariation(), 1e-12);
        assertArrayEquals(new double[]{1, 0, 0, 0}, d.layers().get(1).shareB(), 0);
        assertEquals(3, d.topShifts().size());
        ProfileDiff.ExpertShift first = d.topShifts().get(0);
        assertEquals(1, first.layer());
        assertEquals(0, first.expert());
        assertEquals(0.75, first.delta(), 1e-12);
        assertEquals(-0.25, d.topShifts().get(1).delta(), 1e-12);
        assertEquals(1, d.topShifts().get(1).expert());
        assertThrows(IllegalArgumentException.class, () -> ProfileDiff.compare(a, summary(new long[]{1, 2, 3}), 3));
    }

    static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }
}
