package gptoss.runtime.cpu;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.config.ModelConfig;
import gptoss.model.synth.SyntheticCheckpoint;
import gptoss.runtime.engine.Engine;
import gptoss.runtime.engine.ForwardListener;
import gptoss.runtime.engine.Placement;
import gptoss.runtime.engine.Sequence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The vector backend against the scalar reference on a synthetic checkpoint with gpt-oss-20b layer shapes
 * (H 2880, 64 query heads, 8 KV heads of 64, experts of width 2880; two layers, sliding then full; 8 experts,
 * top-4; a small vocabulary and a sliding window of 8 so a few tokens wrap the ring): logits within 1e-3 and
 * the same router choices, for a prefill chunk (matrix-matrix kernels), single-token decoding (matrix-vector
 * kernels) and a batched decoding step of two sequences.
 */
class CpuBackendTest {
    @TempDir
    static Path dir;
    static Checkpoint checkpoint;
    static WorkerPool pool;

    static ModelConfig realShapes() {
        ModelConfig b = ModelConfig.gptOss20b();
        return new ModelConfig(2, b.hiddenSize(), b.numHeads(), b.numKvHeads(), b.headDim(), 8, 4, b.intermediateSize(),
                512, 8, ModelConfig.alternating(2), b.ropeTheta(), b.ropeScalingFactor(), b.ropeBetaFast(), b.ropeBetaSlow(),
                b.ropeOriginalContext(), b.ropeTruncate(), b.maxContext(), b.swigluLimit(), b.swigluAlpha(), b.rmsNormEps(), -1);
    }

    @BeforeAll
    static void writeCheckpoint() throws IOException {
        SyntheticCheckpoint.write(dir, realShapes(), 5, SyntheticCheckpoint.Layout.HUGGING_FACE, 1, false, null);
        checkpoint = Checkpoint.open(dir);
        pool = new WorkerPool(2);
    }

    @AfterAll
    static void close() {
        pool.close();
        checkpoint.close();
    }

    /** Router top-k ids in call order. */
    static final class Routes implements ForwardListener {
        final List<Integer> ids = new ArrayList<>();

        @Override
        public void onRouting(int layer, int sequence, int position, int token, int[] experts, float[] weights, float[] routerLogits) {
            for (int e : experts) ids.add(e);
        }
    }

    static float maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        float m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    @Test
    void vectorBackendMatchesScalarReference() {
        ModelConfig c = checkpoint.config();
        Engine fast = new Engine(c, checkpoint.weights(), Placement.single(new CpuBackend(c, checkpoint.weights(), pool), c), 64, 64);
        Engine reference = new Engine(c, checkpoint.weights(), Placement.single(new ScalarReferenceBackend(c, checkpoint.weights()), c), 64, 64);
        Routes fastRoutes = new Routes(), referenceRoutes = new Routes();
        fast.addListener(fastRoutes);
        reference.addListener(referenceRoutes);

        int[] prompt = {17, 300, 5, 511, 42, 99};
        Sequence a = fast.newSequence(), ra = reference.newSequence();
        float diff = maxAbsDiff(fast.forward(a, prompt, true), reference.forward(ra, prompt, true));
        assertTrue(diff <= 1e-3, "prefill logits differ by " + diff);

        int[] next = {7};
        for (int step = 0; step < 4; step++) {
            diff = maxAbsDiff(fast.forward(a, next, false), reference.forward(ra, next, false));
            assertTrue(diff <= 1e-3, "decode step " + step + ": logits differ by " + diff);
            next[0] = (next[0] * 31 + 3) % c.vocabSize();
        }

        Sequence b = fast.newSequence(), rb = reference.newSequence();
        fast.forward(b, new int[]{1, 2}, false);
        reference.forward(rb, new int[]{1, 2}, false);
        diff = maxAbsDiff(fast.decode(new Sequence[]{a, b}, new int[]{8, 9}), reference.decode(new Sequence[]{ra, rb}, new int[]{8, 9}));
        assertTrue(diff <= 1e-3, "batched decode logits differ by " + diff);

        assertEquals(referenceRoutes.ids, fastRoutes.ids, "router choices");
        assertTrue(fastRoutes.ids.size() == (6 + 4 + 2 + 2) * 2 * 4);
    }

    /**
     * A layer's experts in one {@link CpuBackend#experts} call (one dispatch for all gate/up products, one for all
     * down products) give the bits of one {@link CpuBackend#expert} call each, on another thread count, for groups
     * of 1..15 rows (the single-row, small-batch and GEMM paths, native or Java); a group of 16 rows is declined.
     */
    @Test
    void aLayersExpertsInOneCallGiveTheBitsOfOneCallEach() {
        ModelConfig c = checkpoint.config();
        int H = c.hiddenSize(), T = 24;
        SplittableRandom random = new SplittableRandom(12);
        float[] normed = new float[T * H];
        for (int i = 0; i < normed.length; i++) normed[i] = (float) (random.nextDouble() * 4 - 2);
        int[] experts = {0, 1, 2, 4, 5, 6, 7}, counts = {1, 2, 3, 15, 8, 1, 5};
        int n = experts.length;
        int[] rowStart = new int[n + 1];
        for (int j = 0; j < n; j++) rowStart[j + 1] = rowStart[j] + counts[j];
        int[] rows = new int[rowStart[n]];
        for (int j = 0; j < n; j++) {
            int at = rowStart[j];
            for (int t = 0; t < T && at < rowStart[j + 1]; t++) {
                if (random.nextInt(T - t) < rowStart[j + 1] - at) rows[at++] = t; // counts[j] distinct rows, in order
            }
        }
        try (WorkerPool one = new WorkerPool(1)) {
            CpuBackend together = new CpuBackend(c, checkpoint.weights(), pool), apart = new CpuBackend(c, checkpoint.weights(), one);
            for (int layer = 0; layer < c.numLayers(); layer++) {
                float[] got = new float[rowStart[n] * H];
                assertTrue(together.experts(layer, n, experts, rowStart, rows, normed, got));
                for (int j = 0; j < n; j++) {
                    float[] expected = new float[counts[j] * H];
                    apart.expert(layer, experts[j], Arrays.copyOfRange(rows, rowStart[j], rowStart[j + 1]), counts[j], normed, expected);
                    for (int i = 0; i < expected.length; i++) {
                        assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(got[rowStart[j] * H + i]),
                                "layer " + layer + ", expert " + experts[j] + " with " + counts[j] + " rows, row " + i / H + " output " + i % H);
                    }
                }
            }
            int[] sixteen = new int[16];
            for (int t = 0; t < 16; t++) sixteen[t] = t;
            assertFalse(together.experts(0, 1, new int[]{3}, new int[]{0, 16}, sixteen, normed, new float[16 * H]), "16 rows go through expert()");
        }
    }

    /**
     * Token-by-token decoding on the 20b layer shapes (q/k/v 5120x2880 and out 2880x4096 in claims of whole passes,
     * experts' rows in units of 16, guided claims that shrink at the end) gives the same bits with 1, 2 and 3
     * threads: where a row runs, and in which claim, never changes its sum.
     */
    @Test
    void decodeLogitsDoNotDependOnThreadsOrClaims() {
        ModelConfig c = checkpoint.config();
        int[] tokens = new SplittableRandom(17).ints(4, 0, c.vocabSize()).toArray();
        float[][] reference = null;
        for (int threads = 1; threads <= 3; threads++) {
            try (WorkerPool p = new WorkerPool(threads)) {
                Engine engine = new Engine(c, checkpoint.weights(), Placement.single(new CpuBackend(c, checkpoint.weights(), p), c), 16, 1);
                float[][] logits = new float[tokens.length][];
                try (Sequence s = engine.newSequence()) {
                    for (int t = 0; t < tokens.length; t++) logits[t] = engine.forward(s, new int[]{tokens[t]}, false).clone();
                }
                if (reference == null) {
                    reference = logits;
                    continue;
                }
                for (int t = 0; t < tokens.length; t++) {
                    for (int v = 0; v < c.vocabSize(); v++) {
                        assertEquals(Float.floatToRawIntBits(reference[t][v]), Float.floatToRawIntBits(logits[t][v]),
                                threads + " threads, token " + t + ", logit " + v + ": " + logits[t][v] + " vs " + reference[t][v] + " with 1 thread");
                    }
                }
            }
        }
    }
}
