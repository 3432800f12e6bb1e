package gptoss.runtime.engine;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.synth.SyntheticCheckpoint;
import gptoss.model.testing.TestModels;
import gptoss.runtime.cpu.CpuBackend;
import gptoss.runtime.cpu.WorkerPool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loading and running a model keeps its weights in the memory map, not on the Java heap. */
class WeightsOffHeapTest {
    @TempDir
    Path dir;

    static long heapUsedAfterGc() {
        for (int i = 0; i < 3; i++) System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    @Test
    void heapGrowsByFarLessThanTheWeights() {
        // 2 × 201088 × 256 BF16 embedding tables alone are 206 MB.
        Path p = TestModels.write(dir.resolve("m"), TestModels.config(2, 256, 4, 2, 64, 4, 2, 256, 201088, 8), 1,
                SyntheticCheckpoint.Layout.HUGGING_FACE, 1);
        long before = heapUsedAfterGc();
        try (Checkpoint ckpt = Checkpoint.open(p); WorkerPool pool = new WorkerPool(2)) {
            Engine engine = new Engine(ckpt.config(), ckpt.weights(),
                    Placement.single(new CpuBackend(ckpt.config(), ckpt.weights(), pool), ckpt.config()), 64, 8);
            Sequence s = engine.newSequence();
            engine.forward(s, new int[]{1, 2, 3, 4}, false);
            engine.forward(s, new int[]{5}, false);
            long weights = ckpt.store().totalBytes();
            long grown = heapUsedAfterGc() - before;
            // Live heap: logits (0.8 MB), scratch and cache: a few MB. Copies of the weights would be > 200 MB.
            assertTrue(grown < weights / 20, "heap grew by " + grown + " bytes for " + weights + " bytes of weights");
        }
    }
}
