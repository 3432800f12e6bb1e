package gptoss.cli;

import gptoss.model.config.ModelConfig;
import gptoss.model.gguf.GgufExport;
import gptoss.model.synth.SynthPreset;
import gptoss.model.synth.SyntheticCheckpoint;
import gptoss.model.synth.SyntheticGguf;
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

    @Option(names = "--format", defaultValue = "safetensors", paramLabel = "safetensors|gguf",
            description = "safetensors (a folder), or one GGUF file in llama.cpp's gpt-oss layout (--out FILE.gguf, or DIR for DIR/model.gguf) "
                    + "holding the same weights as safetensors of the same seed (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--dense-type", defaultValue = "bf16", paramLabel = "bf16|f16|q8_0|f32",
            description = "GGUF only: type of the dense matrices (embedding, attention, unembedding); experts stay MXFP4, "
                    + "norms, biases and router F32 (default: ${DEFAULT-VALUE}).")
    String denseType;

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
        if (format.equalsIgnoreCase("gguf")) return writeGguf(p, config, writeWeights);
        if (!format.equalsIgnoreCase("safetensors")) throw new IllegalArgumentException("--format must be safetensors or gguf, got '" + format + "'");
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

    private int writeGguf(SynthPreset p, ModelConfig config, boolean writeWeights) throws Exception {
        GgufExport.DenseType dense = GgufExport.DenseType.parse(denseType);
        if (!writeWeights) throw new IllegalArgumentException("--format gguf writes weights and metadata together (drop --no-weights)");
        if (!layout.equals("hf") || shards != 1) throw new IllegalArgumentException("--layout and --shards apply to safetensors only");
        long total = SyntheticCheckpoint.tensorBytes(config) + GgufExport.tensorBytes(config, dense);
        AtomicLong done = new AtomicLong();
        AtomicLong lastReport = new AtomicLong(System.nanoTime());
        long start = System.nanoTime();
        java.nio.file.Path file = SyntheticGguf.write(out, config, seed, dense, bytes -> {
            long d = done.addAndGet(bytes);
            long now = System.nanoTime();
            long last = lastReport.get();
            if (now - last > 1_000_000_000L && lastReport.compareAndSet(last, now)) {
                System.err.printf(Locale.ROOT, "\rwriting %s: %5.1f%%", SyntheticGguf.file(out), 100.0 * d / total);
            }
        });
        System.err.printf(Locale.ROOT, "%swrote GGUF of preset %s (%d layers, %d experts, vocab %d, dense %s, experts MXFP4) to %s: %.2f GiB in %.1f s%n",
                done.get() > 0 ? "\r" : "", p.cliName(), config.numLayers(), config.numExperts(), config.vocabSize(),
                dense.name().toLowerCase(Locale.ROOT), file, java.nio.file.Files.size(file) / (double) (1L << 30),
                (System.nanoTime() - start) / 1e9);
        return 0;
    }
}
