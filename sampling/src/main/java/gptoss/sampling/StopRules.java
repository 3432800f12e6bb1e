package gptoss.sampling;

import gptoss.sampling.constraint.TokenVocabulary;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

/**
 * When to stop: stop tokens (Harmony's {@code <|return|>}, {@code <|call|>}, an EOS), stop strings that may span
 * tokens, and a token limit. Immutable; {@link #newMatcher} gives the per-sequence state.
 *
 * @param maxTokens   most tokens to generate (≥ 0)
 * @param stopTokens  ids that end generation (the id is kept as the last token)
 * @param stopStrings texts that end generation as soon as the output contains one (OpenAI's {@code stop})
 */
public record StopRules(int maxTokens, Set<Integer> stopTokens, List<String> stopStrings) {
    public StopRules {
        if (maxTokens < 0) throw new IllegalArgumentException("maxTokens must be >= 0, got " + maxTokens);
        stopTokens = Set.copyOf(stopTokens);
        stopStrings = List.copyOf(stopStrings);
        for (String s : stopStrings) if (s.isEmpty()) throw new IllegalArgumentException("stop strings must not be empty");
    }

    public static StopRules of(int maxTokens, Set<Integer> stopTokens) {
        return new StopRules(maxTokens, stopTokens, List.of());
    }

    public StopRules withStopStrings(List<String> strings) {
        return new StopRules(maxTokens, stopTokens, strings);
    }

    /** Per-sequence matching state; {@code vocabulary} gives token bytes (needed only with stop strings). */
    public Matcher newMatcher(TokenVocabulary vocabulary) {
        if (!stopStrings.isEmpty() && vocabulary == null) throw new IllegalArgumentException("stop strings need the token vocabulary");
        return new Matcher(vocabulary);
    }

    /** Follows one sequence's tokens; not thread-safe. */
    public final class Matcher {
        private final TokenVocabulary vocabulary;
        private final byte[][] stops;
        private final byte[] tail;    // the last tail.length output bytes, oldest first (a sliding window)
        private int tailLength;
        private long bytes;           // output bytes so far
        private int tokens;
        private StopReason reason;
        private String matched;
        private long matchOffset = -1;

        private Matcher(TokenVocabulary vocabulary) {
            this.vocabulary = vocabulary;
            stops = new byte[stopStrings.size()][];
            int longest = 0;
            for (int i = 0; i < stops.length; i++) {
                stops[i] = stopStrings.get(i).getBytes(StandardCharsets.UTF_8);
                longest = Math.max(longest, stops[i].length);
            }
            tail = new byte[Math.max(0, longest - 1) + (vocabulary == null ? 0 : vocabulary.maxTokenBytes())];
        }

        /** Takes the next generated token; the reason to stop after it, or null to go on. */
        public StopReason accept(int token) {
            if (reason != null) return reason;
            tokens++;
            if (stopTokens.contains(token)) return reason = StopReason.STOP_TOKEN;
            if (stops.length > 0 && !vocabulary.isSpecial(token)) {
                byte[] b = vocabulary.bytes(token);
                appendAndMatch(b);
                if (reason != null) return reason;
            }
            if (tokens >= maxTokens) return reason = StopReason.MAX_TOKENS;
            return null;
        }

        private void appendAndMatch(byte[] b) {
            int keep = Math.min(tailLength, tail.length - b.length);
            System.arraycopy(tail, tailLength - keep, tail, 0, keep);
            System.arraycopy(b, 0, tail, keep, b.length);
            tailLength = keep + b.length;
            long tailStart = bytes + b.length - tailLength; // output offset of tail[0]
            bytes += b.length;
            // the earliest stop string occurrence that ends inside the new bytes
            long best = Long.MAX_VALUE;
            for (int s = 0; s < stops.length; s++) {
                byte[] stop = stops[s];
                int from = Math.max(0, tailLength - b.length - stop.length + 1);
                for (int i = from; i + stop.length <= tailLength; i++) {
                    if (regionEquals(tail, i, stop) && tailStart + i < best) {
                        best = tailStart + i;
                        matched = stopStrings.get(s);
                        break;
                    }
                }
            }
            if (best != Long.MAX_VALUE) {
                matchOffset = best;
                reason = StopReason.STOP_STRING;
            }
        }

        private static boolean regionEquals(byte[] a, int at, byte[] b) {
            for (int i = 0; i < b.length; i++) if (a[at + i] != b[i]) return false;
            return true;
        }

        /** The reason once stopped, else null. */
        public StopReason reason() {
            return reason;
        }

        /** The stop string that matched, or null. */
        public String matchedStopString() {
            return matched;
        }

        /**
         * Where the matched stop string starts in the generated bytes (special tokens count no bytes), or -1: the
         * output text is the generated bytes cut there (OpenAI leaves the stop string out).
         */
        public long stopStringByteOffset() {
            return matchOffset;
        }
    }
}
