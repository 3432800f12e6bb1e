package gptoss.runtime.engine;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.testing.GoldenCase;
import gptoss.runtime.cpu.CpuBackend;
import gptoss.runtime.cpu.WorkerPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Engine behaviour beyond the numbers: limits, bad tokens, batching of several sequences, chunked prefill. */
class EngineTest {
    static WorkerPool pool;
    static Checkpoint ckpt;

    @BeforeAll
    static void open() {
        pool = new WorkerPool(2);
        ckpt = Checkpoint.open(GoldenCase.caseA());
    }

    @AfterAll
    static void close() {
        ckpt.close();
        pool.close();
    }

    static Engine engine(int context, int chunk) {
        return new Engine(ckpt.config(), ckpt.weights(), Placement.single(new CpuBackend(ckpt.config(), ckpt.weights(), pool), ckpt.config()), context, chunk);
    }

    @Test
    void contextLimitIsEnforcedWithAClearError() {
        Engine e = engine(10, 4);
        Sequence s = e.newSequence();
        e.forward(s, new int[]{1, 2, 3, 4, 5, 6, 7, 8}, false);
        var error = assertThrows(ContextLimitException.class, () -> e.forward(s, new int[]{1, 2, 3}, false));
        assertEquals("context limit exceeded: 8 tokens in context + 3 new > limit 10", error.getMessage());
        e.forward(s, new int[]{1, 2}, false); // exactly reaching the limit is fine
        assertEquals(10, s.length());
    }

    @Test
    void tokensOutsideTheVocabularyAreRejected() {
        Engine e = engine(64, 8);
        var error = assertThrows(IllegalArgumentException.class, () -> e.forward(e.newSequence(), new int[]{5, 8192}, false));
        assertEquals("token id 8192 at index 1 is outside the vocabulary (0..8191)", error.getMessage());
        assertThrows(IllegalArgumentException.class, () -> e.forward(e.newSequence(), new int[]{-1}, false));
    }

    @Test
    void chunkedPrefillEqualsOneChunk() {
        int[] prompt = GoldenCase.golden("prompt_tokens.npy").toInts();
        Engine one = engine(64, 64);
        float[] whole = one.forward(one.newSequence(), prompt, true);
        Engine other = engine(64, 64);
        var error = assertThrows(IllegalArgumentException.class, () -> other.forward(one.newSequence(), prompt, false));
        assertEquals("the sequence belongs to another engine", error.getMessage());
        Engine chunked = engine(64, 5);
        float[] pieces = chunked.forward(chunked.newSequence(), prompt, true);
        assertEquals(0f, maxDiff(whole, pieces), 1e-4f); // lane reduction order may change with JIT tier
    }

    /**
     * Chunks of any size (matrix-vector kernels for one token, dot-product tiles for two or three, the packed
     * GEMM from four) give the logits of token-by-token decoding at every position, within 1e-5 of the logits' scale.
     */
    @Test
    void promptChunksOfAnySizeEqualTokenByTokenDecoding() {
        int[] prompt = GoldenCase.golden("prompt_tokens.npy").toInts();
        int V = ckpt.config().vocabSize();
        Engine single = engine(64, 1);
        Sequence s = single.newSequence();
        float[] byToken = new float[prompt.length * V];
        for (int i = 0; i < prompt.length; i++) {
            System.arraycopy(single.forward(s, new int[]{prompt[i]}, false), 0, byToken, i * V, V);
        }
        // Hidden states reach |h| ≈ 100 here, so fp32 sums in another order move logits by a few 1e-5 (measured
        // 1.2e-5 to 3.1e-5 for every chunk size, the dot-product tiles of chunks 2-3 included): the bound is 1e-5
        // relative to the largest logit (about 10).
        float scale = 0;
        for (float v : byToken) scale = Math.max(scale, Math.abs(v));
        for (int chunk : new int[]{2, 3, 4, 7, 16, 33, 64}) {
            Engine chunked = engine(64, chunk);
            float[] logits = chunked.forward(chunked.newSequence(), prompt, true);
            float diff = maxDiff(byToken, logits);
            assertTrue(diff <= 1e-5f * scale, "chunks of " + chunk + " (" + prompt.length + " tokens): max logit difference " + diff);
        }
    }

    @Test
    void batchedDecodeOfSeveralSequencesEqualsDecodingEachAlone() {
        int V = ckpt.config().vocabSize();
        int[] prompt = GoldenCase.golden("prompt_tokens.npy").toInts();
        int[][] prompts = {Arrays.copyOf(prompt, 10), Arrays.copyOfRange(prompt, 3, 20), Arrays.copyOfRange(prompt, 5, 8)};
        int[] next = {17, 4000, 8000};

        float[][] alone = new float[3][];
        for (int i = 0; i < 3; i++) {
            Engine e = engine(64, 8);
            Sequence s = e.newSequence();
            e.forward(s, prompts[i], false);
            alone[i] = e.forward(s, new int[]{next[i]}, false);
        }
        Engine e = engine(64, 8);
        Sequence[] seqs = {e.newSequence(), e.newSequence(), e.newSequence()};
        for (int i = 0; i < 3; i++) e.forward(seqs[i], prompts[i], false);
        float[] batched = e.decode(seqs, next);
        for (int i = 0; i < 3; i++) {
            float d = maxDiff(alone[i], Arrays.copyOfRange(batched, i * V, (i + 1) * V));
            assertTrue(d <= 1e-4f, "sequence " + i + " differs by " + d);
        }
        assertArrayEquals(new int[]{11, 18, 4}, Arrays.stream(seqs).mapToInt(Sequence::length).toArray());
    }

    @Test
    void truncatedSequenceContinuesLikeAFreshOne() {
        int[] prompt = GoldenCase.golden("prompt_tokens.npy").toInts();
        Engine e = engine(64, 8);
        Sequence s = e.newSequence();
        e.forward(s, Arrays.copyOf(prompt, 6), false);
        float[] first = e.forward(s, new int[]{prompt[6]}, false);
        s.truncate(6);
        float[] again = e.forward(s, new int[]{prompt[6]}, false);
        // Not bit-exact: the Vector API's lane reduction order may change once the JIT compiles it.
        assertEquals(0f, maxDiff(first, again), 1e-4f);
    }

    static float maxDiff(float[] a, float[] b) {
        float m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
