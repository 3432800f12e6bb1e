package gptoss.tornado;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.config.ModelConfig;
import gptoss.runtime.backend.Backend;
import gptoss.runtime.backend.KvCache;
import gptoss.runtime.backend.TokenBatch;
import gptoss.runtime.cpu.CpuBackend;
import gptoss.runtime.cpu.WorkerPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static gptoss.tornado.TornadoTests.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each backend call of the tornado backend against the CPU backend on golden case A's checkpoint (sliding
 * window 8, GQA 8:2, head_dim 16, q width ≠ hidden), with random activations: 1 and 3 rows run the matvec
 * (decode) kernels, 7 and 40 rows the tiled (prefill) ones.
 */
class BackendEquivalenceTest {
    static Checkpoint ckpt;
    static ModelConfig c;
    static WorkerPool pool;
    static Backend cpu, tornado, small;

    @BeforeAll
    static void open() {
        if (!TornadoTests.available()) return;
        ckpt = TornadoTests.golden();
        c = ckpt.config();
        pool = new WorkerPool(1);
        cpu = new CpuBackend(c, ckpt.weights(), pool);
        // The part-by-part calls are what a backend holding part of a model serves (resident = false).
        tornado = TornadoTests.backend(ckpt, TornadoSettings.fromSystemProperties().withResident(false), false);
        // 5 rows per execution: larger calls are split, and the sliding ring holds only window + 5 positions.
        small = TornadoTests.backend(ckpt, new TornadoSettings(5, 2, 256, 4, false), false);
    }

    @AfterAll
    static void close() {
        if (small != null) small.close();
        if (tornado != null) tornado.close();
        if (pool != null) pool.close();
    }

    @BeforeEach
    void needsTornado() {
        TornadoTests.assumeTornado();
    }

    static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    static void assertClose(float[] expected, float[] actual, float tolerance, String what) {
        float diff = maxAbsDiff(expected, actual);
        assertTrue(diff <= tolerance, what + ": max |tornado - cpu| = " + diff);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 7, 40})
    void head(int rows) {
        float[] x = random(rows * c.hiddenSize(), rows);
        float[] expected = new float[rows * c.vocabSize()], actual = new float[rows * c.vocabSize()];
        cpu.head(rows, x, expected);
        tornado.head(rows, x, actual);
        assertClose(expected, actual, 1e-4f, "logits");
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 7, 40})
    void router(int rows) {
        for (int layer = 0; layer < c.numLayers(); layer++) {
            float[] x = random(rows * c.hiddenSize(), 10 + layer);
            float[] n1 = new float[rows * c.hiddenSize()], n2 = new float[rows * c.hiddenSize()];
            float[] l1 = new float[rows * c.numExperts()], l2 = new float[rows * c.numExperts()];
            cpu.router(layer, rows, x, n1, l1);
            tornado.router(layer, rows, x, n2, l2);
            assertClose(n1, n2, 1e-5f, "normed, layer " + layer);
            assertClose(l1, l2, 1e-4f, "router logits, layer " + layer);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 7, 40})
    void experts(int count) {
        int H = c.hiddenSize();
        float[] normed = random(50 * H, 7);
        int[] rows = new int[count];
        for (int i = 0; i < count; i++) rows[i] = (i * 7) % 50;
        for (int layer = 0; layer < c.numLayers(); layer++) {
            for (int e = 0; e < c.numExperts(); e++) {
                float[] o1 = new float[count * H], o2 = new float[count * H], o3 = new float[count * H];
                cpu.expert(layer, e, rows, count, normed, o1);
                tornado.expert(layer, e, rows, count, normed, o2);
                small.expert(layer, e, rows, count, normed, o3);
                assertClose(o1, o2, 1e-4f, "expert " + e + " of layer " + layer);
                assertClose(o1, o3, 1e-4f, "expert " + e + " of layer " + layer + ", split in calls of 5 rows");
            }
        }
    }

    /** A prompt in chunks of {@code chunk} rows, then more chunks; the residual rows must agree after each call. */
    @ParameterizedTest
    @ValueSource(ints = {1, 3, 7, 40})
    void attention(int chunk) {
        for (Backend device : new Backend[]{tornado, small}) {
            int H = c.hiddenSize(), total = 45;
            for (int layer = 0; layer < c.numLayers(); layer++) {
                try (KvCache k1 = cpu.newKvCache(64); KvCache k2 = device.newKvCache(64)) {
                    for (int start = 0; start < total; start += chunk) {
                        int n = Math.min(chunk, total - start);
                        int[] positions = new int[n];
                        KvCache[] c1 = new KvCache[n], c2 = new KvCache[n];
                        for (int i = 0; i < n; i++) {
                            positions[i] = start + i;
                            c1[i] = k1;
                            c2[i] = k2;
                        }
                        float[] x1 = random(n * H, 100 + start + layer), x2 = x1.clone();
                        cpu.attention(layer, new TokenBatch(new int[n], positions, c1), x1);
                        device.attention(layer, new TokenBatch(new int[n], positions, c2), x2);
                        assertClose(x1, x2, 1e-4f, device.name() + " layer " + layer + " rows " + start + ".." + (start + n - 1));
                        // The router on the attention's output rows (computed by the attention graph) ...
                        float[] n1 = new float[n * H], n2 = new float[n * H], l1 = new float[n * c.numExperts()], l2 = l1.clone();
                        cpu.router(layer, n, x1, n1, l1);
                        device.router(layer, n, x2, n2, l2);
                        assertClose(l1, l2, 1e-4f, device.name() + " router after attention, layer " + layer);
                        // ... and on other rows (its own graph).
                        x2[0] += 1f;
                        x1[0] += 1f;
                        cpu.router(layer, n, x1, n1, l1);
                        device.router(layer, n, x2, n2, l2);
                        assertClose(n1, n2, 1e-5f, device.name() + " router on changed rows, layer " + layer);
                        assertClose(l1, l2, 1e-4f, device.name() + " router on changed rows, layer " + layer);
                    }
                    assertEquals(total, k2.length());
                }
            }
        }
    }

    /**
     * Several sequences in one batch: first prefill chunks of three sequences side by side (tiles of different
     * sequences, different lengths), then one decode row per sequence.
     */
    @Test
    void attentionOverSeveralSequences() {
        int H = c.hiddenSize();
        int[] lengths = {13, 6, 21};
        for (Backend device : new Backend[]{tornado, small}) {
            for (int layer = 0; layer < c.numLayers(); layer++) {
                KvCache[] cpuCaches = new KvCache[3], devCaches = new KvCache[3];
                for (int s = 0; s < 3; s++) {
                    cpuCaches[s] = cpu.newKvCache(64);
                    devCaches[s] = device.newKvCache(64);
                }
                int rows = lengths[0] + lengths[1] + lengths[2];
                int[] positions = new int[rows];
                KvCache[] c1 = new KvCache[rows], c2 = new KvCache[rows];
                for (int s = 0, t = 0; s < 3; s++) {
                    for (int p = 0; p < lengths[s]; p++, t++) {
                        positions[t] = p;
                        c1[t] = cpuCaches[s];
                        c2[t] = devCaches[s];
                    }
                }
                float[] x1 = random(rows * H, 5 + layer), x2 = x1.clone();
                cpu.attention(layer, new TokenBatch(new int[rows], positions, c1), x1);
                device.attention(layer, new TokenBatch(new int[rows], positions, c2), x2);
                assertClose(x1, x2, 1e-4f, device.name() + " layer " + layer + ": prefill of 3 sequences");
                for (int step = 0; step < 3; step++) {
                    int[] decodePositions = new int[3];
                    for (int s = 0; s < 3; s++) decodePositions[s] = lengths[s] + step;
                    float[] d1 = random(3 * H, 50 + step), d2 = d1.clone();
                    cpu.attention(layer, new TokenBatch(new int[3], decodePositions, cpuCaches), d1);
                    device.attention(layer, new TokenBatch(new int[3], decodePositions, devCaches), d2);
                    assertClose(d1, d2, 1e-4f, device.name() + " layer " + layer + ": decode step " + step + " of 3 sequences");
                }
                for (int s = 0; s < 3; s++) {
                    cpuCaches[s].close();
                    devCaches[s].close();
                }
            }
        }
    }

    /** Pages go back to the pool on close: the small backend's 256-position pool serves many sequences in turn. */
    @Test
    void cachePagesAreReusedAndExhaustionIsReported() {
        int H = c.hiddenSize();
        int layer = 1; // full attention: one page per 16 positions
        for (int round = 0; round < 5; round++) {
            try (KvCache cache = small.newKvCache(256)) {
                int[] positions = new int[200];
                KvCache[] caches = new KvCache[200];
                for (int i = 0; i < 200; i++) {
                    positions[i] = i;
                    caches[i] = cache;
                }
                small.attention(layer, new TokenBatch(new int[200], positions, caches), random(200 * H, round));
                assertEquals(200, cache.length());
                assertTrue(cache.bytes() > 0);
            }
        }
        try (KvCache a = small.newKvCache(256); KvCache b = small.newKvCache(256)) {
            int[] positions = new int[200];
            KvCache[] caches = new KvCache[200];
            java.util.Arrays.fill(caches, a);
            for (int i = 0; i < 200; i++) positions[i] = i;
            small.attention(layer, new TokenBatch(new int[200], positions, caches), random(200 * H, 1));
            java.util.Arrays.fill(caches, b);
            IllegalStateException full = assertThrows(IllegalStateException.class,
                    () -> small.attention(layer, new TokenBatch(new int[200], positions, caches), random(200 * H, 2)));
            assertTrue(full.getMessage().contains("gptoss.tornado.kvTokens"), full.getMessage());
        }
    }
}
