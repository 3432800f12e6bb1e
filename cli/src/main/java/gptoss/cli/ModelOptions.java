package gptoss.cli;

import gptoss.api.GptOss;
import gptoss.api.GptOssOptions;
import gptoss.api.LoadedModel;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Options every command that runs a model shares. */
public final class ModelOptions {
    @Option(names = "--model", paramLabel = "DIR",
            description = "Checkpoint folder (Hugging Face or original/ layout), a .gguf file or a folder holding one. "
                    + "Default: a generated synthetic tiny model.")
    Path model;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads (default: all cores).")
    Integer threads;

    @Option(names = "--context", paramLabel = "N", description = "Context limit in tokens (default: the model's).")
    Integer context;

    @Option(names = "--prefill-chunk", paramLabel = "N", defaultValue = "512",
            description = "Prompt tokens processed per forward chunk (default: ${DEFAULT-VALUE}).")
    int prefillChunk;

    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "cpu|tornado",
            description = "Backend that runs the model (default: ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--device", defaultValue = "0", paramLabel = "N", description = "Device index of the backend (default: ${DEFAULT-VALUE}).")
    int device;

    @Option(names = "--devices", paramLabel = "LIST",
            description = "Spread the model over devices as 'gptoss plan' would, e.g. cpu:0=8GiB,cpu:1=8GiB or "
                    + "tornado:0=24GiB,cpu=64GiB (replaces --backend/--device).")
    String devices;

    @Option(names = "--placement", paramLabel = "FILE.json", description = "Run the placement written by 'gptoss plan --json'.")
    Path placement;

    @Option(names = "--profile-kernels", description = "Print per-kernel timings at the end (backends that record them).")
    boolean profileKernels;

    /** The model folder to open: the given one or the embedded default. */
    public Path modelPath() {
        return model != null ? model : DefaultModel.path();
    }

    /** The Java API's options for these flags. */
    public GptOssOptions options() {
        return GptOssOptions.defaults().withBackend(backend, device).withThreads(threads).withContext(context)
                .withPrefillChunk(prefillChunk).withPlacement(devices, placement).withProfileKernels(profileKernels);
    }

    /** The checkpoint wired to an engine, for commands that drive the engine themselves (bench, logits, profile). */
    public LoadedModel load() {
        return LoadedModel.open(modelPath(), options());
    }

    /** The checkpoint behind the Java API (a scheduler in front of the engine). */
    public GptOss open() {
        return GptOss.open(modelPath(), options());
    }

    public int threads() {
        return threads != null ? threads : Runtime.getRuntime().availableProcessors();
    }
}
