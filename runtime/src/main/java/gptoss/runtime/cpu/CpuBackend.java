package gptoss.runtime.cpu;

import gptoss.model.checkpoint.LayerWeights;
import gptoss.model.checkpoint.ModelWeights;
import gptoss.model.config.ModelConfig;
import gptoss.model.tensor.FloatTensor;
import gptoss.runtime.backend.Backend;
import gptoss.runtime.backend.KvCache;
import gptoss.runtime.backend.TokenBatch;
import gptoss.runtime.ops.RmsNorm;
import gptoss.runtime.ops.Swiglu;
import gptoss.runtime.ops.YarnRope;

/**
 * The forward pass on the CPU with fp32 activations, reading weights where they lie (memory-mapped BF16 and
 * MXFP4, never copied). Matrix products run each weight row against all rows of the batch before moving on, so
 * a prefill chunk reads the weights once; work is split across a {@link WorkerPool}.
 * Not thread-safe: one engine thread drives it.
 */
public final class CpuBackend implements Backend {
    private final ModelConfig c;
    private final ModelWeights w;
    private final WorkerPool pool;
    private final YarnRope rope;
    private final float eps;
    private final Scratch scratch = new Scratch();
    private boolean ownsPool;

    public CpuBackend(ModelConfig config, ModelWeights weights, WorkerPool pool) {
        this.c = config;
        this.w = weights;
        this.pool = pool;
        this.rope = new YarnRope(config);
        this.eps = (float) config.rmsNormEps();
    }

    /** This backend, made responsible for shutting its pool down on {@link #close}. */
    CpuBackend closingPool() {
        ownsPool = true;
        return this;
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public void close() {
        if (ownsPool) pool.close();
    }

    @Override
    public KvCache newKvCache(int maxContext) {
        return new CpuKvCache(c, maxContext);
    }

    // -------------------------------------------------------------------------------------------- attention

    @Override
    public void attention(int layer, TokenBatch batch, float[] x) {
        LayerWeights lw = w.layers().get(layer);
        int T = batch.size(), H = c.hiddenSize(), Q = c.qDim(), KV = c.kvDim(), D = c.headDim();
        float[] h = scratch.normed(T * H);
        for (int t = 0; t < T; t++) RmsNorm.apply(x, t * H, lw.attnNorm(), eps, h, t * H, H);
        float[] q = scratch.q(T * Q), k = scratch.k(T * KV), v = scratch.v(T * KV);
        matmul(lw.wq(), lw.bq(), h, T, H, q, Q);
        matmul(lw.wk(), lw.bk(), h, T, H, k, KV);
        matmul(lw.wv(), lw.bv(), h, T, H, v, KV);
        float[] cos = scratch.cos(D / 2), sin = scratch.sin(D / 2);
        float[] o = scratch.attnOut(T * Q);
        for (int t = 0; t < T; t++) {
            int position = batch.positions()[t];
            rope.cosSin(position, cos, sin);
            rope.rotate(q, t * Q, c.numHeads(), cos, sin);
            rope.rotate(k, t * KV, c.numKvHeads(), cos, sin);
            CpuKvCache cache = (CpuKvCache) batch.caches()[t];
            cache.write(layer, position, k, t * KV, v, t * KV);
            attend(layer, lw, cache, position, q, t * Q, o, t * Q);
        }
        float[] a = scratch.projected(T * H);
        matmul(lw.wo(), lw.bo(), o, T, Q, a, H);
        for (int i = 0; i < T * H; i++) x[i] += a[i];
    }

    /** Attention of one query row over its cache: sinks, sliding window and GQA (spec §2.2.4). */
    private void attend(int layer, LayerWeights lw, CpuKvCache cache, int position, float[] q, int qOffset,
                        float[] out, int outOffset) {
        int D = c.headDim(), KV = c.kvDim(), group = c.groupSize();
        int first = c.isSliding(layer) ? Math.max(0, position - c.slidingWindow() + 1) : 0;
        int count = position - first + 1;
        float scale = (float) (1.0 / Math.sqrt(D));
        float[] keys = cache.keys(layer), values = cache.values(layer);
        float[] scores = scratch.scores(c.numHeads() * count);
        pool.parallelFor(c.numHeads(), (from, to) -> {
            for (int head = from; head < to; head++) {
                int kvHead = head / group;
                int qh = qOffset + head * D;
                int sBase = head * count;
                float sink = lw.sinks().getFloat(head);
                float max = sink;
                for (int j = 0; j < count; j++) {
                    int kBase = cache.slot(layer, first + j) * KV + kvHead * D;
                    float s = 0f;
                    for (int d = 0; d < D; d++) s += q[qh + d] * keys[kBase + d];
                    s *= scale;
                    scores[sBase + j] = s;
                    if (s > max) max = s;
                }
                float denominator = (float) Math.exp(sink - max);
                for (int j = 0; j < count; j++) {
                    float e = (float) Math.exp(scores[sBase + j] - max);
                    scores[sBase + j] = e;
                    denominator += e;
                }
                int oh = outOffset + head * D;
                for (int d = 0; d < D; d++) out[oh + d] = 0f;
                for (int j = 0; j < count; j++) {
                    float weight = scores[sBase + j] / denominator;
                    int vBase = cache.slot(layer, first + j) * KV + kvHead * D;
                    for (int d = 0; d < D; d++) out[oh + d] += weight * values[vBase + d];
                }
            }
        });
    }

    // ------------------------------------------------------------------------------------------------- MoE

    @Override
    public void router(int layer, int rows, float[] x, float[] normed, float[] routerLogits) {
        LayerWeights lw = w.layers().get(layer);
        int H = c.hiddenSize();
        for (int t = 0; t < rows; t++) RmsNorm.apply(x, t * H, lw.mlpNorm(), eps, normed, t * H, H);
        matmul(lw.router(), lw.routerBias(), normed, rows, H, routerLogits, c.numExperts());
    }

    @Override
    public void expert(int layer, int expert, int[] rows, int count, float[] normed, float[] out) {
        LayerWeights lw = w.layers().get(layer);
        int H = c.hiddenSize(), I = c.intermediateSize();
        float[] in = scratch.expertIn(count * H);
        for (int i = 0; i < count; i++) System.arraycopy(normed, rows[i] * H, in, i * H, H);
        float[] u = scratch.expertHidden(count * 2 * I);
        long mlp1Offset = (long) expert * 2 * I * H, mlp2Offset = (long) expert * H * I;
        matmul(lw.mlp1(), mlp1Offset, lw.mlp1Bias(), (long) expert * 2 * I, in, count, H, u, 2 * I);
        float[] y = scratch.expertAct(count * I);
        float alpha = (float) c.swigluAlpha(), limit = (float) c.swigluLimit();
        for (int i = 0; i < count; i++) {
            for (int j = 0; j < I; j++) y[i * I + j] = Swiglu.apply(u[i * 2 * I + 2 * j], u[i * 2 * I + 2 * j + 1], alpha, limit);
        }
        matmul(lw.mlp2(), mlp2Offset, lw.mlp2Bias(), (long) expert * H, y, count, I, out, H);
    }

    // ------------------------------------------------------------------------------------------------ head

    @Override
    public void head(int rows, float[] x, float[] logits) {
        int H = c.hiddenSize();
        float[] h = scratch.normed(rows * H);
        for (int t = 0; t < rows; t++) RmsNorm.apply(x, t * H, w.finalNorm(), eps, h, t * H, H);
        matmul(w.unembedding(), null, h, rows, H, logits, c.vocabSize());
    }

    /**
     * {@code out[t, o] = W[o] · in[t] + bias[o]} for t < rows, o < outDim. Each weight row is read once and
     * applied to every input row; output rows are split across threads.
     */
    private void matmul(FloatTensor weight, FloatTensor bias, float[] in, int rows, int inDim, float[] out, int outDim) {
        matmul(weight, 0, bias, 0, in, rows, inDim, out, outDim);
    }

    /** The same, for the matrix starting at element {@code weightOffset} and bias at {@code biasOffset}. */
    private void matmul(FloatTensor weight, long weightOffset, FloatTensor bias, long biasOffset,
                        float[] in, int rows, int inDim, float[] out, int outDim) {
        pool.parallelFor(outDim, (from, to) -> {
            for (int o = from; o < to; o++) {
                long offset = weightOffset + (long) o * inDim;
                float b = bias == null ? 0f : bias.getFloat(biasOffset + o);
                for (int t = 0; t < rows; t++) out[t * outDim + o] = weight.dot(offset, in, t * inDim, inDim) + b;
            }
        });
    }

    /** Grow-only work arrays, so steady-state decoding allocates nothing. */
    private static final class Scratch {
        private float[] normed = new float[0], q = new float[0], k = new float[0], v = new float[0];
        private float[] cos = new float[0], sin = new float[0], attnOut = new float[0], projected = new float[0];
        private float[] scores = new float[0], expertIn = new float[0], expertHidden = new float[0], expertAct = new float[0];

        private static float[] atLeast(float[] a, int n) {
            return a.length >= n ? a : new float[Math.max(n, a.length * 3 / 2)];
        }

        float[] normed(int n) { return normed = atLeast(normed, n); }
        float[] q(int n) { return q = atLeast(q, n); }
        float[] k(int n) { return k = atLeast(k, n); }
        float[] v(int n) { return v = atLeast(v, n); }
        float[] cos(int n) { return cos = atLeast(cos, n); }
        float[] sin(int n) { return sin = atLeast(sin, n); }
        float[] attnOut(int n) { return attnOut = atLeast(attnOut, n); }
        float[] projected(int n) { return projected = atLeast(projected, n); }
        float[] scores(int n) { return scores = atLeast(scores, n); }
        float[] expertIn(int n) { return expertIn = atLeast(expertIn, n); }
        float[] expertHidden(int n) { return expertHidden = atLeast(expertHidden, n); }
        float[] expertAct(int n) { return expertAct = atLeast(expertAct, n); }
    }
}
