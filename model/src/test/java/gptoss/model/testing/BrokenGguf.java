package gptoss.model.testing;

import gptoss.model.gguf.GgufExport;
import gptoss.model.synth.SyntheticGguf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** Small GGUF checkpoints and copies of them broken in one way each, for the error-reporting tests. */
public final class BrokenGguf {
    private BrokenGguf() {
    }

    /** Ways to break a GGUF file, and the words the one-line error must contain. */
    public enum Damage {
        BAD_MAGIC("bad magic"),
        TRUNCATED_HEADER("truncated"),
        TRUNCATED_DATA("out of range"),
        WRONG_TENSOR_COUNT("tensor count"),
        WRONG_METADATA_COUNT("metadata count"),
        UNKNOWN_TENSOR_TYPE("ggml type 12 (Q4_K) is not supported"),
        DATA_OUT_OF_RANGE("out of range"),
        MISSING_KEY("missing metadata key 'gpt-oss.expert_count'"),
        MISSING_TENSOR("missing tensor 'output.weight'"),
        WRONG_ARCHITECTURE("is not gpt-oss");

        public final String message;

        Damage(String message) {
            this.message = message;
        }
    }

    /** A valid GGUF of {@link TestModels#small()} (about 0.3 MB). */
    public static Path valid(Path dir) {
        try {
            return SyntheticGguf.write(dir.resolve("small.gguf"), TestModels.small(), 5, GgufExport.DenseType.BF16, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A copy of {@code valid} with {@code damage} done to it. */
    public static Path broken(Path valid, Damage damage, Path dir) {
        try {
            byte[] b = Files.readAllBytes(valid);
            ByteBuffer le = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            switch (damage) {
                case BAD_MAGIC -> b[0] = 'X';
                case TRUNCATED_HEADER -> b = Arrays.copyOf(b, 200);
                case TRUNCATED_DATA -> b = Arrays.copyOf(b, b.length - 1000);
                case WRONG_TENSOR_COUNT -> le.putLong(8, 1L << 40);
                case WRONG_METADATA_COUNT -> le.putLong(16, 1L << 50);
                case UNKNOWN_TENSOR_TYPE -> le.putInt(afterName(b, "output_norm.weight") + 4 + 8, 12); // n_dims, 1 dim, type
                case DATA_OUT_OF_RANGE -> le.putLong(afterName(b, "output.weight") + 4 + 16 + 4, 1L << 32); // n_dims, 2 dims, type, offset
                case MISSING_KEY -> replace(b, "gpt-oss.expert_count", "gpt-oss.expert_counX");
                case MISSING_TENSOR -> replace(b, "\u0000output.weight", "\u0000output.weighX");
                case WRONG_ARCHITECTURE -> b[afterName(b, "gpt-oss") - 1] = 'X'; // the value of general.architecture
            }
            Path out = dir.resolve(damage.name().toLowerCase() + ".gguf");
            Files.write(out, b);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Position just after the first length-prefixed string {@code name} (a tensor name or a string value). */
    private static int afterName(byte[] b, String name) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        byte[] prefixed = ByteBuffer.allocate(8 + n.length).order(ByteOrder.LITTLE_ENDIAN).putLong(n.length).put(n).array();
        int at = indexOf(b, prefixed);
        if (at < 0) throw new IllegalStateException(name + " not found");
        return at + prefixed.length;
    }

    private static void replace(byte[] b, String from, String to) {
        byte[] f = from.getBytes(StandardCharsets.UTF_8), t = to.getBytes(StandardCharsets.UTF_8);
        int at = indexOf(b, f);
        if (at < 0) throw new IllegalStateException(from + " not found");
        System.arraycopy(t, 0, b, at, t.length);
    }

    private static int indexOf(byte[] b, byte[] pattern) {
        outer:
        for (int i = 0; i + pattern.length <= b.length; i++) {
            for (int j = 0; j < pattern.length; j++) if (b[i + j] != pattern[j]) continue outer;
            return i;
        }
        return -1;
    }
}
