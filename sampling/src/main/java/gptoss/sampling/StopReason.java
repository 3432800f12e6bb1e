package gptoss.sampling;

/** Why generation ended. */
public enum StopReason {
    /** A stop token (e.g. Harmony's {@code <|return|>} or {@code <|call|>}) was sampled; it is the last token. */
    STOP_TOKEN,
    /** The output text came to contain a stop string (which may span tokens). */
    STOP_STRING,
    /** The token limit was reached. */
    MAX_TOKENS,
    /** The constraint's value is complete and nothing more can follow it. */
    CONSTRAINT_COMPLETE,
    /** The sequence filled the model's context. */
    CONTEXT_FULL,
    /** The caller stopped it. */
    CANCELLED
}
