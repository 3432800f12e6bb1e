package gptoss.measure;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.config.ModelConfig;
import gptoss.model.synth.SyntheticCheckpoint;
import gptoss.runtime.cpu.CpuBackend;
import gptoss.runtime.cpu.WorkerPool;
import gptoss.runtime.engine.Engine;
import gptoss.runtime.engine.Placement;
import gptoss.runtime.engine.Sequence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TokenTrafficTest {

    @Test
    void countsTheBytesOfEveryTensorADecodingStepReads(@TempDir Path dir) throws IOException {
        ModelConfig b = ModelConfig.gptOss20b();
        // H 64, 4 query heads of 16, 2 KV heads, 8 experts (top 2) of width 32, vocabulary 100, window 4.
        ModelConfig c = new ModelConfig(2, 64, 4, 2, 16, 8, 2, 32, 100, 4, ModelConfig.alternating(2),
                b.ropeTheta(), b.ropeScalingFactor(), b.ropeBetaFast(), b.ropeBetaSlow(), b.ropeOriginalContext(),
                b.ropeTruncate(), b.maxContext(), b.swigluLimit(), b.swigluAlpha(), b.rmsNormEps(), -1);
        SyntheticCheckpoint.write(dir, c, 1, SyntheticCheckpoint.Layout.HUGGING_FACE, 1, false, null);
        try (Checkpoint ckpt = Checkpoint.open(dir); WorkerPool pool = new WorkerPool(1)) {
            Engine engine = new Engine(c, ckpt.weights(), Placement.single(new CpuBackend(c, ckpt.weights(), pool), c), 64, 16);
            TokenTraffic traffic = new TokenTraffic(c, ckpt.weights());
            Sequence seq = engine.newSequence();
            engine.forward(seq, new int[]{1, 2, 3, 4, 5}, false);
            engine.addListener(traffic);
            engine.forward(seq, new int[]{6}, false); // position 5
            engine.forward(seq, new int[]{7}, false); // position 6

            // By hand, in bytes (BF16 = 2, MXFP4 = 17 per 32 weights, KV cache fp32 keys and values).
            long H = 64, Q = 64, KV = 32, NH = 4, E = 8, I = 32, V = 100;
            long attention = 2 * (H + Q * H + Q + 2 * (KV * H + KV) + H * Q + H + NH);
            long router = 2 * (H + E * H + E);
            long expert = 2 * I * H / 32 * 17 + 2 * 2 * I + H * I / 32 * 17 + 2 * H;
            long head = 2 * (H + V * H);
            long embeddingRow = 2 * H;
            long perToken = embeddingRow + 2 * (attention + router + 2 * expert) + head;
            // Layer 0 slides (window 4: 4 keys at positions 5 and 6), layer 1 sees positions 0..p.
            long kvReads = 8 * KV * ((4 + 6) + (4 + 7));
            assertEquals(2, traffic.tokens());
            assertEquals((2 * perToken + kvReads) / 2.0, traffic.bytesPerToken(), 1e-9);
            assertEquals(embeddingRow + 2 * (attention + router) + head, traffic.fixedBytesPerToken());
        }
    }
}
