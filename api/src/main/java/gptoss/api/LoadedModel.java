package gptoss.api;

import gptoss.measure.ProcessMemory;
import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.config.ModelConfig;
import gptoss.runtime.backend.Backend;
import gptoss.runtime.backend.BackendProvider;
import gptoss.runtime.backend.BackendRequest;
import gptoss.runtime.backend.Shard;
import gptoss.runtime.engine.Engine;
import gptoss.runtime.engine.Placement;
import gptoss.runtime.placement.DeviceSpec;
import gptoss.runtime.placement.MemoryModel;
import gptoss.runtime.placement.MemoryPlanner;
import gptoss.runtime.placement.ModelFootprint;
import gptoss.runtime.placement.PlacementFactory;
import gptoss.runtime.placement.PlacementPlan;
import gptoss.runtime.placement.PlanReport;
import gptoss.runtime.placement.PlanSettings;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A checkpoint opened and wired to an engine, per {@link GptOssOptions}. Applications use {@link GptOss}, which
 * puts a scheduler in front of this engine; measuring tools (bench, logits, profile) drive the engine directly.
 */
public final class LoadedModel implements AutoCloseable {
    private final Checkpoint checkpoint;
    private final Engine engine;
    private final boolean profileKernels;

    private LoadedModel(Checkpoint checkpoint, Engine engine, boolean profileKernels) {
        this.checkpoint = checkpoint;
        this.engine = engine;
        this.profileKernels = profileKernels;
    }

    public static LoadedModel open(Path model, GptOssOptions options) {
        long start = System.nanoTime();
        Checkpoint checkpoint = Checkpoint.open(model);
        try {
            ModelConfig c = checkpoint.config();
            if (options.context() != null && (options.context() < 1 || options.context() > c.maxContext())) {
                throw new IllegalArgumentException("context " + options.context() + " must be in 1.." + c.maxContext());
            }
            Placement placement;
            int context;
            if (options.devices() != null || options.placement() != null) {
                PlacementPlan plan = plan(options, checkpoint);
                context = plan.settings().context();
                placement = PlacementFactory.create(plan, checkpoint.weights(), options.threadCount(), options.profileKernels());
                if (!options.quiet()) System.err.print("placement over " + plan.devices().size() + " device(s):\n" + PlanReport.brief(plan));
            } else {
                BackendProvider provider = BackendProvider.named(options.backend());
                String unavailable = provider.unavailableReason();
                if (unavailable != null) throw new IllegalStateException("backend " + provider.name() + " unavailable: " + unavailable);
                Backend backend = provider.create(new BackendRequest(c, checkpoint.weights(), options.device(), options.threadCount(),
                        Shard.all(c), options.profileKernels()));
                placement = Placement.single(backend, c);
                context = options.context() != null ? options.context() : c.maxContext();
            }
            Engine engine = new Engine(c, checkpoint.weights(), placement, context, options.prefillChunk());
            if (!options.quiet()) System.err.printf(Locale.ROOT, "loaded %s (%s layout, %d layers, %d experts, %.2f GiB mapped) in %d ms%n",
                    checkpoint.directory(), checkpoint.layout().name().toLowerCase(Locale.ROOT).replace('_', ' '),
                    c.numLayers(), c.numExperts(), checkpoint.totalBytes() / (double) (1L << 30),
                    (System.nanoTime() - start) / 1_000_000);
            return new LoadedModel(checkpoint, engine, options.profileKernels());
        } catch (RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    /** The plan given by --placement, or made by the planner for --devices. */
    private static PlacementPlan plan(GptOssOptions options, Checkpoint checkpoint) {
        if (options.devices() != null && options.placement() != null) throw new IllegalArgumentException("give --devices or --placement, not both");
        ModelConfig c = checkpoint.config();
        ModelFootprint footprint = ModelFootprint.of(c, checkpoint.weights());
        int requested = options.context() != null ? options.context() : 0;
        if (options.placement() != null) return PlacementPlan.read(options.placement(), c, footprint, requested);
        PlanSettings settings = new PlanSettings(requested > 0 ? requested : c.maxContext(), 1, options.prefillChunk(),
                PlanSettings.KvPrecision.FP32, PlanSettings.Split.LAYER, PlanSettings.DEFAULT_RESERVE);
        List<DeviceSpec> devices = PlacementFactory.withBackendMemory(DeviceSpec.parseList(options.devices()), BackendProvider::named);
        return MemoryPlanner.plan(new MemoryModel(c, footprint, settings), devices, null);
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

    /** One line on memory: Java heap in use, process resident set, and the bytes of weights mapped from disk. */
    public String memoryReport() {
        long heap = ProcessMemory.heapUsedBytes();
        long rss = ProcessMemory.residentBytes();
        return String.format(Locale.ROOT, "memory: heap used %.1f MiB, resident %s, weights mapped %.2f GiB (not on the heap)",
                heap / 1048576.0, rss < 0 ? "unknown" : String.format(Locale.ROOT, "%.2f GiB", rss / (double) (1L << 30)),
                checkpoint.totalBytes() / (double) (1L << 30));
    }

    /** Prints per-kernel timings of every backend (when --profile-kernels was given). */
    public void reportKernelTimings() {
        if (!profileKernels) return;
        for (Backend b : engine.placement().backends()) {
            var timings = b.drainKernelTimings();
            if (timings.isEmpty()) {
                System.err.println(b.name() + ": no kernel timings recorded by this backend");
                continue;
            }
            System.err.printf(Locale.ROOT, "%-28s %8s %12s %10s%n", b.name() + " kernel", "calls", "total ms", "mean us");
            timings.entrySet().stream().sorted((a, z) -> Long.compare(z.getValue().nanos(), a.getValue().nanos()))
                    .forEach(e -> System.err.printf(Locale.ROOT, "%-28s %8d %12.3f %10.1f%n", e.getKey(), e.getValue().calls(),
                            e.getValue().nanos() / 1e6, e.getValue().nanos() / 1e3 / Math.max(1, e.getValue().calls())));
        }
    }

    /** Prints the rows that crossed between devices (when the placement spans several). */
    public void reportTransfers() {
        if (engine.placement().backends().size() > 1) System.err.print(engine.transfers().report(engine.placement()));
    }

    @Override
    public void close() {
        reportTransfers();
        reportKernelTimings();
        engine.close();
        checkpoint.close();
    }
}
