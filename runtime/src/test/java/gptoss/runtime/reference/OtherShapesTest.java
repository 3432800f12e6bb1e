package gptoss.runtime.reference;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.config.LayerType;
import gptoss.model.config.ModelConfig;
import gptoss.model.synth.SyntheticCheckpoint;
import gptoss.model.testing.TestModels;
import gptoss.runtime.cpu.CpuBackend;
import gptoss.runtime.cpu.WorkerPool;
import gptoss.runtime.engine.Engine;
import gptoss.runtime.engine.ForwardListener;
import gptoss.runtime.engine.Placement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine, unchanged, on checkpoints of shapes other than golden case A, against {@link SpecReference}:
 * other head counts and GQA groups, the real 201088 vocabulary, other RoPE/YaRN constants (and plain RoPE),
 * irregular layer types, top-3 routing, sharded files.
 */
class OtherShapesTest {
    @TempDir
    static Path dir;
    static WorkerPool pool;

    @BeforeAll
    static void start() {
        pool = new WorkerPool(2);
    }

    @AfterAll
    static void stop() {
        pool.close();
    }

    @Test
    void sixHeadsOverThreeKvHeadsTopThreeOfFiveIrregularLayers() {
        ModelConfig base = TestModels.config(3, 96, 6, 3, 8, 5, 3, 32, 700, 3);
        ModelConfig c = TestModels.withRope(base, 10000, 8, 16, 2, 256,
                List.of(LayerType.FULL_ATTENTION, LayerType.SLIDING_ATTENTION, LayerType.SLIDING_ATTENTION));
        check(c, 1, 14, 5);
    }

    @Test
    void realVocabularyAndShardedFiles() {
        ModelConfig c = TestModels.config(2, 32, 4, 1, 16, 4, 2, 32, 201088, 4);
        check(c, 3, 9, 6);
    }

    @Test
    void plainRopeWithoutYarnAndMultiQueryAttention() {
        ModelConfig base = TestModels.config(2, 64, 8, 1, 8, 6, 2, 64, 300, 5);
        ModelConfig c = TestModels.withRope(base, 500000, 1, 32, 1, 4096, ModelConfig.alternating(2));
        check(c, 2, 12, 7);
    }

    /** Full-sequence logits and router ids of the engine equal the reference's; incremental decode too. */
    void check(ModelConfig config, int shards, int tokens, long seed) {
        Path p = TestModels.write(dir.resolve("m" + seed), config, seed, SyntheticCheckpoint.Layout.HUGGING_FACE, shards);
        int[] ids = new SplittableRandom(seed).ints(tokens, 0, config.vocabSize()).toArray();
        try (Checkpoint ckpt = Checkpoint.open(p)) {
            SpecReference.Output expected = new SpecReference(ckpt.config(), ckpt.store()).run(ids);
            Engine engine = new Engine(ckpt.config(), ckpt.weights(),
                    Placement.single(new CpuBackend(ckpt.config(), ckpt.weights(), pool), ckpt.config()), 64, 5);
            int L = config.numLayers(), V = config.vocabSize();
            int[][][] experts = new int[L][tokens][];
            engine.addListener(new ForwardListener() {
                @Override
                public void onRouting(int layer, int sequence, int position, int token, int[] e, float[] w, float[] logits) {
                    experts[layer][position] = e;
                }
            });
            float[] logits = engine.forward(engine.newSequence(), ids, true);
            double worst = 0;
            for (int t = 0; t < tokens; t++) {
                for (int v = 0; v < V; v++) worst = Math.max(worst, Math.abs(logits[t * V + v] - expected.logits()[t][v]));
            }
            assertTrue(worst <= 1e-3, "max |engine - reference| = " + worst);
            for (int l = 0; l < L; l++) {
                for (int t = 0; t < tokens; t++) assertArrayEquals(expected.experts()[l][t], experts[l][t], "layer " + l + " position " + t);
            }
            // Token by token through the KV cache (sliding windows smaller than the sequence): the same logits.
            var seq = engine.newSequence();
            double incremental = 0;
            for (int t = 0; t < tokens; t++) {
                float[] one = engine.forward(seq, new int[]{ids[t]}, false);
                for (int v = 0; v < V; v++) incremental = Math.max(incremental, Math.abs(one[v] - logits[t * V + v]));
            }
            assertTrue(incremental <= 1e-4, "incremental decode differs from the full pass by " + incremental);
        }
    }
}
