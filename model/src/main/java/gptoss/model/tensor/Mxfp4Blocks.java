package gptoss.model.tensor;

import java.lang.foreign.ValueLayout;

/** Raw MXFP4 blocks of either layout (OpenAI's or ggml's, interleaved gate/up rows too), in OpenAI's byte order. */
public final class Mxfp4Blocks {
    private Mxfp4Blocks() {
    }

    /**
     * Block {@code block} (logical elements {@code 32·block ..}) of {@code t} as OpenAI stores it: 16 bytes where
     * byte k holds element 2k (low nibble) and 2k+1 (high nibble), written to {@code codes}; returns the E8M0
     * exponent byte. {@code rowLength} is the row width (needed for {@link InterleavedRowsTensor}).
     */
    public static int openAiBlock(FloatTensor t, long rowLength, long block, byte[] codes) {
        return switch (t) {
            case Mxfp4Tensor m -> {
                for (int k = 0; k < 16; k++) codes[k] = m.blocks().get(ValueLayout.JAVA_BYTE, block * 16 + k);
                yield m.scales().get(ValueLayout.JAVA_BYTE, block) & 0xFF;
            }
            case GgmlMxfp4Tensor g -> {
                for (int k = 0; k < 16; k++) codes[k] = (byte) (g.code(32 * block + 2 * k) | g.code(32 * block + 2 * k + 1) << 4);
                yield g.exponent(block);
            }
            case InterleavedRowsTensor p -> {
                long first = 32 * block, row = first / rowLength, col = first - row * rowLength;
                yield openAiBlock((row & 1) == 0 ? p.even() : p.odd(), rowLength, ((row >>> 1) * rowLength + col) / 32, codes);
            }
            default -> throw new IllegalArgumentException("not an MXFP4 tensor: " + t.getClass().getSimpleName());
        };
    }
}
