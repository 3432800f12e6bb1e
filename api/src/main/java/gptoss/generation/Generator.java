package gptoss.generation;

import gptoss.api.GptOss;
import gptoss.api.Scheduler;
import gptoss.api.TokenSelector;
import gptoss.sampling.Sampler;

import java.util.Set;

/**
 * The decoding loop for one prompt: submits it to the model's {@link Scheduler} and samples one token at a time
 * until a stop token, the token limit, the context limit, or a cancellation.
 */
public final class Generator {

    /** Why generation ended. */
    public enum StopReason { STOP_TOKEN, MAX_TOKENS, CONTEXT_FULL, CANCELLED }

    /**
     * @param tokens        generated ids (the stop token included when one ended it)
     * @param reusedTokens  prompt tokens whose KV cache came from an earlier request (prefix reuse)
     * @param promptNanos   time to process the prompt
     * @param generateNanos time spent producing tokens after the prompt
     */
    public record Result(int[] tokens, StopReason reason, int promptTokens, int reusedTokens, long promptNanos, long generateNanos) {
        public double promptTokensPerSecond() {
            return promptNanos == 0 ? 0 : (promptTokens - reusedTokens) * 1e9 / promptNanos;
        }

        public double generatedTokensPerSecond() {
            return generateNanos == 0 || tokens.length <= 1 ? 0 : (tokens.length - 1) * 1e9 / generateNanos;
        }
    }

    /** Called with each new token; return false to stop (cancellation). */
    @FunctionalInterface
    public interface TokenSink {
        boolean accept(int token);
    }

    private final GptOss model;
    private final TokenSelector selector;

    public Generator(GptOss model, Sampler sampler) {
        this(model, TokenSelector.of(sampler));
    }

    public Generator(GptOss model, TokenSelector selector) {
        this.model = model;
        this.selector = selector;
    }

    /**
     * Generates up to {@code maxTokens} tokens after {@code prompt}, stopping after any token in {@code stopTokens}.
     * The scheduler reuses the KV cache of an earlier request that began with the same tokens.
     */
    public Result generate(int[] prompt, int maxTokens, Set<Integer> stopTokens, TokenSink sink) {
        Scheduler.Job job = model.scheduler().submit(new Scheduler.Request(prompt, maxTokens, stopTokens, selector), sink::accept);
        Scheduler.Result r = job.await();
        StopReason reason = StopReason.valueOf(r.reason().name());
        return new Result(r.tokens(), reason, r.promptTokens(), r.cachedTokens(), r.promptNanos(), r.generateNanos());
    }
}
