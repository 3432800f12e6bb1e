package gptoss.sampling;

import gptoss.sampling.constraint.TokenConstraint;
import gptoss.sampling.constraint.TokenVocabulary;

/**
 * One sequence's token loop minus the model: picks each next token from its logits (sampler, constraint with the
 * remaining budget), records it, and says when to stop and why. The engine-driving loop only feeds logits:
 * <pre>{@code
 * SequenceDecoder d = new SequenceDecoder(sampler, rules, vocabulary);
 * do { token = d.next(logits, 0, V); ... forward(token) ... } while (d.stopReason() == null);
 * }</pre>
 * Not thread-safe: one per sequence.
 */
public final class SequenceDecoder {
    private final Sampler sampler;
    private final TokenConstraint constraint;
    private final StopRules rules;
    private final StopRules.Matcher matcher;
    private int generated;
    private StopReason reason;

    /** {@code vocabulary} gives token bytes for stop strings (null when there are none). */
    public SequenceDecoder(Sampler sampler, StopRules rules, TokenVocabulary vocabulary) {
        this.sampler = sampler;
        this.rules = rules;
        this.constraint = sampler instanceof LogitSampler ls ? ls.constraint() : null;
        this.matcher = rules.newMatcher(vocabulary);
        if (rules.maxTokens() == 0) reason = StopReason.MAX_TOKENS;
    }

    /** Samples and records the next token from {@code logits[offset .. offset + vocab)} (modified in place). */
    public int next(float[] logits, int offset, int vocab) {
        if (reason != null) throw new IllegalStateException("the sequence has stopped (" + reason + ")");
        if (constraint != null) constraint.setRemainingTokens(rules.maxTokens() - generated);
        int token = sampler.sample(logits, offset, vocab);
        sampler.accept(token);
        generated++;
        reason = matcher.accept(token);
        if (reason == null && constraint != null && constraint.isTerminated()) reason = StopReason.CONSTRAINT_COMPLETE;
        return token;
    }

    /** Why the sequence stopped after the last token, or null while it goes on. */
    public StopReason stopReason() {
        return reason;
    }

    /** Ends the sequence from outside (cancellation, a full context). */
    public void stop(StopReason why) {
        if (reason == null) reason = why;
    }

    public int generated() {
        return generated;
    }

    /** Stop-string details (which string, where it starts in the output bytes). */
    public StopRules.Matcher matcher() {
        return matcher;
    }
}
