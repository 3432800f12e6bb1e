package gptoss.runtime.cpu.kernel;

/**
 * Orders in which the kernels read an activation vector of length K. Weights are read where they lie, so the
 * activations are permuted once per call to match the order in which a kernel decodes weights (all L below is
 * {@link Lanes#L}):
 * <ul>
 *   <li>{@link #NATURAL}: as is.</li>
 *   <li>{@link #SPLIT}: in chunks of 2L elements, the L even elements, then the L odd ones. A BF16 int lane
 *       holds an even and an odd element; an MXFP4 byte holds an even (low nibble) and an odd element.</li>
 *   <li>{@link #NIBBLE}: in groups of 8L elements (L/4 MXFP4 blocks, one int lane per 4 bytes), position
 *       {@code n·L + i} holds element {@code 8i + n}: the n-th nibble of int lane i. When K is not a whole
 *       number of groups, one more group holds the last 8L elements again (the kernel reads that last group
 *       overlapping the previous one and ignores the overlap), so the arranged vector is longer than K
 *       ({@link #length}).</li>
 * </ul>
 * The permutations only move elements; dot products in any of them equal the natural ones up to summation order.
 */
public enum VectorLayout {
    NATURAL, SPLIT, NIBBLE;

    /** Writes {@code src[srcOffset .. +n)} in this order to {@code dst[dstOffset .. +n)}. */
    public void arrange(float[] src, int srcOffset, int n, float[] dst, int dstOffset) {
        switch (this) {
            case NATURAL -> System.arraycopy(src, srcOffset, dst, dstOffset, n);
            case SPLIT -> split(src, srcOffset, 0, n, dst, dstOffset);
            case NIBBLE -> {
                int group = 8 * Lanes.L;
                for (int g = 0; g < n / group; g++) nibbles(src, srcOffset + g * group, dst, dstOffset + g * group);
                if (n % group != 0) {
                    if (n < group) throw new IllegalArgumentException("nibble order needs at least " + group + " elements, got " + n);
                    nibbles(src, srcOffset + n - group, dst, dstOffset + n / group * group);
                }
            }
        }
    }

    /** Floats an arranged vector of n elements occupies. */
    public int length(int n) {
        int group = 8 * Lanes.L;
        return this == NIBBLE && n % group != 0 ? (n / group + 1) * group : n;
    }

    /** One group of 8L elements in nibble order. */
    private static void nibbles(float[] src, int srcOffset, float[] dst, int dstOffset) {
        int L = Lanes.L;
        for (int i = 0; i < L; i++) {
            for (int nib = 0; nib < 8; nib++) dst[dstOffset + nib * L + i] = src[srcOffset + 8 * i + nib];
        }
    }

    /** Split order for elements [from, n); a tail shorter than one chunk stays in natural order. */
    private static void split(float[] src, int srcOffset, int from, int n, float[] dst, int dstOffset) {
        int L = Lanes.L, chunk = 2 * L;
        int i = from;
        for (; i + chunk <= n; i += chunk) {
            for (int j = 0; j < L; j++) {
                dst[dstOffset + i + j] = src[srcOffset + i + 2 * j];
                dst[dstOffset + i + L + j] = src[srcOffset + i + 2 * j + 1];
            }
        }
        for (; i < n; i++) dst[dstOffset + i] = src[srcOffset + i];
    }

    /**
     * Position in this order of natural element {@code k} of a vector of length {@code n} (for tests; in nibble
     * order an element held twice reports its place in the first group holding it).
     */
    public int positionOf(int k, int n) {
        int L = Lanes.L;
        if (this == NATURAL) return k;
        if (this == NIBBLE) {
            int group = 8 * L, whole = n / group * group;
            int g = k < whole ? k / group * group : whole, base = k < whole ? g : n - group;
            int within = k - base;
            return g + (within % 8) * L + within / 8;
        }
        int chunk = 2 * L;
        int c = k / chunk * chunk;
        if (c + chunk > n) return k;
        int within = k - c;
        return c + (within % 2) * L + within / 2;
    }
}
