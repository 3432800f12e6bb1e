package gptoss.api;

/** Token counts of one request: {@code cachedTokens} of the prompt came from the prefix cache. */
public record Usage(int promptTokens, int cachedTokens, int completionTokens) {
    public int totalTokens() {
        return promptTokens + completionTokens;
    }
}
