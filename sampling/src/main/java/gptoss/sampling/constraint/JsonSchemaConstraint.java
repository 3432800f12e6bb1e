package gptoss.sampling.constraint;

import com.fasterxml.jackson.databind.JsonNode;
import gptoss.model.tokenizer.SpecialTokens;

import java.util.Arrays;

/**
 * Constrains a sequence to JSON valid against a schema (or to any JSON value). Per sequence; the compiled
 * {@link JsonGrammar} and the {@link TokenVocabulary} are shared.
 *
 * <p>The mask walks the vocabulary trie once per step, advancing a copy of the parser state byte by byte and
 * skipping every subtree whose prefix the grammar rejects (a token may close a string, a key and an object at
 * once). Inside a string the plain-content tokens (printable, no quote or backslash, whole UTF-8 characters) are
 * allowed from a precomputed bitset and only the other tokens are walked.
 *
 * <p>Completion stays reachable: with a token budget ({@link #setRemainingTokens}) a token is allowed only if the
 * shortest completion after it fits in the tokens left (every byte is a token of a byte-level vocabulary), so the
 * value is always complete when the budget runs out. Whitespace runs are bounded by the grammar.
 */
public final class JsonSchemaConstraint implements TokenConstraint {
    private final JsonGrammar grammar;
    private final TokenVocabulary vocab;
    private final int[] endTokens;
    private int[] state;
    private int[] scratch;
    private final int[][] snap;
    private final long[] bits;
    private int remaining = Integer.MAX_VALUE;
    private boolean ended;

    /**
     * End tokens when none are given: a value that could go on (a top-level number such as {@code 12}) ends with
     * one of them; a closed value ({@code {...}}) ends by itself.
     */
    static final int[] DEFAULT_END_TOKENS = {SpecialTokens.RETURN, SpecialTokens.END, SpecialTokens.CALL, SpecialTokens.END_OF_TEXT};

    private JsonSchemaConstraint(JsonGrammar grammar, TokenVocabulary vocab, int[] endTokens) {
        this.grammar = grammar;
        this.vocab = vocab;
        for (int t : endTokens) {
            if (!vocab.isSpecial(t)) throw new IllegalArgumentException("end token " + t + " is not a special token of the vocabulary");
        }
        this.endTokens = endTokens.length > 0 ? endTokens.clone()
                : java.util.Arrays.stream(DEFAULT_END_TOKENS).filter(vocab::isSpecial).toArray();
        state = grammar.initialState();
        scratch = grammar.initialState();
        snap = new int[vocab.maxTokenBytes() + 1][state.length];
        bits = new long[(vocab.size() + 63) >>> 6];
        for (int b = 0; b < 256; b++) {
            if (vocab.singleByteToken[b] < 0) throw new IllegalArgumentException("the vocabulary has no token for byte " + b + " (not byte-level)");
        }
    }

    /** A constraint for {@code schema}; generation ends when the value is closed (or by an end token, see {@link #DEFAULT_END_TOKENS}). */
    public static JsonSchemaConstraint compile(JsonNode schema, TokenVocabulary vocab) {
        return new JsonSchemaConstraint(JsonGrammar.compile(schema), vocab, new int[0]);
    }

    /** Any JSON value (OpenAI's {@code response_format: json_object}). */
    public static JsonSchemaConstraint anyJson(TokenVocabulary vocab) {
        return new JsonSchemaConstraint(JsonGrammar.anyJson(), vocab, new int[0]);
    }

    /**
     * A constraint from a compiled (shared) grammar. {@code endTokens} (e.g. Harmony's {@code <|call|>}; by default
     * {@link #DEFAULT_END_TOKENS}) are allowed exactly when the value is complete, and end it.
     */
    public static JsonSchemaConstraint of(JsonGrammar grammar, TokenVocabulary vocab, int... endTokens) {
        return new JsonSchemaConstraint(grammar, vocab, endTokens);
    }

    /** Back to the start (before the value), for reuse by another sequence. */
    public void reset() {
        state = grammar.initialState();
        ended = false;
        remaining = Integer.MAX_VALUE;
    }

    @Override
    public void setRemainingTokens(int remaining) {
        this.remaining = Math.max(1, remaining);
    }

    @Override
    public boolean isComplete() {
        return ended || grammar.canEnd(state);
    }

    @Override
    public boolean isTerminated() {
        return ended || grammar.isTerminated(state);
    }

    /** Fewest bytes that would complete the value now. */
    public int bytesToComplete() {
        return grammar.minClose(state);
    }

    @Override
    public void mask(float[] logits, int offset, int vocab) {
        long[] allowed = allowedTokens();
        if (grammar.canEnd(state) && !ended) {
            for (int e : endTokens) allowed[e >>> 6] |= 1L << e;
        }
        int ordinary = Math.min(vocab, this.vocab.size());
        for (int w = 0; w << 6 < ordinary; w++) {
            long a = allowed[w];
            if (a == -1L) continue;
            int base = w << 6, top = Math.min(base + 64, ordinary);
            if (a == 0) {
                Arrays.fill(logits, offset + base, offset + top, Float.NEGATIVE_INFINITY);
                continue;
            }
            for (int i = base; i < top; i++) if ((a & (1L << i)) == 0) logits[offset + i] = Float.NEGATIVE_INFINITY;
        }
        if (vocab > ordinary) Arrays.fill(logits, offset + ordinary, offset + vocab, Float.NEGATIVE_INFINITY);
    }

    private boolean isEndToken(int t) {
        for (int e : endTokens) if (e == t) return true;
        return false;
    }

    /**
     * The ordinary tokens allowed next, as a bitset over ids (valid until the next call; do not modify). End tokens
     * are not in it: they are allowed exactly when {@link #isComplete()}.
     */
    public long[] allowedTokens() {
        Arrays.fill(bits, 0);
        if (ended || grammar.isTerminated(state)) return bits;
        computeAllowed(true);
        boolean any = false;
        for (long w : bits) any |= w != 0;
        if (!any && !(grammar.canEnd(state) && endTokens.length > 0)) computeAllowed(false); // never an empty mask
        return bits;
    }

    private void computeAllowed(boolean budget) {
        int limit = remaining == Integer.MAX_VALUE ? Integer.MAX_VALUE : remaining - 1;
        boolean check = budget && limit != Integer.MAX_VALUE;
        int here = grammar.minClose(state);
        int room = grammar.plainStringRoom(state);
        boolean minLengthMet = room > 0 && grammar.stringCount(state) >= grammar.stringMinLength(state);
        if (room > 0 && (!check || here <= limit || minLengthMet)) {
            // inside a string: content tokens from bitsets, only the closing suffixes walked
            int k = Math.min(room, vocab.maxPlainChars);
            if (!check || here + 3 <= limit) {
                long[] content = vocab.contentUpTo[k];
                for (int i = 0; i < bits.length; i++) bits[i] |= content[i];
            } else if (here <= limit) {
                // near the end of the budget: a token that leaves a character open owes its missing bytes
                long[] clean = vocab.cleanUpTo[k];
                for (int i = 0; i < bits.length; i++) bits[i] |= clean[i];
                int[] open = vocab.openTailTokens, chars = vocab.openTailChars, owed = vocab.openTailBytes;
                for (int i = 0; i < open.length; i++) {
                    if (chars[i] <= room && here + owed[i] <= limit) bits[open[i] >>> 6] |= 1L << open[i];
                }
            } // else no room for more content: only tokens that close the string can still fit
            walkClosers(room, check, limit);
        } else {
            walk(vocab.all, check, limit);
        }
    }

    private void walkClosers(int room, boolean check, int limit) {
        JsonGrammar g = grammar;
        int[] start = snap[0];
        System.arraycopy(state, 0, start, 0, g.stateLength(state));
        int count = grammar.stringCount(start);
        int minLength = grammar.stringMinLength(start);
        grammar.setStringCount(start, Math.max(count, minLength)); // per-token check below
        TokenVocabulary.Trie t = vocab.closers;
        byte[] label = t.label;
        int[] depth = t.depth, group = t.token, end = t.subtreeEnd;
        int i = 1;
        while (i < t.size) {
            int[] parent = snap[depth[i] - 1], cur = snap[depth[i]];
            System.arraycopy(parent, 0, cur, 0, JsonGrammar.HEADER + JsonGrammar.FRAME * parent[0]);
            if (!g.step(cur, label[i] & 0xFF)) {
                i = end[i];
                continue;
            }
            int gi = group[i];
            if (gi >= 0 && (!check || g.minClose(cur) <= limit)) {
                int[] toks = vocab.closerTokens[gi], pre = vocab.closerPrefixChars[gi];
                for (int k = 0; k < toks.length; k++) {
                    int c = pre[k];
                    if (c <= room && count + c >= minLength) bits[toks[k] >>> 6] |= 1L << toks[k];
                }
            }
            i++;
        }
    }

    private void walk(TokenVocabulary.Trie t, boolean check, int limit) {
        JsonGrammar g = grammar;
        System.arraycopy(state, 0, snap[0], 0, g.stateLength(state));
        byte[] label = t.label;
        int[] depth = t.depth, token = t.token, end = t.subtreeEnd;
        int n = t.size;
        int i = 1;
        while (i < n) {
            int d = depth[i];
            int[] parent = snap[d - 1], cur = snap[d];
            System.arraycopy(parent, 0, cur, 0, JsonGrammar.HEADER + JsonGrammar.FRAME * parent[0]);
            if (!g.step(cur, label[i] & 0xFF)) {
                i = end[i];
                continue;
            }
            int tok = token[i];
            if (tok >= 0 && (!check || g.minClose(cur) <= limit)) bits[tok >>> 6] |= 1L << tok;
            i++;
        }
    }

    @Override
    public void accept(int token) {
        if (token < 0 || token >= vocab.size()) throw new IllegalArgumentException("token " + token + " is outside the vocabulary");
        if (vocab.isSpecial(token)) {
            if (!ended && isEndToken(token) && grammar.canEnd(state)) {
                ended = true;
                return;
            }
            throw new IllegalArgumentException("special token " + token + " is not allowed by the JSON constraint here");
        }
        if (ended) throw new IllegalArgumentException("token " + token + " after the end of the JSON value");
        System.arraycopy(state, 0, scratch, 0, grammar.stateLength(state));
        for (byte b : vocab.bytes(token)) {
            if (!grammar.step(scratch, b & 0xFF)) {
                throw new IllegalArgumentException("token " + token + " does not continue valid JSON for the schema here");
            }
        }
        int[] t = state;
        state = scratch;
        scratch = t;
    }
}
