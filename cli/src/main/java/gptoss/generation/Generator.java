package gptoss.generation;

import gptoss.runtime.engine.Engine;
import gptoss.runtime.engine.Sequence;
import gptoss.sampling.Sampler;
import gptoss.sampling.SequenceDecoder;
import gptoss.sampling.StopReason;
import gptoss.sampling.StopRules;
import gptoss.sampling.constraint.TokenVocabulary;

import java.util.Arrays;
import java.util.Set;

/**
 * The decoding loop: prefill a prompt, then sample one token at a time until a stop token, the token limit,
 * the context limit, or a cancellation.
 */
public final class Generator {

    /**
     * @param tokens        generated ids (the stop token included when one ended it)
     * @param promptNanos   time to process the prompt
     * @param generateNanos time spent producing tokens after the prompt
     * @param stopStringByteOffset where a matched stop string starts in the output bytes (the text ends there), or -1
     */
    public record Result(int[] tokens, StopReason reason, int promptTokens, long promptNanos, long generateNanos,
                         long stopStringByteOffset) {
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
        return generate(sequence, prompt, StopRules.of(maxTokens, stopTokens), null, sink);
    }

    /**
     * The same under {@code rules} (stop tokens, stop strings, max tokens); {@code vocabulary} gives token bytes
     * for stop strings (null without). A constrained sampler's value is kept completable within the budget.
     */
    public Result generate(Sequence sequence, int[] prompt, StopRules rules, TokenVocabulary vocabulary, TokenSink sink) {
        int V = engine.config().vocabSize();
        long start = System.nanoTime();
        float[] logits = engine.forward(sequence, prompt, false);
        long promptDone = System.nanoTime();
        int maxTokens = rules.maxTokens();
        int[] out = new int[Math.max(0, maxTokens)];
        int[] next = new int[1];
        int count = 0;
        SequenceDecoder decoder = new SequenceDecoder(sampler, rules, vocabulary);
        while (decoder.stopReason() == null) {
            int token = decoder.next(logits, 0, V);
            out[count++] = token;
            if (!sink.accept(token)) decoder.stop(StopReason.CANCELLED);
            if (decoder.stopReason() != null) break;
            if (sequence.length() + 1 > engine.maxContext()) {
                decoder.stop(StopReason.CONTEXT_FULL);
                break;
            }
            next[0] = token;
            engine.forward(sequence, next, false, logits); // reuses the logits array: no garbage per token
        }
        return new Result(Arrays.copyOf(out, count), decoder.stopReason(), prompt.length, promptDone - start,
                System.nanoTime() - promptDone, decoder.matcher().stopStringByteOffset());
    }
}
