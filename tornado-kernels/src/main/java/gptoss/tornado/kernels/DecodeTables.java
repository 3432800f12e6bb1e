package gptoss.tornado.kernels;

import gptoss.model.tensor.Mxfp4Tensor;
import uk.ac.manchester.tornado.api.types.arrays.ByteArray;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * Number formats decoded inside kernels by table lookups and integer arithmetic only, because some OpenCL devices
 * (PoCL among them) have neither fp16 nor a working {@code Float.intBitsToFloat}. One float table holds them all:
 * <ul>
 *   <li>BF16 (raw 16 bits): with {@code se = bits >>> 7} (sign and exponent e) and {@code m = bits & 0x7F},
 *       {@code value = (m | hidden) · SCALE[se]}, where {@code hidden = 0x80} for normal numbers (e ≠ 0, computed
 *       with integer arithmetic), 0 for subnormals, and {@code SCALE = ±2^(max(e,1) − 134)}. Exact: an integer of
 *       at most 8 bits times a power of two. One table lookup per weight (an earlier form, {@code m · SCALE[se] +
 *       LEADING[se]}, took two; same values).</li>
 *   <li>FP4 E2M1 (a nibble): {@code FP4[code]}.</li>
 *   <li>E8M0 (an MXFP4 block scale byte): {@code 2^(byte − 127)}, byte 255 NaN (as {@link Mxfp4Tensor}).</li>
 * </ul>
 */
public final class DecodeTables {
    public static final int BF16_SCALE = 0;
    public static final int FP4 = 512;
    public static final int E8M0 = FP4 + 16;
    public static final int SIZE = E8M0 + 256;

    private DecodeTables() {
    }

    /** The table, to upload once per task graph that decodes weights. */
    public static FloatArray create() {
        FloatArray t = new FloatArray(SIZE);
        for (int se = 0; se < 512; se++) {
            int e = se & 0xFF;
            float sign = (se & 0x100) != 0 ? -1f : 1f;
            t.set(BF16_SCALE + se, sign * Math.scalb(1.0f, Math.max(e, 1) - 134));
        }
        for (int c = 0; c < 16; c++) t.set(FP4 + c, Mxfp4Tensor.FP4[c]);
        for (int b = 0; b < 256; b++) t.set(E8M0 + b, Mxfp4Tensor.E8M0[b]);
        return t;
    }

    /** BF16 element {@code i} of {@code w}. */
    public static float bf16(ShortArray w, int i, FloatArray tables) {
        int bits = w.get(i) & 0xFFFF;
        int se = bits >>> 7;
        int hidden = (((se & 0xFF) + 0xFF) >>> 8) << 7; // 0x80 unless the exponent is 0
        return ((bits & 0x7F) | hidden) * tables.get(BF16_SCALE + se);
    }

    /** FP4 value of nibble {@code code} (0..15). */
    public static float fp4(int code, FloatArray tables) {
        return tables.get(FP4 + code);
    }

    /** Scale of E8M0 byte {@code i} of {@code scales}. */
    public static float e8m0(ByteArray scales, int i, FloatArray tables) {
        return tables.get(E8M0 + (scales.get(i) & 0xFF));
    }
}
