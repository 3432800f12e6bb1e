package gptoss.generation;

import gptoss.api.GptOss;
import gptoss.api.Scheduler;
import gptoss.api.TokenSelector;
import gptoss.sampling.Sampler;
import gptoss.sampling.StopReason;
import gptoss.sampling.StopRules;
import gptoss.sampling.constraint.TokenVocabulary;

import java.util.Set;

/**
 * The decoding loop for one prompt: submits it to the model's {@link Scheduler} and samples one token at a time
 * until a stop token, a stop string (which may span tokens), the token limit, the context limit, a complete
 * constrained value, or a cancellation.
 */
public final class Generator {

    /**
     * @param tokens        generated ids (the stop token included when one ended it)
     * @param reusedTokens  prompt tokens whose KV cache came from an earlier request (prefix reuse)
     * @param promptNanos   time to process the prompt
     * @param generateNanos time spent producing tokens after the prompt
     * @param stopStringByteOffset where a matched stop string starts in the output bytes (the text ends there), or -1
     */
    public record Result(int[] tokens, StopReason reason, int promptTokens, int reusedTokens, long promptNanos,
                         long generateNanos, long stopStringByteOffset) {
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

    /** {@code sampler} may be a constrained {@code LogitSampler}: its constraint gets the remaining budget. */
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
        return generate(prompt, StopRules.of(maxTokens, stopTokens), null, sink);
    }

    /**
     * The same under {@code rules} (stop tokens, stop strings, max tokens); {@code vocabulary} gives token bytes
     * for stop strings (null without).
     */
    public Result generate(int[] prompt, StopRules rules, TokenVocabulary vocabulary, TokenSink sink) {
        if (rules.maxTokens() == 0) return new Result(new int[0], StopReason.MAX_TOKENS, prompt.length, 0, 0, 0, -1);
        StopRules.Matcher matcher = rules.newMatcher(vocabulary);
        Scheduler.Job job = model.scheduler().submit(new Scheduler.Request(prompt, rules.maxTokens(), rules.stopTokens(), selector), token -> {
            boolean go = sink.accept(token);
            // a stop string ends the generation here (the scheduler sees it as a cancellation)
            return go && matcher.accept(token) != StopReason.STOP_STRING;
        });
        Scheduler.Result r = job.await();
        StopReason reason = matcher.reason() == StopReason.STOP_STRING ? StopReason.STOP_STRING : r.reason();
        return new Result(r.tokens(), reason, r.promptTokens(), r.cachedTokens(), r.promptNanos(), r.generateNanos(),
                matcher.stopStringByteOffset());
    }
}
