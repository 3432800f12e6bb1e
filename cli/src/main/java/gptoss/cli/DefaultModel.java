package gptoss.cli;

import gptoss.model.synth.SynthPreset;
import gptoss.model.synth.SyntheticCheckpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The model used when none is given: a synthetic {@code tiny} checkpoint (random weights, the real vocabulary),
 * generated once into {@code $GPTOSS_HOME/models/tiny-seed0} (default {@code ~/.cache/gptoss}).
 */
final class DefaultModel {
    static final long SEED = 0;

    private DefaultModel() {
    }

    static Path home() {
        String env = System.getenv("GPTOSS_HOME");
        return env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "gptoss");
    }

    /** The default checkpoint, generated on first use. */
    static Path path() {
        Path dir = home().resolve("models").resolve("tiny-seed" + SEED);
        if (Files.isRegularFile(dir.resolve("model.safetensors"))) return dir;
        System.err.println("note: no --model given; generating the embedded default (synthetic tiny checkpoint, random weights) in " + dir);
        try {
            Path tmp = Files.createDirectories(dir.getParent()).resolve(dir.getFileName() + ".tmp-" + ProcessHandle.current().pid());
            SyntheticCheckpoint.write(tmp, SynthPreset.TINY.config(), SEED, SyntheticCheckpoint.Layout.HUGGING_FACE, 1, false, null);
            try {
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException raced) {
                if (!Files.isRegularFile(dir.resolve("model.safetensors"))) throw raced;
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot generate the default model in " + dir, e);
        }
    }
}
