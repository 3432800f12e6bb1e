package gptoss.api;

import gptoss.sampling.constraint.JsonGrammar;
import gptoss.sampling.constraint.JsonSchemaConstraint;
import gptoss.sampling.constraint.TokenConstraint;
import gptoss.sampling.constraint.TokenVocabulary;

import java.util.Arrays;
import java.util.List;

/**
 * Forces a Harmony completion (which starts right after {@code <|start|>assistant}) to be one JSON message: first
 * the tokens of one of several headers (e.g. {@code to=functions.get_weather<|channel|>commentary <|constrain|>json<|message|>},
 * or {@code <|channel|>final<|message|>}), then a JSON value valid for that header's grammar, then its end token
 * ({@code <|call|>} or {@code <|return|>}, a stop token). Which header is taken is left to the model when there are
 * several (tool_choice {@code required}). Per sequence; the grammars are shared.
 */
final class ForcedMessage implements TokenConstraint {

    /** A header the message may start with, the grammar of its content and the token that ends it. */
    record Header(int[] tokens, JsonGrammar grammar, int endToken) {
    }

    private final TokenVocabulary vocab;
    private final List<Header> headers;
    // the forced tokens' logits while a header is being masked (one slot per header; reused every token)
    private final float[] keep;
    private final int[] ids;
    private final boolean[] alive;
    private int position;                 // tokens of the header accepted so far
    private JsonSchemaConstraint json;    // once a header is complete
    private int endToken;
    private int remaining = Integer.MAX_VALUE;

    ForcedMessage(TokenVocabulary vocab, List<Header> headers) {
        if (headers.isEmpty()) throw new IllegalArgumentException("no header to force");
        this.vocab = vocab;
        this.headers = List.copyOf(headers);
        this.alive = new boolean[headers.size()];
        this.keep = new float[headers.size()];
        this.ids = new int[headers.size()];
        Arrays.fill(alive, true);
    }

    @Override
    public void mask(float[] logits, int offset, int vocabSize) {
        if (json != null) {
            if (remaining <= 1 && json.isComplete() && endToken < vocabSize) {
                // the last token of the budget: end the message (a value such as a number could go on)
                float keep = logits[offset + endToken];
                Arrays.fill(logits, offset, offset + vocabSize, Float.NEGATIVE_INFINITY);
                logits[offset + endToken] = Float.isFinite(keep) ? keep : 0f;
                return;
            }
            json.setRemainingTokens(Math.max(1, remaining - 1)); // one token is kept for the end token
            json.mask(logits, offset, vocabSize);
            return;
        }
        // only the next token of a header still possible
        int n = 0;
        for (int h = 0; h < headers.size(); h++) {
            if (!alive[h]) continue;
            int t = headers.get(h).tokens()[position];
            ids[n] = t;
            keep[n++] = t < vocabSize ? logits[offset + t] : Float.NEGATIVE_INFINITY;
        }
        Arrays.fill(logits, offset, offset + vocabSize, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < n; i++) {
            // a forced token's logit may be −∞ after a bias; it must stay possible
            logits[offset + ids[i]] = Float.isFinite(keep[i]) ? keep[i] : 0f;
        }
    }

    @Override
    public void accept(int token) {
        if (json != null) {
            json.accept(token);
            return;
        }
        boolean any = false;
        for (int h = 0; h < headers.size(); h++) {
            if (alive[h] && headers.get(h).tokens()[position] == token) any = true;
            else alive[h] = false;
        }
        if (!any) throw new IllegalArgumentException("token " + token + " does not continue the forced message header");
        position++;
        for (int h = 0; h < headers.size(); h++) {
            Header header = headers.get(h);
            if (alive[h] && header.tokens().length == position) {
                json = JsonSchemaConstraint.of(header.grammar(), vocab, header.endToken());
                endToken = header.endToken();
                return;
            }
        }
    }

    @Override
    public boolean isComplete() {
        return json != null && json.isComplete();
    }

    /** Never: the header's end token (a Harmony stop token) ends the completion. */
    @Override
    public boolean isTerminated() {
        return false;
    }

    @Override
    public void setRemainingTokens(int remaining) {
        this.remaining = remaining;
    }
}
