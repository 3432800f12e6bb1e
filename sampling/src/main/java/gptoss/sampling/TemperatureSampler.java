package gptoss.sampling;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Samples from {@code softmax(logits / T)}, restricted to the smallest set of most likely tokens whose
 * probabilities sum to at least {@code topP} (nucleus sampling). Seeded, so runs are repeatable.
 */
public final class TemperatureSampler implements Sampler {
    private final double temperature;
    private final double topP;
    private final SplittableRandom random;
    private double[] probabilities = new double[0];
    private Integer[] order = new Integer[0];

    public TemperatureSampler(double temperature, double topP, long seed) {
        if (!(temperature > 0)) throw new IllegalArgumentException("temperature must be > 0");
        this.temperature = temperature;
        this.topP = topP;
        this.random = new SplittableRandom(seed);
    }

    @Override
    public int sample(float[] logits, int offset, int vocab) {
        if (probabilities.length < vocab) probabilities = new double[vocab];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) max = Math.max(max, logits[offset + i]);
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            double p = Math.exp((logits[offset + i] - max) / temperature);
            probabilities[i] = p;
            sum += p;
        }
        for (int i = 0; i < vocab; i++) probabilities[i] /= sum;
        if (topP >= 1.0) return draw(vocab);
        if (order.length < vocab) {
            order = new Integer[vocab];
        }
        for (int i = 0; i < vocab; i++) order[i] = i;
        Arrays.sort(order, 0, vocab, (a, b) -> Double.compare(probabilities[b], probabilities[a]));
        double mass = 0;
        int keep = 0;
        while (keep < vocab && mass < topP) mass += probabilities[order[keep++]];
        double r = random.nextDouble() * mass;
        for (int i = 0; i < keep; i++) {
            r -= probabilities[order[i]];
            if (r < 0) return order[i];
        }
        return order[keep - 1];
    }

    private int draw(int vocab) {
        double r = random.nextDouble();
        for (int i = 0; i < vocab; i++) {
            r -= probabilities[i];
            if (r < 0) return i;
        }
        return vocab - 1;
    }
}
