package gptoss.measure;

import gptoss.model.checkpoint.LayerWeights;
import gptoss.model.checkpoint.ModelWeights;
import gptoss.model.config.ModelConfig;
import gptoss.runtime.engine.ForwardListener;

/**
 * Bytes a decoding step must read, counted from the tensors it touches: the embedding row, per layer the
 * attention weights, norms, sinks and router, the selected experts' slices (reported through
 * {@link #onRouting}) and the KV cache rows the query attends to, then the final norm and the unembedding.
 * Listen to the engine while decoding single tokens, then read {@link #bytesPerToken}.
 */
public final class TokenTraffic implements ForwardListener {
    private final ModelConfig config;
    private final long embeddingRow, head;
    private final long[] layerFixed;       // [L] attention, norms, sinks, router
    private final long[] expertBytes;      // [L] one expert: gate/up + down blocks, scales and biases
    private long bytes;
    private long tokens;

    public TokenTraffic(ModelConfig config, ModelWeights w) {
        this.config = config;
        int E = config.numExperts();
        this.embeddingRow = w.embedding().byteSize() / config.vocabSize();
        this.head = w.finalNorm().byteSize() + w.unembedding().byteSize();
        this.layerFixed = new long[config.numLayers()];
        this.expertBytes = new long[config.numLayers()];
        for (int l = 0; l < config.numLayers(); l++) {
            LayerWeights lw = w.layers().get(l);
            layerFixed[l] = lw.attnNorm().byteSize() + lw.wq().byteSize() + lw.bq().byteSize() + lw.wk().byteSize()
                    + lw.bk().byteSize() + lw.wv().byteSize() + lw.bv().byteSize() + lw.wo().byteSize() + lw.bo().byteSize()
                    + lw.sinks().byteSize() + lw.mlpNorm().byteSize() + lw.router().byteSize() + lw.routerBias().byteSize();
            expertBytes[l] = (lw.mlp1().byteSize() + lw.mlp1Bias().byteSize() + lw.mlp2().byteSize() + lw.mlp2Bias().byteSize()) / E;
        }
    }

    /** Bytes of weights one token reads outside the experts and the KV cache (for reports). */
    public long fixedBytesPerToken() {
        long b = embeddingRow + head;
        for (long f : layerFixed) b += f;
        return b;
    }

    @Override
    public void onRouting(int layer, int sequence, int position, int token, int[] experts, float[] weights, float[] routerLogits) {
        if (layer == 0) {
            bytes += embeddingRow;
            tokens++;
        }
        int visible = config.isSliding(layer) ? Math.min(position + 1, config.slidingWindow()) : position + 1;
        bytes += layerFixed[layer] + experts.length * expertBytes[layer] + 8L * visible * config.kvDim();
        if (layer == config.numLayers() - 1) bytes += head;
    }

    public void reset() {
        bytes = 0;
        tokens = 0;
    }

    public long tokens() {
        return tokens;
    }

    /** Mean bytes per token seen since the last reset. */
    public double bytesPerToken() {
        return tokens == 0 ? 0 : (double) bytes / tokens;
    }
}
