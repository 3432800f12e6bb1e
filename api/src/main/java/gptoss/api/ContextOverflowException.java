package gptoss.api;

/** The prompt plus the tokens asked for do not fit the context. */
public final class ContextOverflowException extends IllegalArgumentException {
    private final int promptTokens, maxTokens, context;

    public ContextOverflowException(int promptTokens, int maxTokens, int context) {
        super("this model's context holds " + context + " tokens, but " + (promptTokens + maxTokens) + " were requested ("
                + promptTokens + " in the prompt, " + maxTokens + " to generate); shorten the prompt or lower max_tokens");
        this.promptTokens = promptTokens;
        this.maxTokens = maxTokens;
        this.context = context;
    }

    public int promptTokens() {
        return promptTokens;
    }

    public int maxTokens() {
        return maxTokens;
    }

    public int context() {
        return context;
    }
}
