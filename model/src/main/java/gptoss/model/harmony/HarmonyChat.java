package gptoss.model.harmony;

import gptoss.model.tokenizer.HarmonyTokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The entry point for chatting with gpt-oss: turns conversations, conversation files and chat-completions
 * requests into prompt token ids, and model output back into messages.
 *
 * <pre>
 * HarmonyChat chat = HarmonyChat.standard();
 * Prompt prompt = chat.promptFromChatCompletionsFile(path, ChatCompletions.Options.today());
 * HarmonyStreamParser parser = chat.newCompletionParser();
 * // sample from prompt.tokens(), feed every sampled id to parser.accept(id) until one of chat.stopTokens()
 * // has been fed, then parser.finish(); print ContentDelta events of the "final" channel as they come
 * Conversation next = chat.continueWith(prompt.conversation(), parser.messages());
 * </pre>
 */
public final class HarmonyChat {
    private final HarmonyTokenizer tokenizer;
    private final HarmonyRenderer renderer;

    public HarmonyChat(HarmonyTokenizer tokenizer) {
        this.tokenizer = tokenizer;
        this.renderer = new HarmonyRenderer(tokenizer);
    }

    /** With the shared o200k_harmony tokenizer. */
    public static HarmonyChat standard() {
        return new HarmonyChat(HarmonyTokenizer.instance());
    }

    /**
     * Prompt token ids for the assistant's next turn, with the conversation they render.
     *
     * @param request the chat-completions request it came from (sampling settings, tool choice), or null
     */
    public record Prompt(Conversation conversation, int[] tokens, ChatCompletions.ChatRequest request) {
        public Prompt {
            tokens = tokens.clone();
        }

        @Override
        public int[] tokens() {
            return tokens.clone();
        }

        public int length() {
            return tokens.length;
        }

        @Override
        public String toString() {
            return "Prompt[" + conversation.messages().size() + " messages, " + tokens.length + " tokens]";
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Prompt p && conversation.equals(p.conversation) && Arrays.equals(tokens, p.tokens)
                    && java.util.Objects.equals(request, p.request);
        }

        @Override
        public int hashCode() {
            return conversation.hashCode() * 31 + Arrays.hashCode(tokens);
        }
    }

    public HarmonyTokenizer tokenizer() {
        return tokenizer;
    }

    public HarmonyRenderer renderer() {
        return renderer;
    }

    /** The conversation rendered for the assistant's next turn (ends with {@code <|start|>assistant}). */
    public Prompt prompt(Conversation conversation) {
        return new Prompt(conversation, renderer.renderConversationForCompletion(conversation, Role.ASSISTANT), null);
    }

    /** A one-question prompt: the default system message (with this effort) and a user message. */
    public Prompt userPrompt(String text, ReasoningEffort effort) {
        return prompt(Conversation.of(Message.system(SystemContent.defaults().withReasoningEffort(effort)), Message.user(text)));
    }

    /** A conversation file in the Harmony library's JSON (see {@link HarmonyJson}). */
    public Prompt promptFromConversationFile(Path file) {
        return prompt(HarmonyJson.readConversation(file));
    }

    public Prompt promptFromConversationJson(String json, String source) {
        return prompt(HarmonyJson.readConversation(json, source));
    }

    /** An OpenAI chat-completions request file (see {@link ChatCompletions}). */
    public Prompt promptFromChatCompletionsFile(Path file, ChatCompletions.Options options) {
        return prompt(ChatCompletions.read(file, options));
    }

    public Prompt promptFromChatCompletionsJson(String json, String source, ChatCompletions.Options options) {
        return prompt(ChatCompletions.read(json, source, options));
    }

    private Prompt prompt(ChatCompletions.ChatRequest request) {
        Conversation conversation = request.conversation();
        return new Prompt(conversation, renderer.renderConversationForCompletion(conversation, Role.ASSISTANT), request);
    }

    /** Stop sampling at these: {@code <|return|>} (answer done) and {@code <|call|>} (tool call). */
    public Set<Integer> stopTokens() {
        return HarmonyRenderer.STOP_TOKENS_FOR_ASSISTANT_ACTIONS;
    }

    /** A parser for the tokens sampled after a prompt from this class. */
    public HarmonyStreamParser newCompletionParser() {
        return new HarmonyStreamParser(tokenizer);
    }

    /** The messages in a finished completion. */
    public List<Message> parseCompletion(int[] completionTokens) {
        return HarmonyStreamParser.parseMessages(tokenizer, completionTokens);
    }

    /**
     * The conversation with the assistant's parsed messages appended, ready for a tool result or the next user
     * message. (Rendering closes each with {@code <|end|>} or {@code <|call|>}, so a {@code <|return|>} becomes
     * {@code <|end|>} in the history, as the format requires.)
     */
    public Conversation continueWith(Conversation conversation, List<Message> assistantMessages) {
        List<Message> all = new ArrayList<>(conversation.messages());
        all.addAll(assistantMessages);
        return new Conversation(all);
    }
}
