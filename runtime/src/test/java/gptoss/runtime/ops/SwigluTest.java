package gptoss.runtime.ops;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Swiglu#exp} against StrictMath.exp (fdlibm, in double, an independent implementation) and SwiGLU against the
 * formula of spec §2.3.4 evaluated in double. (Bit equality with the native epilogue: GemmTest.)
 */
class SwigluTest {
    /** Distance in fp32 ulps of the true value (at its own binade) from the float we computed. */
    private static double ulps(float got, double exact) {
        return Math.abs(got - exact) / Math.ulp((float) exact);
    }

    @Test
    void expIsWithinTwoUlpOfStrictMathOverItsWholeNormalRange() {
        double worst = 0;
        float worstAt = 0;
        long checked = 0;
        // every 997th float from -87.33 (smallest normal result) to 88.72 (largest finite): 2.2e9 / 997 values
        int from = Float.floatToRawIntBits(-87.33f), zeroNeg = Float.floatToRawIntBits(-0f);
        for (int b = from; b > zeroNeg; b -= 997) { // negative floats: bits decrease toward -0
            float x = Float.intBitsToFloat(b);
            double u = ulps(Swiglu.exp(x), StrictMath.exp(x));
            if (u > worst) { worst = u; worstAt = x; }
            checked++;
        }
        for (int b = 0, to = Float.floatToRawIntBits(88.72f); b <= to; b += 997) {
            float x = Float.intBitsToFloat(b);
            double u = ulps(Swiglu.exp(x), StrictMath.exp(x));
            if (u > worst) { worst = u; worstAt = x; }
            checked++;
        }
        assertTrue(checked > 2_000_000, "checked " + checked);
        assertTrue(worst <= 2.0, "worst error " + worst + " ulp at x = " + worstAt);
    }

    @Test
    void expAtTheEdges() {
        assertEquals(1f, Swiglu.exp(0f), 0f);
        assertEquals(1f, Swiglu.exp(-0f), 0f);
        assertEquals((float) Math.E, Swiglu.exp(1f), Math.ulp((float) Math.E));
        assertEquals(Float.POSITIVE_INFINITY, Swiglu.exp(88.8f));
        assertEquals(Float.POSITIVE_INFINITY, Swiglu.exp(1e30f));
        assertEquals(Float.POSITIVE_INFINITY, Swiglu.exp(Float.POSITIVE_INFINITY));
        assertEquals(0f, Swiglu.exp(-110f), 0f);
        assertEquals(0f, Swiglu.exp(Float.NEGATIVE_INFINITY), 0f);
        assertTrue(Float.isNaN(Swiglu.exp(Float.NaN)));
        // subnormal results: within one subnormal step of the true value
        for (float x = -103.9f; x < -87.4f; x += 0.37f) {
            assertEquals(StrictMath.exp(x), Swiglu.exp(x), Float.MIN_VALUE, "x = " + x);
        }
        // the largest finite result (2^128 scaled in two steps)
        assertEquals(StrictMath.exp(88.72f), Swiglu.exp(88.72f), 2 * Math.ulp((float) StrictMath.exp(88.72f)));
    }

    @Test
    void swigluMatchesTheClampedFormulaInDouble() {
        float alpha = 1.702f, limit = 7f;
        java.util.SplittableRandom random = new java.util.SplittableRandom(15);
        for (int i = 0; i < 200_000; i++) {
            float gate = (float) (random.nextDouble(-40, 40)), linear = (float) random.nextDouble(-12, 12);
            double g = Math.min(gate, limit), l = Math.max(-limit, Math.min(linear, limit));
            double expected = g / (1 + Math.exp(-alpha * g)) * (l + 1);
            float got = Swiglu.apply(gate, linear, alpha, limit);
            // a handful of roundings of fp32, each ≤ 1/2 ulp relative, the exp's 2 ulp, and the rounding of alpha·gate,
            // which e^z turns into a relative error of |z|·2^-24
            double z = Math.abs(alpha * g);
            assertEquals(expected, got, Math.abs(expected) * (8 + z) * 0x1p-24 + 1e-30, "gate " + gate + " linear " + linear);
        }
        assertEquals(0f, Swiglu.apply(-1e4f, 3f, alpha, limit), 0f); // e^(1.7e4) = +∞: sigmoid 0
        assertEquals(limit * (limit + 1) / (1 + Math.exp(-alpha * limit)), Swiglu.apply(1e4f, 1e4f, alpha, limit), 1e-5);
    }
}
