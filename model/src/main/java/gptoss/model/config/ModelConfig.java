package gptoss.model.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gptoss.model.InvalidModelException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Every constant of a gpt-oss model (spec §1). Defaults of {@link #gptOss20b()} / {@link #gptOss120b()} are the
 * published ones; a checkpoint's config.json (Hugging Face or openai {@code original/} keys) overrides all of them.
 *
 * @param numLayers        transformer blocks
 * @param hiddenSize       residual width H
 * @param numHeads         query heads
 * @param numKvHeads       key/value heads (GQA: query head h uses KV head h / (numHeads / numKvHeads))
 * @param headDim          width of one head D
 * @param numExperts       experts per MoE layer E
 * @param expertsPerToken  top-k
 * @param intermediateSize expert hidden width I (MLP1 produces 2I interleaved gate/linear channels)
 * @param vocabSize        embedding and unembedding rows V
 * @param slidingWindow    keys a sliding layer sees, the current one included
 * @param layerTypes       attention kind of each layer
 * @param ropeTheta        RoPE base
 * @param ropeScalingFactor YaRN factor s (1 = plain RoPE)
 * @param ropeBetaFast     YaRN β (openai {@code rope_ntk_beta})
 * @param ropeBetaSlow     YaRN α (openai {@code rope_ntk_alpha})
 * @param ropeOriginalContext YaRN original context L0
 * @param ropeTruncate     whether YaRN correction dims are floored/ceiled (gpt-oss: false)
 * @param maxContext       longest sequence the model accepts
 * @param swigluLimit      clamp of the SwiGLU inputs
 * @param swigluAlpha      sigmoid slope of the SwiGLU (1.702, not in config files)
 * @param rmsNormEps       RMSNorm epsilon
 * @param eosTokenId       end-of-sequence id from the config, or -1
 */
public record ModelConfig(
        int numLayers, int hiddenSize, int numHeads, int numKvHeads, int headDim,
        int numExperts, int expertsPerToken, int intermediateSize, int vocabSize,
        int slidingWindow, List<LayerType> layerTypes,
        double ropeTheta, double ropeScalingFactor, double ropeBetaFast, double ropeBetaSlow,
        int ropeOriginalContext, boolean ropeTruncate, int maxContext,
        double swigluLimit, double swigluAlpha, double rmsNormEps, int eosTokenId) {

    public static final double SWIGLU_ALPHA = 1.702;

    public ModelConfig {
        layerTypes = List.copyOf(layerTypes);
        validate(numLayers, hiddenSize, numHeads, numKvHeads, headDim, numExperts, expertsPerToken,
                intermediateSize, vocabSize, slidingWindow, layerTypes, maxContext);
    }

    private static void validate(int numLayers, int hiddenSize, int numHeads, int numKvHeads, int headDim,
                                 int numExperts, int expertsPerToken, int intermediateSize, int vocabSize,
                                 int slidingWindow, List<LayerType> layerTypes, int maxContext) {
        require(numLayers > 0, "num_hidden_layers must be positive");
        require(hiddenSize > 0 && hiddenSize % 32 == 0, "hidden_size must be a positive multiple of 32 (MXFP4 blocks), got " + hiddenSize);
        require(intermediateSize > 0 && intermediateSize % 32 == 0, "intermediate_size must be a positive multiple of 32, got " + intermediateSize);
        require(numHeads > 0 && numKvHeads > 0 && numHeads % numKvHeads == 0,
                "num_attention_heads (" + numHeads + ") must be a multiple of num_key_value_heads (" + numKvHeads + ")");
        require(headDim > 0 && headDim % 2 == 0, "head_dim must be positive and even, got " + headDim);
        require(numExperts > 0 && expertsPerToken > 0 && expertsPerToken <= numExperts,
                "experts_per_token (" + expertsPerToken + ") must be in 1.." + numExperts);
        require(vocabSize > 0, "vocab_size must be positive");
        require(slidingWindow > 0, "sliding_window must be positive");
        require(maxContext > 0, "max context must be positive");
        require(layerTypes.size() == numLayers, "layer_types has " + layerTypes.size() + " entries for " + numLayers + " layers");
    }

    private static void require(boolean condition, String message) {
        if (!condition) throw new InvalidModelException("config: " + message);
    }

    /** gpt-oss-20b (spec §1.1). */
    public static ModelConfig gptOss20b() {
        return new ModelConfig(24, 2880, 64, 8, 64, 32, 4, 2880, 201088, 128, alternating(24),
                150000, 32, 32, 1, 4096, false, 131072, 7.0, SWIGLU_ALPHA, 1e-5, 200002);
    }

    /** gpt-oss-120b: 20b with 36 layers and 128 experts. */
    public static ModelConfig gptOss120b() {
        return gptOss20b().withShape(36, 128);
    }

    /** Even layers slide, odd layers see everything (REF-TORCH {@code layer_idx % 2 == 0}). */
    public static List<LayerType> alternating(int layers) {
        List<LayerType> types = new ArrayList<>(layers);
        for (int i = 0; i < layers; i++) types.add(i % 2 == 0 ? LayerType.SLIDING_ATTENTION : LayerType.FULL_ATTENTION);
        return Collections.unmodifiableList(types);
    }

    /** The same model with another depth and expert count (layer types stay alternating). */
    public ModelConfig withShape(int layers, int experts) {
        return new ModelConfig(layers, hiddenSize, numHeads, numKvHeads, headDim, experts, expertsPerToken,
                intermediateSize, vocabSize, slidingWindow, alternating(layers), ropeTheta, ropeScalingFactor,
                ropeBetaFast, ropeBetaSlow, ropeOriginalContext, ropeTruncate, maxContext, swigluLimit, swigluAlpha,
                rmsNormEps, eosTokenId);
    }

    public int qDim() {
        return numHeads * headDim;
    }

    public int kvDim() {
        return numKvHeads * headDim;
    }

    /** Query heads per KV head. */
    public int groupSize() {
        return numHeads / numKvHeads;
    }

    public boolean isSliding(int layer) {
        return layerTypes.get(layer) == LayerType.SLIDING_ATTENTION;
    }

    // ---------------------------------------------------------------------------------------------------------
    // config.json

    /** Reads a config.json in either the Hugging Face or the openai original/ key set. */
    public static ModelConfig read(Path configJson) {
        return fromJson(readJson(configJson), displayName(configJson));
    }

    /** The JSON object of a config file, with a clear error when it cannot be read or is not an object. */
    public static JsonNode readJson(Path configJson) {
        String name = displayName(configJson);
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(configJson));
        } catch (IOException e) {
            throw new InvalidModelException(name + ": cannot read config (" + e.getMessage() + ")", e);
        }
        if (root == null || !root.isObject()) throw new InvalidModelException(name + ": not a JSON object");
        return root;
    }

    /** A config from either key set; {@code name} prefixes error messages. */
    public static ModelConfig fromJson(JsonNode root, String name) {
        return isOriginalFormat(root) ? fromOriginalJson(root, name) : fromHuggingFaceJson(root, name);
    }

    /** "folder/config.json", how errors name a config file. */
    public static String displayName(Path configJson) {
        return configJson.getParent() == null ? configJson.toString()
                : configJson.getParent().getFileName() + "/" + configJson.getFileName();
    }

    /** The openai format has {@code num_experts}/{@code rope_scaling_factor} and no {@code model_type}. */
    public static boolean isOriginalFormat(JsonNode root) {
        return !root.has("model_type") && (root.has("num_experts") || root.has("rope_scaling_factor"));
    }

    public static ModelConfig fromOriginalJson(JsonNode root, String name) {
        Keys k = new Keys(root, name);
        int layers = k.integer("num_hidden_layers");
        int initialContext = k.integer("initial_context_length");
        double factor = k.number("rope_scaling_factor");
        return new ModelConfig(layers, k.integer("hidden_size"), k.integer("num_attention_heads"),
                k.integer("num_key_value_heads"), k.integer("head_dim"), k.integer("num_experts"),
                k.integer("experts_per_token"), k.integer("intermediate_size"), k.integer("vocab_size"),
                k.integer("sliding_window"), alternating(layers), k.number("rope_theta"), factor,
                k.number("rope_ntk_beta"), k.number("rope_ntk_alpha"), initialContext, false,
                (int) Math.round(initialContext * Math.max(1.0, factor)), k.number("swiglu_limit"), SWIGLU_ALPHA,
                k.numberOr("rms_norm_eps", 1e-5), -1);
    }

    public static ModelConfig fromHuggingFaceJson(JsonNode root, String name) {
        Keys k = new Keys(root, name);
        int layers = k.integer("num_hidden_layers");
        List<LayerType> types;
        JsonNode typesNode = root.get("layer_types");
        if (typesNode == null || typesNode.isNull()) {
            types = alternating(layers);
        } else {
            if (!typesNode.isArray()) throw new InvalidModelException(name + ": 'layer_types' must be a list");
            types = new ArrayList<>();
            for (JsonNode t : typesNode) {
                LayerType type = LayerType.fromJson(t.asText());
                if (type == null) throw new InvalidModelException(name + ": unknown layer type '" + t.asText() + "' in layer_types");
                types.add(type);
            }
        }
        JsonNode ropeNode = root.has("rope_scaling") ? root.get("rope_scaling") : root.get("rope_parameters");
        double factor = 1, betaFast = 32, betaSlow = 1;
        int original = 4096;
        boolean truncate = true;
        double theta;
        if (ropeNode != null && !ropeNode.isNull()) {
            Keys r = new Keys(ropeNode, name + " rope_scaling");
            factor = r.number("factor");
            betaFast = r.numberOr("beta_fast", 32);
            betaSlow = r.numberOr("beta_slow", 1);
            original = r.integer("original_max_position_embeddings");
            truncate = ropeNode.path("truncate").asBoolean(true);
            theta = ropeNode.has("rope_theta") && !root.has("rope_theta") ? r.number("rope_theta") : k.number("rope_theta");
        } else {
            theta = k.number("rope_theta");
        }
        int experts = root.has("num_local_experts") ? k.integer("num_local_experts") : k.integer("num_experts");
        int topK = root.has("num_experts_per_tok") ? k.integer("num_experts_per_tok") : k.integer("experts_per_token");
        int maxContext = root.has("max_position_embeddings") ? k.integer("max_position_embeddings")
                : (int) Math.round(original * Math.max(1.0, factor));
        int eos = root.path("eos_token_id").isInt() ? root.get("eos_token_id").asInt() : -1;
        return new ModelConfig(layers, k.integer("hidden_size"), k.integer("num_attention_heads"),
                k.integer("num_key_value_heads"), k.integer("head_dim"), experts, topK,
                k.integer("intermediate_size"), k.integer("vocab_size"), k.integer("sliding_window"), types, theta,
                factor, betaFast, betaSlow, original, truncate, maxContext, k.number("swiglu_limit"), SWIGLU_ALPHA,
                k.number("rms_norm_eps"), eos);
    }

    /** The Hugging Face config.json of this model (what {@code synth} writes next to the weights). */
    public String toHuggingFaceJson() {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        root.putArray("architectures").add("GptOssForCausalLM");
        root.put("attention_bias", true);
        root.put("attention_dropout", 0.0);
        if (eosTokenId >= 0) root.put("eos_token_id", eosTokenId);
        root.put("experts_per_token", expertsPerToken);
        root.put("head_dim", headDim);
        root.put("hidden_act", "silu");
        root.put("hidden_size", hiddenSize);
        root.put("initial_context_length", ropeOriginalContext);
        root.put("intermediate_size", intermediateSize);
        ArrayNode types = root.putArray("layer_types");
        layerTypes.forEach(t -> types.add(t.jsonName()));
        root.put("max_position_embeddings", maxContext);
        root.put("model_type", "gpt_oss");
        root.put("num_attention_heads", numHeads);
        root.put("num_experts_per_tok", expertsPerToken);
        root.put("num_hidden_layers", numLayers);
        root.put("num_key_value_heads", numKvHeads);
        root.put("num_local_experts", numExperts);
        ObjectNode quant = root.putObject("quantization_config");
        quant.putArray("modules_to_not_convert").add("model.layers.*.self_attn").add("model.layers.*.mlp.router")
                .add("model.embed_tokens").add("lm_head");
        quant.put("quant_method", "mxfp4");
        root.put("rms_norm_eps", rmsNormEps);
        ObjectNode rope = root.putObject("rope_scaling");
        rope.put("beta_fast", ropeBetaFast);
        rope.put("beta_slow", ropeBetaSlow);
        rope.put("factor", ropeScalingFactor);
        rope.put("original_max_position_embeddings", ropeOriginalContext);
        rope.put("rope_type", "yarn");
        rope.put("truncate", ropeTruncate);
        root.put("rope_theta", ropeTheta);
        root.put("sliding_window", slidingWindow);
        root.put("swiglu_limit", swigluLimit);
        root.put("tie_word_embeddings", false);
        root.put("vocab_size", vocabSize);
        try {
            return mapper.writeValueAsString(root) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Typed, error-reporting access to the keys of a config object. */
    private record Keys(JsonNode node, String name) {
        JsonNode required(String key) {
            JsonNode v = node.get(key);
            if (v == null || v.isNull()) throw new InvalidModelException(name + ": missing key '" + key + "'");
            return v;
        }

        int integer(String key) {
            JsonNode v = required(key);
            if (!v.isNumber() || v.asDouble() != Math.rint(v.asDouble())) {
                throw new InvalidModelException(name + ": key '" + key + "' must be an integer, got " + v);
            }
            return v.asInt();
        }

        double number(String key) {
            JsonNode v = required(key);
            if (!v.isNumber()) throw new InvalidModelException(name + ": key '" + key + "' must be a number, got " + v);
            return v.asDouble();
        }

        double numberOr(String key, double fallback) {
            return node.has(key) && !node.get(key).isNull() ? number(key) : fallback;
        }
    }
}
