package gptoss.model.math;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IeeeExpTest {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    @Test
    void lanesAndScalarAreOneFunctionAndAccurate() {
        SplittableRandom random = new SplittableRandom(11);
        int lanes = F.length();
        float[] x = new float[lanes * 4096];
        for (int i = 0; i < x.length; i++) x[i] = (float) (-100 * Math.pow(random.nextDouble(), 3));
        float[] special = {0f, -0f, -1e-30f, -87f, Math.nextDown(-87f), -86.99f, -88f, Float.NEGATIVE_INFINITY, -0.3465736f};
        System.arraycopy(special, 0, x, 0, special.length);
        for (int i = 0; i < x.length; i += lanes) {
            FloatVector e = IeeeExp.exp(FloatVector.fromArray(F, x, i));
            for (int j = 0; j < lanes; j++) {
                float scalar = IeeeExp.exp(x[i + j]);
                assertEquals(Float.floatToRawIntBits(scalar), Float.floatToRawIntBits(e.lane(j)), "exp(" + x[i + j] + ")");
                double exact = Math.exp(x[i + j]);
                if (x[i + j] >= -80f) assertTrue(Math.abs(scalar - exact) <= 3e-7 * exact, "exp(" + x[i + j] + ") = " + scalar + ", exactly " + exact);
                else if (x[i + j] < -87f) assertEquals(0f, scalar);
            }
        }
        assertEquals(1f, IeeeExp.exp(0f));
    }
}
