package gptoss.runtime.ops;

import gptoss.model.config.ModelConfig;

/**
 * Rotary position embedding with YaRN scaling, computed as the openai reference does (spec §1.4): float32
 * inverse frequencies blended between interpolation and extrapolation by an un-truncated ramp, and cos/sin both
 * multiplied by the concentration {@code 0.1·ln(s) + 1}. Pairs are half-split: dim i rotates with dim i + D/2.
 */
public final class YarnRope {
    private final int headDim;
    private final float[] inverseFrequency; // [D/2]
    private final float concentration;

    public YarnRope(ModelConfig c) {
        this.headDim = c.headDim();
        int half = headDim / 2;
        inverseFrequency = new float[half];
        double base = c.ropeTheta(), s = c.ropeScalingFactor();
        float[] freq = new float[half];
        for (int i = 0; i < half; i++) freq[i] = (float) Math.pow(base, (float) (2 * i) / headDim);
        if (s > 1.0) {
            concentration = (float) (0.1 * Math.log(s) + 1.0);
            double low = half * Math.log(c.ropeOriginalContext() / (c.ropeBetaFast() * 2 * Math.PI)) / Math.log(base);
            double high = half * Math.log(c.ropeOriginalContext() / (c.ropeBetaSlow() * 2 * Math.PI)) / Math.log(base);
            if (c.ropeTruncate()) {
                low = Math.floor(low);
                high = Math.ceil(high);
            }
            for (int i = 0; i < half; i++) {
                float interpolation = 1.0f / ((float) s * freq[i]);
                float extrapolation = 1.0f / freq[i];
                float ramp = (float) ((i - low) / (high - low));
                float mask = 1.0f - Math.min(Math.max(ramp, 0.0f), 1.0f);
                inverseFrequency[i] = interpolation * (1.0f - mask) + extrapolation * mask;
            }
        } else {
            concentration = 1.0f;
            for (int i = 0; i < half; i++) inverseFrequency[i] = 1.0f / freq[i];
        }
    }

    public float[] inverseFrequency() {
        return inverseFrequency.clone();
    }

    public float concentration() {
        return concentration;
    }

    /** Fills cos[D/2] and sin[D/2] for absolute position {@code position} (concentration included). */
    public void cosSin(int position, float[] cos, float[] sin) {
        for (int i = 0; i < inverseFrequency.length; i++) {
            float angle = (float) position * inverseFrequency[i];
            cos[i] = (float) Math.cos(angle) * concentration;
            sin[i] = (float) Math.sin(angle) * concentration;
        }
    }

    /** Rotates {@code heads} consecutive head vectors of width D starting at {@code offset} in place. */
    public void rotate(float[] x, int offset, int heads, float[] cos, float[] sin) {
        int half = headDim / 2;
        for (int h = 0; h < heads; h++) {
            int base = offset + h * headDim;
            for (int i = 0; i < half; i++) {
                float x1 = x[base + i], x2 = x[base + half + i];
                x[base + i] = x1 * cos[i] - x2 * sin[i];
                x[base + half + i] = x2 * cos[i] + x1 * sin[i];
            }
        }
    }
}
