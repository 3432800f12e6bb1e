package gptoss.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sampling flags of generate / run / chat: structured output from outside, determinism, usage errors. */
class SamplingFlagsTest {
    @TempDir
    Path dir;

    Path schemaFile() throws IOException {
        Path p = dir.resolve("record.schema.json");
        try (InputStream in = SamplingFlagsTest.class.getResourceAsStream("/record.schema.json")) {
            Files.write(p, in.readAllBytes());
        }
        return p;
    }

    @Test
    void generateWithAJsonSchemaPrintsOnlyValidJson() throws Exception {
        Path tiny = dir.resolve("tiny");
        assertEquals(0, CliRunner.run("synth", "--out", tiny.toString(), "--preset", "tiny", "--seed", "4").exitCode());
        Path schema = schemaFile();
        JsonNode schemaNode = new ObjectMapper().readTree(schema.toFile());
        for (int seed = 0; seed < 3; seed++) {
            CliRunner.Run r = CliRunner.run("generate", "--model", tiny.toString(), "--tokens", "200006,1428,200008",
                    "--json-schema", schema.toString(), "--print-text", "--temperature", "1", "--seed", String.valueOf(seed),
                    "--max-tokens", "70");
            assertEquals(0, r.exitCode(), r.err());
            assertTrue(r.err().lines().noneMatch(l -> l.contains("generated")), "no statistics with --print-text: " + r.err());
            JsonNode doc = new ObjectMapper().readTree(r.out());
            Set<ValidationMessage> errors = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(schemaNode).validate(doc);
            assertTrue(errors.isEmpty(), r.out() + " → " + errors);
        }
    }

    @Test
    void theSameSeedGivesTheSameTokensOnGoldenCaseA() {
        String[] base = {"generate", "--model", CoreCommandsTest.golden(), "--tokens", CoreCommandsTest.promptIds(), "--max-tokens", "24",
                "--temperature", "1.2", "--top-k", "200", "--top-p", "0.95", "--min-p", "0.001", "--repeat-penalty", "1.1", "--print-ids"};
        CliRunner.Run a = CliRunner.run(concat(base, "--seed", "7"));
        CliRunner.Run b = CliRunner.run(concat(base, "--seed", "7"));
        CliRunner.Run c = CliRunner.run(concat(base, "--seed", "8"));
        assertEquals(0, a.exitCode(), a.err());
        assertEquals(24, a.out().trim().split(" ").length);
        assertEquals(a.out(), b.out());
        assertNotEquals(a.out(), c.out());
    }

    @Test
    void stopStringsEndTheTextBeforeThemselves() {
        // greedy on golden case A: stop at the text of the third generated token, whatever it is
        CliRunner.Run full = CliRunner.run("generate", "--model", CoreCommandsTest.golden(), "--tokens", CoreCommandsTest.promptIds(),
                "--max-tokens", "8", "--print-text");
        assertEquals(0, full.exitCode(), full.err());
        String text = full.out();
        int[] ids = gptoss.model.tokenizer.HarmonyTokenizer.instance().encode(text);
        String stop = gptoss.model.tokenizer.HarmonyTokenizer.instance().decode(new int[]{ids[Math.min(2, ids.length - 1)]});
        CliRunner.Run cut = CliRunner.run("generate", "--model", CoreCommandsTest.golden(), "--tokens", CoreCommandsTest.promptIds(),
                "--max-tokens", "8", "--print-text", "--stop-string", stop);
        assertEquals(0, cut.exitCode(), cut.err());
        assertEquals(text.substring(0, text.indexOf(stop)), cut.out());
    }

    @Test
    void badFlagsAreUsageErrorsNamingTheFlag() throws IOException {
        String golden = CoreCommandsTest.golden(), prompt = "1,2,3";
        Path unsupported = dir.resolve("pattern.json");
        Files.writeString(unsupported, "{\"type\": \"string\", \"pattern\": \"^a+$\"}");
        Path broken = dir.resolve("broken.json");
        Files.writeString(broken, "{\"type\": ");
        List<String[]> cases = List.of(
                new String[]{"--top-p", "0", "--top-p must be in (0, 1]"},
                new String[]{"--top-p", "1.5", "--top-p must be in (0, 1]"},
                new String[]{"--max-tokens", "-1", "--max-tokens must be >= 0"},
                new String[]{"--temperature", "-0.5", "--temperature must be >= 0"},
                new String[]{"--top-k", "-3", "--top-k must be >= 0"},
                new String[]{"--min-p", "1", "--min-p must be in [0, 1)"},
                new String[]{"--repeat-penalty", "0", "--repeat-penalty must be > 0"},
                new String[]{"--presence-penalty", "5", "--presence-penalty must be in [-2, 2]"},
                new String[]{"--logit-bias", "12", "--logit-bias wants ID=BIAS"},
                new String[]{"--json-schema", dir.resolve("missing.json").toString(), "cannot be read"},
                new String[]{"--json-schema", broken.toString(), "cannot be read as JSON"},
                new String[]{"--json-schema", unsupported.toString(), "keyword 'pattern' is not supported"});
        for (String[] c : cases) {
            CliRunner.Run r = CliRunner.run("generate", "--model", golden, "--tokens", prompt, c[0], c[1]);
            assertEquals(2, r.exitCode(), String.join(" ", c) + ": " + r.err());
            List<String> lines = r.err().lines().filter(l -> !l.startsWith("WARNING")).toList();
            assertEquals(1, lines.size(), r.err());
            assertTrue(lines.get(0).startsWith("error: ") && lines.get(0).contains(c[2]), lines.get(0));
        }
        CliRunner.Run run = CliRunner.run("run", "--model", golden, "--prompt", "hi", "--top-p", "0");
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains("--top-p must be in (0, 1]"), run.err());
        CliRunner.Run chat = CliRunner.run("chat", "--model", golden, "--json-schema", unsupported.toString());
        assertEquals(2, chat.exitCode(), chat.err());
    }

    static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
