package gptoss.chat;

import gptoss.api.GptOss;
import gptoss.generation.Generator;
import gptoss.model.harmony.Conversation;
import gptoss.model.harmony.HarmonyChat;
import gptoss.model.harmony.HarmonyEvent;
import gptoss.model.harmony.HarmonyStreamParser;
import gptoss.model.harmony.Message;
import gptoss.model.harmony.ReasoningEffort;
import gptoss.model.harmony.Role;
import gptoss.model.harmony.SystemContent;
import gptoss.sampling.Sampler;
import gptoss.sampling.StopReason;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A multi-turn Harmony conversation with a model: renders the history for completion (dropping finished
 * chain-of-thought as the format requires), samples until {@code <|return|>} or {@code <|call|>}, parses the
 * output into messages as it streams. The model's scheduler keeps the KV cache of the shared prefix between turns.
 */
public final class ChatSession {

    /** What one assistant turn produced. */
    public record Turn(List<Message> messages, StopReason reason, int promptTokens, int reusedTokens,
                       int generatedTokens, double promptTokensPerSecond, double generatedTokensPerSecond,
                       List<String> diagnostics) {
        /** The text of the final-channel messages (the answer). */
        public String answer() {
            StringBuilder sb = new StringBuilder();
            for (Message m : messages) if ("final".equals(m.channel())) sb.append(m.text());
            return sb.toString();
        }
    }

    private final GptOss model;
    private final HarmonyChat harmony;
    private final Sampler sampler;
    private final int maxTokens;
    private SystemContent system;
    private List<Message> history = new ArrayList<>();

    public ChatSession(GptOss model, Sampler sampler, SystemContent system, int maxTokens) {
        if (maxTokens < 1) throw new IllegalArgumentException("max tokens must be >= 1");
        this.model = model;
        this.harmony = model.harmony();
        this.sampler = sampler;
        this.system = system;
        this.maxTokens = maxTokens;
    }

    public void setReasoning(ReasoningEffort effort) {
        system = system.withReasoningEffort(effort);
    }

    public ReasoningEffort reasoning() {
        return system.reasoningEffort();
    }

    /** Forgets the conversation (the system settings stay). */
    public void reset() {
        history = new ArrayList<>();
    }

    /** The conversation so far, system message first. */
    public Conversation conversation() {
        List<Message> all = new ArrayList<>();
        all.add(Message.system(system));
        all.addAll(history);
        return new Conversation(all);
    }

    /**
     * Sends a user message and generates the assistant's turn. {@code events} sees every parser event as tokens
     * arrive; generation stops early when {@code cancelled} turns true.
     */
    public Turn send(String userText, Consumer<HarmonyEvent> events, BooleanSupplier cancelled) {
        return send(userText, events, token -> { }, cancelled);
    }

    /** The same, also passing every sampled token id to {@code tokens} (e.g. to show raw output). */
    public Turn send(String userText, Consumer<HarmonyEvent> events, java.util.function.IntConsumer tokens, BooleanSupplier cancelled) {
        history.add(Message.user(userText));
        int[] prompt = harmony.renderer().renderConversationForCompletion(conversation(), Role.ASSISTANT);
        HarmonyStreamParser parser = harmony.newCompletionParser();
        List<String> diagnostics = new ArrayList<>();
        Consumer<HarmonyEvent> sink = e -> {
            if (e instanceof HarmonyEvent.Diagnostic d) diagnostics.add(d.problem());
            events.accept(e);
        };
        int budget = Math.min(maxTokens, model.maxContext() - prompt.length);
        if (budget < 1) {
            history.removeLast();
            throw new IllegalArgumentException("the conversation (" + prompt.length + " tokens) leaves no room in the context of "
                    + model.maxContext() + " tokens: /reset or raise --context");
        }
        Generator.Result r = new Generator(model, sampler).generate(prompt, budget, harmony.stopTokens(), token -> {
                    tokens.accept(token);
                    parser.accept(token).forEach(sink);
                    return !cancelled.getAsBoolean();
                });
        parser.finish().forEach(sink);
        int[] generated = r.tokens();
        List<Message> messages = parser.messages();
        history.addAll(messages);
        return new Turn(messages, r.reason(), prompt.length, r.reusedTokens(), generated.length, r.promptTokensPerSecond(),
                r.generatedTokensPerSecond(), diagnostics);
    }
}
