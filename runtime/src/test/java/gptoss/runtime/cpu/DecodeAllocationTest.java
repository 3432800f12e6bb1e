package gptoss.runtime.cpu;

import com.sun.management.ThreadMXBean;
import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.config.ModelConfig;
import gptoss.model.synth.SyntheticCheckpoint;
import gptoss.runtime.engine.Engine;
import gptoss.runtime.engine.Placement;
import gptoss.runtime.engine.Sequence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Steady-state decoding allocates nothing on any thread involved: the engine thread and every pool worker,
 * measured with the JVM's per-thread allocation counters around decode steps after the JIT has compiled the
 * kernels. The measured steps stay between KV-cache doublings (positions 600..1000: full-attention layers hold
 * 1024 slots, sliding layers their fixed ring), since a cache that grows must allocate. Widths of 224 (7 MXFP4
 * blocks) take the kernels' uneven paths (a last group overlapping the previous one).
 */
class DecodeAllocationTest {

    static ModelConfig smallModel() {
        ModelConfig b = ModelConfig.gptOss20b();
        return new ModelConfig(2, 224, 8, 2, 32, 8, 4, 224, 1024, 16, ModelConfig.alternating(2),
                b.ropeTheta(), b.ropeScalingFactor(), b.ropeBetaFast(), b.ropeBetaSlow(), b.ropeOriginalContext(),
                b.ropeTruncate(), b.maxContext(), b.swigluLimit(), b.swigluAlpha(), b.rmsNormEps(), -1);
    }

    @Test
    void decodeStepsAllocateNothingOnAnyThread(@TempDir Path dir) throws IOException {
        SyntheticCheckpoint.write(dir, smallModel(), 3, SyntheticCheckpoint.Layout.HUGGING_FACE, 1, false, null);
        ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported());
        threads.setThreadAllocatedMemoryEnabled(true);
        try (Checkpoint ckpt = Checkpoint.open(dir); WorkerPool pool = new WorkerPool(2)) {
            ModelConfig c = ckpt.config();
            Engine engine = new Engine(c, ckpt.weights(), Placement.single(new CpuBackend(c, ckpt.weights(), pool), c), 1024, 128);
            Sequence seq = engine.newSequence();
            float[] logits = new float[c.vocabSize()];
            int[] token = {1};
            engine.forward(seq, new int[]{5, 6, 7, 8, 9, 10, 11, 12}, false, logits);
            while (seq.length() < 600) decodeStep(engine, seq, token, logits); // warm-up: the JIT compiles the kernels

            Thread[] workers = pool.workerThreads();
            // Up to four windows of 100 steps: one may still catch the JIT replacing code (a deoptimization and
            // recompilation, during which the attention kernel's Vector API calls run their allocating fallback; seen
            // once in CI even with -Xbatch, 742,912 bytes in the second of two 200-step windows). Steady state means
            // some window allocates nothing; an allocation in the decode path itself shows in every window.
            long[] allocated = null;
            for (int end = 700; end <= 1000; end += 100) {
                allocated = measure(threads, workers, engine, seq, token, logits, end);
                if (sum(allocated) == 0) break;
            }
            for (int i = 0; i < allocated.length; i++) {
                assertEquals(0, allocated[i], (i == 0 ? "engine thread" : "worker " + i) + " allocated bytes in each of four windows of 100 decode steps (the last shown)");
            }
        }
    }

    /** Bytes each thread (engine thread, then workers) allocated while decoding up to {@code length}. */
    static long[] measure(ThreadMXBean threads, Thread[] workers, Engine engine, Sequence seq, int[] token, float[] logits, int length) {
        long[] before = new long[workers.length + 1], after = new long[workers.length + 1];
        before[0] = threads.getCurrentThreadAllocatedBytes(); // returns a long: reading it allocates nothing
        for (int i = 0; i < workers.length; i++) before[i + 1] = threads.getThreadAllocatedBytes(workers[i].threadId());
        while (seq.length() < length) decodeStep(engine, seq, token, logits);
        after[0] = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < workers.length; i++) after[i + 1] = threads.getThreadAllocatedBytes(workers[i].threadId());
        for (int i = 0; i < after.length; i++) after[i] -= before[i];
        return after;
    }

    static long sum(long[] a) {
        long s = 0;
        for (long v : a) s += v;
        return s;
    }

    /** One token in, greedy token out, as a decoding loop does. */
    static void decodeStep(Engine engine, Sequence seq, int[] token, float[] logits) {
        engine.forward(seq, token, false, logits);
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        token[0] = best;
    }
}
