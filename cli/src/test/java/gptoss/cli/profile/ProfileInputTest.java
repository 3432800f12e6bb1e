package gptoss.cli.profile;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProfileInputTest {
    @TempDir
    Path dir;

    Path file(String name, String... lines) throws Exception {
        return Files.write(dir.resolve(name), List.of(lines));
    }

    @Test
    void plainTextIsOnePromptPerNonBlankLine() throws Exception {
        List<ProfileInput.Prompt> p = ProfileInput.read(file("corpus.txt", "Hello there", "", "  {not json", "Why is the sky blue?"));
        assertEquals(3, p.size());
        assertEquals(new ProfileInput.TextPrompt(1, "Hello there"), p.get(0));
        assertEquals(new ProfileInput.TextPrompt(3, "  {not json"), p.get(1));
        assertEquals(4, p.get(2).line());
    }

    @Test
    void jsonLinesOfAllThreeKinds() throws Exception {
        Path f = file("in.txt",
                "{\"tokens\": [1, 2, 3]}",
                "",
                "{\"prompt\": \"Explain MoE.\"}",
                "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Hi\"}]}");
        List<ProfileInput.Prompt> p = ProfileInput.read(f);
        assertEquals(3, p.size());
        assertArrayEquals(new int[]{1, 2, 3}, assertInstanceOf(ProfileInput.TokenPrompt.class, p.get(0)).tokens());
        assertEquals(new ProfileInput.TextPrompt(3, "Explain MoE."), p.get(1));
        ProfileInput.ChatPrompt chat = assertInstanceOf(ProfileInput.ChatPrompt.class, p.get(2));
        assertEquals(2, chat.messages());
        assertTrue(chat.request().startsWith("{\"messages\": [{\"role\": \"system\""), chat.request());
        assertEquals(4, chat.line());
    }

    @Test
    void badLinesAreNamed() throws Exception {
        assertError("line 2", file("a.jsonl", "{\"tokens\": [1]}", "{\"tokens\": [1, -4]}"));
        assertError("not valid JSON", file("b.jsonl", "{\"tokens\": [1"));
        assertError("exactly one of", file("c.jsonl", "{\"tokens\": [1], \"prompt\": \"x\"}"));
        assertError("exactly one of", file("d.jsonl", "{\"text\": \"x\"}"));
        assertError("\"role\"", file("e.jsonl", "{\"messages\": [{\"content\": \"x\"}]}"));
        assertError("non-empty", file("f.jsonl", "{\"tokens\": []}"));
        assertError("token id", file("g.jsonl", "{\"tokens\": [1.5]}"));
        assertError("holds no prompts", file("h.txt", "", "   "));
        assertError("no such file", dir.resolve("missing.txt"));
    }

    void assertError(String part, Path f) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ProfileInput.read(f));
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}
