package gptoss.runtime.cpu.kernel;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LanesTest {
    /** The vector fold and the scalar reference give the same bits, lane values of mixed magnitudes included. */
    @Test
    void vectorSumIsTheScalarFoldBitForBit() {
        Random random = new Random(7);
        float[] a = new float[Lanes.L];
        for (int trial = 0; trial < 10_000; trial++) {
            for (int j = 0; j < a.length; j++) a[j] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(9) - 4));
            float vector = Lanes.sum(FloatVector.fromArray(Lanes.F, a, 0));
            assertEquals(Float.floatToRawIntBits(Lanes.sum(a, 0)), Float.floatToRawIntBits(vector), "trial " + trial);
        }
    }

    /** The fold order by hand for 1, 2^24 and -2^24: where the order matters, the documented one is taken. */
    @Test
    void foldsUpperHalfOntoLowerFirst() {
        float[] a = new float[Lanes.L];
        a[0] = 1f;
        a[Lanes.L / 2] = 16_777_216f; // 2^24: 1 + 2^24 rounds back to 2^24
        a[1] = -16_777_216f;
        // fold order: (a0 + a[L/2]) = 2^24 (the 1 is lost), then + a1 (after the other folds) = 0.
        // A left-to-right sum would give (1 + (-2^24)) + 2^24 = 1.
        assertEquals(0f, Lanes.sum(FloatVector.fromArray(Lanes.F, a, 0)));
        assertEquals(0f, Lanes.sum(a, 0));
    }
}
