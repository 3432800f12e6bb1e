package gptoss.tornado;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.config.ModelConfig;
import gptoss.model.testing.GoldenCase;
import gptoss.runtime.backend.Backend;
import gptoss.runtime.backend.KvCache;
import gptoss.runtime.backend.TokenBatch;
import gptoss.runtime.cpu.CpuBackend;
import gptoss.runtime.cpu.WorkerPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static gptoss.tornado.TornadoTests.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each backend call of the tornado backend against the CPU backend on the golden checkpoint, with random
 * activations: 1 and 3 rows run the matvec (decode) kernels, 7 and 40 rows the tiled (prefill) ones.
 */
class BackendEquivalenceTest {
    static Checkpoint ckpt;
    static ModelConfig c;
    static WorkerPool pool;
    static Backend cpu, tornado;

    @BeforeAll
    static void open() {
        if (TornadoInstallation.unavailableReason() != null) return;
        ckpt = Checkpoint.open(GoldenCase.caseA());
        c = ckpt.config();
        pool = new WorkerPool(1);
        cpu = new CpuBackend(c, ckpt.weights(), pool);
        tornado = TornadoTests.backend(ckpt, false);
    }

    @AfterAll
    static void close() {
        if (tornado != null) tornado.close();
        if (pool != null) pool.close();
        if (ckpt != null) ckpt.close();
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
                float[] o1 = new float[count * H], o2 = new float[count * H];
                cpu.expert(layer, e, rows, count, normed, o1);
                tornado.expert(layer, e, rows, count, normed, o2);
                assertClose(o1, o2, 1e-4f, "expert " + e + " of layer " + layer);
            }
        }
    }

    /** A prompt in chunks of {@code chunk} rows, then single-token steps; the residual rows must agree after each call. */
    @ParameterizedTest
    @ValueSource(ints = {1, 3, 7, 40})
    void attention(int chunk) {
        int H = c.hiddenSize(), total = 30;
        for (int layer = 0; layer < c.numLayers(); layer++) {
            try (KvCache k1 = cpu.newKvCache(64); KvCache k2 = tornado.newKvCache(64)) {
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
                    tornado.attention(layer, new TokenBatch(new int[n], positions, c2), x2);
                    assertClose(x1, x2, 1e-4f, "layer " + layer + " rows " + start + ".." + (start + n - 1));
                }
            }
        }
    }
}
