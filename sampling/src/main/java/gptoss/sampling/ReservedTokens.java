package gptoss.sampling;

import gptoss.model.tokenizer.SpecialTokens;

/**
 * The {@code <|reserved_ID|>} ids of o200k_harmony (spec §4): unused by the format and untrained, so they are
 * never sampled (a random-weight or fine-tuned model could otherwise emit them).
 */
public final class ReservedTokens {
    private static final int[] IDS;

    static {
        int n = 0;
        int[] ids = new int[SpecialTokens.END_ID - SpecialTokens.FIRST_ID];
        for (int id = SpecialTokens.FIRST_ID; id < SpecialTokens.END_ID; id++) {
            if (SpecialTokens.name(id).startsWith("<|reserved_")) ids[n++] = id;
        }
        IDS = java.util.Arrays.copyOf(ids, n);
    }

    private ReservedTokens() {
    }

    public static boolean isReserved(int id) {
        return SpecialTokens.isSpecial(id) && SpecialTokens.name(id).startsWith("<|reserved_");
    }

    /** Sets the logits of reserved ids below {@code vocab} to −∞. */
    public static void mask(float[] logits, int offset, int vocab) {
        for (int id : IDS) {
            if (id >= vocab) break;
            logits[offset + id] = Float.NEGATIVE_INFINITY;
        }
    }
}
