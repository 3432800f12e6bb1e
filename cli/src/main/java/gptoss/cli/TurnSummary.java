package gptoss.cli;

import gptoss.chat.ChatSession;
import gptoss.sampling.StopReason;

import java.util.Locale;

/** The line on stderr after an answer: how it ended and how fast it went. */
final class TurnSummary {
    private TurnSummary() {
    }

    static void print(ChatSession.Turn turn, int maxTokens) {
        String ending = switch (turn.reason()) {
            case STOP_TOKEN -> "stop token";
            case MAX_TOKENS -> "max tokens reached (" + maxTokens + ") before a stop token";
            case CONTEXT_FULL -> "context full";
            case CANCELLED -> "stopped by user";
            case STOP_STRING -> "stop string";
            case CONSTRAINT_COMPLETE -> "JSON complete";
        };
        if (turn.reason() == StopReason.MAX_TOKENS && turn.messages().stream().noneMatch(m -> "final".equals(m.channel()))) {
            ending += "; no final answer";
        }
        System.err.printf(Locale.ROOT, "[%s · prompt %d tokens (%d cached) at %.1f tok/s · %d generated at %.2f tok/s%s]%n",
                ending, turn.promptTokens(), turn.reusedTokens(), turn.promptTokensPerSecond(), turn.generatedTokens(),
                turn.generatedTokensPerSecond(), turn.diagnostics().isEmpty() ? "" : " · " + turn.diagnostics().size() + " format warnings");
    }
}
