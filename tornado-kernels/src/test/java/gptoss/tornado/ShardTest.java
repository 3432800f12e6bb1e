package gptoss.tornado;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.config.ModelConfig;
import gptoss.model.testing.GoldenCase;
import gptoss.runtime.backend.Backend;
import gptoss.runtime.backend.BackendRequest;
import gptoss.runtime.backend.Shard;
import gptoss.runtime.backend.TokenBatch;
import gptoss.runtime.cpu.CpuBackend;
import gptoss.runtime.cpu.WorkerPool;
import gptoss.runtime.engine.Engine;
import gptoss.runtime.engine.Placement;
import gptoss.runtime.engine.Sequence;
import org.junit.jupiter.api.Test;

import static gptoss.tornado.TornadoTests.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A tornado backend holding part of the model, the CPU backend the rest: golden case A still comes out. */
class ShardTest {

    @Test
    void partOfTheModelOnTheDeviceTheRestOnTheCpu() {
        TornadoTests.assumeTornado();
        Checkpoint ckpt = TornadoTests.golden();
        ModelConfig c = ckpt.config();
        Shard shard = Shard.none(c).withAttention(1).withAttention(2).withExpert(0, 3).withExpert(2, 5).withExpert(3, 0).withHead();
        try (WorkerPool pool = new WorkerPool(1);
             Backend device = new TornadoBackend(new BackendRequest(c, ckpt.weights(), TornadoTests.device(), 1, shard, false),
                     TornadoInstallation.device(TornadoTests.device()), TornadoTests.device(), TornadoSettings.fromSystemProperties())) {
            Backend cpu = new CpuBackend(c, ckpt.weights(), pool);
            Backend[] attention = new Backend[c.numLayers()];
            Backend[][] experts = new Backend[c.numLayers()][c.numExperts()];
            for (int l = 0; l < c.numLayers(); l++) {
                attention[l] = shard.hasAttention(l) ? device : cpu;
                for (int e = 0; e < c.numExperts(); e++) experts[l][e] = shard.hasExpert(l, e) ? device : cpu;
            }
            Engine engine = new Engine(c, ckpt.weights(), new Placement(attention, experts, device));
            int[] prompt = GoldenCase.golden("prompt_tokens.npy").toInts();
            try (Sequence seq = engine.newSequence()) {
                float[] logits = engine.forward(seq, prompt, true);
                float diff = maxAbsDiff(logits, GoldenCase.golden("logits_prompt_f32.npy").toFloats());
                assertTrue(diff <= 1e-3, "max |logit - golden| = " + diff);
            }
            // What the device does not hold, it refuses.
            float[] x = new float[c.hiddenSize()];
            assertThrows(IllegalArgumentException.class, () -> device.attention(0, new TokenBatch(new int[1], new int[1],
                    new gptoss.runtime.backend.KvCache[]{device.newKvCache(8)}), x));
            assertThrows(IllegalArgumentException.class, () -> device.expert(0, 2, new int[]{0}, 1, x, new float[x.length]));
        }
    }
}
