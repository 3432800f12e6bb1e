package gptoss.cli;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.config.ModelConfig;
import gptoss.model.synth.SynthPreset;
import gptoss.runtime.backend.BackendProvider;
import gptoss.runtime.placement.DeviceSpec;
import gptoss.runtime.placement.ExpertProfile;
import gptoss.runtime.placement.MemoryModel;
import gptoss.runtime.placement.MemorySize;
import gptoss.runtime.placement.MemoryPlanner;
import gptoss.runtime.placement.ModelFootprint;
import gptoss.runtime.placement.PlacementFactory;
import gptoss.runtime.placement.PlacementPlan;
import gptoss.runtime.placement.PlanReport;
import gptoss.runtime.placement.PlanSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/** {@code gptoss plan}: where every layer and expert of a model goes on a set of devices, and the memory it takes. */
@Command(name = "plan", mixinStandardHelpOptions = true,
        description = {"Place a model's layers and experts on devices and print the memory each device needs.",
                "Layers are pipelined over the accelerators; experts that do not fit there go to other devices or to",
                "CPU instances (host memory). --json writes a plan that --placement FILE.json accepts."})
final class PlanCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "DIR", description = "Checkpoint folder (exact tensor sizes; config.json alone is enough).")
    Path model;

    @Option(names = "--preset", paramLabel = "NAME", description = "A known config instead of --model: 20b, 120b, bench-m, tiny.")
    String preset;

    @Option(names = "--devices", required = true, paramLabel = "LIST",
            description = "Devices and their memory, e.g. tornado:0=24GiB,tornado:1=24GiB,cpu=64GiB (kind[:index][=size]; "
                    + "a missing size is asked from the backend).")
    String devices;

    @Option(names = "--context", paramLabel = "N", description = "Context per sequence the KV cache must hold (default: the model's).")
    Integer context;

    @Option(names = "--sequences", defaultValue = "1", paramLabel = "N", description = "Sequences decoded together (default: ${DEFAULT-VALUE}).")
    int sequences;

    @Option(names = "--prefill-chunk", defaultValue = "512", paramLabel = "N", description = "Rows per forward step (default: ${DEFAULT-VALUE}).")
    int prefillChunk;

    @Option(names = "--kv-precision", defaultValue = "fp32", paramLabel = "fp32|bf16",
            description = "KV cache element type to account (the CPU backend stores fp32) (default: ${DEFAULT-VALUE}).")
    String kvPrecision;

    @Option(names = "--split", defaultValue = "layer", paramLabel = "layer|expert",
            description = "layer: experts stay with their layer (pipeline); expert: each layer's experts are dealt over all "
                    + "compute devices (expert parallel) (default: ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--reserve", defaultValue = "512MiB", paramLabel = "SIZE",
            description = "Memory kept free on every accelerator for its runtime (default: ${DEFAULT-VALUE}).")
    String reserve;

    @Option(names = "--profile", paramLabel = "FILE", description = "Expert-activation profile (summary.json): hottest experts go to the fastest device.")
    Path profile;

    @Option(names = "--json", description = "Print the plan as JSON (for --placement) instead of the table.")
    boolean json;

    @Option(names = "--out", paramLabel = "FILE.json", description = "Also write the JSON plan to this file.")
    Path out;

    @Override
    public Integer call() throws IOException {
        if ((model == null) == (preset == null)) throw new IllegalArgumentException("give either --model DIR or --preset NAME");
        ModelConfig config;
        ModelFootprint footprint;
        if (preset != null) {
            config = SynthPreset.parse(preset).config();
            footprint = ModelFootprint.of(config);
        } else if (hasWeights(model)) {
            try (Checkpoint ckpt = Checkpoint.open(model)) {
                config = ckpt.config();
                footprint = ModelFootprint.of(config, ckpt.weights());
            }
        } else {
            Path json = Files.isRegularFile(model.resolve("config.json")) ? model.resolve("config.json") : model.resolve("original/config.json");
            if (!Files.isRegularFile(json)) throw new IllegalArgumentException(model + ": no config.json");
            config = ModelConfig.read(json);
            footprint = ModelFootprint.of(config);
        }
        int ctx = context != null ? context : config.maxContext();
        if (ctx < 1 || ctx > config.maxContext()) throw new IllegalArgumentException("--context " + ctx + " must be in 1.." + config.maxContext());
        PlanSettings settings = new PlanSettings(ctx, sequences, prefillChunk, PlanSettings.KvPrecision.parse(kvPrecision),
                PlanSettings.Split.parse(split), MemorySize.parse(reserve));
        List<DeviceSpec> list = PlacementFactory.withBackendMemory(DeviceSpec.parseList(devices), BackendProvider::named);
        ExpertProfile routing = profile == null ? null : ExpertProfile.read(profile, config);
        PlacementPlan plan = MemoryPlanner.plan(new MemoryModel(config, footprint, settings), list, routing);
        if (out != null) {
            Files.writeString(out, plan.toJson());
            System.err.println("wrote " + out);
        }
        System.out.print(json ? plan.toJson() : PlanReport.text(plan, routing));
        return 0;
    }

    /** Whether {@code dir} (or its original/ folder) holds safetensors weights. */
    static boolean hasWeights(Path dir) throws IOException {
        if (Files.isRegularFile(dir)) return true; // a GGUF file
        for (Path d : new Path[]{dir, dir.resolve("original")}) {
            if (!Files.isDirectory(d)) continue;
            try (Stream<Path> files = Files.list(d)) {
                if (files.anyMatch(p -> p.getFileName().toString().endsWith(".safetensors") || p.getFileName().toString().endsWith(".gguf"))) return true;
            }
        }
        return false;
    }
}
