package gptoss.cli;

import gptoss.model.config.ModelConfig;
import gptoss.model.synth.SynthPreset;
import gptoss.model.synth.SyntheticCheckpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;

/** {@code gptoss synth}: write a random checkpoint. */
@Command(name = "synth", mixinStandardHelpOptions = true,
        description = "Write a random gpt-oss checkpoint (BF16 dense, MXFP4 experts) that loads like a real one.")
final class SynthCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder.")
    Path out;

    @Option(names = "--preset", defaultValue = "tiny", paramLabel = "NAME",
            description = "tiny, bench-m (20b shapes, 4 layers), 20b, 120b (default: ${DEFAULT-VALUE}).")
    String preset;

    @Option(names = "--seed", defaultValue = "0", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--layers", paramLabel = "N", description = "Override the number of layers.")
    Integer layers;

    @Option(names = "--experts", paramLabel = "N", description = "Override the number of experts per layer.")
    Integer experts;

    @Option(names = "--weights", negatable = true,
            description = "Write weights (default: yes for tiny and bench-m, config only for 20b and 120b).")
    Boolean weights;

    @Option(names = "--layout", defaultValue = "hf", paramLabel = "hf|original",
            description = "Tensor naming: Hugging Face (model.layers.N.*) or openai original (block.N.*) (default: ${DEFAULT-VALUE}).")
    String layout;

    @Option(names = "--shards", defaultValue = "1", paramLabel = "N",
            description = "Split the weights into N files with a model.safetensors.index.json (default: ${DEFAULT-VALUE}).")
    int shards;

    @Override
    public Integer call() throws Exception {
        SynthPreset p = SynthPreset.parse(preset);
        ModelConfig config = p.config();
        if (layers != null || experts != null) {
            config = config.withShape(layers != null ? layers : config.numLayers(), experts != null ? experts : config.numExperts());
        }
        SyntheticCheckpoint.Layout l = switch (layout) {
            case "hf", "huggingface" -> SyntheticCheckpoint.Layout.HUGGING_FACE;
            case "original" -> SyntheticCheckpoint.Layout.ORIGINAL;
            default -> throw new IllegalArgumentException("--layout must be hf or original, got '" + layout + "'");
        };
        if (shards < 1) throw new IllegalArgumentException("--shards must be >= 1");
        boolean writeWeights = weights != null ? weights : p.weightsByDefault();
        long total = SyntheticCheckpoint.tensorBytes(config);
        AtomicLong done = new AtomicLong();
        AtomicLong lastReport = new AtomicLong(System.nanoTime());
        long start = System.nanoTime();
        SyntheticCheckpoint.write(out, config, seed, l, shards, !writeWeights, bytes -> {
            long d = done.addAndGet(bytes);
            long now = System.nanoTime();
            long last = lastReport.get();
            if (now - last > 1_000_000_000L && lastReport.compareAndSet(last, now)) {
                System.err.printf(Locale.ROOT, "\rwriting %s: %5.1f%% of %.2f GiB", out, 100.0 * d / total, total / (double) (1L << 30));
            }
        });
        System.err.printf(Locale.ROOT, "%swrote %s preset %s (%d layers, %d experts, vocab %d) to %s: %s in %.1f s%n",
                done.get() > 0 ? "\r" : "", writeWeights ? "weights and config of" : "config of", p.cliName(),
                config.numLayers(), config.numExperts(), config.vocabSize(), out,
                writeWeights ? String.format(Locale.ROOT, "%.2f GiB", total / (double) (1L << 30)) : "config.json only",
                (System.nanoTime() - start) / 1e9);
        return 0;
    }
}
