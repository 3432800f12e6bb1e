package gptoss.runtime.ops;

/**
 * gpt-oss's clamped SwiGLU (spec §2.3.4): MLP1 output channels interleave gate (even) and linear (odd);
 * {@code gate = min(gate, limit)}, {@code linear = clamp(linear, ±limit)},
 * {@code y = gate · sigmoid(alpha · gate) · (linear + 1)}.
 * <p>
 * Every CPU path computes it with exactly these fp32 operations in this order, so a value has the same bits
 * whichever kernel produced its inputs: this scalar code (single-row and small-batch paths, the Java GEMM) and the
 * 16-lane AVX-512 epilogue of the native GEMM ({@code swiglu16} in {@code gptoss_gemm.c}), which GemmTest compares
 * bit for bit.
 */
public final class Swiglu {
    private static final float LOG2E = 1.44269504f, ROUND = 12582912f; // 1.5·2^23: adding it rounds to an integer
    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f; // ln 2 = LN2_HI + LN2_LO (Cephes)
    private static final float EXP_MIN = -104f, EXP_MAX = 89f; // e^-104 rounds to 0, e^89 to +∞

    private Swiglu() {
    }

    public static float apply(float gate, float linear, float alpha, float limit) {
        float g = Math.min(gate, limit);
        float l = Math.max(-limit, Math.min(linear, limit));
        return g * sigmoid(alpha * g) * (l + 1.0f);
    }

    static float sigmoid(float x) {
        return 1.0f / (1.0f + exp(-x));
    }

    /**
     * e^x in fp32 from IEEE operations only (fused multiply-adds, multiplies, adds, bit moves), so any JIT tier and a
     * vector unit lane by lane give the same bits: x = n·ln2 + f with n = round(x·log2 e) and |f| ≤ ln2/2 (ln 2 in a
     * high part exact in the product and a low part), e^f by Cephes' expf polynomial in Horner form with fused
     * multiply-adds, times 2^n applied as two powers of two (so 2^128 and subnormal results need no special case).
     * Within 2 ulp of e^x for normal results (SwigluTest, against StrictMath.exp); +∞ above 88.72, 0 below
     * −103.97, NaN for NaN. (It replaced {@code (float) Math.exp(x)}, whose bits the native kernels cannot
     * reproduce, and a scalar double exp per output.)
     */
    public static float exp(float x) {
        float c = Math.min(Math.max(x, EXP_MIN), EXP_MAX);
        float t = Math.fma(c, LOG2E, ROUND);
        int n = Float.floatToRawIntBits(t) - ROUND_BITS;
        float nf = t - ROUND;
        float f = Math.fma(nf, -LN2_HI, c);
        f = Math.fma(nf, -LN2_LO, f);
        float p = Math.fma(1.9875691500e-4f, f, 1.3981999507e-3f);
        p = Math.fma(p, f, 8.3334519073e-3f);
        p = Math.fma(p, f, 4.1665795894e-2f);
        p = Math.fma(p, f, 1.6666665459e-1f);
        p = Math.fma(p, f, 5.0000001201e-1f);
        float y = Math.fma(p, f * f, f) + 1.0f;
        int h = n >> 1;
        return y * Float.intBitsToFloat((h + 127) << 23) * Float.intBitsToFloat((n - h + 127) << 23);
    }
}
