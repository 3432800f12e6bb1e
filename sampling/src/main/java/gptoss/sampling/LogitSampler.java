package gptoss.sampling;

import gptoss.model.math.IeeeExp;
import gptoss.sampling.constraint.TokenConstraint;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.util.Map;
import java.util.SplittableRandom;

/**
 * The per-sequence sampler of {@link SamplingParams}: keeps the token history for the penalties, the seeded random
 * stream and, optionally, a {@link TokenConstraint}. {@link #sample} modifies the logit row in place (bias,
 * penalties, masks) and allocates nothing: its work arrays are sized once to the vocabulary. Top-k and top-p use
 * partial selection (quickselect-style partitioning), never a full sort of the vocabulary. Not thread-safe: one
 * per sequence.
 */
public final class LogitSampler implements Sampler {
    private final SamplingParams params;
    private final int vocabSize;
    private final TokenConstraint constraint;
    private final SplittableRandom random;
    private final float invTemperature;
    private final int[] biasIds;
    private final float[] biasValues;
    private final boolean penalties;

    private final float[] probs;   // unnormalised softmax weights of the candidates
    private final int[] cand;      // candidate ids; cand[0..n) survive the filters
    private final int[] counts;    // occurrences of each token in the penalty window
    private final int[] seen;      // ids with counts > 0 (and some stale zeros), nSeen of them
    private final boolean[] inSeen;
    private int nSeen;
    private final int[] window;    // ring of the last penaltyWindow tokens, when the window is bounded
    private int windowFill, windowHead;

    LogitSampler(SamplingParams params, int vocabSize, TokenConstraint constraint) {
        if (vocabSize < 1) throw new IllegalArgumentException("vocabSize must be >= 1, got " + vocabSize);
        this.params = params;
        this.vocabSize = vocabSize;
        this.constraint = constraint;
        this.random = new SplittableRandom(params.seed());
        this.invTemperature = params.isGreedy() ? 1f : (float) (1.0 / params.temperature());
        int nb = 0;
        biasIds = new int[params.logitBias().size()];
        biasValues = new float[biasIds.length];
        for (Map.Entry<Integer, Float> e : new java.util.TreeMap<>(params.logitBias()).entrySet()) {
            biasIds[nb] = e.getKey();
            biasValues[nb++] = e.getValue();
        }
        penalties = params.repetitionPenalty() != 1 || params.presencePenalty() != 0 || params.frequencyPenalty() != 0;
        probs = new float[vocabSize];
        cand = new int[vocabSize];
        counts = penalties ? new int[vocabSize] : null;
        seen = penalties ? new int[vocabSize] : null;
        inSeen = penalties ? new boolean[vocabSize] : null;
        window = penalties && params.penaltyWindow() > 0 ? new int[params.penaltyWindow()] : null;
    }

    public SamplingParams params() {
        return params;
    }

    /** The constraint this sampler applies, or null. */
    public TokenConstraint constraint() {
        return constraint;
    }

    @Override
    public int sample(float[] logits, int offset, int vocab) {
        if (vocab > vocabSize) throw new IllegalArgumentException("row of " + vocab + " logits, sampler sized for " + vocabSize);
        for (int i = 0; i < biasIds.length; i++) if (biasIds[i] < vocab) logits[offset + biasIds[i]] += biasValues[i];
        if (penalties) applyPenalties(logits, offset, vocab);
        ReservedTokens.mask(logits, offset, vocab);
        if (constraint != null) constraint.mask(logits, offset, vocab);
        return params.isGreedy() ? argmax(logits, offset, vocab) : draw(logits, offset, vocab);
    }

    /** Records a token of the sequence (for the penalties) and advances the constraint. */
    @Override
    public void accept(int token) {
        if (constraint != null) constraint.accept(token);
        if (!penalties || token < 0 || token >= vocabSize) return;
        if (window != null) {
            if (windowFill == window.length) {
                counts[window[windowHead]]--;
            } else {
                windowFill++;
            }
            window[windowHead] = token;
            windowHead = (windowHead + 1) % window.length;
            if (nSeen > 2 * window.length) compactSeen();
        }
        counts[token]++;
        if (!inSeen[token]) {
            inSeen[token] = true;
            seen[nSeen++] = token;
        }
    }

    private void compactSeen() {
        int n = 0;
        for (int i = 0; i < nSeen; i++) {
            int t = seen[i];
            if (counts[t] > 0) seen[n++] = t;
            else inSeen[t] = false;
        }
        nSeen = n;
    }

    private void applyPenalties(float[] logits, int offset, int vocab) {
        float rp = (float) params.repetitionPenalty();
        float presence = (float) params.presencePenalty();
        float frequency = (float) params.frequencyPenalty();
        for (int i = 0; i < nSeen; i++) {
            int t = seen[i];
            int c = counts[t];
            if (c <= 0 || t >= vocab) continue;
            float l = logits[offset + t];
            if (rp != 1f) l = l > 0 ? l / rp : l * rp;
            l -= presence + frequency * c;
            logits[offset + t] = l;
        }
    }

    private static int argmax(float[] logits, int offset, int vocab) {
        int best = -1;
        float bestValue = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            float v = logits[offset + i];
            if (v > bestValue) {
                best = i;
                bestValue = v;
            }
        }
        if (best < 0) throw new IllegalStateException("every token is masked: nothing can be sampled");
        return best;
    }

    private int draw(float[] logits, int offset, int vocab) {
        FloatVector mv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        int i = 0;
        int upper = F.loopBound(vocab);
        for (; i < upper; i += F.length()) mv = mv.max(FloatVector.fromArray(F, logits, offset + i));
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (; i < vocab; i++) max = Math.max(max, logits[offset + i]);
        if (Float.isNaN(max)) throw new IllegalStateException("the logits contain NaN");
        if (max == Float.NEGATIVE_INFINITY) throw new IllegalStateException("every token is masked: nothing can be sampled");
        if (max == Float.POSITIVE_INFINITY) throw new IllegalStateException("the logits contain +infinity");
        // unnormalised probabilities exp((l - max) / T); masked tokens get exactly 0
        float inv = invTemperature;
        for (i = 0; i < upper; i += F.length()) {
            IeeeExp.exp(FloatVector.fromArray(F, logits, offset + i).sub(max).mul(inv)).intoArray(probs, i);
        }
        for (; i < vocab; i++) probs[i] = IeeeExp.exp((logits[offset + i] - max) * inv);
        // a histogram of the probabilities by their top float bits (monotone in the value): count and mass per bucket
        java.util.Arrays.fill(bucketCount, 0);
        java.util.Arrays.fill(bucketMass, 0);
        for (i = 0; i < vocab; i++) {
            float p = probs[i];
            int b = Float.floatToRawIntBits(p) >>> SHIFT;
            bucketCount[b]++;
            bucketMass[b] += p;
        }
        double total = 0;
        int nonZero = 0;
        for (int b = 1; b < BUCKETS; b++) {
            total += bucketMass[b];
            nonZero += bucketCount[b];
        }
        int n;
        int k = params.topK();
        double topP = params.topP();
        if (k > 0 && k < nonZero) {
            // the bucket holding the k-th most likely token; everything above it is in
            int b = BUCKETS - 1, above = 0;
            while (above + bucketCount[b] < k) above += bucketCount[b--];
            int m = collect(vocab, b);
            selectTop(above, m, k - above);
            n = k;
            if (topP < 1) {
                double kMass = 0;
                for (int j = 0; j < n; j++) kMass += probs[cand[j]];
                n = nucleus(0, n, 0, topP * kMass); // partitions the k survivors itself: no sort first
            }
        } else if (topP < 1) {
            double target = topP * total;
            int b = BUCKETS - 1;
            double kept = 0;
            while (b > 1 && kept + bucketMass[b] < target) kept += bucketMass[b--];
            int above = 0;
            for (int c = b + 1; c < BUCKETS; c++) above += bucketCount[c];
            int m = collect(vocab, b);
            n = nucleus(above, m, kept, target);
        } else {
            n = collect(vocab, 1);
        }
        if (params.minP() > 0) {
            // p_max = exp(0) = 1 after subtracting the maximum, which survives every filter above
            float threshold = (float) params.minP();
            int m = 0;
            for (int j = 0; j < n; j++) if (probs[cand[j]] >= threshold) cand[m++] = cand[j];
            n = m;
        }
        // An exponential race (the Gumbel-max trick): token i wins with probability p_i / sum p, drawn as the
        // smallest E_i / p_i with E_i ~ Exp(1) from a hash of (this draw's key, i). Unlike walking the cumulative
        // distribution, a tiny change of the logits (batched rows agree to ~1e-6, not bit for bit) almost never
        // changes the winner, so a seeded request gives the same tokens alone or batched.
        int key = random.nextInt();
        int best = cand[0];
        float bestKey = Float.POSITIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            int id = cand[j];
            float p = probs[id];
            if (p == 0) continue;
            float race = exponential(key, id) / p;
            if (race < bestKey) {
                bestKey = race;
                best = id;
            }
        }
        return best;
    }

    /** An Exp(1) variate from (key, id): murmur3's finaliser, 24 uniform bits, −ln u (IEEE float ops only). */
    static float exponential(int key, int id) {
        int h = key ^ (id * 0x9E3779B9);
        h ^= h >>> 16;
        h *= 0x85EBCA6B;
        h ^= h >>> 13;
        h *= 0xC2B2AE35;
        h ^= h >>> 16;
        float u = ((h >>> 8) + 0.5f) * 0x1p-24f; // in (0, 1)
        return -ln(u);
    }

    /** ln x for normal positive floats: x = m 2^e, m in [√½, √2), ln m = 2 atanh((m − 1) / (m + 1)) by its series. */
    static float ln(float x) {
        int bits = Float.floatToRawIntBits(x);
        int e = (bits >>> 23) - 127;
        float m = Float.intBitsToFloat((bits & 0x7FFFFF) | 0x3F800000);
        if (m > 1.41421356f) {
            m *= 0.5f;
            e++;
        }
        float s = (m - 1f) / (m + 1f), s2 = s * s;
        float series = 1f + s2 * (1f / 3 + s2 * (1f / 5 + s2 * (1f / 7 + s2 * (1f / 9))));
        return e * 0.693147181f + 2f * s * series;
    }

    private static final jdk.incubator.vector.VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private static final int SHIFT = 20;                 // 1 sign + 8 exponent + 3 mantissa bits
    private static final int BUCKETS = (0x3F800000 >>> SHIFT) + 1; // probabilities are in [0, 1]
    private final int[] bucketCount = new int[BUCKETS];
    private final double[] bucketMass = new double[BUCKETS];

    /**
     * Puts the ids of buckets above {@code b} first in cand, then those of bucket {@code b} (bucket 0, p below
     * 2^-126 or 0, never); returns the count.
     */
    private int collect(int vocab, int b) {
        int lowBits = Math.max(b, 1) << SHIFT, highBits = (b + 1) << SHIFT;
        int n = 0;
        for (int i = 0; i < vocab; i++) if (Float.floatToRawIntBits(probs[i]) >= highBits) cand[n++] = i;
        for (int i = 0; i < vocab; i++) {
            int bits = Float.floatToRawIntBits(probs[i]);
            if (bits >= lowBits && bits < highBits) cand[n++] = i;
        }
        return n;
    }

    /** Higher probability first; equal probabilities by lower id (a deterministic total order). */
    private boolean before(int a, int b) {
        float pa = probs[a], pb = probs[b];
        return pa > pb || (pa == pb && a < b);
    }

    /** Rearranges cand[lo..hi) so that its k best (by {@link #before}) come first (Hoare quickselect). */
    private void selectTop(int lo, int hi, int k) {
        int target = lo + k; // cand[lo..target) must hold the best
        while (hi - lo > 1) {
            int pivot = medianOfThree(cand[lo], cand[(lo + hi) >>> 1], cand[hi - 1]);
            int i = lo, j = hi - 1;
            while (i <= j) {
                while (before(cand[i], pivot)) i++;
                while (before(pivot, cand[j])) j--;
                if (i <= j) {
                    int t = cand[i];
                    cand[i++] = cand[j];
                    cand[j--] = t;
                }
            }
            // cand[lo..j] ≤-side (better or equal), cand[i..hi) worse or equal
            if (target <= j + 1) hi = j + 1;
            else if (target >= i) lo = i;
            else return;
        }
    }

    private int medianOfThree(int a, int b, int c) {
        if (before(a, b)) {
            if (before(b, c)) return b;
            return before(a, c) ? c : a;
        }
        if (before(a, c)) return a;
        return before(b, c) ? c : b;
    }

    /**
     * With cand[0..lo) already in (mass {@code kept}), extends the prefix through the most likely of cand[lo..hi)
     * until the mass reaches {@code target}; returns its end. Repeated partitioning: only the part that straddles
     * the threshold is ever split further, nothing is fully sorted.
     */
    private int nucleus(int lo, int hi, double kept, double target) {
        if (kept >= target) return Math.max(lo, 1);
        while (hi - lo > 32) {
            int pivot = medianOfThree(cand[lo], cand[(lo + hi) >>> 1], cand[hi - 1]);
            float pp = probs[pivot];
            // three-way: [lo, gt) > pivot, [gt, eq) == pivot, [eq, hi) < pivot
            int gt = lo, eq = lo, i = lo, lt = hi;
            double massGt = 0, massEq = 0;
            while (i < lt) {
                int c = cand[i];
                float p = probs[c];
                if (p > pp) {
                    cand[i] = cand[eq];
                    cand[eq] = cand[gt];
                    cand[gt] = c;
                    gt++;
                    eq++;
                    i++;
                    massGt += p;
                } else if (p == pp) {
                    cand[i] = cand[eq];
                    cand[eq] = c;
                    eq++;
                    i++;
                    massEq += p;
                } else {
                    lt--;
                    cand[i] = cand[lt];
                    cand[lt] = c;
                }
            }
            if (kept + massGt >= target) {
                hi = gt;
            } else if (kept + massGt + massEq >= target) {
                kept += massGt;
                int m = gt;
                sortRange(gt, eq); // equal probabilities: lower ids first
                while (m < eq && kept < target) kept += probs[cand[m++]];
                return m;
            } else {
                kept += massGt + massEq;
                lo = eq;
            }
        }
        sortRange(lo, hi);
        int m = lo;
        while (m < hi && kept < target) kept += probs[cand[m++]];
        return Math.max(m, 1);
    }

    /** Insertion sort of cand[lo..hi) by {@link #before}; only for small or equal-valued ranges. */
    private void sortRange(int lo, int hi) {
        if (hi - lo > 64) {
            selectSort(lo, hi);
            return;
        }
        for (int i = lo + 1; i < hi; i++) {
            int c = cand[i];
            int j = i - 1;
            while (j >= lo && before(c, cand[j])) {
                cand[j + 1] = cand[j];
                j--;
            }
            cand[j + 1] = c;
        }
    }

    /** A large range of equal values is already ordered if sorted by id; a heap-free fallback: repeated selection. */
    private void selectSort(int lo, int hi) {
        // equal probabilities: order by id with an in-place LSD-free approach (shell sort, no allocation)
        int n = hi - lo;
        int gap = 1;
        while (gap < n / 3) gap = 3 * gap + 1;
        for (; gap >= 1; gap /= 3) {
            for (int i = lo + gap; i < hi; i++) {
                int c = cand[i];
                int j = i;
                while (j - gap >= lo && before(c, cand[j - gap])) {
                    cand[j] = cand[j - gap];
                    j -= gap;
                }
                cand[j] = c;
            }
        }
    }
}
