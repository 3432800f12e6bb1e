package gptoss.generation;

import gptoss.runtime.engine.Engine;
import gptoss.runtime.engine.Sequence;
import gptoss.sampling.Sampler;

import java.util.Arrays;
import java.util.Set;
import java.util.function.IntPredicate;

/**
 * The decoding loop: prefill a prompt, then sample one token at a time until a stop token, the token limit,
 * the context limit, or a cancellation.
 */
public final class Generator {

    /** Why generation ended. */
    public enum StopReason { STOP_TOKEN, MAX_TOKENS, CONTEXT_FULL, CANCELLED }

    /**
     * @param tokens        generated ids (the stop token included when one ended it)
     * @param promptNanos   time to process the prompt
     * @param generateNanos time spent producing tokens after the prompt
     */
    public record Result(int[] tokens, StopReason reason, int promptTokens, long promptNanos, long generateNanos) {
        public double promptTokensPerSecond() {
            return promptNanos == 0 ? 0 : promptTokens * 1e9 / promptNanos;
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

    private final Engine engine;
    private final Sampler sampler;

    public Generator(Engine engine, Sampler sampler) {
        this.engine = engine;
        this.sampler = sampler;
    }

    /**
     * Feeds {@code prompt} to {@code sequence} (which may already hold earlier turns) and generates up to
     * {@code maxTokens} tokens, stopping after any token in {@code stopTokens}.
     */
    public Result generate(Sequence sequence, int[] prompt, int maxTokens, Set<Integer> stopTokens, TokenSink sink) {
        IntPredicate isStop = stopTokens::contains;
        int V = engine.config().vocabSize();
        long start = System.nanoTime();
        float[] logits = engine.forward(sequence, prompt, false);
        long promptDone = System.nanoTime();
        int[] out = new int[Math.max(0, maxTokens)];
        int[] next = new int[1];
        int count = 0;
        StopReason reason = StopReason.MAX_TOKENS;
        while (count < maxTokens) {
            int token = sampler.sample(logits, 0, V);
            out[count++] = token;
            if (!sink.accept(token)) {
                reason = StopReason.CANCELLED;
                break;
            }
            if (isStop.test(token)) {
                reason = StopReason.STOP_TOKEN;
                break;
            }
            if (count == maxTokens) break;
            if (sequence.length() + 1 > engine.maxContext()) {
                reason = StopReason.CONTEXT_FULL;
                break;
            }
            next[0] = token;
            engine.forward(sequence, next, false, logits); // reuses the logits array: no garbage per token
        }
        return new Result(Arrays.copyOf(out, count), reason, prompt.length, promptDone - start, System.nanoTime() - promptDone);
    }
}
