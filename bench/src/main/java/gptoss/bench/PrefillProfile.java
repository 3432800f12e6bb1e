package gptoss.bench;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.config.ModelConfig;
import gptoss.runtime.backend.Backend;
import gptoss.runtime.cpu.CpuBackend;
import gptoss.runtime.cpu.WorkerPool;
import gptoss.runtime.engine.Engine;
import gptoss.runtime.engine.Placement;
import gptoss.runtime.engine.Sequence;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Where prompt processing spends its time: one prefill of a random prompt on the CPU backend with per-kernel
 * timings, after a warm-up prefill that compiles the kernels (so, unlike {@code gptoss run --profile-kernels},
 * no JIT warm-up is counted; {@code gptoss bench --profile-kernels} shows the generation phase only).
 * Usage: {@code PrefillProfile MODEL_DIR [PROMPT_TOKENS=4096] [CHUNK=512] [THREADS=2] [REPETITIONS=1]}.
 */
public final class PrefillProfile {
    private PrefillProfile() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int tokens = args.length > 1 ? Integer.parseInt(args[1]) : 4096, chunk = args.length > 2 ? Integer.parseInt(args[2]) : 512;
        int threads = args.length > 3 ? Integer.parseInt(args[3]) : 2, repetitions = args.length > 4 ? Integer.parseInt(args[4]) : 1;
        try (Checkpoint ckpt = Checkpoint.open(dir); WorkerPool pool = new WorkerPool(threads)) {
            ModelConfig c = ckpt.config();
            Backend backend = new CpuBackend(c, ckpt.weights(), pool, true);
            Engine engine = new Engine(c, ckpt.weights(), Placement.single(backend, c), tokens + 1, chunk);
            SplittableRandom random = new SplittableRandom(1);
            int[] prompt = new int[tokens];
            for (int i = 0; i < tokens; i++) prompt[i] = random.nextInt(c.vocabSize());
            float[] logits = new float[c.vocabSize()];
            try (Sequence warm = engine.newSequence()) { // compiles the kernels, pages the weights in
                engine.forward(warm, java.util.Arrays.copyOf(prompt, Math.min(tokens, 2 * chunk)), false, logits);
            }
            for (int r = 0; r < repetitions; r++) {
                backend.drainKernelTimings();
                long start = System.nanoTime();
                try (Sequence seq = engine.newSequence()) {
                    engine.forward(seq, prompt, false, logits);
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                Map<String, Backend.KernelTiming> timings = backend.drainKernelTimings();
                long total = timings.values().stream().mapToLong(Backend.KernelTiming::nanos).sum();
                System.out.printf(Locale.ROOT, "prefill of %d tokens in chunks of %d, %d threads: %.2f s = %.1f tokens/s%n",
                        tokens, chunk, threads, seconds, tokens / seconds);
                timings.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue().nanos(), a.getValue().nanos()))
                        .forEach(e -> System.out.printf(Locale.ROOT, "  %-24s %9.1f ms %5.1f %%%n", e.getKey(),
                                e.getValue().nanos() / 1e6, 100.0 * e.getValue().nanos() / total));
            }
        }
    }
}
