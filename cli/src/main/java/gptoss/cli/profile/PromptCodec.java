package gptoss.cli.profile;

import gptoss.model.harmony.ChatCompletions;
import gptoss.model.harmony.Conversation;
import gptoss.model.harmony.HarmonyChat;
import gptoss.model.harmony.Message;
import gptoss.model.harmony.ReasoningEffort;
import gptoss.model.tokenizer.HarmonyTokenizer;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.function.IntFunction;

/**
 * Prompts through the o200k_harmony tokenizer and the Harmony renderer, each rendered for the assistant's next
 * turn (ending in {@code <|start|>assistant}): a text prompt as a user message after the default system message
 * (or alone), a chat prompt as a chat-completions request; no conversation date, so a corpus always renders
 * the same. Token ids are taken as they are.
 */
final class PromptCodec {
    private final HarmonyChat chat;
    private final boolean systemMessage;

    PromptCodec(HarmonyChat chat, boolean systemMessage) {
        this.chat = chat;
        this.systemMessage = systemMessage;
    }

    /** The ids to feed the model for {@code prompt}. */
    int[] encode(ProfileInput.Prompt prompt) {
        return switch (prompt) {
            case ProfileInput.TokenPrompt t -> t.tokens();
            case ProfileInput.TextPrompt t -> systemMessage
                    ? chat.userPrompt(t.text(), ReasoningEffort.MEDIUM).tokens()
                    : chat.prompt(Conversation.of(Message.user(t.text()))).tokens();
            case ProfileInput.ChatPrompt c -> chat.promptFromChatCompletionsJson(c.request(), "--input line " + c.line(),
                    ChatCompletions.Options.withoutDate()).tokens();
        };
    }

    /** Text of one token id, for the report. */
    IntFunction<String> tokenText() {
        HarmonyTokenizer tokenizer = chat.tokenizer();
        return id -> text(tokenizer, id);
    }

    /**
     * The text of one token: its UTF-8 when the bytes are whole characters, else each byte as {@code \xHH}
     * (a token may hold part of a character); {@code <id>} for ids outside the tokenizer.
     */
    /** Where a continuation ends: {@code <|return|>} and {@code <|call|>}. */
    java.util.Set<Integer> stopTokens() {
        return chat.stopTokens();
    }

    static String text(HarmonyTokenizer tokenizer, int id) {
        if (id < 0 || id >= tokenizer.vocabSize() || (id >= HarmonyTokenizer.ORDINARY_TOKENS && !tokenizer.isSpecial(id))) {
            return "<" + id + ">";
        }
        byte[] bytes = tokenizer.tokenBytes(id);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            StringBuilder b = new StringBuilder();
            for (byte x : bytes) b.append(String.format("\\x%02x", x & 0xFF));
            return b.toString();
        }
    }
}
