package gptoss.runtime.engine;

/** A sequence would grow past the context limit. */
public final class ContextLimitException extends IllegalArgumentException {
    public ContextLimitException(int current, int adding, int limit) {
        super("context limit exceeded: " + current + " tokens in context + " + adding + " new > limit " + limit);
    }
}
