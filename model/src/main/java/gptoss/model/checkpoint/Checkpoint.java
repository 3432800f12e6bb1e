package gptoss.model.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import gptoss.model.InvalidModelException;
import gptoss.model.config.ModelConfig;
import gptoss.model.gguf.GgufFile;
import gptoss.model.gguf.GgufModel;
import gptoss.model.safetensors.TensorEntry;
import gptoss.model.safetensors.TensorStore;
import gptoss.model.tensor.FloatTensor;
import gptoss.model.tensor.Mxfp4Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongConsumer;
import java.util.stream.Stream;

/**
 * A gpt-oss checkpoint directory opened for inference: its config and memory-mapped weights. Reads the
 * Hugging Face layout ({@code model.layers.N.*}, one file or index + shards) and the openai {@code original/}
 * layout ({@code block.N.*}, fused qkv), checking every tensor's dtype and shape against the config; or a GGUF
 * file (llama.cpp's gpt-oss layout, config from its metadata: see {@link GgufModel}).
 */
public final class Checkpoint implements AutoCloseable {

    public enum Layout { HUGGING_FACE, ORIGINAL, GGUF }

    private final Path directory;
    private final Layout layout;
    private final ModelConfig config;
    private final TensorStore store;   // safetensors layouts
    private final GgufFile gguf;       // GGUF
    private final ModelWeights weights;

    private Checkpoint(Path directory, Layout layout, ModelConfig config, TensorStore store, GgufFile gguf, ModelWeights weights) {
        this.directory = directory;
        this.layout = layout;
        this.config = config;
        this.store = store;
        this.gguf = gguf;
        this.weights = weights;
    }

    /**
     * Opens {@code directory}: a folder with config.json and safetensors, a Hugging Face repo folder whose
     * only usable checkpoint is in {@code original/}, a {@code .gguf} file, or a folder holding one GGUF file.
     */
    public static Checkpoint open(Path directory) {
        if (Files.isRegularFile(directory)) return openGguf(directory);
        if (!Files.isDirectory(directory)) throw new InvalidModelException("model directory not found: " + directory);
        Path config = directory.resolve("config.json");
        if (!Files.isRegularFile(config) && Files.isRegularFile(directory.resolve("original/config.json"))) {
            return open(directory.resolve("original"));
        }
        if (!Files.isRegularFile(config)) {
            Path gguf = singleGguf(directory);
            if (gguf != null) return openGguf(gguf);
            throw new InvalidModelException(directory + ": no config.json (and no .gguf file)");
        }
        JsonNode root = ModelConfig.readJson(config);
        ModelConfig cfg = ModelConfig.fromJson(root, ModelConfig.displayName(config));
        Layout layout = ModelConfig.isOriginalFormat(root) ? Layout.ORIGINAL : Layout.HUGGING_FACE;
        TensorStore store = TensorStore.open(directory);
        try {
            ModelWeights weights = new Binder(store, cfg, layout).bind();
            return new Checkpoint(directory, layout, cfg, store, null, weights);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** Opens a GGUF file: the config from its metadata, the weights as they lie in it. */
    private static Checkpoint openGguf(Path file) {
        GgufFile f = GgufFile.open(file);
        try {
            ModelConfig cfg = GgufModel.config(f);
            return new Checkpoint(file, Layout.GGUF, cfg, null, f, GgufModel.weights(f, cfg));
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /** The one {@code *.gguf} file in {@code directory}, null if none; several are an error (split files are not read). */
    private static Path singleGguf(Path directory) {
        try (Stream<Path> s = Files.list(directory)) {
            List<Path> all = s.filter(p -> p.getFileName().toString().endsWith(".gguf") && Files.isRegularFile(p)).sorted().toList();
            if (all.size() > 1) {
                throw new InvalidModelException(directory + ": " + all.size() + " .gguf files (" + all.get(0).getFileName() + ", "
                        + all.get(1).getFileName() + (all.size() > 2 ? ", ..." : "") + "): give --model the file to load");
            }
            return all.isEmpty() ? null : all.get(0);
        } catch (IOException e) {
            throw new InvalidModelException("cannot list " + directory + " (" + e.getMessage() + ")", e);
        }
    }

    /** The checkpoint folder, or the GGUF file. */
    public Path directory() {
        return directory;
    }

    public Layout layout() {
        return layout;
    }

    public ModelConfig config() {
        return config;
    }

    public ModelWeights weights() {
        return weights;
    }

    /** The safetensors files (null for a GGUF checkpoint: see {@link #gguf}). */
    public TensorStore store() {
        return store;
    }

    /** The GGUF file (null for safetensors checkpoints). */
    public GgufFile gguf() {
        return gguf;
    }

    /** Bytes of tensor data mapped from disk. */
    public long totalBytes() {
        return store != null ? store.totalBytes() : gguf.totalBytes();
    }

    /** Reads every tensor into memory now, reporting bytes done (see {@link TensorStore#pageIn}). */
    public void pageIn(LongConsumer progress) {
        if (store != null) {
            store.pageIn(progress);
            return;
        }
        long done = 0;
        for (var t : gguf.tensors().values()) {
            if (t.data().isMapped()) t.data().load(); // copied weights (gptoss.weights=copy) are in memory already
            done += t.data().byteSize();
            progress.accept(done);
        }
    }

    @Override
    public void close() {
        if (store != null) store.close();
        if (gguf != null) gguf.close();
    }

    /** Finds each tensor by its layout's name and checks it against the config. */
    private record Binder(TensorStore store, ModelConfig c, Layout layout) {

        ModelWeights bind() {
            long H = c.hiddenSize(), V = c.vocabSize();
            boolean hf = layout == Layout.HUGGING_FACE;
            FloatTensor embedding = dense(hf ? "model.embed_tokens.weight" : "embedding.weight", V, H);
            List<LayerWeights> layers = new ArrayList<>();
            for (int n = 0; n < c.numLayers(); n++) layers.add(hf ? huggingFaceLayer(n) : originalLayer(n));
            FloatTensor norm = dense(hf ? "model.norm.weight" : "norm.scale", H);
            FloatTensor unembedding = dense(hf ? "lm_head.weight" : "unembedding.weight", V, H);
            return new ModelWeights(embedding, List.copyOf(layers), norm, unembedding);
        }

        LayerWeights huggingFaceLayer(int n) {
            long H = c.hiddenSize(), Q = c.qDim(), KV = c.kvDim(), E = c.numExperts(), I = c.intermediateSize();
            String p = "model.layers." + n + ".";
            return new LayerWeights(
                    dense(p + "input_layernorm.weight", H),
                    dense(p + "self_attn.q_proj.weight", Q, H), dense(p + "self_attn.q_proj.bias", Q),
                    dense(p + "self_attn.k_proj.weight", KV, H), dense(p + "self_attn.k_proj.bias", KV),
                    dense(p + "self_attn.v_proj.weight", KV, H), dense(p + "self_attn.v_proj.bias", KV),
                    dense(p + "self_attn.o_proj.weight", H, Q), dense(p + "self_attn.o_proj.bias", H),
                    dense(p + "self_attn.sinks", c.numHeads()),
                    dense(p + "post_attention_layernorm.weight", H),
                    dense(p + "mlp.router.weight", E, H), dense(p + "mlp.router.bias", E),
                    mxfp4(p + "mlp.experts.gate_up_proj_blocks", p + "mlp.experts.gate_up_proj_scales", E, 2 * I, H),
                    dense(p + "mlp.experts.gate_up_proj_bias", E, 2 * I),
                    mxfp4(p + "mlp.experts.down_proj_blocks", p + "mlp.experts.down_proj_scales", E, H, I),
                    dense(p + "mlp.experts.down_proj_bias", E, H));
        }

        LayerWeights originalLayer(int n) {
            long H = c.hiddenSize(), Q = c.qDim(), KV = c.kvDim(), E = c.numExperts(), I = c.intermediateSize();
            String p = "block." + n + ".";
            FloatTensor qkv = dense(p + "attn.qkv.weight", Q + 2 * KV, H);
            FloatTensor qkvBias = dense(p + "attn.qkv.bias", Q + 2 * KV);
            return new LayerWeights(
                    dense(p + "attn.norm.scale", H),
                    qkv.slice(0, Q * H), qkvBias.slice(0, Q),
                    qkv.slice(Q * H, KV * H), qkvBias.slice(Q, KV),
                    qkv.slice((Q + KV) * H, KV * H), qkvBias.slice(Q + KV, KV),
                    dense(p + "attn.out.weight", H, Q), dense(p + "attn.out.bias", H),
                    dense(p + "attn.sinks", c.numHeads()),
                    dense(p + "mlp.norm.scale", H),
                    dense(p + "mlp.gate.weight", E, H), dense(p + "mlp.gate.bias", E),
                    mxfp4(p + "mlp.mlp1_weight.blocks", p + "mlp.mlp1_weight.scales", E, 2 * I, H),
                    dense(p + "mlp.mlp1_bias", E, 2 * I),
                    mxfp4(p + "mlp.mlp2_weight.blocks", p + "mlp.mlp2_weight.scales", E, H, I),
                    dense(p + "mlp.mlp2_bias", E, H));
        }

        FloatTensor dense(String name, long... shape) {
            TensorEntry t = store.get(name);
            expectShape(t, shape);
            return FloatTensor.of(t);
        }

        /** An MXFP4 matrix of logical shape [E, rows, cols]: blocks [E, rows, cols/32, 16], scales [E, rows, cols/32]. */
        Mxfp4Tensor mxfp4(String blocksName, String scalesName, long experts, long rows, long cols) {
            TensorEntry blocks = store.get(blocksName);
            TensorEntry scales = store.get(scalesName);
            expectShape(blocks, experts, rows, cols / 32, 16);
            expectShape(scales, experts, rows, cols / 32);
            return Mxfp4Tensor.of(blocks, scales);
        }

        void expectShape(TensorEntry t, long... shape) {
            if (!Arrays.equals(t.shape(), shape)) {
                throw new InvalidModelException(t.where() + ": shape " + t.shapeString()
                        + " disagrees with the config (expected " + Arrays.toString(shape) + ")");
            }
        }
    }
}
