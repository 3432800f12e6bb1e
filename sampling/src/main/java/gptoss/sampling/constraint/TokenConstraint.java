package gptoss.sampling.constraint;

/**
 * Restricts which tokens may come next (structured output). One instance per sequence: it follows the tokens the
 * sequence takes. Implementations share their immutable compiled tables between sequences.
 */
public interface TokenConstraint {

    /** Sets the logits of the tokens not allowed next to −∞ in {@code logits[offset .. offset + vocab)}. */
    void mask(float[] logits, int offset, int vocab);

    /** Advances past {@code token}; a token the constraint does not allow is an {@link IllegalArgumentException}. */
    void accept(int token);

    /** Whether what was generated so far is a complete value (generation may stop here). */
    boolean isComplete();

    /** Whether the value is complete and nothing but an end token may follow (generation should stop here). */
    default boolean isTerminated() {
        return isComplete();
    }

    /**
     * How many more tokens may still be generated, the next one included ({@link Integer#MAX_VALUE} = unknown).
     * A constraint that supports it keeps completion reachable within that budget: near the end it allows only
     * tokens that leave room to close the value.
     */
    default void setRemainingTokens(int remaining) {
    }
}
