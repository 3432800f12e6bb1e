package gptoss.api;

import gptoss.sampling.Sampler;

/**
 * How one sequence picks its next token from a row of logits. Each request gets its own selector, so a sampler's
 * random state and a constraint's parse state never leak between requests. This is the one place where sampling
 * plugs into generation: {@link Sampling#selector} builds it from a request's settings.
 */
public interface TokenSelector {

    /** The chosen token id from {@code logits[offset .. offset + vocab)} (the selector may modify that row, e.g. mask it). */
    int select(float[] logits, int offset, int vocab);

    /** Called with every token chosen for this sequence, after {@link #select}; a constraint advances its state here. */
    default void accept(int token) {
    }

    /** A plain sampler, stateless between tokens apart from its random generator. */
    static TokenSelector of(Sampler sampler) {
        return sampler::sample;
    }
}
