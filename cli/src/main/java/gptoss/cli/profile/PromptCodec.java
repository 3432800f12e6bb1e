package gptoss.cli.profile;

import java.util.function.IntFunction;

/** Turns the prompts of a profile input into token ids, and token ids back into text for the report. */
interface PromptCodec {

    /** The ids to feed the model for {@code prompt}. */
    int[] encode(ProfileInput.Prompt prompt);

    /** Text of one token id, or null when this codec cannot decode. */
    IntFunction<String> tokenText();

    /** A codec with no tokenizer: token prompts only. */
    static PromptCodec tokensOnly() {
        return new PromptCodec() {
            @Override
            public int[] encode(ProfileInput.Prompt prompt) {
                if (prompt instanceof ProfileInput.TokenPrompt t) return t.tokens();
                throw new IllegalArgumentException("--input line " + prompt.line()
                        + ": text and chat prompts need the o200k_harmony tokenizer, which this build lacks; give {\"tokens\": [...]}");
            }

            @Override
            public IntFunction<String> tokenText() {
                return null;
            }
        };
    }
}
