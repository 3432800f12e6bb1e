package gptoss.model.gguf;

/**
 * The ggml tensor types this engine reads from GGUF files (ggml.h {@code enum ggml_type}): each stores
 * {@link #blockElements} consecutive values of a row in {@link #blockBytes} bytes.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    /** Blocks of 32: an fp16 scale d, then 32 int8 q; value = d·q. */
    Q8_0(8, 32, 34),
    BF16(30, 1, 2),
    /** Blocks of 32: an E8M0 byte e, then 16 bytes; byte j holds value j (low nibble) and j+16 (high). */
    MXFP4(39, 32, 17);

    private final int id;
    private final int blockElements;
    private final int blockBytes;

    GgmlType(int id, int blockElements, int blockBytes) {
        this.id = id;
        this.blockElements = blockElements;
        this.blockBytes = blockBytes;
    }

    public int id() {
        return id;
    }

    public int blockElements() {
        return blockElements;
    }

    public int blockBytes() {
        return blockBytes;
    }

    /** Bytes of {@code elements} values (a whole number of blocks). */
    public long bytes(long elements) {
        return elements / blockElements * blockBytes;
    }

    /** The type with ggml id {@code id}, or null. */
    public static GgmlType byId(long id) {
        for (GgmlType t : values()) if (t.id == id) return t;
        return null;
    }

    /** ggml's name of a type id (also for types this engine does not read), for error messages. */
    public static String nameOf(long id) {
        String[] names = {"F32", "F16", "Q4_0", "Q4_1", "Q4_2", "Q4_3", "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K",
                "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S",
                "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M", "BF16", "Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8",
                "TQ1_0", "TQ2_0", "IQ4_NL_4_4", "IQ4_NL_4_8", "IQ4_NL_8_8", "MXFP4"};
        return id >= 0 && id < names.length ? names[(int) id] : "unknown";
    }
}
