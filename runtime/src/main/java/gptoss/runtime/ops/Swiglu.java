package gptoss.runtime.ops;

/**
 * gpt-oss's clamped SwiGLU (spec §2.3.4): MLP1 output channels interleave gate (even) and linear (odd);
 * {@code gate = min(gate, limit)}, {@code linear = clamp(linear, ±limit)},
 * {@code y = gate · sigmoid(alpha · gate) · (linear + 1)}.
 */
public final class Swiglu {
    private Swiglu() {
    }

    public static float apply(float gate, float linear, float alpha, float limit) {
        float g = Math.min(gate, limit);
        float l = Math.max(-limit, Math.min(linear, limit));
        return g * sigmoid(alpha * g) * (l + 1.0f);
    }

    static float sigmoid(float x) {
        return 1.0f / (1.0f + (float) Math.exp(-x));
    }
}
