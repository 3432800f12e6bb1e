package gptoss.runtime.placement;

import gptoss.model.checkpoint.LayerWeights;
import gptoss.model.checkpoint.ModelWeights;
import gptoss.model.config.ModelConfig;
import gptoss.model.tensor.FloatTensor;
import gptoss.model.tensor.Mxfp4Tensor;

/**
 * Exact bytes of tensor data by the part of the model that holds them, the unit a plan places: the embedding
 * (read by the engine on the host), each layer's dense part (attention, its norm, sinks, MoE norm and router),
 * one expert of each layer (MXFP4 blocks and scales of MLP1 and MLP2 plus their biases) and the head (final norm
 * and unembedding). From a config with the published dtypes (spec §3.2: every non-MXFP4 tensor BF16) or from an
 * opened checkpoint's tensors as stored.
 */
public final class ModelFootprint {
    private final long embeddingBytes;
    private final long headBytes;
    private final long[] layerDenseBytes;   // [L]
    private final long[] expertBytes;       // [L] bytes of one expert of the layer
    private final long[] expertMxfp4Bytes;  // [L] the MXFP4 part of one expert (blocks + scales)
    private final int numExperts;

    private ModelFootprint(long embeddingBytes, long headBytes, long[] layerDenseBytes, long[] expertBytes,
                           long[] expertMxfp4Bytes, int numExperts) {
        this.embeddingBytes = embeddingBytes;
        this.headBytes = headBytes;
        this.layerDenseBytes = layerDenseBytes;
        this.expertBytes = expertBytes;
        this.expertMxfp4Bytes = expertMxfp4Bytes;
        this.numExperts = numExperts;
    }

    /** Sizes implied by the config: BF16 dense tensors and biases, MXFP4 expert matrices (17 bytes per 32 values). */
    public static ModelFootprint of(ModelConfig c) {
        long H = c.hiddenSize(), Q = c.qDim(), KV = c.kvDim(), E = c.numExperts(), I = c.intermediateSize(), V = c.vocabSize();
        long bf16 = 2;
        long attention = H + Q * H + Q + 2 * (KV * H + KV) + H * Q + H + c.numHeads();
        long moeDense = H + E * H + E;
        long mxfp4 = mxfp4Bytes(2 * I * H) + mxfp4Bytes(H * I);
        long expertBias = 2 * I + H;
        long[] dense = new long[c.numLayers()], expert = new long[c.numLayers()], expertMx = new long[c.numLayers()];
        for (int l = 0; l < c.numLayers(); l++) {
            dense[l] = bf16 * (attention + moeDense);
            expertMx[l] = mxfp4;
            expert[l] = mxfp4 + bf16 * expertBias;
        }
        return new ModelFootprint(bf16 * V * H, bf16 * (H + V * H), dense, expert, expertMx, c.numExperts());
    }

    /** Sizes of the tensors of an opened checkpoint, as stored. */
    public static ModelFootprint of(ModelConfig c, ModelWeights w) {
        int L = c.numLayers(), E = c.numExperts();
        long[] dense = new long[L], expert = new long[L], expertMx = new long[L];
        for (int l = 0; l < L; l++) {
            LayerWeights lw = w.layers().get(l);
            dense[l] = bytes(lw.attnNorm(), lw.wq(), lw.bq(), lw.wk(), lw.bk(), lw.wv(), lw.bv(), lw.wo(), lw.bo(),
                    lw.sinks(), lw.mlpNorm(), lw.router(), lw.routerBias());
            long mx = lw.mlp1().byteSize() + lw.mlp2().byteSize();
            long all = mx + lw.mlp1Bias().byteSize() + lw.mlp2Bias().byteSize();
            if (mx % E != 0 || all % E != 0) throw new IllegalStateException("layer " + l + ": expert tensors do not split into " + E + " experts");
            expertMx[l] = mx / E;
            expert[l] = all / E;
        }
        return new ModelFootprint(w.embedding().byteSize(), bytes(w.finalNorm(), w.unembedding()), dense, expert, expertMx, E);
    }

    private static long mxfp4Bytes(long values) {
        long blocks = values / Mxfp4Tensor.BLOCK;
        return blocks * (Mxfp4Tensor.BLOCK_BYTES + 1);
    }

    private static long bytes(FloatTensor... tensors) {
        long n = 0;
        for (FloatTensor t : tensors) n += t.byteSize();
        return n;
    }

    public int numLayers() {
        return layerDenseBytes.length;
    }

    public int numExperts() {
        return numExperts;
    }

    /** Token embedding [V, H]: the engine reads it on the host. */
    public long embeddingBytes() {
        return embeddingBytes;
    }

    /** Final norm and unembedding. */
    public long headBytes() {
        return headBytes;
    }

    /** Attention (norm, q/k/v/o with biases, sinks), MoE norm and router of {@code layer}. */
    public long layerDenseBytes(int layer) {
        return layerDenseBytes[layer];
    }

    /** One expert of {@code layer}: MXFP4 MLP1 and MLP2 (blocks and scales) and their biases. */
    public long expertBytes(int layer) {
        return expertBytes[layer];
    }

    /** The MXFP4 part (blocks and scales) of {@link #expertBytes}. */
    public long expertMxfp4Bytes(int layer) {
        return expertMxfp4Bytes[layer];
    }

    /** All MXFP4 tensor bytes (expert blocks and scales). */
    public long mxfp4Bytes() {
        long n = 0;
        for (long b : expertMxfp4Bytes) n += b * numExperts;
        return n;
    }

    /** All other tensor bytes (BF16 in the published checkpoints): dense weights, norms, router, expert biases. */
    public long denseBytes() {
        return totalBytes() - mxfp4Bytes();
    }

    /** Every tensor byte of the model. */
    public long totalBytes() {
        long n = embeddingBytes + headBytes;
        for (int l = 0; l < layerDenseBytes.length; l++) n += layerDenseBytes[l] + expertBytes[l] * numExperts;
        return n;
    }
}
