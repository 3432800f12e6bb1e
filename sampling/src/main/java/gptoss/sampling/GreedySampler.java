package gptoss.sampling;

import gptoss.model.tokenizer.SpecialTokens;

/** The highest logit; ties go to the lower id (as {@code argmax} does); reserved ids are never chosen. */
public final class GreedySampler implements Sampler {
    @Override
    public int sample(float[] logits, int offset, int vocab) {
        int best = -1;
        float bestValue = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            float v = logits[offset + i];
            if (v > bestValue || best < 0) {
                if (i >= SpecialTokens.FIRST_ID && ReservedTokens.isReserved(i)) continue;
                best = i;
                bestValue = v;
            }
        }
        return best;
    }
}
