package gptoss.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.npy.Npy;
import gptoss.model.testing.GoldenCase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI contract of logits, generate, synth and errors, checked against the golden case. */
class CoreCommandsTest {
    @TempDir
    Path dir;

    static String golden() {
        return GoldenCase.caseA().toString();
    }

    static String promptIds() {
        return Arrays.stream(GoldenCase.golden("prompt_tokens.npy").toInts()).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    @Test
    void logitsWritesEveryPositionAsNpyAndTheRouterTrace() throws IOException {
        Path out = dir.resolve("logits.npy"), trace = dir.resolve("trace.jsonl");
        CliRunner.Run r = CliRunner.run("logits", "--model", golden(), "--tokens", promptIds(), "--out", out.toString(),
                "--router-trace", trace.toString(), "--threads", "2");
        assertEquals(0, r.exitCode(), r.err());
        Npy.Array a = Npy.read(out);
        assertArrayEquals(new int[]{24, 8192}, a.shape());
        float[] expected = GoldenCase.golden("logits_prompt_f32.npy").toFloats(), actual = a.toFloats();
        float worst = 0;
        for (int i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        assertTrue(worst <= 1e-3, "max |logit - golden| = " + worst);

        List<String> lines = Files.readAllLines(trace);
        assertEquals(4 * 24, lines.size());
        int[] ids = GoldenCase.golden("router_topk_ids_prompt.npy").toInts(); // [L, T, k]
        int[] prompt = GoldenCase.golden("prompt_tokens.npy").toInts();
        ObjectMapper json = new ObjectMapper();
        for (String line : lines) {
            JsonNode n = json.readTree(line);
            int layer = n.get("layer").asInt(), pos = n.get("pos").asInt();
            assertEquals(prompt[pos], n.get("token").asInt());
            int[] experts = {n.get("experts").get(0).asInt(), n.get("experts").get(1).asInt()};
            assertArrayEquals(Arrays.copyOfRange(ids, (layer * 24 + pos) * 2, (layer * 24 + pos) * 2 + 2), experts, line);
            assertEquals(1.0, n.get("weights").get(0).asDouble() + n.get("weights").get(1).asDouble(), 1e-6);
        }
    }

    @Test
    void generatePrintsTheGreedyContinuationOnOneLine() {
        CliRunner.Run r = CliRunner.run("generate", "--model", golden() + "/original", "--tokens", promptIds(),
                "--max-tokens", "16", "--temperature", "0", "--print-ids");
        assertEquals(0, r.exitCode(), r.err());
        String expected = Arrays.stream(GoldenCase.golden("greedy_tokens.npy").toInts()).mapToObj(Integer::toString)
                .collect(Collectors.joining(" "));
        assertEquals(expected + System.lineSeparator(), r.out());
    }

    @Test
    void generateWithoutPrintIdsPrintsTheDecodedText() {
        String[] args = {"generate", "--model", golden(), "--tokens", promptIds(), "--max-tokens", "6"};
        CliRunner.Run text = CliRunner.run(args);
        assertEquals(0, text.exitCode(), text.err());
        int[] greedy = Arrays.copyOf(GoldenCase.golden("greedy_tokens.npy").toInts(), 6);
        assertEquals(gptoss.model.tokenizer.HarmonyTokenizer.instance().decode(greedy) + System.lineSeparator(), text.out());
    }

    @Test
    void synthWritesACheckpointThatLoads() {
        Path out = dir.resolve("tiny");
        CliRunner.Run r = CliRunner.run("synth", "--out", out.toString(), "--preset", "tiny", "--seed", "3", "--shards", "2");
        assertEquals(0, r.exitCode(), r.err());
        try (Checkpoint c = Checkpoint.open(out)) {
            assertEquals(201088, c.config().vocabSize());
            assertEquals(2, c.config().numLayers());
        }
        CliRunner.Run g = CliRunner.run("generate", "--model", out.toString(), "--tokens", "200006,1428,200008", "--max-tokens", "3");
        assertEquals(0, g.exitCode(), g.err());
        assertEquals(3, g.out().trim().split(" ").length);
    }

    @Test
    void configOnlyPresetsWriteJustTheConfig() throws IOException {
        Path out = dir.resolve("120b");
        assertEquals(0, CliRunner.run("synth", "--out", out.toString(), "--preset", "120b").exitCode());
        assertTrue(Files.readString(out.resolve("config.json")).contains("\"num_local_experts\" : 128"));
        assertTrue(Files.notExists(out.resolve("model.safetensors")));
    }

    @Test
    void errorsAreOneLineOnStderrWithANonZeroExitCode() {
        assertError(CliRunner.run("logits", "--model", dir.resolve("missing").toString(), "--tokens", "1", "--out", "x.npy"),
                "model directory not found");
        assertError(CliRunner.run("generate", "--model", golden(), "--tokens", "1,x,3"), "'x' is not a token id");
        assertError(CliRunner.run("generate", "--model", golden(), "--tokens", "1,9000"), "token id 9000 at index 1 is outside the vocabulary (0..8191)");
        assertError(CliRunner.run("generate", "--model", golden(), "--tokens", "1", "--context", "999999999"), "context 999999999 must be in 1..131072");
        assertError(CliRunner.run("synth", "--out", dir.toString(), "--preset", "huge"), "unknown preset 'huge'");
        CliRunner.Run usage = CliRunner.run("logits", "--bogus");
        assertEquals(2, usage.exitCode());
    }

    static void assertError(CliRunner.Run r, String expected) {
        assertEquals(1, r.exitCode(), r.err());
        List<String> errorLines = r.err().lines().filter(l -> l.startsWith("error:")).toList();
        assertEquals(1, errorLines.size(), r.err());
        assertTrue(errorLines.get(0).contains(expected), errorLines.get(0));
    }
}
