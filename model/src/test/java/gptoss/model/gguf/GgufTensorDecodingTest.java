package gptoss.model.gguf;

import gptoss.model.tensor.F16Tensor;
import gptoss.model.tensor.GgmlMxfp4Tensor;
import gptoss.model.tensor.Q8_0Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Hand-built F16, Q8_0 and ggml MXFP4 blocks decode bit-exactly to the values the formats define. */
class GgufTensorDecodingTest {
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static void assertBits(float expected, float actual, String what) {
        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual), what + ": " + expected + " vs " + actual);
    }

    @Test
    void f16BitPatternsDecodeToTheirBinary16Values() {
        // bits → value, worked out by hand from sign · 2^(e−15) · (1 + m/1024), subnormals 2^−14 · m/1024.
        short[] bits = {0x3C00, (short) 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x0400, (short) 0x8000, 0x0000, 0x3555, 0x7C00, (short) 0xFC00, 0x3800, 0x4248};
        float[] values = {1f, -2f, 65504f, 0x1p-24f, 1023 * 0x1p-24f, 0x1p-14f, -0f, 0f, 0.333251953125f,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0.5f, 3.140625f};
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(2L * bits.length);
            for (int i = 0; i < bits.length; i++) s.set(LE16, 2L * i, bits[i]);
            F16Tensor t = new F16Tensor(s);
            assertEquals(bits.length, t.size());
            for (int i = 0; i < bits.length; i++) assertBits(values[i], t.getFloat(i), String.format("0x%04x", bits[i]));
            assertEquals(true, Float.isNaN(new F16Tensor(arena.allocate(2).fill((byte) 0x7F)).getFloat(0)), "0x7F7F is NaN");
        }
    }

    @Test
    void q8_0BlocksAreScaleTimesSignedBytes() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(2 * 34);
            s.set(LE16, 0, (short) 0x3400);            // d = 0.25
            for (int i = 0; i < 32; i++) s.set(ValueLayout.JAVA_BYTE, 2 + i, (byte) (i * 8 - 128)); // -128, -120, ..., 120
            s.set(LE16, 34, (short) 0x8001);           // d = -2^-24 (a subnormal half)
            for (int i = 0; i < 32; i++) s.set(ValueLayout.JAVA_BYTE, 36 + i, (byte) (127 - i));
            Q8_0Tensor t = new Q8_0Tensor(s);
            assertEquals(64, t.size());
            for (int i = 0; i < 32; i++) assertBits(0.25f * (i * 8 - 128), t.getFloat(i), "block 0 value " + i);
            for (int i = 0; i < 32; i++) assertBits(-0x1p-24f * (127 - i), t.getFloat(32 + i), "block 1 value " + i);
            float[] x = new float[64];
            for (int i = 0; i < 64; i++) x[i] = 1f;
            float sum0 = 0;
            for (int i = 0; i < 32; i++) sum0 += i * 8 - 128;
            assertEquals(0.25f * sum0, t.dot(0, x, 0, 32), 0f);
            assertBits(-0x1p-24f * 127, t.slice(32, 32).getFloat(0), "slice");
        }
    }

    @Test
    void q8_0QuantizationRoundsHalfAwayFromZeroLikeGgml() {
        float[] v = new float[32];
        v[0] = 127f;          // amax: d = 1
        v[1] = 2.5f;          // → 3 (roundf), where Math.round would give 3 too
        v[2] = -2.5f;         // → -3 (roundf), where Math.round gives -2
        v[3] = -0.4f;         // → 0
        v[4] = -127f;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(34);
            Q8_0Tensor.quantizeBlock(v, 0, s, 0);
            assertEquals((short) 0x3C00, s.get(LE16, 0), "d = 1.0 as fp16");
            int[] q = new int[5];
            for (int i = 0; i < 5; i++) q[i] = s.get(ValueLayout.JAVA_BYTE, 2 + i);
            assertEquals(127, q[0]);
            assertEquals(3, q[1]);
            assertEquals(-3, q[2]);
            assertEquals(0, q[3]);
            assertEquals(-127, q[4]);
        }
    }

    @Test
    void ggmlMxfp4UsesLowNibbleForJHighForJPlus16AndExponentFirst() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(2 * 17);
            s.set(ValueLayout.JAVA_BYTE, 0, (byte) 128);                  // scale 2^(128-127) = 2
            for (int j = 0; j < 16; j++) s.set(ValueLayout.JAVA_BYTE, 1 + j, (byte) (j | (15 - j) << 4));
            s.set(ValueLayout.JAVA_BYTE, 17, (byte) 120);                 // scale 2^-7
            for (int j = 0; j < 16; j++) s.set(ValueLayout.JAVA_BYTE, 18 + j, (byte) 0x71);  // low code 1 (0.5), high code 7 (6)
            GgmlMxfp4Tensor t = new GgmlMxfp4Tensor(s);
            float[] e2m1 = {0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f, -0f, -0.5f, -1f, -1.5f, -2f, -3f, -4f, -6f};
            for (int j = 0; j < 16; j++) {
                assertBits(e2m1[j] * 2, t.getFloat(j), "value " + j);
                assertBits(e2m1[15 - j] * 2, t.getFloat(j + 16), "value " + (j + 16));
                // ggml's own formula: doubled table times the half scale 2^(e−128).
                // (code 8 is -0 in E2M1 and 0 in ggml's integer table: equal as numbers)
                assertEquals(GgmlMxfp4Tensor.KVALUES[j] * 1f, t.getFloat(j), 0f, "ggml value " + j);
                assertBits(0.5f * 0x1p-7f, t.getFloat(32 + j), "block 1 value " + j);
                assertBits(6f * 0x1p-7f, t.getFloat(48 + j), "block 1 value " + (16 + j));
            }
            float[] x = new float[64];
            for (int i = 0; i < 64; i++) x[i] = i;
            assertEquals(t.dotScalar(0, x, 0, 64), t.dot(0, x, 0, 64), 1e-3f);
        }
    }
}
