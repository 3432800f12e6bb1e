package gptoss.sampling;

/** Picks the next token from a row of logits. */
public interface Sampler {

    /** The chosen token id from {@code logits[offset .. offset + vocab)}. */
    int sample(float[] logits, int offset, int vocab);

    /** Greedy when {@code temperature} is 0, else softmax sampling at that temperature with nucleus {@code topP}. */
    static Sampler of(double temperature, double topP, long seed) {
        if (temperature < 0) throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        return temperature == 0 ? new GreedySampler() : new TemperatureSampler(temperature, topP, seed);
    }
}
