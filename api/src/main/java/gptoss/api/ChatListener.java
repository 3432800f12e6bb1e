package gptoss.api;

/**
 * Streaming callbacks of a chat: called in order on the scheduler thread as tokens arrive; keep them short
 * (hand the text to another thread for I/O).
 */
public interface ChatListener {
    /** New text of the answer (the {@code final} channel, or a preamble before tool calls). */
    default void onText(String delta) {
    }

    /** New chain-of-thought text (the {@code analysis} channel). */
    default void onReasoning(String delta) {
    }

    /** A complete tool call (its arguments as the model wrote them). */
    default void onToolCall(ToolCall call) {
    }

    ChatListener NONE = new ChatListener() {
    };
}
