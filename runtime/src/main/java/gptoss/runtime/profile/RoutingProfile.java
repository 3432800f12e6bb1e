package gptoss.runtime.profile;

import gptoss.model.config.ModelConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * Aggregate routing statistics, updated online one decision at a time and mergeable across runs: per layer the
 * tokens routed, per expert how often it was chosen, its summed routing weight and mean router logit, which
 * experts are chosen together (co-activation), and which tokens choose it. Memory is O(L·E² + distinct
 * (layer, expert, token) triples); nothing grows with the number of positions otherwise. Not thread-safe: give
 * each engine its own profile and {@link #merge} them.
 */
public final class RoutingProfile {
    private final int layers, experts, expertsPerToken;
    private final long[] tokens;            // [L] positions routed
    private final long[] counts;            // [L, E] times chosen
    private final double[] weightMass;      // [L, E] summed routing weight
    private final long[] logitTokens;       // [L] positions whose router logits were given
    private final double[] logitSum;        // [L, E] summed router logit
    private final long[] coactivation;      // [L, E, E] tokens choosing both (diagonal: choosing the expert)
    private final TokenCounts[] occurrences; // [L] positions per token id
    private final TokenCounts[] selections;  // [L, E] times a token id chose the expert

    public RoutingProfile(int layers, int experts, int expertsPerToken) {
        if (layers < 1 || experts < 1 || expertsPerToken < 1 || expertsPerToken > experts) {
            throw new IllegalArgumentException("profile shape must have layers >= 1 and 1 <= k <= experts, got L="
                    + layers + " E=" + experts + " k=" + expertsPerToken);
        }
        this.layers = layers;
        this.experts = experts;
        this.expertsPerToken = expertsPerToken;
        tokens = new long[layers];
        counts = new long[layers * experts];
        weightMass = new double[layers * experts];
        logitTokens = new long[layers];
        logitSum = new double[layers * experts];
        coactivation = new long[layers * experts * experts];
        occurrences = new TokenCounts[layers];
        selections = new TokenCounts[layers * experts];
        for (int i = 0; i < occurrences.length; i++) occurrences[i] = new TokenCounts();
        for (int i = 0; i < selections.length; i++) selections[i] = new TokenCounts();
    }

    /** An empty profile shaped like {@code config}'s model. */
    public static RoutingProfile forModel(ModelConfig config) {
        return new RoutingProfile(config.numLayers(), config.numExperts(), config.expertsPerToken());
    }

    /**
     * Adds one routing decision: {@code token} in {@code layer} chose {@code experts} (router order) with
     * {@code weights}; {@code routerLogits} (all E) may be null.
     */
    public void record(int layer, int token, int[] experts, float[] weights, float[] routerLogits) {
        checkLayer(layer);
        int k = expertsPerToken, E = this.experts;
        if (experts.length != k || weights.length != k) {
            throw new IllegalArgumentException("a decision needs " + k + " experts and weights, got " + experts.length + " and " + weights.length);
        }
        for (int slot = 0; slot < k; slot++) {
            int e = experts[slot];
            if (e < 0 || e >= E) throw new IllegalArgumentException("expert " + e + " is outside 0.." + (E - 1));
            for (int other = 0; other < slot; other++) {
                if (experts[other] == e) throw new IllegalArgumentException("expert " + e + " chosen twice for one token");
            }
        }
        if (routerLogits != null && routerLogits.length != E) {
            throw new IllegalArgumentException("expected " + E + " router logits, got " + routerLogits.length);
        }
        tokens[layer]++;
        occurrences[layer].add(token, 1);
        int base = layer * E;
        for (int slot = 0; slot < k; slot++) {
            int e = experts[slot];
            counts[base + e]++;
            weightMass[base + e] += weights[slot];
            selections[base + e].add(token, 1);
            int row = (base + e) * E;
            for (int other = 0; other < k; other++) coactivation[row + experts[other]]++;
        }
        if (routerLogits != null) {
            logitTokens[layer]++;
            for (int e = 0; e < E; e++) logitSum[base + e] += routerLogits[e];
        }
    }

    /** Adds everything {@code other} recorded (same shape required); {@code other} is left as it was. */
    public void merge(RoutingProfile other) {
        if (other.layers != layers || other.experts != experts || other.expertsPerToken != expertsPerToken) {
            throw new IllegalArgumentException("cannot merge a profile of L=" + other.layers + " E=" + other.experts + " k="
                    + other.expertsPerToken + " into one of L=" + layers + " E=" + experts + " k=" + expertsPerToken);
        }
        for (int i = 0; i < layers; i++) {
            tokens[i] += other.tokens[i];
            logitTokens[i] += other.logitTokens[i];
            occurrences[i].addAll(other.occurrences[i]);
        }
        for (int i = 0; i < counts.length; i++) {
            counts[i] += other.counts[i];
            weightMass[i] += other.weightMass[i];
            logitSum[i] += other.logitSum[i];
            selections[i].addAll(other.selections[i]);
        }
        for (int i = 0; i < coactivation.length; i++) coactivation[i] += other.coactivation[i];
    }

    public int layers() {
        return layers;
    }

    public int experts() {
        return experts;
    }

    public int expertsPerToken() {
        return expertsPerToken;
    }

    /** Positions routed in {@code layer}. */
    public long tokens(int layer) {
        checkLayer(layer);
        return tokens[layer];
    }

    /** Positions profiled: the most any layer saw (every layer sees every position in a whole-model engine). */
    public long tokens() {
        long max = 0;
        for (long t : tokens) max = Math.max(max, t);
        return max;
    }

    /** [E] times each expert was chosen in {@code layer}. */
    public long[] expertCounts(int layer) {
        checkLayer(layer);
        long[] out = new long[experts];
        System.arraycopy(counts, layer * experts, out, 0, experts);
        return out;
    }

    /** [E] summed routing weight of each expert in {@code layer}. */
    public double[] expertWeightMass(int layer) {
        checkLayer(layer);
        double[] out = new double[experts];
        System.arraycopy(weightMass, layer * experts, out, 0, experts);
        return out;
    }

    /** [E] mean router logit of each expert over the positions whose logits were recorded; null if none were. */
    public double[] meanRouterLogits(int layer) {
        checkLayer(layer);
        if (logitTokens[layer] == 0) return null;
        double[] out = new double[experts];
        for (int e = 0; e < experts; e++) out[e] = logitSum[layer * experts + e] / logitTokens[layer];
        return out;
    }

    /**
     * [E][E] co-activation of {@code layer}: entry (a, b) counts positions that chose both a and b; the diagonal
     * (a, a) counts positions that chose a (its expert count). Symmetric.
     */
    public long[][] coactivation(int layer) {
        checkLayer(layer);
        long[][] out = new long[experts][experts];
        for (int a = 0; a < experts; a++) System.arraycopy(coactivation, (layer * experts + a) * experts, out[a], 0, experts);
        return out;
    }

    /** The {@code n} tokens that chose {@code expert} in {@code layer} most often (ties: lower id first). */
    public List<ExpertToken> topTokens(int layer, int expert, int n) {
        checkLayer(layer);
        if (expert < 0 || expert >= experts) throw new IllegalArgumentException("expert " + expert + " is outside 0.." + (experts - 1));
        List<ExpertToken> out = new ArrayList<>();
        for (TokenCounts.TokenCount t : selections[layer * experts + expert].top(n)) {
            out.add(new ExpertToken(t.token(), t.count(), occurrences[layer].get(t.token())));
        }
        return out;
    }

    /** Times {@code token} was routed in {@code layer}. */
    public long occurrences(int layer, int token) {
        checkLayer(layer);
        return occurrences[layer].get(token);
    }

    /** Load statistics of {@code layer}. */
    public LayerStatistics statistics(int layer) {
        return LayerStatistics.of(layer, tokens(layer), expertCounts(layer), expertWeightMass(layer));
    }

    private void checkLayer(int layer) {
        if (layer < 0 || layer >= layers) throw new IllegalArgumentException("layer " + layer + " is outside 0.." + (layers - 1));
    }

    /**
     * A token that chose an expert: {@code count} times, out of {@code occurrences} times it was routed in that
     * layer.
     */
    public record ExpertToken(int token, long count, long occurrences) {
        /** Fraction of the token's occurrences that chose the expert. */
        public double share() {
            return occurrences == 0 ? 0 : (double) count / occurrences;
        }
    }
}
