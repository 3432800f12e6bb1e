package gptoss.cli.profile;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The prompts of {@code gptoss profile --input FILE}: plain text, one prompt per non-blank line, or JSON lines
 * (a {@code .jsonl} / {@code .ndjson} file, or any file whose first non-blank line is a JSON object), each one of
 * {@code {"tokens": [ids...]}}, {@code {"prompt": "text"}} or {@code {"messages": [{"role": "...", "content": "..."}]}}.
 */
public final class ProfileInput {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ProfileInput() {
    }

    /** One prompt and the line of the input it came from (1-based). */
    public sealed interface Prompt permits TokenPrompt, TextPrompt, ChatPrompt {
        int line();
    }

    /** Token ids, taken as they are. */
    public record TokenPrompt(int line, int[] tokens) implements Prompt {
    }

    /** Text to render as a user message. */
    public record TextPrompt(int line, String text) implements Prompt {
    }

    /**
     * A conversation to render through Harmony: {@code request} is the line itself, a chat-completions request
     * ({@code messages}, and optionally {@code reasoning_effort}, {@code tools}); {@code messages} counts its messages.
     */
    public record ChatPrompt(int line, String request, int messages) implements Prompt {
    }

    public static List<Prompt> read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("--input: no such file: " + file);
        List<String> lines = Files.readAllLines(file);
        List<Prompt> prompts = isJsonLines(file, lines) ? parseJsonLines(file, lines) : parseText(lines);
        if (prompts.isEmpty()) throw new IllegalArgumentException("--input: " + file + " holds no prompts");
        return prompts;
    }

    static boolean isJsonLines(Path file, List<String> lines) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) return true;
        for (String line : lines) {
            if (line.isBlank()) continue;
            String t = line.strip();
            if (!t.startsWith("{")) return false;
            try {
                return JSON.readTree(t).isObject();
            } catch (JsonProcessingException e) {
                return false;
            }
        }
        return false;
    }

    static List<Prompt> parseText(List<String> lines) {
        List<Prompt> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) if (!lines.get(i).isBlank()) out.add(new TextPrompt(i + 1, lines.get(i)));
        return out;
    }

    static List<Prompt> parseJsonLines(Path file, List<String> lines) {
        List<Prompt> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) continue;
            int lineNo = i + 1;
            String where = file.getFileName() + " line " + lineNo;
            JsonNode node;
            try {
                node = JSON.readTree(lines.get(i));
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException(where + ": not valid JSON: " + e.getOriginalMessage());
            }
            if (node == null || !node.isObject()) throw new IllegalArgumentException(where + ": expected a JSON object");
            int kinds = (node.has("tokens") ? 1 : 0) + (node.has("prompt") ? 1 : 0) + (node.has("messages") ? 1 : 0);
            if (kinds != 1) throw new IllegalArgumentException(where + ": expected exactly one of \"tokens\", \"prompt\", \"messages\"");
            if (node.has("tokens")) out.add(new TokenPrompt(lineNo, tokens(node.get("tokens"), where)));
            else if (node.has("prompt")) {
                JsonNode p = node.get("prompt");
                if (!p.isTextual() || p.asText().isEmpty()) throw new IllegalArgumentException(where + ": \"prompt\" must be a non-empty string");
                out.add(new TextPrompt(lineNo, p.asText()));
            } else out.add(new ChatPrompt(lineNo, lines.get(i).strip(), messages(node.get("messages"), where)));
        }
        return out;
    }

    private static int[] tokens(JsonNode array, String where) {
        if (!array.isArray() || array.isEmpty()) throw new IllegalArgumentException(where + ": \"tokens\" must be a non-empty array of token ids");
        int[] ids = new int[array.size()];
        for (int j = 0; j < ids.length; j++) {
            JsonNode v = array.get(j);
            if (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < 0) {
                throw new IllegalArgumentException(where + ": \"tokens\"[" + j + "] is not a token id: " + v);
            }
            ids[j] = v.asInt();
        }
        return ids;
    }

    private static int messages(JsonNode array, String where) {
        if (!array.isArray() || array.isEmpty()) throw new IllegalArgumentException(where + ": \"messages\" must be a non-empty array");
        for (int j = 0; j < array.size(); j++) {
            JsonNode m = array.get(j);
            if (!m.isObject() || m.get("role") == null || !m.get("role").isTextual()) {
                throw new IllegalArgumentException(where + ": messages[" + j + "] needs a string \"role\"");
            }
        }
        return array.size();
    }
}
