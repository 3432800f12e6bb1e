package gptoss.api;

import gptoss.model.config.ModelConfig;
import gptoss.model.harmony.Content;
import gptoss.model.harmony.Conversation;
import gptoss.model.harmony.DeveloperContent;
import gptoss.model.harmony.HarmonyChat;
import gptoss.model.harmony.ToolDescription;
import gptoss.model.harmony.ToolNamespace;
import gptoss.model.harmony.HarmonyEvent;
import gptoss.model.harmony.HarmonyRenderer;
import gptoss.model.harmony.HarmonyStreamParser;
import gptoss.model.harmony.Message;
import gptoss.model.harmony.Role;
import gptoss.model.tokenizer.SpecialTokens;
import gptoss.model.tokenizer.TextDecoder;
import gptoss.runtime.profile.RoutingProfiler;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * gpt-oss in a JVM application: open a checkpoint, then chat (Harmony: messages, tools, reasoning effort) or
 * complete text, from any number of threads. Requests run through one {@link Scheduler} that batches them
 * continuously on the engine.
 * <pre>
 * try (GptOss model = GptOss.open(Path.of("/models/gpt-oss-20b"), GptOssOptions.defaults())) {
 *     ChatResult r = model.chat(ChatRequest.builder()
 *             .reasoning(ReasoningEffort.LOW)
 *             .user("What is 2 + 2?")
 *             .params(GenerationParams.defaults().withMaxTokens(200))
 *             .build(), new ChatListener() {
 *         public void onText(String delta) { System.out.print(delta); }
 *     });
 *     System.out.println(r.usage());
 * }
 * </pre>
 */
public final class GptOss implements AutoCloseable {
    private final LoadedModel model;
    private final Scheduler scheduler;
    private final HarmonyChat harmony = HarmonyChat.standard();
    private final String id;
    private final SelectorFactory selectors, completionSelectors;

    /** Makes each request's {@link TokenSelector} from its settings; {@link Sampling#selector} unless replaced. */
    @FunctionalInterface
    public interface SelectorFactory {
        TokenSelector create(GenerationParams params);
    }

    private GptOss(LoadedModel model, GptOssOptions options, SelectorFactory selectors) {
        this.model = model;
        this.selectors = selectors;
        // raw completions: a JSON constraint applies from the first token (no Harmony header to force)
        this.completionSelectors = selectors == DEFAULT_SELECTORS ? Sampling::completionSelector : selectors;
        this.id = model.checkpoint().directory().getFileName().toString();
        this.scheduler = new Scheduler(model.engine(), options.maxSequences(), options.queueCapacity(), options.prefillChunk(),
                options.prefixCacheEntries(), options.prefixCacheBytes());
    }

    /** Opens a checkpoint folder (Hugging Face or {@code original/} layout) and starts its scheduler. */
    public static GptOss open(Path checkpoint, GptOssOptions options) {
        return open(checkpoint, options, DEFAULT_SELECTORS);
    }

    private static final SelectorFactory DEFAULT_SELECTORS = Sampling::selector;

    /** The same, choosing tokens with {@code selectors} (e.g. a scripted selector in tests, a custom sampler). */
    public static GptOss open(Path checkpoint, GptOssOptions options, SelectorFactory selectors) {
        LoadedModel m = LoadedModel.open(checkpoint, options);
        try {
            return new GptOss(m, options, selectors);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    public static GptOss open(Path checkpoint) {
        return open(checkpoint, GptOssOptions.defaults());
    }

    /** The model's name: its folder's name. */
    public String id() {
        return id;
    }

    public ModelConfig config() {
        return model.config();
    }

    /** Tokens a sequence may hold (prompt and output). */
    public int maxContext() {
        return scheduler.maxContext();
    }

    public HarmonyChat harmony() {
        return harmony;
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    /** The loaded checkpoint and its reports (memory, kernel timings). Do not drive its engine while requests run. */
    public LoadedModel model() {
        return model;
    }

    /**
     * Starts recording which experts every token is routed to (all requests); read {@code profile()} at any time,
     * {@code close()} to detach.
     */
    public RoutingProfiler attachProfiler() {
        return RoutingProfiler.attach(model.engine());
    }

    /** Starts counting the tokens routed to each expert of each layer (all requests). */
    public ExpertLoad attachExpertLoad() {
        ExpertLoad load = new ExpertLoad(config().numLayers(), config().numExperts());
        model.engine().addListener(load);
        return load;
    }

    /** Throws {@link IllegalArgumentException} naming the first token id outside the vocabulary. */
    public void checkTokens(int[] tokens) {
        model.engine().checkTokens(tokens);
    }

    /** The prompt token ids a chat request renders to. */
    public int[] render(ChatRequest request) {
        return harmony.renderer().renderConversationForCompletion(request.conversation(), Role.ASSISTANT);
    }

    /** A chat in flight. */
    public record ChatHandle(Scheduler.Job job, CompletableFuture<ChatResult> result) {
        public void cancel() {
            job.cancel();
        }

        public ChatResult await() {
            try {
                return result.join();
            } catch (java.util.concurrent.CompletionException e) {
                if (e.getCause() instanceof RuntimeException r) throw r;
                throw e;
            }
        }
    }

    /** Runs a chat turn, blocking; the listener streams it. */
    public ChatResult chat(ChatRequest request, ChatListener listener) {
        return chatAsync(request, listener).await();
    }

    public ChatResult chat(ChatRequest request) {
        return chat(request, ChatListener.NONE);
    }

    /**
     * Queues a chat turn. Throws {@link ContextOverflowException} when prompt and {@code maxTokens} exceed the
     * context, {@link Scheduler.QueueFullException} when the queue is full.
     */
    public ChatHandle chatAsync(ChatRequest request, ChatListener listener) {
        int[] prompt = render(request);
        GenerationParams p = fitted(request.params(), prompt.length);
        if (p.constraint() != null && p.constraint().kind() == GenerationParams.OutputConstraint.Kind.TOOL_CALL) {
            p = p.withConstraint(p.constraint().withFunctions(functions(request.conversation())));
        }
        ChatRun run = new ChatRun(harmony.newCompletionParser(), listener, p.stop());
        Scheduler.Job job = scheduler.submit(new Scheduler.Request(prompt, p.maxTokens(), harmony.stopTokens(), selectors.create(p)), run);
        CompletableFuture<ChatResult> result = job.result().thenApply(run::finish);
        return new ChatHandle(job, result);
    }

    /**
     * {@code p} with {@link GenerationParams#UNTIL_CONTEXT_FULL} resolved against a prompt of {@code promptTokens};
     * throws {@link ContextOverflowException} when prompt and max tokens exceed the context.
     */
    private GenerationParams fitted(GenerationParams p, int promptTokens) {
        int max = p.maxTokens() == GenerationParams.UNTIL_CONTEXT_FULL ? Math.max(1, maxContext() - promptTokens) : p.maxTokens();
        if (promptTokens + max > maxContext()) throw new ContextOverflowException(promptTokens, max, maxContext());
        return max == p.maxTokens() ? p : p.withMaxTokens(max);
    }

    /** The conversation's functions (the developer message's {@code functions} namespace): name → parameters schema. */
    static Map<String, String> functions(Conversation conversation) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Message m : conversation.messages()) {
            for (Content c : m.content()) {
                if (!(c instanceof DeveloperContent d)) continue;
                ToolNamespace ns = d.tools().get(ToolNamespace.FUNCTIONS);
                if (ns == null) continue;
                for (ToolDescription t : ns.tools()) out.put(t.name(), t.parameters() == null ? null : t.parameters().toString());
            }
        }
        return out;
    }

    /** A raw text completion in flight (no Harmony formatting). */
    public record CompletionHandle(Scheduler.Job job, CompletableFuture<CompletionResult> result) {
        public void cancel() {
            job.cancel();
        }

        public CompletionResult await() {
            try {
                return result.join();
            } catch (java.util.concurrent.CompletionException e) {
                if (e.getCause() instanceof RuntimeException r) throw r;
                throw e;
            }
        }
    }

    public record CompletionResult(String text, FinishReason finishReason, Usage usage, int[] tokens) {
    }

    /**
     * Continues a token prompt as plain text (no chat format), ending at {@code <|endoftext|>}, {@code <|return|>},
     * {@code <|call|>} or {@code <|end|>}. {@code onText} sees the decoded text as it grows.
     */
    public CompletionHandle complete(int[] prompt, GenerationParams params, Consumer<String> onText) {
        GenerationParams p = fitted(params, prompt.length);
        Set<Integer> stops = new HashSet<>(HarmonyRenderer.STOP_TOKENS);
        stops.add(SpecialTokens.END_OF_TEXT);
        TextDecoder decoder = harmony.tokenizer().newTextDecoder();
        StringBuilder text = new StringBuilder();
        StopStrings stopper = new StopStrings(p.stop());
        Scheduler.TokenListener listener = token -> {
            if (stops.contains(token)) return true;
            String delta = stopper.append(decoder.decode(token));
            text.append(delta);
            if (!delta.isEmpty()) onText.accept(delta);
            return !stopper.stopped();
        };
        Scheduler.Job job = scheduler.submit(new Scheduler.Request(prompt, p.maxTokens(), stops, completionSelectors.create(p)), listener);
        CompletableFuture<CompletionResult> result = job.result().thenApply(r -> {
            if (!stopper.stopped()) {
                String rest = stopper.append(decoder.flush()) + stopper.flush();
                text.append(rest);
                if (!rest.isEmpty()) onText.accept(rest);
            }
            FinishReason reason = switch (r.reason()) {
                case STOP_TOKEN, STOP_STRING, CONSTRAINT_COMPLETE -> FinishReason.STOP;
                case CANCELLED -> stopper.stopped() ? FinishReason.STOP : FinishReason.CANCELLED;
                case MAX_TOKENS, CONTEXT_FULL -> stopper.stopped() ? FinishReason.STOP : FinishReason.LENGTH;
            };
            return new CompletionResult(text.toString(), reason, new Usage(r.promptTokens(), r.cachedTokens(), r.tokens().length), r.tokens());
        });
        return new CompletionHandle(job, result);
    }

    /** Text tokens of {@code text} (special-token text stays text). */
    public int[] tokenize(String text) {
        return harmony.tokenizer().encode(text);
    }

    @Override
    public void close() {
        scheduler.close();
        model.close();
    }

    /** Turns one request's tokens into Harmony events, answer and reasoning deltas, and tool calls. */
    private static final class ChatRun implements Scheduler.TokenListener {
        private final HarmonyStreamParser parser;
        private final ChatListener listener;
        private final StopStrings stopper;
        private final StringBuilder text = new StringBuilder(), reasoning = new StringBuilder();
        private final List<ToolCall> calls = new ArrayList<>();
        private int lastToken = -1;

        ChatRun(HarmonyStreamParser parser, ChatListener listener, List<String> stop) {
            this.parser = parser;
            this.listener = listener;
            this.stopper = new StopStrings(stop);
        }

        @Override
        public boolean onToken(int token) {
            lastToken = token;
            for (HarmonyEvent e : parser.accept(token)) handle(e);
            return !stopper.stopped();
        }

        private void handle(HarmonyEvent e) {
            if (e instanceof HarmonyEvent.ContentDelta d) {
                String recipient = d.header().recipient();
                if (recipient != null && !recipient.equals("assistant")) return; // tool-call arguments: reported whole at the end
                if ("analysis".equals(d.header().channel())) {
                    reasoning.append(d.text());
                    listener.onReasoning(d.text());
                } else {
                    String out = stopper.append(d.text());
                    text.append(out);
                    if (!out.isEmpty()) listener.onText(out);
                }
            } else if (e instanceof HarmonyEvent.MessageEnded m) {
                Message msg = m.message();
                if (msg.recipient() != null && msg.recipient().startsWith("functions.")) {
                    ToolCall call = new ToolCall("call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24),
                            msg.recipient().substring("functions.".length()), msg.text());
                    calls.add(call);
                    listener.onToolCall(call);
                } else if (!"analysis".equals(msg.channel())) {
                    String rest = stopper.flush();
                    text.append(rest);
                    if (!rest.isEmpty()) listener.onText(rest);
                }
            }
        }

        ChatResult finish(Scheduler.Result r) {
            if (!stopper.stopped()) {
                for (HarmonyEvent e : parser.finish()) handle(e);
                String rest = stopper.flush();
                text.append(rest);
                if (!rest.isEmpty()) listener.onText(rest);
            }
            FinishReason reason;
            if (stopper.stopped()) reason = FinishReason.STOP;
            else if (!calls.isEmpty() || lastToken == SpecialTokens.CALL) reason = FinishReason.TOOL_CALLS;
            else reason = switch (r.reason()) {
                case STOP_TOKEN, STOP_STRING, CONSTRAINT_COMPLETE -> FinishReason.STOP;
                case MAX_TOKENS, CONTEXT_FULL -> FinishReason.LENGTH;
                case CANCELLED -> FinishReason.CANCELLED;
            };
            return new ChatResult(text.toString(), reasoning.toString(), List.copyOf(calls), reason,
                    new Usage(r.promptTokens(), r.cachedTokens(), r.tokens().length), parser.messages(), r.tokens(), r);
        }
    }

    /**
     * Cuts streamed text before the first stop string, holding back a tail that could be the start of one.
     * Not thread-safe (one request's scheduler callbacks, then its completion).
     */
    static final class StopStrings {
        private final List<String> stops;
        private final int holdBack;
        private final StringBuilder pending = new StringBuilder();
        private boolean stopped;

        StopStrings(List<String> stops) {
            this.stops = stops.stream().filter(s -> !s.isEmpty()).toList();
            this.holdBack = this.stops.stream().mapToInt(String::length).max().orElse(1) - 1;
        }

        boolean stopped() {
            return stopped;
        }

        /** Adds text; returns what can be released now. */
        String append(String delta) {
            if (stopped) return "";
            if (stops.isEmpty()) return delta;
            pending.append(delta);
            int cut = -1;
            for (String s : stops) {
                int i = pending.indexOf(s);
                if (i >= 0 && (cut < 0 || i < cut)) cut = i;
            }
            if (cut >= 0) {
                stopped = true;
                String out = pending.substring(0, cut);
                pending.setLength(0);
                return out;
            }
            int release = Math.max(0, pending.length() - holdBack);
            String out = pending.substring(0, release);
            pending.delete(0, release);
            return out;
        }

        /** The held-back text, at the end of a message. */
        String flush() {
            if (stopped) return "";
            String out = pending.toString();
            pending.setLength(0);
            return out;
        }
    }
}
