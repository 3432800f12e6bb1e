package gptoss.cli;

import gptoss.model.harmony.ReasoningEffort;
import gptoss.model.harmony.SystemContent;
import gptoss.sampling.Sampler;
import gptoss.sampling.SamplingParams;
import gptoss.sampling.constraint.HarmonyConstraint;
import gptoss.sampling.constraint.JsonGrammar;
import gptoss.sampling.constraint.TokenVocabulary;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.LocalDate;

/** Sampling and Harmony options of {@code run} and {@code chat}. Defaults follow the gpt-oss README (T = 1, top-p = 1); the sampling flags are {@link SamplingOptions}. */
public final class ChatOptions {
    @Option(names = "--reasoning", defaultValue = "medium", paramLabel = "low|medium|high",
            description = "Reasoning effort (default: ${DEFAULT-VALUE}).")
    String reasoning;

    @Option(names = "--show-reasoning", description = "Also show the analysis channel (chain of thought), dimmed.")
    boolean showReasoning;

    @Option(names = "--max-tokens", defaultValue = "256", paramLabel = "N", description = "Most tokens per answer (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--no-color", description = "No ANSI styling.")
    boolean noColor;

    ReasoningEffort effort() {
        ReasoningEffort e = ReasoningEffort.parse(reasoning);
        if (e == null) throw new IllegalArgumentException("--reasoning must be low, medium or high, got '" + reasoning + "'");
        return e;
    }

    SystemContent system() {
        return SystemContent.defaults().withReasoningEffort(effort()).withConversationStartDate(LocalDate.now().toString());
    }

    /** Usage errors (exit code 2) for bad sampling flags. */
    void check() {
        if (maxTokens < 1) throw new UsageException("--max-tokens must be >= 1, got " + maxTokens);
        sampling.params(1.0, 0);
        sampling.grammar();
        if (!sampling.stopStrings.isEmpty()) throw new UsageException("--stop-string is not supported by run/chat (Harmony stop tokens end answers)");
    }

    /**
     * The sampler of a session over {@code vocabSize} logits; with --json-schema / --json the final answer (and any
     * {@code <|constrain|>json} tool call) is constrained.
     */
    Sampler sampler(int vocabSize) {
        if (maxTokens < 1) throw new UsageException("--max-tokens must be >= 1, got " + maxTokens);
        SamplingParams params = sampling.params(1.0, System.nanoTime());
        JsonGrammar grammar = sampling.grammar();
        if (!sampling.stopStrings.isEmpty()) throw new UsageException("--stop-string is not supported by run/chat (Harmony stop tokens end answers)");
        return grammar == null ? params.newSampler(vocabSize)
                : params.newSampler(vocabSize, new HarmonyConstraint(TokenVocabulary.o200k(), recipient -> null, grammar));
    }

    boolean color() {
        return !noColor && System.console() != null && System.getenv("NO_COLOR") == null;
    }
}
