package gptoss.runtime.profile;

/**
 * The load part of a profile: per layer, how often each expert was chosen and its summed routing weight. This is
 * what {@code summary.json} carries for programs (routing-aware placement, profile diffs); see
 * {@link SummaryJson} for the file.
 *
 * @param tokens       positions profiled
 * @param expertCounts [L][E] times each expert was chosen
 * @param weightMass   [L][E] summed routing weight of each expert
 */
public record ProfileSummary(int numLayers, int numExperts, int expertsPerToken, long tokens,
                             long[][] expertCounts, double[][] weightMass) {

    public ProfileSummary {
        if (expertCounts.length != numLayers || weightMass.length != numLayers) {
            throw new IllegalArgumentException("summary has " + expertCounts.length + " layers of counts for num_layers " + numLayers);
        }
        for (int l = 0; l < numLayers; l++) {
            if (expertCounts[l].length != numExperts || weightMass[l].length != numExperts) {
                throw new IllegalArgumentException("layer " + l + " has " + expertCounts[l].length + " expert counts for num_experts " + numExperts);
            }
        }
    }

    public static ProfileSummary of(RoutingProfile p) {
        long[][] counts = new long[p.layers()][];
        double[][] mass = new double[p.layers()][];
        for (int l = 0; l < p.layers(); l++) {
            counts[l] = p.expertCounts(l);
            mass[l] = p.expertWeightMass(l);
        }
        return new ProfileSummary(p.layers(), p.experts(), p.expertsPerToken(), p.tokens(), counts, mass);
    }

    /** Load statistics of {@code layer} (tokens routed taken as the profile's). */
    public LayerStatistics statistics(int layer) {
        return LayerStatistics.of(layer, tokens, expertCounts[layer], weightMass[layer]);
    }
}
