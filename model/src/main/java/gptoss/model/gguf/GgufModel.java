package gptoss.model.gguf;

import gptoss.model.InvalidModelException;
import gptoss.model.checkpoint.LayerWeights;
import gptoss.model.checkpoint.ModelWeights;
import gptoss.model.config.LayerType;
import gptoss.model.config.ModelConfig;
import gptoss.model.tensor.Bf16Tensor;
import gptoss.model.tensor.F16Tensor;
import gptoss.model.tensor.F32Tensor;
import gptoss.model.tensor.FloatTensor;
import gptoss.model.tensor.GgmlMxfp4Tensor;
import gptoss.model.tensor.InterleavedRowsTensor;
import gptoss.model.tensor.Q8_0Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The gpt-oss mapping of a GGUF file (spec §3.5, llama.cpp's {@code LLM_ARCH_OPENAI_MOE}, architecture string
 * {@code gpt-oss}): the model config from the {@code gpt-oss.*} metadata, and the tensors bound to
 * {@link ModelWeights} as they lie in the file. The split gate/up expert tensors (and biases) are presented in
 * the interleaved order of {@link LayerWeights#mlp1} through {@link InterleavedRowsTensor}; nothing is copied.
 */
public final class GgufModel {
    public static final String ARCHITECTURE = "gpt-oss";
    public static final String ARCH_KEY = "general.architecture";
    static final String P = ARCHITECTURE + ".";

    private GgufModel() {
    }

    /** The config held in the metadata; missing or mistyped keys are named in the error. */
    public static ModelConfig config(GgufFile f) {
        Keys k = new Keys(f);
        Object arch = f.metadata().get(ARCH_KEY);
        if (arch == null) throw new InvalidModelException(k.name + ": missing metadata key '" + ARCH_KEY + "'");
        if (!ARCHITECTURE.equals(arch)) {
            throw new InvalidModelException(k.name + ": architecture '" + arch + "' is not gpt-oss (" + ARCH_KEY + " must be \"gpt-oss\")");
        }
        int layers = k.integer(P + "block_count");
        int hidden = k.integer(P + "embedding_length");
        int heads = k.integer(P + "attention.head_count");
        int kvHeads = k.integer(P + "attention.head_count_kv");
        int headDim = f.metadata().containsKey(P + "attention.key_length") ? k.integer(P + "attention.key_length") : hidden / Math.max(1, heads);
        int experts = k.integer(P + "expert_count");
        int topK = k.integer(P + "expert_used_count");
        int ff = k.integer(P + "expert_feed_forward_length");
        int window = k.integer(P + "attention.sliding_window");
        int context = k.integer(P + "context_length");
        double theta = k.number(P + "rope.freq_base");
        double eps = k.number(P + "attention.layer_norm_rms_epsilon");
        String scalingType = f.metadata().get(P + "rope.scaling.type") instanceof String s ? s : "yarn";
        double factor = scalingType.equals("none") ? 1.0 : k.numberOr(P + "rope.scaling.factor", 1.0);
        int original = f.metadata().containsKey(P + "rope.scaling.original_context_length")
                ? k.integer(P + "rope.scaling.original_context_length") : (int) Math.round(context / Math.max(1.0, factor));
        double betaFast = k.numberOr(P + "rope.scaling.yarn_beta_fast", 32);
        double betaSlow = k.numberOr(P + "rope.scaling.yarn_beta_slow", 1);
        double swigluLimit = k.numberOr(P + "swiglu_limit", 7.0);
        GgufTensor embedding = f.tensor("token_embd.weight");
        if (embedding.dims().length != 2) {
            throw new InvalidModelException(embedding.where() + ": ggml dims " + embedding.dimsString() + " where {n_embd, n_vocab} is expected");
        }
        long vocab = embedding.dims()[1];
        int eos = f.metadata().get("tokenizer.ggml.eos_token_id") instanceof Long e ? (int) (long) e : -1;
        return new ModelConfig(layers, hidden, heads, kvHeads, headDim, experts, topK, ff, (int) vocab, window,
                layerTypes(f, k, layers), theta, factor, betaFast, betaSlow, original, false, context, swigluLimit,
                ModelConfig.SWIGLU_ALPHA, eps, eos);
    }

    /**
     * Sliding and full layers: llama.cpp's {@code set_swa_pattern(n)} (layer i slides when {@code i % n < n − 1}),
     * n from {@code gpt-oss.attention.sliding_window_pattern} (default 2: even layers slide), or a per-layer list of bools.
     */
    private static List<LayerType> layerTypes(GgufFile f, Keys k, int layers) {
        Object pattern = f.metadata().get(P + "attention.sliding_window_pattern");
        List<LayerType> types = new ArrayList<>();
        if (pattern instanceof List<?> list) {
            if (list.size() != layers) {
                throw new InvalidModelException(k.name + ": '" + P + "attention.sliding_window_pattern' has " + list.size() + " entries for " + layers + " layers");
            }
            for (Object o : list) {
                if (!(o instanceof Boolean b)) throw new InvalidModelException(k.name + ": '" + P + "attention.sliding_window_pattern' must hold bools");
                types.add(b ? LayerType.SLIDING_ATTENTION : LayerType.FULL_ATTENTION);
            }
            return types;
        }
        int n = pattern == null ? 2 : k.integer(P + "attention.sliding_window_pattern");
        if (n < 1) throw new InvalidModelException(k.name + ": '" + P + "attention.sliding_window_pattern' must be positive");
        for (int i = 0; i < layers; i++) types.add(i % n < n - 1 ? LayerType.SLIDING_ATTENTION : LayerType.FULL_ATTENTION);
        return types;
    }

    /** Binds every tensor, checking its shape against the config. */
    public static ModelWeights weights(GgufFile f, ModelConfig c) {
        Binder b = new Binder(f);
        long H = c.hiddenSize(), V = c.vocabSize(), Q = c.qDim(), KV = c.kvDim(), E = c.numExperts(), I = c.intermediateSize();
        FloatTensor embedding = b.tensor("token_embd.weight", V, H);
        List<LayerWeights> layers = new ArrayList<>();
        for (int n = 0; n < c.numLayers(); n++) {
            String p = "blk." + n + ".";
            FloatTensor gate = b.tensor(p + "ffn_gate_exps.weight", E, I, H), up = b.tensor(p + "ffn_up_exps.weight", E, I, H);
            FloatTensor gateBias = b.tensor(p + "ffn_gate_exps.bias", E, I), upBias = b.tensor(p + "ffn_up_exps.bias", E, I);
            layers.add(new LayerWeights(
                    b.tensor(p + "attn_norm.weight", H),
                    b.tensor(p + "attn_q.weight", Q, H), b.tensor(p + "attn_q.bias", Q),
                    b.tensor(p + "attn_k.weight", KV, H), b.tensor(p + "attn_k.bias", KV),
                    b.tensor(p + "attn_v.weight", KV, H), b.tensor(p + "attn_v.bias", KV),
                    b.tensor(p + "attn_output.weight", H, Q), b.tensor(p + "attn_output.bias", H),
                    b.tensor(p + "attn_sinks.weight", c.numHeads()),
                    b.tensor(p + "post_attention_norm.weight", H),
                    b.tensor(p + "ffn_gate_inp.weight", E, H), b.tensor(p + "ffn_gate_inp.bias", E),
                    new InterleavedRowsTensor(gate, up, H),
                    new InterleavedRowsTensor(gateBias, upBias, 1),
                    b.tensor(p + "ffn_down_exps.weight", E, H, I),
                    b.tensor(p + "ffn_down_exps.bias", E, H)));
        }
        FloatTensor norm = b.tensor("output_norm.weight", H);
        FloatTensor output = b.tensor("output.weight", V, H);
        return new ModelWeights(embedding, List.copyOf(layers), norm, output);
    }

    /** A tensor of a supported type viewed through its tensor class. */
    public static FloatTensor of(GgufTensor t) {
        return switch (t.type()) {
            case F32 -> new F32Tensor(t.data());
            case F16 -> new F16Tensor(t.data());
            case BF16 -> new Bf16Tensor(t.data());
            case Q8_0 -> new Q8_0Tensor(t.data());
            case MXFP4 -> new GgmlMxfp4Tensor(t.data());
        };
    }

    private record Binder(GgufFile f) {
        FloatTensor tensor(String name, long... shape) {
            GgufTensor t = f.tensor(name);
            if (!Arrays.equals(t.shape(), shape)) {
                long[] dims = new long[shape.length];
                for (int i = 0; i < shape.length; i++) dims[i] = shape[shape.length - 1 - i];
                throw new InvalidModelException(t.where() + ": ggml dims " + t.dimsString()
                        + " disagree with the metadata (expected " + Arrays.toString(dims) + ")");
            }
            return of(t);
        }
    }

    /** Typed, error-reporting access to metadata. */
    private static final class Keys {
        final GgufFile f;
        final String name;

        Keys(GgufFile f) {
            this.f = f;
            this.name = f.path().getFileName().toString();
        }

        Object required(String key) {
            Object v = f.metadata().get(key);
            if (v == null) throw new InvalidModelException(name + ": missing metadata key '" + key + "'");
            return v;
        }

        int integer(String key) {
            Object v = required(key);
            if (!(v instanceof Long l) || l < 0 || l > Integer.MAX_VALUE) {
                throw new InvalidModelException(name + ": metadata '" + key + "' must be a non-negative integer, got " + v);
            }
            return (int) (long) l;
        }

        double number(String key) {
            Object v = required(key);
            // A FLOAT32 value as the shortest decimal that rounds to it (1e-5 stays 1e-5, not 9.9999997e-6).
            if (v instanceof Float x) return Double.parseDouble(Float.toString(x));
            if (v instanceof Double x) return x;
            if (v instanceof Long x) return x;
            throw new InvalidModelException(name + ": metadata '" + key + "' must be a number, got " + v);
        }

        double numberOr(String key, double fallback) {
            return f.metadata().containsKey(key) ? number(key) : fallback;
        }
    }
}
