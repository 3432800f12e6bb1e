package gptoss.runtime.profile;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * {@code summary.json}, a profile's statistics:
 * <pre>
 * {"format": "gptoss-routing-profile/1", "num_layers": L, "num_experts": E, "experts_per_token": k, "tokens": N,
 *  "source": {...},
 *  "layers": [{"layer": 0, "tokens": N, "expert_counts": [E], "expert_weight_mass": [E], "load_share": [E],
 *              "mean_weight": [E], "mean_router_logit": [E], "entropy_bits": x, "normalized_entropy": x,
 *              "load_cv": x, "max_min_load_ratio": x, "never_used": [...],
 *              "chi_square": {"statistic": x, "dof": E-1, "p_value": x},
 *              "top_tokens": [[{"id": t, "text": "...", "count": c, "share": s}, ...] per expert]}, ...]}
 * </pre>
 * Undefined numbers (an unused expert's mean weight, the ratio when an expert is never used, statistics of an
 * empty layer) are {@code null}. {@link #read} needs only the shape, {@code tokens}, {@code expert_counts} and
 * {@code expert_weight_mass}.
 */
public final class SummaryJson {
    public static final String FORMAT = "gptoss-routing-profile/1";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private SummaryJson() {
    }

    /**
     * The summary of {@code profile} as a JSON tree.
     *
     * @param source    free-form description of the run (model, input, counts), written under "source"; may be empty
     * @param topTokens how many top tokens to list per expert
     * @param text      decodes a token id to text for the top-token lists, or null (then no "text" fields)
     */
    public static ObjectNode toJson(RoutingProfile profile, Map<String, ?> source, int topTokens, IntFunction<String> text) {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("num_layers", profile.layers());
        root.put("num_experts", profile.experts());
        root.put("experts_per_token", profile.expertsPerToken());
        root.put("tokens", profile.tokens());
        root.set("source", JSON.valueToTree(source));
        ArrayNode layers = root.putArray("layers");
        for (int l = 0; l < profile.layers(); l++) {
            LayerStatistics s = profile.statistics(l);
            ObjectNode layer = layers.addObject();
            layer.put("layer", l);
            layer.put("tokens", s.tokens());
            ArrayNode counts = layer.putArray("expert_counts");
            for (long c : s.expertCounts()) counts.add(c);
            numbers(layer.putArray("expert_weight_mass"), s.expertWeightMass());
            numbers(layer.putArray("load_share"), s.loadShares());
            numbers(layer.putArray("mean_weight"), s.meanWeights());
            double[] logits = profile.meanRouterLogits(l);
            if (logits != null) numbers(layer.putArray("mean_router_logit"), logits);
            number(layer, "entropy_bits", s.entropyBits());
            number(layer, "normalized_entropy", s.normalizedEntropy());
            number(layer, "load_cv", s.loadCv());
            number(layer, "max_min_load_ratio", s.maxMinLoadRatio());
            ArrayNode never = layer.putArray("never_used");
            for (int e : s.neverUsed()) never.add(e);
            ObjectNode chi = layer.putObject("chi_square");
            number(chi, "statistic", s.chiSquare());
            chi.put("dof", profile.experts() - 1);
            number(chi, "p_value", s.chiSquarePValue());
            ArrayNode top = layer.putArray("top_tokens");
            for (int e = 0; e < profile.experts(); e++) {
                ArrayNode list = top.addArray();
                for (RoutingProfile.ExpertToken t : profile.topTokens(l, e, topTokens)) {
                    ObjectNode entry = list.addObject();
                    entry.put("id", t.token());
                    if (text != null) entry.put("text", text.apply(t.token()));
                    entry.put("count", t.count());
                    entry.put("share", t.share());
                }
            }
        }
        return root;
    }

    public static void write(Path file, RoutingProfile profile, Map<String, ?> source, int topTokens, IntFunction<String> text) throws IOException {
        JSON.writeValue(file.toFile(), toJson(profile, source, topTokens, text));
    }

    /** Reads the load part of a summary: {@code path} is a summary.json or a folder holding one. */
    public static ProfileSummary read(Path path) throws IOException {
        Path file = Files.isDirectory(path) ? path.resolve("summary.json") : path;
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("no profile summary at " + file);
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + " is not valid JSON: " + e.getOriginalMessage());
        }
        return parse(root, file.toString());
    }

    /** The load part of a summary tree; {@code name} is used in error messages. */
    public static ProfileSummary parse(JsonNode root, String name) {
        int L = requiredInt(root, "num_layers", name);
        int E = requiredInt(root, "num_experts", name);
        int k = root.path("experts_per_token").asInt(0);
        long tokens = root.path("tokens").asLong(0);
        JsonNode layers = root.path("layers");
        if (!layers.isArray() || layers.size() != L) {
            throw new IllegalArgumentException(name + ": \"layers\" must be an array of num_layers (" + L + ") entries");
        }
        long[][] counts = new long[L][E];
        double[][] mass = new double[L][E];
        for (JsonNode layer : layers) {
            int l = requiredInt(layer, "layer", name);
            if (l < 0 || l >= L) throw new IllegalArgumentException(name + ": layer " + l + " is outside 0.." + (L - 1));
            JsonNode c = layer.path("expert_counts"), m = layer.path("expert_weight_mass");
            if (!c.isArray() || c.size() != E) throw new IllegalArgumentException(name + ": layer " + l + " needs expert_counts of " + E + " numbers");
            if (!m.isArray() || m.size() != E) throw new IllegalArgumentException(name + ": layer " + l + " needs expert_weight_mass of " + E + " numbers");
            for (int e = 0; e < E; e++) {
                counts[l][e] = c.get(e).asLong();
                mass[l][e] = m.get(e).asDouble();
            }
        }
        return new ProfileSummary(L, E, k, tokens, counts, mass);
    }

    private static int requiredInt(JsonNode node, String field, String name) {
        JsonNode v = node.get(field);
        if (v == null || !v.canConvertToInt()) throw new IllegalArgumentException(name + ": missing integer field \"" + field + "\"");
        return v.asInt();
    }

    private static void number(ObjectNode node, String field, double value) {
        if (Double.isFinite(value)) node.put(field, value);
        else node.putNull(field);
    }

    private static void numbers(ArrayNode array, double[] values) {
        for (double v : values) {
            if (Double.isFinite(v)) array.add(v);
            else array.addNull();
        }
    }
}
