package gptoss.runtime.cpu.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static gptoss.runtime.cpu.kernel.Lanes.F;
import static gptoss.runtime.cpu.kernel.Lanes.I;
import static gptoss.runtime.cpu.kernel.Lanes.L;

/**
 * {@link Gemm}'s micro-kernels for BF16 weights read where they lie and widened in registers (no panel): an int
 * lane holds an even element (low half) and the next odd one (high half), so one int vector of a row gives the
 * weights of positions p .. p+L (even elements, {@code << 16}) and p+L .. p+2L (odd, {@code & 0xFFFF0000}) of
 * the split order, exactly. Each row's int vector is loaded twice (once per half, the second time from L1) so
 * that 4 × T accumulators, 4 weight vectors and a token vector fit the 32 registers. Same accumulator layout and
 * FMA order as the panel kernels: weight row r, token j, accumulator at {@code c[co + r·cs + j·L]}.
 */
final class Bf16Kernels {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int HIGH_HALF = 0xFFFF0000;

    private Bf16Kernels() {
    }

    /** 4 BF16 weight rows (from bytes b0..b3) × 6 token rows, over kv positions (a multiple of 2L). */
    static void kernel4x6(MemorySegment s, long b0, long b1, long b2, long b3, float[] x, int xo, int xs, int kv, float[] c, int co, int cs, boolean first) {
        FloatVector a00, a01, a02, a03, a04, a05, a10, a11, a12, a13, a14, a15, a20, a21, a22, a23, a24, a25, a30, a31, a32, a33, a34, a35;
        if (first) {
            a00 = a01 = a02 = a03 = a04 = a05 = a10 = a11 = a12 = a13 = a14 = a15 = a20 = a21 = a22 = a23 = a24 = a25 = a30 = a31 = a32 = a33 = a34 = a35 = FloatVector.zero(F);
        } else {
            a00 = FloatVector.fromArray(F, c, co); a01 = FloatVector.fromArray(F, c, co + L); a02 = FloatVector.fromArray(F, c, co + 2 * L); a03 = FloatVector.fromArray(F, c, co + 3 * L); a04 = FloatVector.fromArray(F, c, co + 4 * L); a05 = FloatVector.fromArray(F, c, co + 5 * L);
            a10 = FloatVector.fromArray(F, c, co + cs); a11 = FloatVector.fromArray(F, c, co + cs + L); a12 = FloatVector.fromArray(F, c, co + cs + 2 * L); a13 = FloatVector.fromArray(F, c, co + cs + 3 * L); a14 = FloatVector.fromArray(F, c, co + cs + 4 * L); a15 = FloatVector.fromArray(F, c, co + cs + 5 * L);
            a20 = FloatVector.fromArray(F, c, co + 2 * cs); a21 = FloatVector.fromArray(F, c, co + 2 * cs + L); a22 = FloatVector.fromArray(F, c, co + 2 * cs + 2 * L); a23 = FloatVector.fromArray(F, c, co + 2 * cs + 3 * L); a24 = FloatVector.fromArray(F, c, co + 2 * cs + 4 * L); a25 = FloatVector.fromArray(F, c, co + 2 * cs + 5 * L);
            a30 = FloatVector.fromArray(F, c, co + 3 * cs); a31 = FloatVector.fromArray(F, c, co + 3 * cs + L); a32 = FloatVector.fromArray(F, c, co + 3 * cs + 2 * L); a33 = FloatVector.fromArray(F, c, co + 3 * cs + 3 * L); a34 = FloatVector.fromArray(F, c, co + 3 * cs + 4 * L); a35 = FloatVector.fromArray(F, c, co + 3 * cs + 5 * L);
        }
        for (int p = 0; p < kv; p += 2 * L) {
            long q = 2L * p;
            // the even elements: positions p .. +L
            FloatVector w0e = IntVector.fromMemorySegment(I, s, b0 + q, LE).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w1e = IntVector.fromMemorySegment(I, s, b1 + q, LE).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w2e = IntVector.fromMemorySegment(I, s, b2 + q, LE).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w3e = IntVector.fromMemorySegment(I, s, b3 + q, LE).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector ve0 = FloatVector.fromArray(F, x, xo + p);
            a00 = w0e.fma(ve0, a00); a10 = w1e.fma(ve0, a10); a20 = w2e.fma(ve0, a20); a30 = w3e.fma(ve0, a30);
            FloatVector ve1 = FloatVector.fromArray(F, x, xo + xs + p);
            a01 = w0e.fma(ve1, a01); a11 = w1e.fma(ve1, a11); a21 = w2e.fma(ve1, a21); a31 = w3e.fma(ve1, a31);
            FloatVector ve2 = FloatVector.fromArray(F, x, xo + 2 * xs + p);
            a02 = w0e.fma(ve2, a02); a12 = w1e.fma(ve2, a12); a22 = w2e.fma(ve2, a22); a32 = w3e.fma(ve2, a32);
            FloatVector ve3 = FloatVector.fromArray(F, x, xo + 3 * xs + p);
            a03 = w0e.fma(ve3, a03); a13 = w1e.fma(ve3, a13); a23 = w2e.fma(ve3, a23); a33 = w3e.fma(ve3, a33);
            FloatVector ve4 = FloatVector.fromArray(F, x, xo + 4 * xs + p);
            a04 = w0e.fma(ve4, a04); a14 = w1e.fma(ve4, a14); a24 = w2e.fma(ve4, a24); a34 = w3e.fma(ve4, a34);
            FloatVector ve5 = FloatVector.fromArray(F, x, xo + 5 * xs + p);
            a05 = w0e.fma(ve5, a05); a15 = w1e.fma(ve5, a15); a25 = w2e.fma(ve5, a25); a35 = w3e.fma(ve5, a35);
            // the odd elements: positions p + L .. +L
            FloatVector w0o = IntVector.fromMemorySegment(I, s, b0 + q, LE).and(HIGH_HALF).reinterpretAsFloats();
            FloatVector w1o = IntVector.fromMemorySegment(I, s, b1 + q, LE).and(HIGH_HALF).reinterpretAsFloats();
            FloatVector w2o = IntVector.fromMemorySegment(I, s, b2 + q, LE).and(HIGH_HALF).reinterpretAsFloats();
            FloatVector w3o = IntVector.fromMemorySegment(I, s, b3 + q, LE).and(HIGH_HALF).reinterpretAsFloats();
            FloatVector vo0 = FloatVector.fromArray(F, x, xo + p + L);
            a00 = w0o.fma(vo0, a00); a10 = w1o.fma(vo0, a10); a20 = w2o.fma(vo0, a20); a30 = w3o.fma(vo0, a30);
            FloatVector vo1 = FloatVector.fromArray(F, x, xo + xs + p + L);
            a01 = w0o.fma(vo1, a01); a11 = w1o.fma(vo1, a11); a21 = w2o.fma(vo1, a21); a31 = w3o.fma(vo1, a31);
            FloatVector vo2 = FloatVector.fromArray(F, x, xo + 2 * xs + p + L);
            a02 = w0o.fma(vo2, a02); a12 = w1o.fma(vo2, a12); a22 = w2o.fma(vo2, a22); a32 = w3o.fma(vo2, a32);
            FloatVector vo3 = FloatVector.fromArray(F, x, xo + 3 * xs + p + L);
            a03 = w0o.fma(vo3, a03); a13 = w1o.fma(vo3, a13); a23 = w2o.fma(vo3, a23); a33 = w3o.fma(vo3, a33);
            FloatVector vo4 = FloatVector.fromArray(F, x, xo + 4 * xs + p + L);
            a04 = w0o.fma(vo4, a04); a14 = w1o.fma(vo4, a14); a24 = w2o.fma(vo4, a24); a34 = w3o.fma(vo4, a34);
            FloatVector vo5 = FloatVector.fromArray(F, x, xo + 5 * xs + p + L);
            a05 = w0o.fma(vo5, a05); a15 = w1o.fma(vo5, a15); a25 = w2o.fma(vo5, a25); a35 = w3o.fma(vo5, a35);
        }
        a00.intoArray(c, co); a01.intoArray(c, co + L); a02.intoArray(c, co + 2 * L); a03.intoArray(c, co + 3 * L); a04.intoArray(c, co + 4 * L); a05.intoArray(c, co + 5 * L);
        a10.intoArray(c, co + cs); a11.intoArray(c, co + cs + L); a12.intoArray(c, co + cs + 2 * L); a13.intoArray(c, co + cs + 3 * L); a14.intoArray(c, co + cs + 4 * L); a15.intoArray(c, co + cs + 5 * L);
        a20.intoArray(c, co + 2 * cs); a21.intoArray(c, co + 2 * cs + L); a22.intoArray(c, co + 2 * cs + 2 * L); a23.intoArray(c, co + 2 * cs + 3 * L); a24.intoArray(c, co + 2 * cs + 4 * L); a25.intoArray(c, co + 2 * cs + 5 * L);
        a30.intoArray(c, co + 3 * cs); a31.intoArray(c, co + 3 * cs + L); a32.intoArray(c, co + 3 * cs + 2 * L); a33.intoArray(c, co + 3 * cs + 3 * L); a34.intoArray(c, co + 3 * cs + 4 * L); a35.intoArray(c, co + 3 * cs + 5 * L);
    }

    /** 4 BF16 weight rows (from bytes b0..b3) × 4 token rows, over kv positions (a multiple of 2L). */
    static void kernel4x4(MemorySegment s, long b0, long b1, long b2, long b3, float[] x, int xo, int xs, int kv, float[] c, int co, int cs, boolean first) {
        FloatVector a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33;
        if (first) {
            a00 = a01 = a02 = a03 = a10 = a11 = a12 = a13 = a20 = a21 = a22 = a23 = a30 = a31 = a32 = a33 = FloatVector.zero(F);
        } else {
            a00 = FloatVector.fromArray(F, c, co); a01 = FloatVector.fromArray(F, c, co + L); a02 = FloatVector.fromArray(F, c, co + 2 * L); a03 = FloatVector.fromArray(F, c, co + 3 * L);
            a10 = FloatVector.fromArray(F, c, co + cs); a11 = FloatVector.fromArray(F, c, co + cs + L); a12 = FloatVector.fromArray(F, c, co + cs + 2 * L); a13 = FloatVector.fromArray(F, c, co + cs + 3 * L);
            a20 = FloatVector.fromArray(F, c, co + 2 * cs); a21 = FloatVector.fromArray(F, c, co + 2 * cs + L); a22 = FloatVector.fromArray(F, c, co + 2 * cs + 2 * L); a23 = FloatVector.fromArray(F, c, co + 2 * cs + 3 * L);
            a30 = FloatVector.fromArray(F, c, co + 3 * cs); a31 = FloatVector.fromArray(F, c, co + 3 * cs + L); a32 = FloatVector.fromArray(F, c, co + 3 * cs + 2 * L); a33 = FloatVector.fromArray(F, c, co + 3 * cs + 3 * L);
        }
        for (int p = 0; p < kv; p += 2 * L) {
            long q = 2L * p;
            // the even elements: positions p .. +L
            FloatVector w0e = IntVector.fromMemorySegment(I, s, b0 + q, LE).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w1e = IntVector.fromMemorySegment(I, s, b1 + q, LE).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w2e = IntVector.fromMemorySegment(I, s, b2 + q, LE).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w3e = IntVector.fromMemorySegment(I, s, b3 + q, LE).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector ve0 = FloatVector.fromArray(F, x, xo + p);
            a00 = w0e.fma(ve0, a00); a10 = w1e.fma(ve0, a10); a20 = w2e.fma(ve0, a20); a30 = w3e.fma(ve0, a30);
            FloatVector ve1 = FloatVector.fromArray(F, x, xo + xs + p);
            a01 = w0e.fma(ve1, a01); a11 = w1e.fma(ve1, a11); a21 = w2e.fma(ve1, a21); a31 = w3e.fma(ve1, a31);
            FloatVector ve2 = FloatVector.fromArray(F, x, xo + 2 * xs + p);
            a02 = w0e.fma(ve2, a02); a12 = w1e.fma(ve2, a12); a22 = w2e.fma(ve2, a22); a32 = w3e.fma(ve2, a32);
            FloatVector ve3 = FloatVector.fromArray(F, x, xo + 3 * xs + p);
            a03 = w0e.fma(ve3, a03); a13 = w1e.fma(ve3, a13); a23 = w2e.fma(ve3, a23); a33 = w3e.fma(ve3, a33);
            // the odd elements: positions p + L .. +L
            FloatVector w0o = IntVector.fromMemorySegment(I, s, b0 + q, LE).and(HIGH_HALF).reinterpretAsFloats();
            FloatVector w1o = IntVector.fromMemorySegment(I, s, b1 + q, LE).and(HIGH_HALF).reinterpretAsFloats();
            FloatVector w2o = IntVector.fromMemorySegment(I, s, b2 + q, LE).and(HIGH_HALF).reinterpretAsFloats();
            FloatVector w3o = IntVector.fromMemorySegment(I, s, b3 + q, LE).and(HIGH_HALF).reinterpretAsFloats();
            FloatVector vo0 = FloatVector.fromArray(F, x, xo + p + L);
            a00 = w0o.fma(vo0, a00); a10 = w1o.fma(vo0, a10); a20 = w2o.fma(vo0, a20); a30 = w3o.fma(vo0, a30);
            FloatVector vo1 = FloatVector.fromArray(F, x, xo + xs + p + L);
            a01 = w0o.fma(vo1, a01); a11 = w1o.fma(vo1, a11); a21 = w2o.fma(vo1, a21); a31 = w3o.fma(vo1, a31);
            FloatVector vo2 = FloatVector.fromArray(F, x, xo + 2 * xs + p + L);
            a02 = w0o.fma(vo2, a02); a12 = w1o.fma(vo2, a12); a22 = w2o.fma(vo2, a22); a32 = w3o.fma(vo2, a32);
            FloatVector vo3 = FloatVector.fromArray(F, x, xo + 3 * xs + p + L);
            a03 = w0o.fma(vo3, a03); a13 = w1o.fma(vo3, a13); a23 = w2o.fma(vo3, a23); a33 = w3o.fma(vo3, a33);
        }
        a00.intoArray(c, co); a01.intoArray(c, co + L); a02.intoArray(c, co + 2 * L); a03.intoArray(c, co + 3 * L);
        a10.intoArray(c, co + cs); a11.intoArray(c, co + cs + L); a12.intoArray(c, co + cs + 2 * L); a13.intoArray(c, co + cs + 3 * L);
        a20.intoArray(c, co + 2 * cs); a21.intoArray(c, co + 2 * cs + L); a22.intoArray(c, co + 2 * cs + 2 * L); a23.intoArray(c, co + 2 * cs + 3 * L);
        a30.intoArray(c, co + 3 * cs); a31.intoArray(c, co + 3 * cs + L); a32.intoArray(c, co + 3 * cs + 2 * L); a33.intoArray(c, co + 3 * cs + 3 * L);
    }

    /** 4 BF16 weight rows (from bytes b0..b3) × 2 token rows, over kv positions (a multiple of 2L). */
    static void kernel4x2(MemorySegment s, long b0, long b1, long b2, long b3, float[] x, int xo, int xs, int kv, float[] c, int co, int cs, boolean first) {
        FloatVector a00, a01, a10, a11, a20, a21, a30, a31;
        if (first) {
            a00 = a01 = a10 = a11 = a20 = a21 = a30 = a31 = FloatVector.zero(F);
        } else {
            a00 = FloatVector.fromArray(F, c, co); a01 = FloatVector.fromArray(F, c, co + L);
            a10 = FloatVector.fromArray(F, c, co + cs); a11 = FloatVector.fromArray(F, c, co + cs + L);
            a20 = FloatVector.fromArray(F, c, co + 2 * cs); a21 = FloatVector.fromArray(F, c, co + 2 * cs + L);
            a30 = FloatVector.fromArray(F, c, co + 3 * cs); a31 = FloatVector.fromArray(F, c, co + 3 * cs + L);
        }
        for (int p = 0; p < kv; p += 2 * L) {
            long q = 2L * p;
            // the even elements: positions p .. +L
            FloatVector w0e = IntVector.fromMemorySegment(I, s, b0 + q, LE).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w1e = IntVector.fromMemorySegment(I, s, b1 + q, LE).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w2e = IntVector.fromMemorySegment(I, s, b2 + q, LE).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w3e = IntVector.fromMemorySegment(I, s, b3 + q, LE).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector ve0 = FloatVector.fromArray(F, x, xo + p);
            a00 = w0e.fma(ve0, a00); a10 = w1e.fma(ve0, a10); a20 = w2e.fma(ve0, a20); a30 = w3e.fma(ve0, a30);
            FloatVector ve1 = FloatVector.fromArray(F, x, xo + xs + p);
            a01 = w0e.fma(ve1, a01); a11 = w1e.fma(ve1, a11); a21 = w2e.fma(ve1, a21); a31 = w3e.fma(ve1, a31);
            // the odd elements: positions p + L .. +L
            FloatVector w0o = IntVector.fromMemorySegment(I, s, b0 + q, LE).and(HIGH_HALF).reinterpretAsFloats();
            FloatVector w1o = IntVector.fromMemorySegment(I, s, b1 + q, LE).and(HIGH_HALF).reinterpretAsFloats();
            FloatVector w2o = IntVector.fromMemorySegment(I, s, b2 + q, LE).and(HIGH_HALF).reinterpretAsFloats();
            FloatVector w3o = IntVector.fromMemorySegment(I, s, b3 + q, LE).and(HIGH_HALF).reinterpretAsFloats();
            FloatVector vo0 = FloatVector.fromArray(F, x, xo + p + L);
            a00 = w0o.fma(vo0, a00); a10 = w1o.fma(vo0, a10); a20 = w2o.fma(vo0, a20); a30 = w3o.fma(vo0, a30);
            FloatVector vo1 = FloatVector.fromArray(F, x, xo + xs + p + L);
            a01 = w0o.fma(vo1, a01); a11 = w1o.fma(vo1, a11); a21 = w2o.fma(vo1, a21); a31 = w3o.fma(vo1, a31);
        }
        a00.intoArray(c, co); a01.intoArray(c, co + L);
        a10.intoArray(c, co + cs); a11.intoArray(c, co + cs + L);
        a20.intoArray(c, co + 2 * cs); a21.intoArray(c, co + 2 * cs + L);
        a30.intoArray(c, co + 3 * cs); a31.intoArray(c, co + 3 * cs + L);
    }

    /** 4 BF16 weight rows (from bytes b0..b3) × 1 token row, over kv positions (a multiple of 2L). */
    static void kernel4x1(MemorySegment s, long b0, long b1, long b2, long b3, float[] x, int xo, int xs, int kv, float[] c, int co, int cs, boolean first) {
        FloatVector a00, a10, a20, a30;
        if (first) {
            a00 = a10 = a20 = a30 = FloatVector.zero(F);
        } else {
            a00 = FloatVector.fromArray(F, c, co);
            a10 = FloatVector.fromArray(F, c, co + cs);
            a20 = FloatVector.fromArray(F, c, co + 2 * cs);
            a30 = FloatVector.fromArray(F, c, co + 3 * cs);
        }
        for (int p = 0; p < kv; p += 2 * L) {
            long q = 2L * p;
            // the even elements: positions p .. +L
            FloatVector w0e = IntVector.fromMemorySegment(I, s, b0 + q, LE).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w1e = IntVector.fromMemorySegment(I, s, b1 + q, LE).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w2e = IntVector.fromMemorySegment(I, s, b2 + q, LE).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w3e = IntVector.fromMemorySegment(I, s, b3 + q, LE).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector ve0 = FloatVector.fromArray(F, x, xo + p);
            a00 = w0e.fma(ve0, a00); a10 = w1e.fma(ve0, a10); a20 = w2e.fma(ve0, a20); a30 = w3e.fma(ve0, a30);
            // the odd elements: positions p + L .. +L
            FloatVector w0o = IntVector.fromMemorySegment(I, s, b0 + q, LE).and(HIGH_HALF).reinterpretAsFloats();
            FloatVector w1o = IntVector.fromMemorySegment(I, s, b1 + q, LE).and(HIGH_HALF).reinterpretAsFloats();
            FloatVector w2o = IntVector.fromMemorySegment(I, s, b2 + q, LE).and(HIGH_HALF).reinterpretAsFloats();
            FloatVector w3o = IntVector.fromMemorySegment(I, s, b3 + q, LE).and(HIGH_HALF).reinterpretAsFloats();
            FloatVector vo0 = FloatVector.fromArray(F, x, xo + p + L);
            a00 = w0o.fma(vo0, a00); a10 = w1o.fma(vo0, a10); a20 = w2o.fma(vo0, a20); a30 = w3o.fma(vo0, a30);
        }
        a00.intoArray(c, co);
        a10.intoArray(c, co + cs);
        a20.intoArray(c, co + 2 * cs);
        a30.intoArray(c, co + 3 * cs);
    }
}
