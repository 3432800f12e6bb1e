package gptoss.runtime.cpu.kernel;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

class AttentionTest {

    @ParameterizedTest
    @CsvSource({"8,64,1", "8,64,5", "8,64,16", "8,64,17", "8,64,130", "4,16,9", "6,64,33"})
    void vectorPathMatchesScalarReference(int heads, int headDim, int count) {
        SplittableRandom random = new SplittableRandom(heads * 1000L + count);
        int capacity = (count + 40) / Lanes.L * Lanes.L + Lanes.L;
        int valueStride = headDim * 3, valuesOffset = headDim;
        float[] q = RandomTensors.gaussian(heads * headDim + 2, random);
        float[] keys = RandomTensors.gaussian(headDim * capacity + 5, random);
        float[] values = RandomTensors.gaussian(capacity * valueStride + valuesOffset, random);
        float[] sinks = RandomTensors.gaussian(heads + 1, random);
        float scale = (float) (1 / Math.sqrt(headDim));
        float[] expected = new float[heads * headDim + 1], actual = new float[heads * headDim + 1];
        float[] scratch = new float[Attention.scratchSize(heads, count)];
        Attention.attendScalar(q, 2, heads, headDim, keys, 5, capacity, values, valuesOffset, valueStride, count,
                sinks, 1, scale, scratch, expected, 1);
        Attention.attend(q, 2, heads, headDim, keys, 5, capacity, values, valuesOffset, valueStride, count,
                sinks, 1, scale, scratch, actual, 1);
        for (int i = 1; i < expected.length; i++) assertEquals(expected[i], actual[i], 2e-5f * (1 + Math.abs(expected[i])), "output " + i);
    }
}
