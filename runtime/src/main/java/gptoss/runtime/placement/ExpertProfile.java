package gptoss.runtime.placement;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gptoss.model.config.ModelConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How often each expert was chosen, measured by the expert-activation profiler. The file is a JSON
 * {@code summary.json}: {@code {"num_layers": L, "num_experts": E, "tokens": N, "layers": [{"layer": 0,
 * "expert_counts": [c0, ..., cE-1], "expert_weight_mass": [...]}, ...]}} ({@code expert_weight_mass} is optional
 * here). {@link #load(ModelConfig)} of a uniform profile stands for "no profile": every expert equally likely.
 */
public final class ExpertProfile {
    private final long tokens;
    private final double[][] counts; // [L][E] times each expert was chosen
    private final boolean measured;
    private final double total;

    private ExpertProfile(long tokens, double[][] counts, boolean measured) {
        this.tokens = tokens;
        this.counts = counts;
        this.measured = measured;
        double t = 0;
        for (double[] layer : counts) for (double v : layer) t += v;
        this.total = t == 0 ? 1 : t;
    }

    /** Every expert of every layer equally likely: each token picks k of E. */
    public static ExpertProfile uniform(ModelConfig c) {
        double[][] counts = new double[c.numLayers()][c.numExperts()];
        for (double[] layer : counts) java.util.Arrays.fill(layer, c.expertsPerToken() / (double) c.numExperts());
        return new ExpertProfile(1, counts, false);
    }

    /** Counts given directly ({@code counts[layer][expert]} over {@code tokens} tokens). */
    public static ExpertProfile of(long tokens, double[][] counts) {
        double[][] copy = new double[counts.length][];
        for (int l = 0; l < counts.length; l++) copy[l] = counts[l].clone();
        return new ExpertProfile(tokens, copy, true);
    }

    /** Reads a profiler {@code summary.json}, checking it against the model's shape. */
    public static ExpertProfile read(Path file, ModelConfig c) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(file));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read expert profile " + file + ": " + e.getMessage(), e);
        }
        String where = "expert profile " + file;
        if (root == null || !root.isObject()) throw new IllegalArgumentException(where + ": not a JSON object");
        int L = integer(root, "num_layers", where), E = integer(root, "num_experts", where);
        if (L != c.numLayers() || E != c.numExperts()) {
            throw new IllegalArgumentException(where + " is for " + L + " layers x " + E + " experts, the model has "
                    + c.numLayers() + " x " + c.numExperts());
        }
        long tokens = integer(root, "tokens", where);
        if (tokens <= 0) throw new IllegalArgumentException(where + ": 'tokens' must be positive");
        JsonNode layers = root.get("layers");
        if (layers == null || !layers.isArray()) throw new IllegalArgumentException(where + ": missing list 'layers'");
        double[][] counts = new double[L][];
        for (JsonNode layer : layers) {
            int l = integer(layer, "layer", where);
            if (l < 0 || l >= L) throw new IllegalArgumentException(where + ": layer " + l + " outside 0.." + (L - 1));
            if (counts[l] != null) throw new IllegalArgumentException(where + ": layer " + l + " appears twice");
            JsonNode list = layer.get("expert_counts");
            if (list == null || !list.isArray() || list.size() != E) {
                throw new IllegalArgumentException(where + ": layer " + l + " needs 'expert_counts' with " + E + " numbers");
            }
            counts[l] = new double[E];
            for (int e = 0; e < E; e++) {
                JsonNode v = list.get(e);
                if (!v.isNumber() || v.asDouble() < 0) {
                    throw new IllegalArgumentException(where + ": layer " + l + " expert " + e + " count is not a non-negative number: " + v);
                }
                counts[l][e] = v.asDouble();
            }
        }
        for (int l = 0; l < L; l++) if (counts[l] == null) throw new IllegalArgumentException(where + ": layer " + l + " is missing");
        return new ExpertProfile(tokens, counts, true);
    }

    private static int integer(JsonNode node, String key, String where) {
        JsonNode v = node.get(key);
        if (v == null || !v.canConvertToInt()) throw new IllegalArgumentException(where + ": missing integer '" + key + "'");
        return v.asInt();
    }

    /** Whether this came from measurements (false for {@link #uniform}). */
    public boolean measured() {
        return measured;
    }

    public long tokens() {
        return tokens;
    }

    public int numLayers() {
        return counts.length;
    }

    /** Expected times {@code expert} of {@code layer} runs per token (sums to top-k over a layer). */
    public double perToken(int layer, int expert) {
        return counts[layer][expert] / tokens;
    }

    /** Share of all expert work (over all layers) that {@code expert} of {@code layer} does. */
    public double share(int layer, int expert) {
        return counts[layer][expert] / total;
    }
}
