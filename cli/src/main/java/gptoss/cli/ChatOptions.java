package gptoss.cli;

import gptoss.model.harmony.ReasoningEffort;
import gptoss.model.harmony.SystemContent;
import gptoss.sampling.Sampler;
import picocli.CommandLine.Option;

import java.time.LocalDate;

/** Sampling and Harmony options of {@code run} and {@code chat}. Defaults follow the gpt-oss README (T = 1, top-p = 1). */
public final class ChatOptions {
    @Option(names = "--reasoning", defaultValue = "medium", paramLabel = "low|medium|high",
            description = "Reasoning effort (default: ${DEFAULT-VALUE}).")
    String reasoning;

    @Option(names = "--show-reasoning", description = "Also show the analysis channel (chain of thought), dimmed.")
    boolean showReasoning;

    @Option(names = "--max-tokens", defaultValue = "256", paramLabel = "N", description = "Most tokens per answer (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "1.0", description = "Sampling temperature, 0 = greedy (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--top-p", defaultValue = "1.0", description = "Nucleus sampling mass (default: ${DEFAULT-VALUE}).")
    double topP;

    @Option(names = "--seed", paramLabel = "N", description = "Sampling seed (default: random).")
    Long seed;

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

    Sampler sampler() {
        if (maxTokens < 1) throw new IllegalArgumentException("--max-tokens must be >= 1");
        return Sampler.of(temperature, topP, seed != null ? seed : System.nanoTime());
    }

    boolean color() {
        return !noColor && System.console() != null && System.getenv("NO_COLOR") == null;
    }
}
