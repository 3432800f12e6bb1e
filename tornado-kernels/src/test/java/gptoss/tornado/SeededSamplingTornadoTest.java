package gptoss.tornado;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.testing.GoldenCase;
import gptoss.runtime.cpu.CpuBackend;
import gptoss.runtime.cpu.WorkerPool;
import gptoss.runtime.engine.Engine;
import gptoss.runtime.engine.Placement;
import gptoss.runtime.engine.Sequence;
import gptoss.sampling.LogitSampler;
import gptoss.sampling.SamplingParams;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The same seed gives the same tokens on the CPU and TornadoVM backends (golden case A, temperature 1.2, top-k,
 * top-p, min-p and a repetition penalty): sampling runs on the host over either backend's logits.
 */
class SeededSamplingTornadoTest {
    @BeforeEach
    void needsTornado() {
        TornadoTests.assumeTornado();
    }

    static int[] decode(Engine engine, int V, long seed, int count) {
        SamplingParams p = SamplingParams.defaults().withTemperature(1.2).withTopK(200).withTopP(0.95).withMinP(0.001)
                .withRepetitionPenalty(1.1).withSeed(seed);
        LogitSampler sampler = p.newSampler(V);
        int[] prompt = GoldenCase.golden("prompt_tokens.npy").toInts();
        int[] out = new int[count];
        try (Sequence seq = engine.newSequence()) {
            float[] logits = engine.forward(seq, prompt, false);
            for (int i = 0; i < count; i++) {
                out[i] = sampler.sample(logits, 0, V);
                sampler.accept(out[i]);
                logits = engine.forward(seq, new int[]{out[i]}, false);
            }
        }
        return out;
    }

    @Test
    void sameSeedSameTokensOnCpuAndTornado() {
        Checkpoint ckpt = TornadoTests.golden();
        int V = ckpt.config().vocabSize();
        Engine tornado = new Engine(ckpt.config(), ckpt.weights(), Placement.single(TornadoTests.goldenBackend(), ckpt.config()));
        try (WorkerPool pool = new WorkerPool(1)) {
            Engine cpu = new Engine(ckpt.config(), ckpt.weights(), Placement.single(new CpuBackend(ckpt.config(), ckpt.weights(), pool), ckpt.config()));
            for (long seed : new long[]{7, 8}) {
                assertArrayEquals(decode(cpu, V, seed, 16), decode(tornado, V, seed, 16), "seed " + seed);
            }
        }
    }
}
