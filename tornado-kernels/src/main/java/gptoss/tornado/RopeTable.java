package gptoss.tornado;

import gptoss.model.config.ModelConfig;
import gptoss.runtime.ops.YarnRope;

import java.util.Arrays;

/**
 * cos and sin of every position seen so far, computed once on the host by {@link YarnRope} (the CPU backend's
 * numbers exactly) and handed to the kernels row by row.
 */
final class RopeTable {
    private final YarnRope rope;
    private final int half;
    private float[] cos = new float[0], sin = new float[0]; // [positions, D/2]
    private int positions;

    RopeTable(ModelConfig c) {
        this.rope = new YarnRope(c);
        this.half = c.headDim() / 2;
    }

    /** Writes cos and sin of {@code position} to {@code cosOut}/{@code sinOut} from {@code offset}. */
    void copy(int position, float[] cosOut, float[] sinOut, int offset) {
        if (position >= positions) grow(position + 1);
        System.arraycopy(cos, position * half, cosOut, offset, half);
        System.arraycopy(sin, position * half, sinOut, offset, half);
    }

    private void grow(int needed) {
        int n = Math.max(needed, Math.max(256, positions * 2));
        cos = Arrays.copyOf(cos, n * half);
        sin = Arrays.copyOf(sin, n * half);
        float[] c = new float[half], s = new float[half];
        for (int p = positions; p < n; p++) {
            rope.cosSin(p, c, s);
            System.arraycopy(c, 0, cos, p * half, half);
            System.arraycopy(s, 0, sin, p * half, half);
        }
        positions = n;
    }
}
