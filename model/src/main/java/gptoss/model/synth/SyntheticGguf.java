package gptoss.model.synth;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.config.ModelConfig;
import gptoss.model.gguf.GgufExport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.function.LongConsumer;
import java.util.stream.Stream;

/**
 * A random gpt-oss checkpoint as one GGUF file: the very weights {@link SyntheticCheckpoint} writes for the same
 * config and seed (generated into a temporary safetensors folder next to the output, then written through
 * {@link GgufExport}), so a safetensors and a GGUF checkpoint of one seed can be compared through both loaders.
 */
public final class SyntheticGguf {
    private SyntheticGguf() {
    }

    /** The file a GGUF {@code --out} names: itself if it ends in {@code .gguf}, else {@code model.gguf} inside it. */
    public static Path file(Path out) {
        return out.getFileName() != null && out.getFileName().toString().endsWith(".gguf") ? out : out.resolve("model.gguf");
    }

    /**
     * Writes the checkpoint to {@link #file}({@code out}); {@code progress} receives bytes of the temporary
     * safetensors and then of the GGUF written.
     */
    public static Path write(Path out, ModelConfig config, long seed, GgufExport.DenseType dense, LongConsumer progress) throws IOException {
        Path file = file(out).toAbsolutePath();
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling("." + file.getFileName() + ".safetensors-" + ProcessHandle.current().pid());
        try {
            SyntheticCheckpoint.write(tmp, config, seed, SyntheticCheckpoint.Layout.HUGGING_FACE, 1, false, progress);
            try (Checkpoint source = Checkpoint.open(tmp)) {
                GgufExport.write(file, source.config(), source.weights(), dense, "synthetic gpt-oss (seed " + seed + ")", progress);
            }
        } finally {
            deleteTree(tmp);
        }
        return file;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
