package gptoss.sampling.constraint;

import gptoss.model.tokenizer.SpecialTokens;

import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/**
 * Applies JSON constraints inside a Harmony completion: the message whose header carries
 * {@code <|constrain|>json} (a tool call: {@code ... to=functions.NAME <|constrain|>json<|message|>{...}<|call|>})
 * is constrained by the schema of its recipient, and, when a response grammar is given, the {@code final} channel
 * message by it (structured answers). Everything else (headers, analysis) is free. The completion is assumed to
 * start inside an assistant header (the rendered prompt ends with {@code <|start|>assistant}). Per sequence.
 */
public final class HarmonyConstraint implements TokenConstraint {
    private enum Mode { HEADER, FREE, JSON }

    private final TokenVocabulary vocab;
    private final Function<String, JsonGrammar> toolGrammar;   // recipient ("functions.x") → grammar, or null = any JSON
    private final JsonGrammar finalGrammar;                     // null: final answers are free text
    private Mode mode = Mode.HEADER;
    private final StringBuilder header = new StringBuilder();
    private JsonSchemaConstraint json;
    private int remaining = Integer.MAX_VALUE;

    /**
     * @param toolGrammar  grammar for a tool call's arguments by recipient (e.g. {@code functions.get_weather});
     *                     may return null for any JSON
     * @param finalGrammar grammar of the final answer, or null to leave it free
     */
    public HarmonyConstraint(TokenVocabulary vocab, Function<String, JsonGrammar> toolGrammar, JsonGrammar finalGrammar) {
        this.vocab = vocab;
        this.toolGrammar = toolGrammar == null ? r -> null : toolGrammar;
        this.finalGrammar = finalGrammar;
    }

    @Override
    public void mask(float[] logits, int offset, int vocab) {
        if (mode == Mode.JSON) {
            json.setRemainingTokens(remaining);
            json.mask(logits, offset, vocab);
        }
    }

    @Override
    public void accept(int token) {
        switch (mode) {
            case JSON -> {
                json.accept(token);
                if (vocab.isSpecial(token)) {
                    json = null;
                    mode = Mode.FREE; // after the end token: back to free text until the next header
                }
            }
            case HEADER -> {
                if (token == SpecialTokens.MESSAGE) {
                    startMessage();
                } else if (vocab.isSpecial(token)) {
                    header.append(SpecialTokens.name(token));
                } else {
                    header.append(new String(vocab.bytes(token), StandardCharsets.UTF_8));
                }
            }
            case FREE -> {
                if (token == SpecialTokens.START) {
                    header.setLength(0);
                    mode = Mode.HEADER;
                }
            }
        }
    }

    private void startMessage() {
        String h = header.toString();
        header.setLength(0);
        mode = Mode.FREE;
        int c = h.indexOf("<|constrain|>");
        if (c >= 0 && h.substring(c + "<|constrain|>".length()).trim().startsWith("json")) {
            JsonGrammar g = toolGrammar.apply(recipient(h));
            json = JsonSchemaConstraint.of(g != null ? g : JsonGrammar.anyJson(), vocab, SpecialTokens.CALL, SpecialTokens.END, SpecialTokens.RETURN);
            mode = Mode.JSON;
        } else if (finalGrammar != null && "final".equals(channel(h))) {
            json = JsonSchemaConstraint.of(finalGrammar, vocab, SpecialTokens.RETURN, SpecialTokens.END);
            mode = Mode.JSON;
        }
    }

    /** The channel name in a header text, e.g. "final" from {@code <|channel|>final}. */
    static String channel(String h) {
        int i = h.indexOf("<|channel|>");
        if (i < 0) return null;
        String rest = h.substring(i + "<|channel|>".length());
        int end = 0;
        while (end < rest.length() && !Character.isWhitespace(rest.charAt(end)) && rest.charAt(end) != '<') end++;
        return rest.substring(0, end);
    }

    /** The recipient, e.g. "functions.get_weather" from {@code ... to=functions.get_weather <|constrain|>json}. */
    static String recipient(String h) {
        int i = h.indexOf("to=");
        if (i < 0) return null;
        int end = i + 3;
        while (end < h.length() && !Character.isWhitespace(h.charAt(end)) && h.charAt(end) != '<') end++;
        return h.substring(i + 3, end);
    }

    @Override
    public boolean isComplete() {
        return mode != Mode.JSON || json.isComplete();
    }

    @Override
    public boolean isTerminated() {
        return false; // Harmony stop tokens end the completion
    }

    @Override
    public void setRemainingTokens(int remaining) {
        this.remaining = remaining;
    }

    /** Whether a JSON-constrained message is being generated now. */
    public boolean inJson() {
        return mode == Mode.JSON;
    }
}
