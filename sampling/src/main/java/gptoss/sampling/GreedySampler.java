package gptoss.sampling;

/** The highest logit; ties go to the lower id (as {@code argmax} does). */
public final class GreedySampler implements Sampler {
    @Override
    public int sample(float[] logits, int offset, int vocab) {
        int best = 0;
        float bestValue = logits[offset];
        for (int i = 1; i < vocab; i++) {
            float v = logits[offset + i];
            if (v > bestValue) {
                best = i;
                bestValue = v;
            }
        }
        return best;
    }
}
