package gptoss.model.math;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * exp(x) for x ≤ 0 from IEEE add, multiply and conversions only, so the interpreter and every JIT tier give the same
 * bits, lane by lane and scalar (the Vector API's lanewise EXP does not: its intrinsic and its Java fallback differ
 * in the last bit, and results would then depend on warm-up). Used where exponentials must be reproducible: the
 * attention softmax and the sampler's probabilities.
 * <p>
 * x = n·ln2 + f with |f| ≤ ln2/2 (ln2 split in a high and a low part), exp(f) by its degree-6 Taylor polynomial
 * (relative error < 2e-7), 2^n built in the exponent bits; below −87 (and −∞, e.g. masked tokens): exactly 0.
 */
public final class IeeeExp {
    private static final float LOG2E = 1.44269504f, LN2_HI = 0.693145752f, LN2_LO = 1.42860677e-6f, EXP_MIN = -87f;

    private IeeeExp() {
    }

    /** exp of each lane (all ≤ 0), with the same bits as {@link #exp(float)} of each. */
    public static FloatVector exp(FloatVector x) {
        VectorMask<Float> under = x.compare(VectorOperators.LT, EXP_MIN);
        FloatVector c = x.max(EXP_MIN);
        IntVector n = (IntVector) c.mul(LOG2E).sub(0.5f).convert(VectorOperators.F2I, 0); // toward 0 = rounding, for ≤ 0
        FloatVector nf = (FloatVector) n.convert(VectorOperators.I2F, 0);
        FloatVector f = c.sub(nf.mul(LN2_HI)).sub(nf.mul(LN2_LO));
        FloatVector p = f.mul(1f / 720).add(1f / 120).mul(f).add(1f / 24).mul(f).add(1f / 6).mul(f).add(0.5f).mul(f).add(1f).mul(f).add(1f);
        FloatVector twoN = n.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(twoN).blend(0f, under);
    }

    /** exp(x) for x ≤ 0 (see the class comment). */
    public static float exp(float x) {
        if (!(x >= EXP_MIN)) return 0f;
        int n = (int) (x * LOG2E - 0.5f);
        float nf = n;
        float f = x - nf * LN2_HI - nf * LN2_LO;
        float p = ((((((f * (1f / 720) + 1f / 120) * f + 1f / 24) * f + 1f / 6) * f + 0.5f) * f + 1f) * f + 1f);
        return p * Float.intBitsToFloat((n + 127) << 23);
    }
}
