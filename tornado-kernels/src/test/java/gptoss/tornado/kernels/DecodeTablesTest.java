package gptoss.tornado.kernels;

import org.junit.jupiter.api.Test;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The kernels' table-and-integer BF16 decode (run here as plain Java) against the definition: the 16 bits are the
 * top half of an fp32. Every finite pattern, subnormals and both zeros included, bit for bit.
 */
class DecodeTablesTest {
    @Test
    void everyFiniteBf16PatternDecodesExactly() {
        FloatArray tables = DecodeTables.create();
        ShortArray w = new ShortArray(1 << 16);
        for (int bits = 0; bits < 1 << 16; bits++) w.set(bits, (short) bits);
        int checked = 0;
        for (int bits = 0; bits < 1 << 16; bits++) {
            if (((bits >>> 7) & 0xFF) == 0xFF) continue; // infinities and NaNs: not in checkpoints
            int expected = bits << 16;
            int actual = Float.floatToRawIntBits(DecodeTables.bf16(w, bits, tables));
            String pattern = Integer.toHexString(bits);
            assertEquals(expected, actual, () -> "bf16 0x" + pattern);
            checked++;
        }
        assertEquals(65536 - 2 * 128, checked);
    }
}
