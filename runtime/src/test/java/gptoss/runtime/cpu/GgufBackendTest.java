package gptoss.runtime.cpu;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.config.ModelConfig;
import gptoss.model.gguf.GgufExport;
import gptoss.model.synth.SynthPreset;
import gptoss.model.synth.SyntheticCheckpoint;
import gptoss.model.synth.SyntheticGguf;
import gptoss.model.testing.GoldenCase;
import gptoss.model.testing.TestModels;
import gptoss.runtime.engine.Engine;
import gptoss.runtime.engine.Placement;
import gptoss.runtime.engine.Sequence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GGUF checkpoints through the CPU backend: the same random weights as safetensors and as GGUF give the same
 * logits; golden case A written as GGUF matches the reference; Q8_0 and F16 files run through the vector kernels
 * as through the scalar reference.
 */
class GgufBackendTest {
    static WorkerPool pool;

    @TempDir
    Path dir;

    @BeforeAll
    static void startPool() {
        pool = new WorkerPool(2);
    }

    @AfterAll
    static void stopPool() {
        pool.close();
    }

    static Engine engine(Checkpoint c) {
        return new Engine(c.config(), c.weights(), Placement.single(new CpuBackend(c.config(), c.weights(), pool), c.config()), 256, 4);
    }

    static float maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        float m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    /** Logits of a 6-token prefill (two chunks of 4 and 2 rows) and three single-token steps, concatenated. */
    static float[] run(Engine e, int vocab) {
        int[] prompt = {17, 300, 5, vocab - 1, 42, 99};
        Sequence s = e.newSequence();
        float[] prefill = e.forward(s, prompt, true);
        float[] out = Arrays.copyOf(prefill, prefill.length + 3 * vocab);
        int next = 7;
        for (int step = 0; step < 3; step++) {
            System.arraycopy(e.forward(s, new int[]{next}, false), 0, out, prefill.length + step * vocab, vocab);
            next = (next * 31 + 3) % vocab;
        }
        return out;
    }

    /** tiny: the synth preset; bench-m: gpt-oss-20b layer shapes (H 2880, 64 heads of 64, I 2880) with 2 layers, 4 experts, a small vocabulary. */
    static ModelConfig shape(String name) {
        return name.equals("tiny") ? SynthPreset.TINY.config()
                : TestModels.config(2, 2880, 64, 8, 64, 4, 2, 2880, 1024, 128);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny", "bench-m"})
    void sameWeightsAsSafetensorsAndGgufGiveTheSameLogits(String name) throws IOException {
        ModelConfig c = shape(name);
        Path st = TestModels.write(dir.resolve("st"), c, 21, SyntheticCheckpoint.Layout.HUGGING_FACE, 1);
        Path gguf = SyntheticGguf.write(dir.resolve("m.gguf"), c, 21, GgufExport.DenseType.BF16, null);
        float[] a, b;
        try (Checkpoint ca = Checkpoint.open(st); Engine e = engine(ca)) {
            a = run(e, c.vocabSize());
        }
        try (Checkpoint cb = Checkpoint.open(gguf); Engine e = engine(cb)) {
            b = run(e, c.vocabSize());
        }
        float diff = maxAbsDiff(a, b);
        assertTrue(diff <= 1e-5, name + ": safetensors and GGUF logits differ by " + diff);
    }

    @ParameterizedTest
    @ValueSource(strings = {"q8_0", "f16"})
    void quantizedDenseTypesRunThroughTheKernelsAsThroughTheScalarReference(String type) throws IOException {
        // H 128 and I 96 (three blocks: an odd count), so every kernel meets a partial unrolled iteration.
        ModelConfig c = TestModels.config(2, 128, 4, 2, 32, 4, 2, 96, 512, 4);
        Path gguf = SyntheticGguf.write(dir.resolve(type + ".gguf"), c, 4, GgufExport.DenseType.parse(type), null);
        try (Checkpoint ckpt = Checkpoint.open(gguf);
             Engine fast = engine(ckpt);
             Engine reference = new Engine(c, ckpt.weights(), Placement.single(new ScalarReferenceBackend(c, ckpt.weights()), c), 256, 4)) {
            float diff = maxAbsDiff(run(fast, c.vocabSize()), run(reference, c.vocabSize()));
            assertTrue(diff <= 1e-4, type + ": vector kernels and scalar reference differ by " + diff);
        }
        // And the quantized file stays close to the BF16 weights it was made from (Q8_0 keeps ~8 bits, F16 11).
        Path bf16 = SyntheticGguf.write(dir.resolve("bf16.gguf"), c, 4, GgufExport.DenseType.BF16, null);
        try (Checkpoint q = Checkpoint.open(gguf); Checkpoint exact = Checkpoint.open(bf16); Engine eq = engine(q); Engine ee = engine(exact)) {
            float diff = maxAbsDiff(run(eq, c.vocabSize()), run(ee, c.vocabSize()));
            assertTrue(diff > 0 && diff < 0.1, type + " against bf16: logits differ by " + diff);
        }
    }

    @Test
    void goldenCaseAWrittenAsGgufMatchesTheReference() throws IOException {
        Path file = dir.resolve("case-a.gguf");
        try (Checkpoint hf = Checkpoint.open(GoldenCase.caseA())) {
            GgufExport.write(file, hf.config(), hf.weights(), GgufExport.DenseType.BF16, "case A", null);
        }
        int[] prompt = GoldenCase.golden("prompt_tokens.npy").toInts();
        int[] expected = GoldenCase.golden("greedy_tokens.npy").toInts();
        try (Checkpoint ckpt = Checkpoint.open(file); Engine e = engine(ckpt)) {
            assertEquals(Checkpoint.Layout.GGUF, ckpt.layout());
            Sequence s = e.newSequence();
            float[] logits = e.forward(s, prompt, true);
            float diff = maxAbsDiff(logits, GoldenCase.golden("logits_prompt_f32.npy").toFloats());
            assertTrue(diff <= 1e-3, "max |logit - golden| = " + diff);
            int V = ckpt.config().vocabSize();
            float[] last = Arrays.copyOfRange(logits, logits.length - V, logits.length);
            int[] generated = new int[expected.length];
            for (int i = 0; i < expected.length; i++) {
                generated[i] = argmax(last);
                last = e.forward(s, new int[]{generated[i]}, false);
            }
            assertArrayEquals(expected, generated, "greedy tokens");
        }
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
