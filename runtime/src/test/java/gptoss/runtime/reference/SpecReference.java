package gptoss.runtime.reference;

import gptoss.model.config.ModelConfig;
import gptoss.model.safetensors.TensorEntry;
import gptoss.model.safetensors.TensorStore;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * gpt-oss straight from the spec (§1.4, §2, §3.1), for tests only: double precision, no KV cache (every position
 * recomputed, like the torch reference), weights decoded here from the raw safetensors bytes (Hugging Face
 * names). Shares no code with the engine, so agreement is evidence.
 */
public final class SpecReference {
    private static final double[] FP4 = {0, .5, 1, 1.5, 2, 3, 4, 6, -0.0, -.5, -1, -1.5, -2, -3, -4, -6};

    private final ModelConfig c;
    private final TensorStore store;

    public SpecReference(ModelConfig config, TensorStore store) {
        this.c = config;
        this.store = store;
    }

    /** What the reference computes for a token sequence. */
    public record Output(double[][] logits, int[][][] experts) {  // logits [T][V], experts [L][T][k]
    }

    public Output run(int[] tokens) {
        int T = tokens.length, H = c.hiddenSize(), L = c.numLayers();
        double[][] x = new double[T][];
        for (int t = 0; t < T; t++) x[t] = row("model.embed_tokens.weight", tokens[t], H);
        int[][][] chosen = new int[L][T][];
        for (int l = 0; l < L; l++) {
            String p = "model.layers." + l + ".";
            double[][] attn = attention(l, p, x);
            for (int t = 0; t < T; t++) for (int i = 0; i < H; i++) x[t][i] += attn[t][i];
            for (int t = 0; t < T; t++) {
                double[] h = rmsNorm(x[t], vector(p + "post_attention_layernorm.weight"));
                double[] moe = moe(p, h, chosen[l], t);
                for (int i = 0; i < H; i++) x[t][i] += moe[i];
            }
        }
        double[][] logits = new double[T][];
        for (int t = 0; t < T; t++) logits[t] = linear("lm_head.weight", null, rmsNorm(x[t], vector("model.norm.weight")));
        return new Output(logits, chosen);
    }

    private double[][] attention(int layer, String p, double[][] x) {
        int T = x.length, NH = c.numHeads(), D = c.headDim(), group = NH / c.numKvHeads();
        double[][] q = new double[T][], k = new double[T][], v = new double[T][];
        for (int t = 0; t < T; t++) {
            double[] h = rmsNorm(x[t], vector(p + "input_layernorm.weight"));
            q[t] = linear(p + "self_attn.q_proj.weight", p + "self_attn.q_proj.bias", h);
            k[t] = linear(p + "self_attn.k_proj.weight", p + "self_attn.k_proj.bias", h);
            v[t] = linear(p + "self_attn.v_proj.weight", p + "self_attn.v_proj.bias", h);
            rope(q[t], t);
            rope(k[t], t);
        }
        double[] sinks = vector(p + "self_attn.sinks");
        boolean sliding = c.layerTypes().get(layer).name().startsWith("SLIDING");
        double[][] out = new double[T][];
        for (int i = 0; i < T; i++) {
            double[] o = new double[NH * D];
            for (int h = 0; h < NH; h++) {
                int kv = h / group;
                // scores for allowed keys, then the sink column, softmax over all, sink dropped
                double[] s = new double[i + 1];
                double max = sinks[h];
                for (int j = 0; j <= i; j++) {
                    boolean allowed = !sliding || j > i - c.slidingWindow();
                    double dot = 0;
                    for (int d = 0; d < D; d++) dot += q[i][h * D + d] * k[j][kv * D + d];
                    s[j] = allowed ? dot / Math.sqrt(D) : Double.NEGATIVE_INFINITY;
                    max = Math.max(max, s[j]);
                }
                double z = Math.exp(sinks[h] - max);
                for (int j = 0; j <= i; j++) z += Math.exp(s[j] - max);
                for (int j = 0; j <= i; j++) {
                    double w = Math.exp(s[j] - max) / z;
                    for (int d = 0; d < D; d++) o[h * D + d] += w * v[j][kv * D + d];
                }
            }
            out[i] = linear(p + "self_attn.o_proj.weight", p + "self_attn.o_proj.bias", o);
        }
        return out;
    }

    private double[] moe(String p, double[] h, int[][] chosen, int t) {
        int E = c.numExperts(), K = c.expertsPerToken(), H = c.hiddenSize(), I = c.intermediateSize();
        double[] g = linear(p + "mlp.router.weight", p + "mlp.router.bias", h);
        int[] top = new int[K];
        boolean[] used = new boolean[E];
        for (int s = 0; s < K; s++) {
            int best = -1;
            for (int e = 0; e < E; e++) if (!used[e] && (best < 0 || g[e] > g[best])) best = e;
            top[s] = best;
            used[best] = true;
        }
        chosen[t] = top;
        double max = g[top[0]], z = 0;
        for (int e : top) z += Math.exp(g[e] - max);
        double[] out = new double[H];
        TensorEntry b1 = store.get(p + "mlp.experts.gate_up_proj_bias"), b2 = store.get(p + "mlp.experts.down_proj_bias");
        for (int e : top) {
            double weight = Math.exp(g[e] - max) / z;
            double[] u = new double[2 * I];
            for (int r = 0; r < 2 * I; r++) {
                u[r] = mxfp4Dot(p + "mlp.experts.gate_up_proj", (long) e * 2 * I + r, h) + bf16(b1, (long) e * 2 * I + r);
            }
            double[] y = new double[I];
            for (int j = 0; j < I; j++) {
                double gate = Math.min(u[2 * j], c.swigluLimit());
                double lin = Math.max(-c.swigluLimit(), Math.min(u[2 * j + 1], c.swigluLimit()));
                y[j] = gate / (1 + Math.exp(-c.swigluAlpha() * gate)) * (lin + 1);
            }
            for (int r = 0; r < H; r++) {
                double z2 = mxfp4Dot(p + "mlp.experts.down_proj", (long) e * H + r, y) + bf16(b2, (long) e * H + r);
                out[r] += weight * z2;
            }
        }
        return out;
    }

    /** Row {@code row} of an MXFP4 matrix (rows flattened over experts) dotted with x, decoded per §3.1. */
    private double mxfp4Dot(String base, long row, double[] x) {
        TensorEntry blocks = store.get(base + "_blocks"), scales = store.get(base + "_scales");
        int groups = x.length / 32;
        double sum = 0;
        for (int g = 0; g < groups; g++) {
            long block = row * groups + g;
            double scale = Math.pow(2, (scales.data().get(ValueLayout.JAVA_BYTE, block) & 0xFF) - 127);
            for (int k = 0; k < 32; k++) {
                int b = blocks.data().get(ValueLayout.JAVA_BYTE, block * 16 + k / 2) & 0xFF;
                int code = k % 2 == 0 ? b & 0xF : b >> 4;
                sum += FP4[code] * scale * x[g * 32 + k];
            }
        }
        return sum;
    }

    /** Half-split YaRN RoPE in double precision (spec §1.4). */
    private void rope(double[] vec, int position) {
        int D = c.headDim(), half = D / 2;
        double base = c.ropeTheta(), s = c.ropeScalingFactor();
        double[] inv = new double[half];
        double concentration = 1;
        if (s > 1) {
            concentration = 0.1 * Math.log(s) + 1;
            double low = half * Math.log(c.ropeOriginalContext() / (c.ropeBetaFast() * 2 * Math.PI)) / Math.log(base);
            double high = half * Math.log(c.ropeOriginalContext() / (c.ropeBetaSlow() * 2 * Math.PI)) / Math.log(base);
            for (int i = 0; i < half; i++) {
                double freq = Math.pow(base, 2.0 * i / D);
                double mask = 1 - Math.min(1, Math.max(0, (i - low) / (high - low)));
                inv[i] = 1 / (s * freq) * (1 - mask) + 1 / freq * mask;
            }
        } else {
            for (int i = 0; i < half; i++) inv[i] = 1 / Math.pow(base, 2.0 * i / D);
        }
        for (int h = 0; h < vec.length / D; h++) {
            for (int i = 0; i < half; i++) {
                double cos = Math.cos(position * inv[i]) * concentration, sin = Math.sin(position * inv[i]) * concentration;
                double x1 = vec[h * D + i], x2 = vec[h * D + half + i];
                vec[h * D + i] = x1 * cos - x2 * sin;
                vec[h * D + half + i] = x2 * cos + x1 * sin;
            }
        }
    }

    private double[] rmsNorm(double[] x, double[] scale) {
        double ms = 0;
        for (double v : x) ms += v * v;
        double inv = 1 / Math.sqrt(ms / x.length + c.rmsNormEps());
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i] * inv * scale[i];
        return out;
    }

    private double[] linear(String weight, String bias, double[] x) {
        TensorEntry w = store.get(weight);
        int rows = (int) w.shape()[0], cols = (int) w.shape()[1];
        double[] out = new double[rows];
        double[] b = bias == null ? null : vector(bias);
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int i = 0; i < cols; i++) s += bf16(w, (long) r * cols + i) * x[i];
            out[r] = s + (b == null ? 0 : b[r]);
        }
        return out;
    }

    private double[] row(String name, int row, int width) {
        TensorEntry t = store.get(name);
        double[] out = new double[width];
        for (int i = 0; i < width; i++) out[i] = bf16(t, (long) row * width + i);
        return out;
    }

    private double[] vector(String name) {
        TensorEntry t = store.get(name);
        double[] out = new double[(int) t.elementCount()];
        for (int i = 0; i < out.length; i++) out[i] = bf16(t, i);
        return out;
    }

    private static double bf16(TensorEntry t, long index) {
        short bits = t.data().get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), index * 2);
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }
}
