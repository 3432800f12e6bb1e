package gptoss.tornado;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.testing.GoldenCase;
import gptoss.runtime.backend.Backend;
import gptoss.runtime.engine.Engine;
import gptoss.runtime.engine.Placement;
import gptoss.runtime.engine.Sequence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static gptoss.tornado.TornadoTests.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Golden case A: the device-resident whole step against the host-orchestrated part graphs, stage by stage. */
class ResidentPathTest {
    static Checkpoint ckpt;
    static Backend parts;

    @BeforeAll
    static void open() {
        if (!TornadoTests.available()) return;
        ckpt = TornadoTests.golden();
        parts = TornadoTests.backend(ckpt, TornadoSettings.fromSystemProperties().withResident(false), false);
    }

    @AfterAll
    static void close() {
        if (parts != null) parts.close();
    }

    @BeforeEach
    void needsTornado() {
        TornadoTests.assumeTornado();
    }

    @Test
    void residentStepEqualsHostOrchestratedParts() {
        int[] prompt = GoldenCase.golden("prompt_tokens.npy").toInts();
        var c = ckpt.config();
        Engine resident = new Engine(c, ckpt.weights(), Placement.single(TornadoTests.goldenBackend(), c));
        Engine host = new Engine(c, ckpt.weights(), Placement.single(parts, c));
        GoldenCaseTornadoTest.Recorder a = new GoldenCaseTornadoTest.Recorder(c.numLayers(), prompt.length, c.expertsPerToken(), c.hiddenSize());
        GoldenCaseTornadoTest.Recorder b = new GoldenCaseTornadoTest.Recorder(c.numLayers(), prompt.length, c.expertsPerToken(), c.hiddenSize());
        resident.addListener(a);
        host.addListener(b);
        float[] la, lb;
        float decodeDiff = 0, lastRowDiff;
        try (Sequence s = resident.newSequence(); Sequence t = host.newSequence()) {
            la = resident.forward(s, prompt, true);
            lb = host.forward(t, prompt, true);
            resident.removeListener(a);
            host.removeListener(b);
            int V = c.vocabSize(), token = TornadoTests.argmax(lb, (prompt.length - 1) * V, V);
            for (int step = 0; step < 4; step++) {
                float[] x = resident.forward(s, new int[]{token}, false), y = host.forward(t, new int[]{token}, false);
                decodeDiff = Math.max(decodeDiff, maxAbsDiff(x, y));
                token = TornadoTests.argmax(y, 0, V);
            }
        }
        try (Sequence s = resident.newSequence(); Sequence t = host.newSequence()) {
            // Only the last row's logits: the resident step's head runs on that row alone, as the host's does.
            lastRowDiff = maxAbsDiff(resident.forward(s, prompt, false), host.forward(t, prompt, false));
        }
        int H = c.hiddenSize(), T = prompt.length, k = c.expertsPerToken();
        // Layer 0 routes on identical router logits: the device's top-k and softmax give the host's weights bit for bit.
        for (int i = 0; i < T * k; i++) assertEquals(b.weights[i], a.weights[i], 0f, "layer 0 routing weight " + i);
        float residuals = maxAbsDiff(a.hidden, b.hidden);
        System.err.printf("ResidentPathTest: golden case A, resident vs host-orchestrated: prompt residuals %.2e, prompt logits %.2e, "
                + "4 decode steps %.2e, last-row prompt logits %.2e%n", residuals, maxAbsDiff(la, lb), decodeDiff, lastRowDiff);
        assertArrayEquals(b.ids, a.ids, "router choices");
        float diff = maxAbsDiff(la, lb);
        // Both paths pick an expert's way (decode or tiled) by its slot count, so they run the same kernels on the
        // same rows; when the resident step chose it per step (tiled for all), they differed by 1.5e-5.
        assertTrue(diff <= 1e-5, "resident vs host-orchestrated logits: " + diff);
        assertTrue(decodeDiff <= 1e-5, "resident vs host-orchestrated decode logits: " + decodeDiff);
        assertTrue(lastRowDiff <= 1e-5, "resident vs host-orchestrated last-row logits: " + lastRowDiff);
    }
}
