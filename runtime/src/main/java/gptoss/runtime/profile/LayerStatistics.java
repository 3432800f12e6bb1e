package gptoss.runtime.profile;

import org.apache.commons.math3.stat.descriptive.DescriptiveStatistics;
import org.apache.commons.math3.stat.inference.ChiSquareTest;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * How evenly one layer spreads its tokens over the experts. The load of an expert is how often it was chosen;
 * with top-k routing the loads of a layer sum to k·tokens.
 *
 * @param expertCounts      [E] times each expert was chosen
 * @param expertWeightMass  [E] summed routing weight of each expert
 * @param entropyBits       Shannon entropy of the load distribution, bits (log2 E when uniform, 0 if one expert takes all)
 * @param loadCv            coefficient of variation of the loads (population standard deviation / mean)
 * @param maxMinLoadRatio   largest load / smallest load; +∞ when an expert is never used
 * @param neverUsed         experts with zero load, ascending
 * @param chiSquare         Pearson's statistic of the loads against a uniform load
 * @param chiSquarePValue   its p-value (E - 1 degrees of freedom); small means the load is not uniform
 */
public record LayerStatistics(int layer, long tokens, long[] expertCounts, double[] expertWeightMass,
                              double entropyBits, double loadCv, double maxMinLoadRatio, int[] neverUsed,
                              double chiSquare, double chiSquarePValue) {

    /** Statistics of one layer's loads; NaN where undefined (no tokens routed). */
    public static LayerStatistics of(int layer, long tokens, long[] counts, double[] weightMass) {
        if (counts.length != weightMass.length) throw new IllegalArgumentException("counts and weight mass differ in length");
        int E = counts.length;
        long total = Arrays.stream(counts).sum();
        int[] never = IntStream.range(0, E).filter(e -> counts[e] == 0).toArray();
        double entropy = Double.NaN, cv = Double.NaN, ratio = Double.NaN, chi = Double.NaN, p = Double.NaN;
        if (total > 0) {
            entropy = 0;
            for (long c : counts) {
                if (c > 0) {
                    double share = (double) c / total;
                    entropy -= share * Math.log(share) / Math.log(2);
                }
            }
            DescriptiveStatistics loads = new DescriptiveStatistics(Arrays.stream(counts).asDoubleStream().toArray());
            cv = Math.sqrt(loads.getPopulationVariance()) / loads.getMean();
            ratio = loads.getMin() == 0 ? Double.POSITIVE_INFINITY : loads.getMax() / loads.getMin();
            if (E >= 2) {
                double[] expected = new double[E];
                Arrays.fill(expected, (double) total / E);
                ChiSquareTest test = new ChiSquareTest();
                chi = test.chiSquare(expected, counts);
                p = test.chiSquareTest(expected, counts);
            }
        }
        return new LayerStatistics(layer, tokens, counts.clone(), weightMass.clone(), entropy, cv, ratio, never, chi, p);
    }

    /** Loads summed over experts (k·tokens for a top-k router). */
    public long totalLoad() {
        return Arrays.stream(expertCounts).sum();
    }

    /** [E] each expert's share of the layer's load (sums to 1; zeros when nothing was routed). */
    public double[] loadShares() {
        long total = totalLoad();
        return Arrays.stream(expertCounts).mapToDouble(c -> total == 0 ? 0 : (double) c / total).toArray();
    }

    /** Entropy divided by its maximum log2 E: 1 for a uniform load. */
    public double normalizedEntropy() {
        return expertCounts.length < 2 ? Double.NaN : entropyBits / (Math.log(expertCounts.length) / Math.log(2));
    }

    /** [E] mean routing weight of each expert when chosen (NaN for an unused expert). */
    public double[] meanWeights() {
        double[] out = new double[expertCounts.length];
        for (int e = 0; e < out.length; e++) out[e] = expertCounts[e] == 0 ? Double.NaN : expertWeightMass[e] / expertCounts[e];
        return out;
    }
}
