package gptoss.model.safetensors;

import gptoss.model.InvalidModelException;

/** Element types of the safetensors format, with their size in bytes. */
public enum DType {
    BOOL(1), U8(1), I8(1), F8_E4M3(1), F8_E5M2(1), E8M0(1),
    I16(2), U16(2), F16(2), BF16(2),
    I32(4), U32(4), F32(4),
    I64(8), U64(8), F64(8);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    /** Parses the dtype string of a safetensors header; {@code where} names the file and tensor for the error. */
    public static DType parse(String name, String where) {
        try {
            return DType.valueOf(name);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new InvalidModelException(where + ": unknown dtype '" + name + "'");
        }
    }
}
