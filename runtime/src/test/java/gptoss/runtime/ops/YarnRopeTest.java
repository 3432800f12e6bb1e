package gptoss.runtime.ops;

import gptoss.model.config.ModelConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** YaRN constants of gpt-oss against the table printed in spec §1.4. */
class YarnRopeTest {
    @Test
    void inverseFrequenciesAndConcentrationMatchTheSpecTable() {
        YarnRope rope = new YarnRope(ModelConfig.gptOss20b());
        float[] inv = rope.inverseFrequency();
        assertEquals(32, inv.length);
        // i -> inv_freq from spec §1.4 (numpy float32; pow and the ramp blend may round a few ulps apart)
        double[][] table = {{0, 1.000000000e+00}, {8, 5.081328005e-02}, {9, 3.170569614e-02}, {12, 6.794959307e-03},
                {17, 1.293186942e-04}, {18, 3.830881178e-05}, {24, 4.099978469e-06}, {31, 3.023511397e-07}};
        for (double[] row : table) {
            int i = (int) row[0];
            assertEquals(row[1], inv[i], row[1] * 1e-6, "inv_freq[" + i + "]");
        }
        assertEquals(1.3465735902799727, rope.concentration(), 1e-7);
    }

    @Test
    void cosAndSinCarryTheConcentration() {
        YarnRope rope = new YarnRope(ModelConfig.gptOss20b());
        float[] cos = new float[32], sin = new float[32];
        rope.cosSin(0, cos, sin);
        assertEquals(rope.concentration(), cos[5], 0f);
        assertEquals(0f, sin[5], 0f);
        rope.cosSin(3, cos, sin);
        assertEquals(Math.cos(3.0) * rope.concentration(), cos[0], 1e-6);
        assertEquals(Math.sin(3.0) * rope.concentration(), sin[0], 1e-6);
    }
}
