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
            float w = exp(logits[offset + experts[outOffset + slot]] - max);
            weights[outOffset + slot] = w;
            sum += w;
        }
        for (int slot = 0; slot < k; slot++) weights[outOffset + slot] /= sum;
    }

    /**
     * {@code e^d} for {@code d ≤ 0} within about an ulp, in float operations a GPU kernel can repeat exactly (the
     * TornadoVM backend's device-side routing does: same weights bit for bit): {@code d = n·ln2 + r} (Cody-Waite,
     * fused multiply-adds), {@code e^r} by its Taylor series to r⁷ (|r| ≤ ln2/2), times 2^n.
     */
    public static float exp(float d) {
        float n = (float) Math.floor(Math.fma(d, 1.44269504f, 0.5f));
        if (n < -126f) return 0f;
        float r = Math.fma(n, -0.693145751953125f, d);
        r = Math.fma(n, -1.42860677e-6f, r);
        float p = Math.fma(r, 1f / 5040f, 1f / 720f);
        p = Math.fma(p, r, 1f / 120f);
        p = Math.fma(p, r, 1f / 24f);
        p = Math.fma(p, r, 1f / 6f);
        p = Math.fma(p, r, 0.5f);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        return p * Math.scalb(1f, (int) n);
    }

    private static boolean taken(int[] experts, int offset, int count, int e) {
        for (int i = 0; i < count; i++) if (experts[offset + i] == e) return true;
        return false;
    }
}
