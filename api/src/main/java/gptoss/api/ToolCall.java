package gptoss.api;

/** A function call the model made: {@code arguments} is the JSON text it wrote. */
public record ToolCall(String id, String name, String arguments) {
}
