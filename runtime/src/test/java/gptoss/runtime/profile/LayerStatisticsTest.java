package gptoss.runtime.profile;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LayerStatisticsTest {

    @Test
    void handComputedStatisticsOfAnUnevenLoad() {
        // loads 6, 3, 3 of 12: shares 1/2, 1/4, 1/4
        LayerStatistics s = LayerStatistics.of(0, 6, new long[]{6, 3, 3}, new double[]{4, 2, 1});
        assertEquals(1.5, s.entropyBits(), 1e-12);
        assertEquals(1.5 / (Math.log(3) / Math.log(2)), s.normalizedEntropy(), 1e-12);
        assertEquals(Math.sqrt(2) / 4, s.loadCv(), 1e-12, "population sd sqrt((4+1+1)/3) over mean 4");
        assertEquals(2.0, s.maxMinLoadRatio(), 0);
        assertEquals(0, s.neverUsed().length);
        assertEquals(1.5, s.chiSquare(), 1e-12, "((6-4)^2 + (3-4)^2 + (3-4)^2) / 4");
        assertEquals(Math.exp(-0.75), s.chiSquarePValue(), 1e-9, "chi-square survival with 2 dof is exp(-x/2)");
        assertArrayEquals(new double[]{0.5, 0.25, 0.25}, s.loadShares(), 0);
        assertArrayEquals(new double[]{4 / 6.0, 2 / 3.0, 1 / 3.0}, s.meanWeights(), 1e-12);
    }

    @Test
    void uniformAndDegenerateLoads() {
        LayerStatistics uniform = LayerStatistics.of(1, 8, new long[]{4, 4, 4, 4}, new double[4]);
        assertEquals(2.0, uniform.entropyBits(), 1e-12);
        assertEquals(1.0, uniform.normalizedEntropy(), 1e-12);
        assertEquals(0.0, uniform.loadCv(), 0);
        assertEquals(0.0, uniform.chiSquare(), 0);
        assertEquals(1.0, uniform.chiSquarePValue(), 1e-12);

        LayerStatistics unused = LayerStatistics.of(2, 5, new long[]{5, 0, 5, 0}, new double[4]);
        assertArrayEquals(new int[]{1, 3}, unused.neverUsed());
        assertEquals(Double.POSITIVE_INFINITY, unused.maxMinLoadRatio());
        assertEquals(1.0, unused.entropyBits(), 1e-12);
        assertTrue(Double.isNaN(unused.meanWeights()[1]));

        LayerStatistics empty = LayerStatistics.of(3, 0, new long[3], new double[3]);
        assertTrue(Double.isNaN(empty.entropyBits()) && Double.isNaN(empty.chiSquarePValue()) && Double.isNaN(empty.loadCv()));
        assertArrayEquals(new int[]{0, 1, 2}, empty.neverUsed());
    }
}
