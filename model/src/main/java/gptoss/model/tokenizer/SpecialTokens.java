package gptoss.model.tokenizer;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;

/**
 * The o200k_harmony special tokens (spec §4): ids 199,998..201,087, all control tokens that BPE never produces.
 * The named ones are below; every other id in the range is {@code <|reserved_ID|>}. Harmony's Rust table also
 * names 201,088, one past the model's 201,088-row embedding; it is left out here.
 */
public final class SpecialTokens {
    public static final int FIRST_ID = 199_998;
    /** One past the last special id = the vocabulary size = the model's logit count. */
    public static final int END_ID = 201_088;

    public static final int START_OF_TEXT = 199_998;
    public static final int END_OF_TEXT = 199_999;
    public static final int RETURN = 200_002;
    public static final int CONSTRAIN = 200_003;
    public static final int CHANNEL = 200_005;
    public static final int START = 200_006;
    public static final int END = 200_007;
    public static final int MESSAGE = 200_008;
    public static final int CALL = 200_012;

    private static final String[] NAMES = new String[END_ID - FIRST_ID];
    private static final Map<String, Integer> IDS;

    static {
        for (int id = FIRST_ID; id < END_ID; id++) NAMES[id - FIRST_ID] = "<|reserved_" + id + "|>";
        name(START_OF_TEXT, "<|startoftext|>");
        name(END_OF_TEXT, "<|endoftext|>");
        name(RETURN, "<|return|>");
        name(CONSTRAIN, "<|constrain|>");
        name(CHANNEL, "<|channel|>");
        name(START, "<|start|>");
        name(END, "<|end|>");
        name(MESSAGE, "<|message|>");
        name(CALL, "<|call|>");
        Map<String, Integer> ids = new HashMap<>(NAMES.length * 2);
        for (int i = 0; i < NAMES.length; i++) ids.put(NAMES[i], FIRST_ID + i);
        IDS = Collections.unmodifiableMap(ids);
    }

    private SpecialTokens() {
    }

    private static void name(int id, String name) {
        NAMES[id - FIRST_ID] = name;
    }

    public static boolean isSpecial(int id) {
        return id >= FIRST_ID && id < END_ID;
    }

    /** The token's text, e.g. {@code <|start|>}; the id must be special. */
    public static String name(int id) {
        if (!isSpecial(id)) throw new IllegalArgumentException("token " + id + " is not a special token");
        return NAMES[id - FIRST_ID];
    }

    /** The id of a special token's text, or -1 when the text is not one. */
    public static int idOf(String name) {
        Integer id = IDS.get(name);
        return id == null ? -1 : id;
    }

    /** Every special token text and its id (1,090 entries). */
    public static Map<String, Integer> table() {
        return IDS;
    }
}
