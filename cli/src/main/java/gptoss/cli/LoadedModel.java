package gptoss.cli;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.config.ModelConfig;
import gptoss.runtime.cpu.CpuBackend;
import gptoss.runtime.cpu.WorkerPool;
import gptoss.runtime.engine.Engine;
import gptoss.runtime.engine.Placement;

import java.util.Locale;

/** A checkpoint opened and wired to an engine, per the shared {@link ModelOptions}. */
public final class LoadedModel implements AutoCloseable {
    private final Checkpoint checkpoint;
    private final WorkerPool pool;
    private final Engine engine;

    private LoadedModel(Checkpoint checkpoint, WorkerPool pool, Engine engine) {
        this.checkpoint = checkpoint;
        this.pool = pool;
        this.engine = engine;
    }

    public static LoadedModel open(ModelOptions options) {
        long start = System.nanoTime();
        Checkpoint checkpoint = Checkpoint.open(options.modelPath());
        try {
            ModelConfig c = checkpoint.config();
            WorkerPool pool = new WorkerPool(options.threads());
            CpuBackend backend = new CpuBackend(c, checkpoint.weights(), pool);
            int context = options.context != null ? options.context : c.maxContext();
            if (context < 1 || context > c.maxContext()) {
                throw new IllegalArgumentException("--context " + context + " must be in 1.." + c.maxContext());
            }
            Engine engine = new Engine(c, checkpoint.weights(), Placement.single(backend, c), context, options.prefillChunk);
            System.err.printf(Locale.ROOT, "loaded %s (%s layout, %d layers, %d experts, %.2f GiB mapped) in %d ms%n",
                    checkpoint.directory(), checkpoint.layout().name().toLowerCase(Locale.ROOT).replace('_', ' '),
                    c.numLayers(), c.numExperts(), checkpoint.store().totalBytes() / (double) (1L << 30),
                    (System.nanoTime() - start) / 1_000_000);
            return new LoadedModel(checkpoint, pool, engine);
        } catch (RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    public Checkpoint checkpoint() {
        return checkpoint;
    }

    public ModelConfig config() {
        return checkpoint.config();
    }

    public Engine engine() {
        return engine;
    }

    @Override
    public void close() {
        engine.close();
        pool.close();
        checkpoint.close();
    }
}
