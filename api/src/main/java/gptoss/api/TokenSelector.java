package gptoss.api;

import gptoss.sampling.Sampler;
import gptoss.sampling.LogitSampler;
import gptoss.sampling.constraint.TokenConstraint;

/**
 * How one sequence picks its next token from a row of logits. Each request gets its own selector, so a sampler's
 * random state, its penalty history and a constraint's parse state never leak between requests. This is the one
 * place where sampling plugs into generation: {@link Sampling#selector} builds it from a request's settings.
 */
public interface TokenSelector {

    /** The chosen token id from {@code logits[offset .. offset + vocab)} (the selector may modify that row, e.g. mask it). */
    int select(float[] logits, int offset, int vocab);

    /** Called with every token chosen for this sequence, after {@link #select}; a constraint advances its state here. */
    default void accept(int token) {
    }

    /**
     * Called before each {@link #select} with how many tokens may still be generated, that one included; a
     * constraint uses it to keep its value completable within the budget.
     */
    default void setRemainingTokens(int remaining) {
    }

    /** Whether the output is complete and nothing may follow (a closed JSON value with no end token): stop now. */
    default boolean isTerminated() {
        return false;
    }

    /** A sampler (with its constraint, when it is a constrained {@link LogitSampler}) as a selector. */
    static TokenSelector of(Sampler sampler) {
        return of(sampler, sampler instanceof LogitSampler ls ? ls.constraint() : null);
    }

    /** A sampler as a selector, with the constraint it applies (or null) for the budget and the end. */
    static TokenSelector of(Sampler sampler, TokenConstraint constraint) {
        return new TokenSelector() {
            @Override
            public int select(float[] logits, int offset, int vocab) {
                return sampler.sample(logits, offset, vocab);
            }

            @Override
            public void accept(int token) {
                sampler.accept(token);
            }

            @Override
            public void setRemainingTokens(int remaining) {
                if (constraint != null) constraint.setRemainingTokens(remaining);
            }

            @Override
            public boolean isTerminated() {
                return constraint != null && constraint.isTerminated();
            }
        };
    }
}
