package gptoss.cli;

import gptoss.model.npy.Npy;
import gptoss.model.testing.BrokenGguf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** synth --format gguf, --model with a .gguf file or a folder holding one, and one-line errors for damaged files. */
class GgufCommandsTest {
    @TempDir
    Path dir;

    @Test
    void synthWritesGgufThatLogitsReadsLikeTheSafetensorsOfTheSameSeed() {
        CliRunner.Run s = CliRunner.run("synth", "--preset", "tiny", "--seed", "4", "--out", dir.resolve("st").toString());
        assertEquals(0, s.exitCode(), s.err());
        CliRunner.Run g = CliRunner.run("synth", "--preset", "tiny", "--seed", "4", "--format", "gguf", "--out", dir.resolve("gg").toString());
        assertEquals(0, g.exitCode(), g.err());
        assertTrue(Files.isRegularFile(dir.resolve("gg/model.gguf")), "--out DIR writes DIR/model.gguf");
        for (String model : new String[]{"st", "gg", "gg/model.gguf"}) {
            CliRunner.Run r = CliRunner.run("logits", "--model", dir.resolve(model).toString(), "--tokens", "1,2,3,200000",
                    "--out", dir.resolve(model.replace('/', '_') + ".npy").toString(), "--threads", "2");
            assertEquals(0, r.exitCode(), model + ": " + r.err());
        }
        float[] a = Npy.read(dir.resolve("st.npy")).toFloats(), b = Npy.read(dir.resolve("gg.npy")).toFloats();
        float[] c = Npy.read(dir.resolve("gg_model.gguf.npy")).toFloats();
        assertEquals(a.length, b.length);
        float worst = 0;
        for (int i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
        assertTrue(worst <= 1e-5, "safetensors and GGUF logits differ by " + worst);
        // The same checkpoint (the JIT's state can change the lane order of a sum, hence no bit equality).
        float same = 0;
        for (int i = 0; i < b.length; i++) same = Math.max(same, Math.abs(b[i] - c[i]));
        assertTrue(same <= 1e-5, "folder and file differ by " + same);
    }

    @Test
    void synthGgufWithQ8_0DenseIsSmallerAndRuns() throws Exception {
        CliRunner.Run g = CliRunner.run("synth", "--preset", "tiny", "--format", "gguf", "--dense-type", "q8_0", "--out", dir.resolve("q8.gguf").toString());
        assertEquals(0, g.exitCode(), g.err());
        CliRunner.Run b = CliRunner.run("synth", "--preset", "tiny", "--format", "gguf", "--dense-type", "bf16", "--out", dir.resolve("bf16.gguf").toString());
        assertEquals(0, b.exitCode(), b.err());
        assertTrue(Files.size(dir.resolve("q8.gguf")) < 0.6 * Files.size(dir.resolve("bf16.gguf")), "Q8_0 dense: about 8.5 bits a weight");
        CliRunner.Run r = CliRunner.run("generate", "--model", dir.resolve("q8.gguf").toString(), "--tokens", "1,2,3", "--max-tokens", "3",
                "--print-ids", "--threads", "2");
        assertEquals(0, r.exitCode(), r.err());
        CliRunner.Run bad = CliRunner.run("synth", "--format", "gguf", "--dense-type", "q4_k", "--out", dir.resolve("x.gguf").toString());
        assertEquals(1, bad.exitCode());
        assertTrue(bad.err().contains("unknown dense type 'q4_k'"), bad.err());
    }

    @ParameterizedTest
    @EnumSource(BrokenGguf.Damage.class)
    void damagedGgufGivesOneLineAndExitCode1(BrokenGguf.Damage damage) {
        Path broken = BrokenGguf.broken(BrokenGguf.valid(dir), damage, dir);
        CliRunner.Run r = CliRunner.run("logits", "--model", broken.toString(), "--tokens", "1,2", "--out", dir.resolve("x.npy").toString());
        assertEquals(1, r.exitCode(), damage + ": " + r.err());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), "one line: " + err);
        assertTrue(err.startsWith("error: " + broken.getFileName()), err);
        assertTrue(err.contains(damage.message), err);
    }
}
