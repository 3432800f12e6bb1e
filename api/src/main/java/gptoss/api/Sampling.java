package gptoss.api;

import gptoss.sampling.Sampler;

/**
 * Builds a request's {@link TokenSelector} from its {@link GenerationParams}: the single hook point for the
 * sampling module. Today: {@code Sampler.of(temperature, topP, seed)}. When {@code gptoss.sampling.SamplingParams}
 * and {@code TokenConstraint} land, this is where a per-sequence sampler and the constraint (a JSON schema for
 * {@code response_format}, the forced function's parameters after {@code <|constrain|>json<|message|>}) are
 * combined: mask with the constraint, sample, then {@code accept} on both.
 */
public final class Sampling {
    private Sampling() {
    }

    /** A fresh selector for one sequence. {@code params.constraint()} is carried but not enforced yet (see class doc). */
    public static TokenSelector selector(GenerationParams params) {
        long seed = params.seed() != null ? params.seed() : System.nanoTime();
        return TokenSelector.of(Sampler.of(params.temperature(), params.topP(), seed));
    }
}
