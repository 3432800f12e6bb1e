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
 * The forward pass of spec §2.6 written plainly: every weight through {@link FloatTensor#dotScalar} (element by
 * element via {@code getFloat}), attention in loops over a natural-layout cache, one thread. The reference the
 * vector backend is compared with.
 */
final class ScalarReferenceBackend implements Backend {
    private final ModelConfig c;
    private final ModelWeights w;
    private final YarnRope rope;
    private final float eps;

    ScalarReferenceBackend(ModelConfig config, ModelWeights weights) {
        this.c = config;
        this.w = weights;
        this.rope = new YarnRope(config);
        this.eps = (float) config.rmsNormEps();
    }

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public KvCache newKvCache(int maxContext) {
        return new Cache(c.numLayers(), maxContext * c.kvDim());
    }

    /** Keys and values by position: [layer][position · KV + i]. */
    private static final class Cache implements KvCache {
        final float[][] keys, values;
        int length;

        Cache(int layers, int floats) {
            keys = new float[layers][floats];
            values = new float[layers][floats];
        }

        @Override
        public int length() {
            return length;
        }

        @Override
        public void truncate(int newLength) {
            length = newLength;
        }

        @Override
        public long bytes() {
            return 8L * keys.length * keys[0].length;
        }
    }

    @Override
    public void attention(int layer, TokenBatch batch, float[] x) {
        LayerWeights lw = w.layers().get(layer);
        int H = c.hiddenSize(), Q = c.qDim(), KV = c.kvDim(), D = c.headDim(), group = c.groupSize();
        float[] h = new float[H], q = new float[Q], k = new float[KV], v = new float[KV], o = new float[Q];
        float[] cos = new float[D / 2], sin = new float[D / 2];
        for (int t = 0; t < batch.size(); t++) {
            int position = batch.positions()[t];
            Cache cache = (Cache) batch.caches()[t];
            RmsNorm.apply(x, t * H, lw.attnNorm(), eps, h, 0, H);
            linear(lw.wq(), 0, lw.bq(), 0, h, q, Q, H);
            linear(lw.wk(), 0, lw.bk(), 0, h, k, KV, H);
            linear(lw.wv(), 0, lw.bv(), 0, h, v, KV, H);
            rope.cosSin(position, cos, sin);
            rope.rotate(q, 0, c.numHeads(), cos, sin);
            rope.rotate(k, 0, c.numKvHeads(), cos, sin);
            System.arraycopy(k, 0, cache.keys[layer], position * KV, KV);
            System.arraycopy(v, 0, cache.values[layer], position * KV, KV);
            cache.length = Math.max(cache.length, position + 1);
            int first = c.isSliding(layer) ? Math.max(0, position - c.slidingWindow() + 1) : 0;
            float scale = (float) (1.0 / Math.sqrt(D));
            float[] s = new float[position - first + 1];
            for (int head = 0; head < c.numHeads(); head++) {
                int kvHead = head / group;
                float sink = lw.sinks().getFloat(head), max = sink;
                for (int j = first; j <= position; j++) {
                    float dot = 0f;
                    for (int d = 0; d < D; d++) dot += q[head * D + d] * cache.keys[layer][j * KV + kvHead * D + d];
                    s[j - first] = dot * scale;
                    max = Math.max(max, s[j - first]);
                }
                float denominator = (float) Math.exp(sink - max);
                for (int j = 0; j < s.length; j++) {
                    s[j] = (float) Math.exp(s[j] - max);
                    denominator += s[j];
                }
                for (int d = 0; d < D; d++) {
                    float sum = 0f;
                    for (int j = first; j <= position; j++) sum += s[j - first] / denominator * cache.values[layer][j * KV + kvHead * D + d];
                    o[head * D + d] = sum;
                }
            }
            float[] a = new float[H];
            linear(lw.wo(), 0, lw.bo(), 0, o, a, H, Q);
            for (int i = 0; i < H; i++) x[t * H + i] += a[i];
        }
    }

    @Override
    public void router(int layer, int rows, float[] x, float[] normed, float[] routerLogits) {
        LayerWeights lw = w.layers().get(layer);
        int H = c.hiddenSize(), E = c.numExperts();
        float[] h = new float[H], logits = new float[E];
        for (int t = 0; t < rows; t++) {
            RmsNorm.apply(x, t * H, lw.mlpNorm(), eps, normed, t * H, H);
            System.arraycopy(normed, t * H, h, 0, H);
            linear(lw.router(), 0, lw.routerBias(), 0, h, logits, E, H);
            System.arraycopy(logits, 0, routerLogits, t * E, E);
        }
    }

    @Override
    public void expert(int layer, int expert, int[] rows, int count, float[] normed, float[] out) {
        LayerWeights lw = w.layers().get(layer);
        int H = c.hiddenSize(), I = c.intermediateSize();
        float[] h = new float[H], u = new float[2 * I], y = new float[I], z = new float[H];
        for (int i = 0; i < count; i++) {
            System.arraycopy(normed, rows[i] * H, h, 0, H);
            linear(lw.mlp1(), (long) expert * 2 * I * H, lw.mlp1Bias(), (long) expert * 2 * I, h, u, 2 * I, H);
            for (int j = 0; j < I; j++) y[j] = Swiglu.apply(u[2 * j], u[2 * j + 1], (float) c.swigluAlpha(), (float) c.swigluLimit());
            linear(lw.mlp2(), (long) expert * H * I, lw.mlp2Bias(), (long) expert * H, y, z, H, I);
            System.arraycopy(z, 0, out, i * H, H);
        }
    }

    @Override
    public void head(int rows, float[] x, float[] logits) {
        int H = c.hiddenSize(), V = c.vocabSize();
        float[] h = new float[H], l = new float[V];
        for (int t = 0; t < rows; t++) {
            RmsNorm.apply(x, t * H, w.finalNorm(), eps, h, 0, H);
            linear(w.unembedding(), 0, null, 0, h, l, V, H);
            System.arraycopy(l, 0, logits, t * V, V);
        }
    }

    private static void linear(FloatTensor weight, long offset, FloatTensor bias, long biasOffset, float[] in, float[] out, int rows, int cols) {
        for (int o = 0; o < rows; o++) {
            out[o] = weight.dotScalar(offset + (long) o * cols, in, 0, cols) + (bias == null ? 0f : bias.getFloat(biasOffset + o));
        }
    }
}
