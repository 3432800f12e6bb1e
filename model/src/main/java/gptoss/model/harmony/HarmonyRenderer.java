package gptoss.model.harmony;

import gptoss.model.tokenizer.HarmonyTokenizer;
import gptoss.model.tokenizer.SpecialTokens;
import gptoss.model.tokenizer.TokenList;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Renders Harmony messages and conversations to token ids exactly as the openai-harmony library does (spec
 * §5.1–5.5). Special tokens are emitted as ids; every text piece (role, {@code " to=..."}, channel, content
 * type, content) is tokenized separately with the ordinary encoder, so text that looks like a special token
 * stays text. Immutable and thread-safe.
 */
public final class HarmonyRenderer {
    /** Stop sampling an assistant turn at {@code <|return|>} (answer done) or {@code <|call|>} (tool call). */
    public static final Set<Integer> STOP_TOKENS_FOR_ASSISTANT_ACTIONS = Set.of(SpecialTokens.RETURN, SpecialTokens.CALL);
    /** Also stop at every {@code <|end|>}, i.e. after each message. */
    public static final Set<Integer> STOP_TOKENS = Set.of(SpecialTokens.RETURN, SpecialTokens.CALL, SpecialTokens.END);

    private static final String CONSTRAIN_MARKER = "<|constrain|>";

    private final HarmonyTokenizer tokenizer;

    public HarmonyRenderer(HarmonyTokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    public HarmonyTokenizer tokenizer() {
        return tokenizer;
    }

    // ---------------------------------------------------------------------------------------------------------
    // conversations

    /** The conversation (chain-of-thought dropping on, the library's default) followed by {@code <|start|>nextRole}. */
    public int[] renderConversationForCompletion(Conversation conversation, Role nextRole) {
        return renderConversationForCompletion(conversation, nextRole, true);
    }

    public int[] renderConversationForCompletion(Conversation conversation, Role nextRole, boolean autoDropAnalysis) {
        TokenList out = new TokenList(256);
        renderConversationInto(conversation, autoDropAnalysis, out);
        out.add(SpecialTokens.START);
        out.addAll(tokenizer.encode(nextRole.wireName()));
        return out.toArray();
    }

    /** The conversation's messages (chain-of-thought dropping on, the library's default). */
    public int[] renderConversation(Conversation conversation) {
        return renderConversation(conversation, true);
    }

    public int[] renderConversation(Conversation conversation, boolean autoDropAnalysis) {
        TokenList out = new TokenList(256);
        renderConversationInto(conversation, autoDropAnalysis, out);
        return out.toArray();
    }

    /**
     * The conversation as a training target: like {@link #renderConversation}, but when the last message is an
     * assistant {@code final} message its closing {@code <|end|>} becomes {@code <|return|>}.
     */
    public int[] renderConversationForTraining(Conversation conversation, boolean autoDropAnalysis) {
        int[] ids = renderConversation(conversation, autoDropAnalysis);
        List<Message> messages = conversation.messages();
        if (!messages.isEmpty() && ids.length > 0) {
            Message last = messages.getLast();
            if (last.role() == Role.ASSISTANT && "final".equals(last.channel())) ids[ids.length - 1] = SpecialTokens.RETURN;
        }
        return ids;
    }

    private void renderConversationInto(Conversation conversation, boolean autoDropAnalysis, TokenList out) {
        List<Message> messages = conversation.messages();
        boolean functionTools = hasFunctionTools(messages);
        boolean[] dropped = droppedAnalysis(messages, autoDropAnalysis);
        for (int i = 0; i < messages.size(); i++) {
            if (dropped[i]) continue;
            try {
                renderInto(messages.get(i), functionTools, out);
            } catch (HarmonyFormatException e) {
                throw new HarmonyFormatException("message " + i + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * The messages that are rendered (spec §5.5, the library's literal rule): when dropping is on and the last
     * assistant message is on the {@code final} channel, every {@code analysis} message before the first
     * {@code final} message of the list is left out; otherwise all are kept. (So the analysis of a second
     * completed turn is kept — {@code test_keep_analysis_between_finals}.)
     */
    public static List<Message> messagesToRender(List<Message> messages, boolean autoDropAnalysis) {
        boolean[] dropped = droppedAnalysis(messages, autoDropAnalysis);
        List<Message> kept = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) if (!dropped[i]) kept.add(messages.get(i));
        return kept;
    }

    private static boolean[] droppedAnalysis(List<Message> messages, boolean autoDropAnalysis) {
        boolean[] dropped = new boolean[messages.size()];
        if (!autoDropAnalysis) return dropped;
        boolean lastAssistantIsFinal = false;
        for (int i = messages.size() - 1; i >= 0; i--) {
            if (messages.get(i).role() == Role.ASSISTANT) {
                lastAssistantIsFinal = "final".equals(messages.get(i).channel());
                break;
            }
        }
        if (!lastAssistantIsFinal) return dropped;
        for (int i = 0; i < messages.size() && !"final".equals(messages.get(i).channel()); i++) {
            dropped[i] = "analysis".equals(messages.get(i).channel());
        }
        return dropped;
    }

    /** Whether a developer message defines a non-empty {@code functions} namespace. */
    public static boolean hasFunctionTools(List<Message> messages) {
        for (Message m : messages) {
            for (Content c : m.content()) if (c instanceof DeveloperContent dev && dev.hasFunctionTools()) return true;
        }
        return false;
    }

    // ---------------------------------------------------------------------------------------------------------
    // one message

    /** One message on its own (a system message then lacks the "Calls to these tools..." line). */
    public int[] render(Message message) {
        return render(message, false);
    }

    /** One message; {@code conversationHasFunctionTools} adds the function-call line to system content. */
    public int[] render(Message message, boolean conversationHasFunctionTools) {
        TokenList out = new TokenList(64);
        renderInto(message, conversationHasFunctionTools, out);
        return out.toArray();
    }

    private void renderInto(Message message, boolean functionTools, TokenList out) {
        out.add(SpecialTokens.START);
        Author author = message.author();
        if (author.role() == Role.TOOL) {
            if (author.name() == null) throw new HarmonyFormatException("a tool message needs the tool's name as author name (e.g. functions.get_weather)");
            text(author.name(), out);
        } else {
            text(author.role().wireName(), out);
            if (author.name() != null) text(":" + author.name(), out);
        }
        if (message.recipient() != null && !message.recipient().equals("all")) text(" to=" + message.recipient(), out);
        if (message.channel() != null) {
            out.add(SpecialTokens.CHANNEL);
            text(message.channel(), out);
        }
        String contentType = message.contentType();
        if (contentType != null) {
            if (contentType.startsWith(CONSTRAIN_MARKER)) {
                text(" ", out);
                out.add(SpecialTokens.CONSTRAIN);
                text(contentType.substring(CONSTRAIN_MARKER.length()), out);
            } else {
                text(" " + contentType, out);
            }
        }
        out.add(SpecialTokens.MESSAGE);
        for (Content content : message.content()) {
            switch (content) {
                case TextContent t -> text(t.text(), out);
                case SystemContent s -> {
                    if (author.role() != Role.SYSTEM) throw new HarmonyFormatException("system content may only appear in a system message, found in a " + author.role().wireName() + " message");
                    text(systemText(s, functionTools), out);
                }
                case DeveloperContent d -> {
                    if (author.role() != Role.DEVELOPER) throw new HarmonyFormatException("developer content may only appear in a developer message, found in a " + author.role().wireName() + " message");
                    text(developerText(d), out);
                }
            }
        }
        out.add(message.isToolCall() ? SpecialTokens.CALL : SpecialTokens.END);
    }

    private void text(String text, TokenList out) {
        out.addAll(tokenizer.encode(text));
    }

    // ---------------------------------------------------------------------------------------------------------
    // text of system and developer content

    /** The system message text (§5.2): sections joined by a blank line. */
    public static String systemText(SystemContent system, boolean conversationHasFunctionTools) {
        List<String> sections = new ArrayList<>();
        List<String> top = new ArrayList<>();
        if (system.modelIdentity() != null) top.add(system.modelIdentity());
        if (system.knowledgeCutoff() != null) top.add("Knowledge cutoff: " + system.knowledgeCutoff());
        if (system.conversationStartDate() != null) top.add("Current date: " + system.conversationStartDate());
        if (!top.isEmpty()) sections.add(String.join("\n", top));
        if (system.reasoningEffort() != null) sections.add("Reasoning: " + system.reasoningEffort().wireName());
        if (!system.tools().isEmpty()) sections.add(toolsSection(system.tools()));
        ChannelConfig channels = system.channelConfig();
        if (channels != null && !channels.validChannels().isEmpty()) {
            StringBuilder header = new StringBuilder("# Valid channels: ").append(String.join(", ", channels.validChannels())).append('.');
            if (channels.channelRequired()) header.append(" Channel must be included for every message.");
            if (conversationHasFunctionTools) header.append("\nCalls to these tools must go to the commentary channel: 'functions'.");
            sections.add(header.toString());
        }
        return String.join("\n\n", sections);
    }

    /** The developer message text (§5.3): {@code # Instructions} and the tools section. */
    public static String developerText(DeveloperContent developer) {
        List<String> sections = new ArrayList<>();
        if (developer.instructions() != null) {
            sections.add("# Instructions");
            sections.add(developer.instructions());
        }
        if (!developer.tools().isEmpty()) sections.add(toolsSection(developer.tools()));
        return String.join("\n\n", sections);
    }

    /** {@code # Tools}, then per namespace its heading, description and {@code namespace name { ... }} block. */
    public static String toolsSection(Map<String, ToolNamespace> namespaces) {
        List<String> sections = new ArrayList<>();
        sections.add("# Tools");
        for (ToolNamespace ns : namespaces.values()) {
            List<String> lines = new ArrayList<>();
            boolean hasTools = !ns.tools().isEmpty();
            lines.add("## " + ns.name() + "\n");
            if (ns.description() != null) {
                for (String line : lines(ns.description())) lines.add(hasTools ? "// " + line : line);
            }
            if (hasTools) {
                lines.add("namespace " + ns.name() + " {\n");
                for (ToolDescription tool : ns.tools()) {
                    for (String line : lines(tool.description())) lines.add("// " + line);
                    if (tool.parameters() != null) {
                        lines.add("type " + tool.name() + " = (_: " + TypeScriptSchema.render(tool.parameters(), "") + ") => any;\n");
                    } else {
                        lines.add("type " + tool.name() + " = () => any;\n");
                    }
                }
                lines.add("} // namespace " + ns.name());
            }
            sections.add(String.join("\n", lines));
        }
        return String.join("\n\n", sections);
    }

    /** Lines as Rust's {@code str::lines}: split at \n, a trailing \r dropped, no empty last line. */
    static List<String> lines(String text) {
        List<String> lines = new ArrayList<>();
        int start = 0;
        while (start < text.length()) {
            int newline = text.indexOf('\n', start);
            int end = newline < 0 ? text.length() : newline;
            String line = text.substring(start, end);
            if (line.endsWith("\r")) line = line.substring(0, line.length() - 1);
            lines.add(line);
            start = newline < 0 ? text.length() : newline + 1;
        }
        return lines;
    }
}
