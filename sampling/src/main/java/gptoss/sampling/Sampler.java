package gptoss.sampling;

/** Picks the next token from a row of logits. */
public interface Sampler {

    /** The chosen token id from {@code logits[offset .. offset + vocab)} (the row may be modified in place). */
    int sample(float[] logits, int offset, int vocab);

    /** Tells the sampler which token the sequence took (history for penalties, constraint state). */
    default void accept(int token) {
    }

    /**
     * Greedy when {@code temperature} is 0, else softmax sampling at that temperature with nucleus {@code topP}:
     * {@link SamplingParams} with those fields, sized to the vocabulary on the first call.
     */
    static Sampler of(double temperature, double topP, long seed) {
        if (temperature < 0) throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        return SamplingParams.defaults().withTemperature(temperature).withTopP(topP).withSeed(seed).lazySampler(null);
    }
}
