package gptoss.runtime.profile;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * How the expert load moves between two profiles of the same model (e.g. two corpora): per layer each expert's
 * share of the load in A and in B, the total variation distance and the Jensen-Shannon distance between the two
 * load distributions, and the experts whose share moved most.
 *
 * @param topShifts the largest |share B - share A| over all layers and experts, largest first
 */
public record ProfileDiff(long tokensA, long tokensB, List<LayerShift> layers, List<ExpertShift> topShifts) {

    /**
     * One layer.
     *
     * @param shareA                [E] load shares in A (sum 1, or all 0 when A routed nothing)
     * @param totalVariation        ½ Σ |shareA - shareB|, in [0, 1]
     * @param jensenShannonDistance √JSD with log base 2, in [0, 1] (0: same distribution)
     */
    public record LayerShift(int layer, double[] shareA, double[] shareB, double totalVariation, double jensenShannonDistance) {
    }

    /** One expert of one layer. */
    public record ExpertShift(int layer, int expert, long countA, long countB, double shareA, double shareB) {
        public double delta() {
            return shareB - shareA;
        }
    }

    /** Compares {@code a} with {@code b} (same number of layers and experts), listing the {@code top} largest shifts. */
    public static ProfileDiff compare(ProfileSummary a, ProfileSummary b, int top) {
        if (a.numLayers() != b.numLayers() || a.numExperts() != b.numExperts()) {
            throw new IllegalArgumentException("profiles differ in shape: A has " + a.numLayers() + " layers x " + a.numExperts()
                    + " experts, B has " + b.numLayers() + " x " + b.numExperts());
        }
        List<LayerShift> layers = new ArrayList<>();
        List<ExpertShift> shifts = new ArrayList<>();
        for (int l = 0; l < a.numLayers(); l++) {
            double[] p = shares(a.expertCounts()[l]), q = shares(b.expertCounts()[l]);
            layers.add(new LayerShift(l, p, q, totalVariation(p, q), jensenShannonDistance(p, q)));
            for (int e = 0; e < a.numExperts(); e++) {
                shifts.add(new ExpertShift(l, e, a.expertCounts()[l][e], b.expertCounts()[l][e], p[e], q[e]));
            }
        }
        shifts.sort(Comparator.comparingDouble((ExpertShift s) -> -Math.abs(s.delta()))
                .thenComparingInt(ExpertShift::layer).thenComparingInt(ExpertShift::expert));
        return new ProfileDiff(a.tokens(), b.tokens(), List.copyOf(layers), List.copyOf(shifts.subList(0, Math.min(Math.max(top, 0), shifts.size()))));
    }

    /** Counts as fractions of their sum (zeros when the sum is 0). */
    public static double[] shares(long[] counts) {
        long total = 0;
        for (long c : counts) total += c;
        double[] out = new double[counts.length];
        for (int i = 0; i < counts.length; i++) out[i] = total == 0 ? 0 : (double) counts[i] / total;
        return out;
    }

    /** ½ Σ |p - q|. */
    public static double totalVariation(double[] p, double[] q) {
        double sum = 0;
        for (int i = 0; i < p.length; i++) sum += Math.abs(p[i] - q[i]);
        return sum / 2;
    }

    /** √(½ KL(p‖m) + ½ KL(q‖m)) with m = (p + q) / 2, logarithms base 2. */
    public static double jensenShannonDistance(double[] p, double[] q) {
        double jsd = 0;
        for (int i = 0; i < p.length; i++) {
            double m = (p[i] + q[i]) / 2;
            if (p[i] > 0) jsd += 0.5 * p[i] * Math.log(p[i] / m);
            if (q[i] > 0) jsd += 0.5 * q[i] * Math.log(q[i] / m);
        }
        return Math.sqrt(Math.max(0, jsd / Math.log(2)));
    }
}
