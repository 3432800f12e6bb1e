package gptoss.model.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Storage formats decode to the values spec §3.1 defines, computed here by hand. */
class TensorDecodingTest {

    @Test
    void mxfp4DecodesLowNibbleFirstWithE8M0Scale() {
        MemorySegment blocks = Arena.ofAuto().allocate(16);
        MemorySegment scales = Arena.ofAuto().allocate(1);
        // byte 0 = 0x7A: element 0 = low nibble 0xA (-1.0), element 1 = high nibble 0x7 (+6.0)
        blocks.set(ValueLayout.JAVA_BYTE, 0, (byte) 0x7A);
        // byte 15 = 0x19: element 30 = 9 (-0.5), element 31 = 1 (+0.5)
        blocks.set(ValueLayout.JAVA_BYTE, 15, (byte) 0x19);
        scales.set(ValueLayout.JAVA_BYTE, 0, (byte) 125); // 2^(125-127) = 0.25
        Mxfp4Tensor t = new Mxfp4Tensor(blocks, scales);
        assertEquals(32, t.size());
        assertEquals(-0.25f, t.getFloat(0));
        assertEquals(1.5f, t.getFloat(1));
        assertEquals(0.0f, t.getFloat(2));
        assertEquals(-0.125f, t.getFloat(30));
        assertEquals(0.125f, t.getFloat(31));
        float[] x = new float[32];
        x[0] = 2f;
        x[1] = 1f;
        x[31] = 8f;
        assertEquals(-0.5f + 1.5f + 1.0f, t.dot(0, x, 0, 32));
    }

    @Test
    void e8m0CoversTheWholeExponentRange() {
        assertEquals(1.0f, Mxfp4Tensor.E8M0[127]);
        assertEquals(Math.scalb(1.0f, -127), Mxfp4Tensor.E8M0[0]);
        assertEquals(Math.scalb(1.0f, 127), Mxfp4Tensor.E8M0[254]);
        assertEquals(Float.NaN, Mxfp4Tensor.E8M0[255]);
    }

    @Test
    void bf16IsTheUpperHalfOfAFloat() {
        MemorySegment s = Arena.ofAuto().allocate(6);
        var layout = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        s.set(layout, 0, (short) 0x3F80); // 1.0
        s.set(layout, 2, (short) 0xC040); // -3.0
        s.set(layout, 4, (short) 0x3E20); // 0.15625
        Bf16Tensor t = new Bf16Tensor(s);
        assertEquals(1.0f, t.getFloat(0));
        assertEquals(-3.0f, t.getFloat(1));
        assertEquals(0.15625f, t.getFloat(2));
        assertEquals(-3.0f, t.slice(1, 2).getFloat(0));
    }

    @Test
    void bf16RoundingIsToNearestEven() {
        assertEquals((short) 0x3F80, Bf16Tensor.fromFloat(Float.intBitsToFloat(0x3F808000))); // tie → even (down)
        assertEquals((short) 0x3F82, Bf16Tensor.fromFloat(Float.intBitsToFloat(0x3F818000))); // tie → even (up)
        assertEquals((short) 0x3F81, Bf16Tensor.fromFloat(Float.intBitsToFloat(0x3F808001))); // above tie → up
        assertEquals(1.0f, Bf16Tensor.toFloat(Bf16Tensor.fromFloat(1.0f)));
    }

    @Test
    void vectorisedDotsAgreeWithScalarDefinition() {
        SplittableRandom r = new SplittableRandom(11);
        int n = 32 * 37;
        MemorySegment bf = Arena.ofAuto().allocate(2L * n);
        MemorySegment f32 = Arena.ofAuto().allocate(4L * n);
        MemorySegment blocks = Arena.ofAuto().allocate(n / 2);
        MemorySegment scales = Arena.ofAuto().allocate(n / 32);
        for (int i = 0; i < n; i++) {
            float v = (float) r.nextGaussian();
            bf.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2L * i, Bf16Tensor.fromFloat(v));
            f32.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4L * i, v);
        }
        for (int i = 0; i < n / 2; i++) blocks.set(ValueLayout.JAVA_BYTE, i, (byte) r.nextInt(256));
        for (int i = 0; i < n / 32; i++) scales.set(ValueLayout.JAVA_BYTE, i, (byte) r.nextInt(118, 130));
        float[] x = new float[n + 5];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (FloatTensor t : new FloatTensor[]{new Bf16Tensor(bf), new F32Tensor(f32), new Mxfp4Tensor(blocks, scales)}) {
            for (int[] c : new int[][]{{0, 0, n}, {32, 5, n - 64}, {64, 3, 96}}) {
                double exact = 0;
                for (int i = 0; i < c[2]; i++) exact += (double) t.getFloat(c[0] + i) * x[c[1] + i];
                float fast = t.dot(c[0], x, c[1], c[2]);
                assertEquals(exact, fast, 1e-4 * Math.sqrt(c[2]), t.getClass().getSimpleName() + " " + java.util.Arrays.toString(c));
                assertEquals(exact, t.dotScalar(c[0], x, c[1], c[2]), 1e-4 * Math.sqrt(c[2]));
            }
        }
    }
}
