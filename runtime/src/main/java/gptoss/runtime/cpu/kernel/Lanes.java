package gptoss.runtime.cpu.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector shapes every kernel uses, fixed when the JVM starts: the widest float vector the machine has
 * ({@code -XX:MaxVectorSize} narrows it), ints of the same width, and bytes filling a quarter of it.
 * Constants, so the JIT compiles each kernel for exactly one shape.
 */
public final class Lanes {
    public static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    public static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /** One byte per int lane: what widens to one {@link #I} vector. */
    static final VectorSpecies<Byte> B_QUARTER = F.length() >= 8
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(F.vectorBitSize() / 4)) : ByteVector.SPECIES_64;
    /** Floats per vector. */
    public static final int L = F.length();
    /** The fast BF16 and MXFP4 kernels need 8 or 16 float lanes (AVX2 or AVX-512); otherwise scalar code runs. */
    public static final boolean FAST = L == 8 || L == 16;

    /** {@code SWAP[i]} exchanges lane j with lane j XOR 2^i (the steps of {@link #sum}, widest first). */
    private static final VectorShuffle<Float>[] SWAP = swaps();

    private Lanes() {
    }

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] swaps() {
        int steps = Integer.numberOfTrailingZeros(L);
        VectorShuffle<Float>[] s = new VectorShuffle[steps];
        for (int i = 0; i < steps; i++) {
            int w = L >> (i + 1);
            s[i] = VectorShuffle.fromOp(F, j -> j ^ w);
        }
        return s;
    }

    /**
     * The lanes of {@code v} summed in the one order every kernel uses (see the package documentation):
     * fold the upper half onto the lower, {@code a[j] += a[j + L/2]}, then {@code L/4}, ..., 1; lane 0 is the sum.
     * Unlike {@code reduceLanes(ADD)}, whose order differs between the interpreter and C2, this gives the same
     * bits in every JIT state and equals {@link #sum(float[], int)} on the stored lanes.
     */
    public static float sum(FloatVector v) {
        for (VectorShuffle<Float> s : SWAP) v = v.add(v.rearrange(s));
        return v.lane(0);
    }

    /** {@link #sum(FloatVector)} of the L lanes stored at {@code a[offset ..]}, in scalar code (the reference). */
    public static float sum(float[] a, int offset) {
        float[] t = java.util.Arrays.copyOfRange(a, offset, offset + L);
        for (int w = L / 2; w >= 1; w /= 2) {
            for (int j = 0; j < w; j++) t[j] += t[j + w];
        }
        return t[0];
    }

    /** A one-line description for logs: e.g. "512-bit vectors (16 floats), native MXFP4 kernel (AVX-512)". */
    public static String describe() {
        return F.vectorBitSize() + "-bit vectors (" + L + " floats)" + (FAST ? ", " + NativeKernels.describe() + ", " + GgmlKernels.describe() + ", " + GemmKernels.describe() : ", scalar MXFP4/BF16 kernels");
    }
}
