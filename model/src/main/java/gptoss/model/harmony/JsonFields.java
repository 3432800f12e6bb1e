package gptoss.model.harmony;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Typed, error-reporting access to one JSON object, for the readers of this package. Every error names the
 * source and the path to the field, e.g. {@code chat.json: messages[2].role: unknown role 'robot'}.
 */
record JsonFields(JsonNode node, String where) {
    static final ObjectMapper MAPPER = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** Parses JSON text; a syntax error names the line and column. */
    static JsonNode parse(String json, String source) {
        try {
            JsonNode root = MAPPER.readTree(json);
            if (root == null || root.isMissingNode()) throw new HarmonyFormatException(source + ": empty input, expected a JSON object");
            return root;
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String position = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw new HarmonyFormatException(source + ": not valid JSON" + position + ": " + e.getOriginalMessage(), e);
        }
    }

    static String readFile(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new HarmonyFormatException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** The node as an object with these field accessors, or an error naming what it is instead. */
    static JsonFields object(JsonNode node, String where) {
        if (node == null || !node.isObject()) throw new HarmonyFormatException(where + ": expected a JSON object, got " + kind(node));
        return new JsonFields(node, where);
    }

    HarmonyFormatException error(String key, String problem) {
        return new HarmonyFormatException(path(key) + ": " + problem);
    }

    String path(String key) {
        return where + "." + key;
    }

    boolean has(String key) {
        return node.has(key);
    }

    /** Present and not null. */
    boolean present(String key) {
        JsonNode v = node.get(key);
        return v != null && !v.isNull();
    }

    JsonNode get(String key) {
        return node.get(key);
    }

    String requiredString(String key) {
        if (!present(key)) throw error(key, "missing");
        return optionalString(key);
    }

    /** The string, or null when missing or null. */
    String optionalString(String key) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw error(key, "expected a string, got " + kind(v));
        return v.textValue();
    }

    /** Missing → the fallback; null → null; else the string. */
    String stringOr(String key, String fallback) {
        return node.has(key) ? optionalString(key) : fallback;
    }

    JsonNode requiredArray(String key) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) throw error(key, "missing");
        if (!v.isArray()) throw error(key, "expected a list, got " + kind(v));
        return v;
    }

    /** The array, or null when missing or null. */
    JsonNode optionalArray(String key) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) return null;
        if (!v.isArray()) throw error(key, "expected a list, got " + kind(v));
        return v;
    }

    boolean booleanOr(String key, boolean fallback) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) return fallback;
        if (!v.isBoolean()) throw error(key, "expected true or false, got " + kind(v));
        return v.booleanValue();
    }

    Double optionalNumber(String key) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) return null;
        if (!v.isNumber()) throw error(key, "expected a number, got " + kind(v));
        return v.doubleValue();
    }

    Long optionalInteger(String key) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) return null;
        if (!v.isIntegralNumber() || !v.canConvertToLong()) throw error(key, "expected an integer, got " + kind(v));
        return v.longValue();
    }

    /** "a string", "a number", ... for error messages. */
    static String kind(JsonNode v) {
        if (v == null || v.isMissingNode()) return "nothing";
        if (v.isNull()) return "null";
        if (v.isTextual()) return "a string";
        if (v.isNumber()) return "a number";
        if (v.isBoolean()) return "a boolean";
        if (v.isArray()) return "a list";
        if (v.isObject()) return "an object";
        return v.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
    }
}
