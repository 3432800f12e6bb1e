package gptoss.runtime.cpu;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.config.ModelConfig;
import gptoss.model.synth.SyntheticCheckpoint;
import gptoss.runtime.backend.KvCache;
import gptoss.runtime.backend.TokenBatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The backend's attention (cache writes, the work split over the pool, the kernel) gives the same bits for a
 * position whether it comes alone (decoding), in a prompt chunk of any size or in a batch with another sequence:
 * random queries, keys and values of gpt-oss attention shapes (heads of 64, GQA groups of 8, window 128 on the even
 * layer), 300 positions so the window and the sliding layer's ring (256) are crossed, and a rewound sequence that
 * continues. (The projections around it are the matrix kernels' own tests' business.)
 */
class AttentionChunkingTest {
    @TempDir
    static Path dir;
    static Checkpoint checkpoint;
    static WorkerPool pool;
    static final int N = 300;

    @BeforeAll
    static void writeCheckpoint() throws IOException {
        ModelConfig b = ModelConfig.gptOss20b();
        ModelConfig c = new ModelConfig(2, 256, 16, 2, 64, 4, 2, 256, 64, 128, ModelConfig.alternating(2),
                b.ropeTheta(), b.ropeScalingFactor(), b.ropeBetaFast(), b.ropeBetaSlow(), b.ropeOriginalContext(),
                b.ropeTruncate(), b.maxContext(), b.swigluLimit(), b.swigluAlpha(), b.rmsNormEps(), -1);
        SyntheticCheckpoint.write(dir, c, 9, SyntheticCheckpoint.Layout.HUGGING_FACE, 1, false, null);
        checkpoint = Checkpoint.open(dir);
        pool = new WorkerPool(2);
    }

    @AfterAll
    static void close() {
        pool.close();
        checkpoint.close();
    }

    /** Random q [N][Q], k and v [N][KV], one array each; {@link #output} holds [N][Q]. */
    record Rows(float[] q, float[] k, float[] v) {
        static Rows random(ModelConfig c, long seed) {
            SplittableRandom random = new SplittableRandom(seed);
            return new Rows(gaussian(N * c.qDim(), random, 3), gaussian(N * c.kvDim(), random, 1), gaussian(N * c.kvDim(), random, 1));
        }

        static float[] gaussian(int n, SplittableRandom random, float scale) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) x[i] = scale * (float) random.nextGaussian();
            return x;
        }
    }

    /**
     * Attention of positions [from, to) of {@code rows} over {@code cache} in chunks of {@code chunk}, into
     * {@code out} [N][Q].
     */
    static void run(CpuBackend backend, int layer, KvCache cache, Rows rows, int from, int to, int chunk, float[] out) {
        ModelConfig c = checkpoint.config();
        int Q = c.qDim(), KV = c.kvDim();
        for (int first = from; first < to; first += chunk) {
            int n = Math.min(chunk, to - first);
            int[] positions = new int[n];
            KvCache[] caches = new KvCache[n];
            for (int t = 0; t < n; t++) {
                positions[t] = first + t;
                caches[t] = cache;
            }
            float[] o = new float[n * Q];
            backend.attend(layer, new TokenBatch(new int[n], positions, caches), Arrays.copyOfRange(rows.q, first * Q, (first + n) * Q),
                    Arrays.copyOfRange(rows.k, first * KV, (first + n) * KV), Arrays.copyOfRange(rows.v, first * KV, (first + n) * KV), o);
            System.arraycopy(o, 0, out, first * Q, n * Q);
        }
    }

    static void assertBitsEqual(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                throw new AssertionError(what + ": element " + i + " (position " + i / checkpoint.config().qDim() + ") is "
                        + actual[i] + ", decoding gives " + expected[i]);
            }
        }
    }

    @Test
    void chunksOfAnySizeGiveTheBitsOfDecoding() {
        ModelConfig c = checkpoint.config();
        CpuBackend backend = new CpuBackend(c, checkpoint.weights(), pool);
        Rows rows = Rows.random(c, 5);
        for (int layer = 0; layer < 2; layer++) {
            float[] decoded = new float[N * c.qDim()];
            run(backend, layer, backend.newKvCache(1024), rows, 0, N, 1, decoded);
            for (int chunk : new int[]{3, 64, 200, N}) {
                float[] chunked = new float[N * c.qDim()];
                run(backend, layer, backend.newKvCache(1024), rows, 0, N, chunk, chunked);
                assertBitsEqual(decoded, chunked, (c.isSliding(layer) ? "sliding" : "full") + " layer, chunks of " + chunk);
            }
        }
    }

    @Test
    void aBatchOfTwoSequencesGivesTheBitsOfEachAlone() {
        ModelConfig c = checkpoint.config();
        int Q = c.qDim(), KV = c.kvDim();
        CpuBackend backend = new CpuBackend(c, checkpoint.weights(), pool);
        Rows rows = Rows.random(c, 6), other = Rows.random(c, 7);
        for (int layer = 0; layer < 2; layer++) {
            float[] alone = new float[N * Q], otherAlone = new float[N * Q];
            run(backend, layer, backend.newKvCache(1024), rows, 0, N, 1, alone);
            run(backend, layer, backend.newKvCache(1024), other, 0, N, 1, otherAlone);
            // Sequence a in chunks of 37 with one decoding step of sequence b riding along in each batch (row 0).
            KvCache a = backend.newKvCache(1024), b = backend.newKvCache(1024);
            float[] aOut = new float[N * Q], bOut = new float[N * Q];
            int steps = 0;
            for (int first = 0; first < N; first += 37, steps++) {
                int n = Math.min(37, N - first) + 1;
                int[] positions = new int[n];
                KvCache[] caches = new KvCache[n];
                float[] q = new float[n * Q], k = new float[n * KV], v = new float[n * KV], o = new float[n * Q];
                positions[0] = steps;
                caches[0] = b;
                System.arraycopy(other.q, steps * Q, q, 0, Q);
                System.arraycopy(other.k, steps * KV, k, 0, KV);
                System.arraycopy(other.v, steps * KV, v, 0, KV);
                for (int t = 1; t < n; t++) {
                    positions[t] = first + t - 1;
                    caches[t] = a;
                }
                System.arraycopy(rows.q, first * Q, q, Q, (n - 1) * Q);
                System.arraycopy(rows.k, first * KV, k, KV, (n - 1) * KV);
                System.arraycopy(rows.v, first * KV, v, KV, (n - 1) * KV);
                backend.attend(layer, new TokenBatch(new int[n], positions, caches), q, k, v, o);
                System.arraycopy(o, 0, bOut, steps * Q, Q);
                System.arraycopy(o, Q, aOut, first * Q, (n - 1) * Q);
            }
            assertBitsEqual(alone, aOut, "layer " + layer + ", sequence a");
            assertBitsEqual(Arrays.copyOf(otherAlone, steps * Q), Arrays.copyOf(bOut, steps * Q), "layer " + layer + ", sequence b");
        }
    }

    @Test
    void aRewoundSequenceContinuesWithTheBitsOfAFreshOne() {
        ModelConfig c = checkpoint.config();
        int cut = 100; // the window before it reaches below N - 256: those positions come back from the eviction ring
        CpuBackend backend = new CpuBackend(c, checkpoint.weights(), pool);
        Rows rows = Rows.random(c, 8), wrong = Rows.random(c, 9);
        for (int layer = 0; layer < 2; layer++) {
            float[] fresh = new float[N * c.qDim()], out = new float[N * c.qDim()];
            run(backend, layer, backend.newKvCache(1024), rows, 0, N, 64, fresh);
            KvCache cache = backend.newKvCache(1024);
            run(backend, layer, cache, rows, 0, cut, 64, out);
            run(backend, layer, cache, wrong, cut, N, 50, new float[N * c.qDim()]);
            cache.truncate(cut);
            assertEquals(cut, cache.length());
            run(backend, layer, cache, rows, cut, N, 1, out);
            assertBitsEqual(fresh, out, "layer " + layer + ", continued after rewinding " + N + " to " + cut);
        }
    }
}
