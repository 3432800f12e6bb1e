package gptoss.runtime.ops;

import gptoss.model.tensor.FloatTensor;

/** RMSNorm without bias or mean subtraction (spec §2.2.1): {@code y = x / sqrt(mean(x²) + eps) · scale}. */
public final class RmsNorm {
    private RmsNorm() {
    }

    /** Normalises {@code n} values of {@code x} from {@code xOffset} into {@code out} from {@code outOffset}. */
    public static void apply(float[] x, int xOffset, FloatTensor scale, float eps, float[] out, int outOffset, int n) {
        float sumSquares = 0f;
        for (int i = 0; i < n; i++) {
            float v = x[xOffset + i];
            sumSquares += v * v;
        }
        float inverse = (float) (1.0 / Math.sqrt(sumSquares / n + eps));
        for (int i = 0; i < n; i++) out[outOffset + i] = x[xOffset + i] * inverse * scale.getFloat(i);
    }
}
