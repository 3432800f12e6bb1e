package gptoss.runtime.cpu.kernel;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VectorLayoutTest {

    @ParameterizedTest
    @CsvSource({"SPLIT,2880", "SPLIT,64", "SPLIT,100", "NIBBLE,2880", "NIBBLE,4096", "NIBBLE,128", "NIBBLE,160", "NATURAL,7"})
    void arrangeIsThePermutationPositionOfDescribes(VectorLayout layout, int n) {
        float[] src = new float[n + 3];
        for (int i = 0; i < src.length; i++) src[i] = i - 3; // element k sits at index k + 3 and has value k
        float[] dst = new float[layout.length(n) + 5];
        layout.arrange(src, 3, n, dst, 5);
        boolean[] seen = new boolean[layout.length(n)];
        for (int k = 0; k < n; k++) {
            int p = layout.positionOf(k, n);
            assertTrue(p >= 0 && p < seen.length && !seen[p], "position " + p + " of element " + k);
            seen[p] = true;
            assertEquals(k, dst[5 + p], "element " + k);
        }
        int group = 8 * Lanes.L;
        if (layout == VectorLayout.NIBBLE && n % group != 0) {
            // The extra group holds the last 8L elements again, in nibble order.
            int last = n / group * group;
            for (int i = 0; i < Lanes.L; i++) {
                for (int nib = 0; nib < 8; nib++) assertEquals(n - group + 8 * i + nib, dst[5 + last + nib * Lanes.L + i]);
            }
        } else {
            assertEquals(n, layout.length(n));
        }
    }

    @Test
    void positionsFollowTheDecodingOrder() {
        int L = Lanes.L;
        // Split: a chunk of 2L holds the L even elements, then the L odd ones.
        assertEquals(1, VectorLayout.SPLIT.positionOf(2, 2 * L));
        assertEquals(L, VectorLayout.SPLIT.positionOf(1, 2 * L));
        assertEquals(2 * L + L + 1, VectorLayout.SPLIT.positionOf(2 * L + 3, 4 * L));
        // Nibble: position n·L + i holds element 8i + n (nibble n of int lane i).
        assertEquals(L + 2, VectorLayout.NIBBLE.positionOf(8 * 2 + 1, 8 * L));
        // 10L elements: the second group holds elements 2L..10L; element 8L+1 is its element 6L+1 = 8·(3L/4) + 1.
        assertEquals(8 * L + L + 3 * L / 4, VectorLayout.NIBBLE.positionOf(8 * L + 1, 10 * L));
    }
}
