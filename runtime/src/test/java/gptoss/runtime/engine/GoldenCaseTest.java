package gptoss.runtime.engine;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.npy.Npy;
import gptoss.model.testing.GoldenCase;
import gptoss.runtime.cpu.CpuBackend;
import gptoss.runtime.cpu.WorkerPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The engine against the openai reference's float32 outputs for golden case A, in both checkpoint layouts. */
class GoldenCaseTest {
    static WorkerPool pool;

    @BeforeAll
    static void startPool() {
        pool = new WorkerPool(2);
    }

    @AfterAll
    static void stopPool() {
        pool.close();
    }

    static Path layout(String name) {
        return name.equals("original") ? GoldenCase.caseA().resolve("original") : GoldenCase.caseA();
    }

    static Engine engine(Checkpoint ckpt) {
        return new Engine(ckpt.config(), ckpt.weights(), Placement.single(new CpuBackend(ckpt.config(), ckpt.weights(), pool), ckpt.config()));
    }

    static float maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length, "length");
        float m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    @ParameterizedTest
    @ValueSource(strings = {"huggingface", "original"})
    void promptLogitsRouterAndHiddenStatesMatchReference(String layoutName) {
        int[] prompt = GoldenCase.golden("prompt_tokens.npy").toInts();
        try (Checkpoint ckpt = Checkpoint.open(layout(layoutName)); Engine engine = engine(ckpt)) {
            RecordingListener rec = new RecordingListener(ckpt.config().numLayers(), prompt.length, true);
            engine.addListener(rec);
            float[] logits = engine.forward(engine.newSequence(), prompt, true);
            float diff = maxAbsDiff(logits, GoldenCase.golden("logits_prompt_f32.npy").toFloats());
            assertTrue(diff <= 1e-3, "max |logit - golden| = " + diff);
            assertArrayEquals(GoldenCase.golden("router_topk_ids_prompt.npy").toInts(), rec.experts(), "router top-k ids");
            float weightDiff = maxAbsDiff(rec.weights(), GoldenCase.golden("router_topk_weights_prompt.npy").toFloats());
            assertTrue(weightDiff <= 1e-4, "routing weights differ by " + weightDiff);
            float routerDiff = maxAbsDiff(rec.routerLogits(), GoldenCase.golden("router_logits_prompt_f32.npy").toFloats());
            assertTrue(routerDiff <= 1e-3, "router logits differ by " + routerDiff);
            float hiddenDiff = maxAbsDiff(rec.hidden(), GoldenCase.golden("hidden_states_prompt_f32.npy").toFloats());
            assertTrue(hiddenDiff <= 2e-3, "hidden states differ by " + hiddenDiff);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"huggingface", "original"})
    void greedyDecodingWithCacheMatchesReference(String layoutName) {
        int[] prompt = GoldenCase.golden("prompt_tokens.npy").toInts();
        int[] expected = GoldenCase.golden("greedy_tokens.npy").toInts();
        float[] stepLogits = GoldenCase.golden("logits_greedy_steps_f32.npy").toFloats();
        try (Checkpoint ckpt = Checkpoint.open(layout(layoutName)); Engine engine = engine(ckpt)) {
            int V = ckpt.config().vocabSize();
            Sequence seq = engine.newSequence();
            float[] logits = engine.forward(seq, prompt, false);
            int[] generated = new int[expected.length];
            for (int i = 0; i < expected.length; i++) {
                float diff = maxAbsDiff(logits, Arrays.copyOfRange(stepLogits, i * V, (i + 1) * V));
                assertTrue(diff <= 1e-3, "step " + i + ": max |logit - golden| = " + diff);
                generated[i] = argmax(logits);
                logits = engine.forward(seq, new int[]{generated[i]}, false);
            }
            assertArrayEquals(expected, generated, "greedy tokens");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"huggingface", "original"})
    void fullSequenceMatchesReferenceAndIncrementalDecode(String layoutName) {
        int[] prompt = GoldenCase.golden("prompt_tokens.npy").toInts();
        int[] greedy = GoldenCase.golden("greedy_tokens.npy").toInts();
        int[] full = new int[prompt.length + greedy.length];
        System.arraycopy(prompt, 0, full, 0, prompt.length);
        System.arraycopy(greedy, 0, full, prompt.length, greedy.length);
        try (Checkpoint ckpt = Checkpoint.open(layout(layoutName)); Engine engine = engine(ckpt)) {
            int V = ckpt.config().vocabSize();
            RecordingListener rec = new RecordingListener(ckpt.config().numLayers(), full.length, false);
            engine.addListener(rec);
            float[] all = engine.forward(engine.newSequence(), full, true);
            float diff = maxAbsDiff(all, GoldenCase.golden("logits_full_seq_f32.npy").toFloats());
            assertTrue(diff <= 1e-3, "full sequence: max |logit - golden| = " + diff);
            assertArrayEquals(GoldenCase.golden("router_topk_ids_full_seq.npy").toInts(), rec.experts(), "router ids, full sequence");
            engine.removeListener(rec);

            // Token by token through the KV cache: the same logits as the full recompute.
            Sequence seq = engine.newSequence();
            float worst = 0;
            for (int i = 0; i < full.length; i++) {
                float[] one = engine.forward(seq, new int[]{full[i]}, false);
                worst = Math.max(worst, maxAbsDiff(one, Arrays.copyOfRange(all, i * V, (i + 1) * V)));
            }
            assertTrue(worst <= 1e-4, "incremental decode differs from full recompute by " + worst);
        }
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    /** Collects routing decisions as [L, T, k] and residuals as [L+1, T, H], in the golden files' order. */
    static final class RecordingListener implements ForwardListener {
        final int layers, tokens;
        final boolean residuals;
        final List<int[]> experts = new ArrayList<>();
        int k, e, h;
        final int[][][] ids;
        final float[][][] w, logits, hidden;

        RecordingListener(int layers, int tokens, boolean residuals) {
            this.layers = layers;
            this.tokens = tokens;
            this.residuals = residuals;
            ids = new int[layers][tokens][];
            w = new float[layers][tokens][];
            logits = new float[layers][tokens][];
            hidden = new float[layers + 1][tokens][];
        }

        @Override
        public void onRouting(int layer, int sequence, int position, int token, int[] experts, float[] weights, float[] routerLogits) {
            ids[layer][position] = experts;
            w[layer][position] = weights;
            logits[layer][position] = routerLogits;
        }

        @Override
        public boolean wantsResiduals() {
            return residuals;
        }

        @Override
        public void onResidual(int stage, int sequence, int position, float[] row) {
            hidden[stage][position] = row;
        }

        int[] experts() {
            return Arrays.stream(ids).flatMap(Arrays::stream).flatMapToInt(Arrays::stream).toArray();
        }

        float[] weights() {
            return flatten(w);
        }

        float[] routerLogits() {
            return flatten(logits);
        }

        float[] hidden() {
            return flatten(hidden);
        }

        static float[] flatten(float[][][] a) {
            int n = 0;
            for (float[][] b : a) for (float[] c : b) n += c.length;
            float[] out = new float[n];
            int i = 0;
            for (float[][] b : a) for (float[] c : b) {
                System.arraycopy(c, 0, out, i, c.length);
                i += c.length;
            }
            return out;
        }
    }
}
