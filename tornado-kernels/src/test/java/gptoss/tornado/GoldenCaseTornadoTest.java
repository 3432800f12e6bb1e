package gptoss.tornado;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.testing.GoldenCase;
import gptoss.runtime.backend.Backend;
import gptoss.runtime.engine.Engine;
import gptoss.runtime.engine.ForwardListener;
import gptoss.runtime.engine.Placement;
import gptoss.runtime.engine.Sequence;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static gptoss.tornado.TornadoTests.argmax;
import static gptoss.tornado.TornadoTests.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Golden case A (the openai reference's float32 outputs) through the TornadoVM backend: logits within 1e-3,
 * router choices and greedy tokens exact. Runs only where TornadoVM is installed.
 */
class GoldenCaseTornadoTest {
    static Checkpoint ckpt;
    static Backend backend;

    @BeforeAll
    static void open() {
        if (!TornadoTests.available()) return;
        ckpt = TornadoTests.golden();
        backend = TornadoTests.goldenBackend();
    }

    @BeforeEach
    void needsTornado() {
        TornadoTests.assumeTornado();
    }

    /** An engine over the shared backend (not closed per test: closing an engine closes its backends). */
    static Engine engine() {
        return new Engine(ckpt.config(), ckpt.weights(), Placement.single(backend, ckpt.config()));
    }

    @Test
    void promptLogitsRoutersAndHiddenStatesMatchReference() {
        int[] prompt = GoldenCase.golden("prompt_tokens.npy").toInts();
        Engine engine = engine();
        Recorder rec = new Recorder(ckpt.config().numLayers(), prompt.length, ckpt.config().expertsPerToken(), ckpt.config().hiddenSize());
        engine.addListener(rec);
        try (Sequence seq = engine.newSequence()) {
            float[] logits = engine.forward(seq, prompt, true);
            float diff = maxAbsDiff(logits, GoldenCase.golden("logits_prompt_f32.npy").toFloats());
            assertTrue(diff <= 1e-3, "max |logit - golden| = " + diff);
            assertArrayEquals(GoldenCase.golden("router_topk_ids_prompt.npy").toInts(), rec.ids, "router top-k ids");
            float hidden = maxAbsDiff(rec.hidden, GoldenCase.golden("hidden_states_prompt_f32.npy").toFloats());
            assertTrue(hidden <= 2e-3, "hidden states differ by " + hidden);
        }
    }

    @Test
    void greedyDecodingThroughTheDeviceCacheMatchesReference() {
        int[] prompt = GoldenCase.golden("prompt_tokens.npy").toInts();
        int[] expected = GoldenCase.golden("greedy_tokens.npy").toInts();
        float[] stepLogits = GoldenCase.golden("logits_greedy_steps_f32.npy").toFloats();
        int V = ckpt.config().vocabSize();
        Engine engine = engine();
        try (Sequence seq = engine.newSequence()) {
            float[] logits = engine.forward(seq, prompt, false);
            int[] generated = new int[expected.length];
            for (int i = 0; i < expected.length; i++) {
                float diff = maxAbsDiff(logits, Arrays.copyOfRange(stepLogits, i * V, (i + 1) * V));
                assertTrue(diff <= 1e-3, "step " + i + ": max |logit - golden| = " + diff);
                generated[i] = argmax(logits, 0, V);
                logits = engine.forward(seq, new int[]{generated[i]}, false);
            }
            assertArrayEquals(expected, generated, "greedy tokens");
        }
    }

    @Test
    void fullSequenceMatchesReferenceAndTokenByTokenDecode() {
        int[] prompt = GoldenCase.golden("prompt_tokens.npy").toInts();
        int[] greedy = GoldenCase.golden("greedy_tokens.npy").toInts();
        int[] full = new int[prompt.length + greedy.length];
        System.arraycopy(prompt, 0, full, 0, prompt.length);
        System.arraycopy(greedy, 0, full, prompt.length, greedy.length);
        int V = ckpt.config().vocabSize();
        Engine engine = engine();
        Recorder rec = new Recorder(ckpt.config().numLayers(), full.length, ckpt.config().expertsPerToken(), ckpt.config().hiddenSize());
        engine.addListener(rec);
        float[] all;
        try (Sequence seq = engine.newSequence()) {
            all = engine.forward(seq, full, true);
        }
        engine.removeListener(rec);
        float diff = maxAbsDiff(all, GoldenCase.golden("logits_full_seq_f32.npy").toFloats());
        assertTrue(diff <= 1e-3, "full sequence: max |logit - golden| = " + diff);
        assertArrayEquals(GoldenCase.golden("router_topk_ids_full_seq.npy").toInts(), rec.ids, "router ids, full sequence");
        try (Sequence seq = engine.newSequence()) {
            float worst = 0;
            for (int i = 0; i < full.length; i++) {
                float[] one = engine.forward(seq, new int[]{full[i]}, false);
                worst = Math.max(worst, maxAbsDiff(one, Arrays.copyOfRange(all, i * V, (i + 1) * V)));
            }
            assertTrue(worst <= 1e-4, "token-by-token decode differs from the batched prefill by " + worst);
        }
    }

    /** Router ids and weights as [L, T, k] and residuals as [L+1, T, H], in the golden files' order. */
    static final class Recorder implements ForwardListener {
        final int tokens, k, h;
        final int[] ids;
        final float[] weights, hidden;

        Recorder(int layers, int tokens, int k, int h) {
            this.tokens = tokens;
            this.k = k;
            this.h = h;
            ids = new int[layers * tokens * k];
            weights = new float[layers * tokens * k];
            hidden = new float[(layers + 1) * tokens * h];
        }

        @Override
        public void onRouting(int layer, int sequence, int position, int token, int[] experts, float[] w, float[] routerLogits) {
            System.arraycopy(experts, 0, ids, (layer * tokens + position) * k, k);
            System.arraycopy(w, 0, weights, (layer * tokens + position) * k, k);
        }

        @Override
        public boolean wantsResiduals() {
            return true;
        }

        @Override
        public void onResidual(int stage, int sequence, int position, float[] row) {
            System.arraycopy(row, 0, hidden, (stage * tokens + position) * h, h);
        }
    }
}
