package gptoss.runtime.ops;

/**
 * Router decision (spec §2.3.3): the k largest router logits in descending order, then a softmax over those k
 * only. Ties keep the lower expert id first.
 */
public final class TopKRouting {
    private TopKRouting() {
    }

    /**
     * Picks the top {@code k} of {@code logits[offset .. offset+n)} into {@code experts[outOffset..]} (descending
     * logit order) and their softmax weights into {@code weights[outOffset..]}.
     */
    public static void select(float[] logits, int offset, int n, int k, int[] experts, float[] weights, int outOffset) {
        for (int slot = 0; slot < k; slot++) {
            int best = -1;
            float bestValue = Float.NEGATIVE_INFINITY;
            for (int e = 0; e < n; e++) {
                float v = logits[offset + e];
                if ((best < 0 || v > bestValue) && !taken(experts, outOffset, slot, e)) {
                    best = e;
                    bestValue = v;
                }
            }
            experts[outOffset + slot] = best;
        }
        float max = logits[offset + experts[outOffset]];
        float sum = 0f;
        for (int slot = 0; slot < k; slot++) {
            float w = (float) Math.exp(logits[offset + experts[outOffset + slot]] - max);
            weights[outOffset + slot] = w;
            sum += w;
        }
        for (int slot = 0; slot < k; slot++) weights[outOffset + slot] /= sum;
    }

    private static boolean taken(int[] experts, int offset, int count, int e) {
        for (int i = 0; i < count; i++) if (experts[offset + i] == e) return true;
        return false;
    }
}
