package gptoss.runtime.cpu.kernel;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
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

    private Lanes() {
    }

    /** A one-line description for logs: e.g. "512-bit vectors (16 floats), native MXFP4 kernel (AVX-512)". */
    public static String describe() {
        return F.vectorBitSize() + "-bit vectors (" + L + " floats)" + (FAST ? ", " + NativeKernels.describe() : ", scalar MXFP4/BF16 kernels");
    }
}
