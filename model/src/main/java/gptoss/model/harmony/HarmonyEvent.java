package gptoss.model.harmony;

/** What {@link HarmonyStreamParser} reports while model output streams in. */
public sealed interface HarmonyEvent {

    /** A message header was read; content deltas follow. */
    record MessageStarted(MessageHeader header) implements HarmonyEvent {
    }

    /** New text of the current message: only complete characters, never a split UTF-8 sequence. */
    record ContentDelta(MessageHeader header, String text) implements HarmonyEvent {
    }

    /**
     * A message is complete.
     *
     * @param stopToken the token that closed it ({@code <|end|>}, {@code <|return|>}, {@code <|call|>}, or
     *                  {@code <|endoftext|>}), or {@link HarmonyStreamParser#NO_STOP_TOKEN} when the output ended or
     *                  a new {@code <|start|>} interrupted it
     */
    record MessageEnded(Message message, int stopToken) implements HarmonyEvent {
    }

    /**
     * Malformed output: what was wrong and what the parser did about it. The parser always recovers.
     *
     * @param position index of the offending token in the stream (counting from 0), or the stream length at its end
     * @param token    the offending token, or -1 at the end of the output
     */
    record Diagnostic(String problem, int position, int token) implements HarmonyEvent {
    }
}
