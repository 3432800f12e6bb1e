package gptoss.cli.profile;

import gptoss.model.harmony.HarmonyChat;
import gptoss.model.tokenizer.HarmonyTokenizer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PromptCodecTest {
    static final HarmonyTokenizer TOKENIZER = HarmonyTokenizer.instance();
    static final String COMPLETION_TAIL = "<|start|>user<|message|>Why is the sky blue?<|end|><|start|>assistant";

    @Test
    void tokensAreTakenAsTheyAre() {
        PromptCodec codec = new PromptCodec(HarmonyChat.standard(), true);
        assertArrayEquals(new int[]{5, 6}, codec.encode(new ProfileInput.TokenPrompt(1, new int[]{5, 6})));
    }

    @Test
    void textBecomesAUserMessageForCompletion() {
        ProfileInput.TextPrompt prompt = new ProfileInput.TextPrompt(1, "Why is the sky blue?");
        int[] alone = new PromptCodec(HarmonyChat.standard(), false).encode(prompt);
        assertArrayEquals(TOKENIZER.encodeWithSpecialTokens(COMPLETION_TAIL), alone);

        String withSystem = TOKENIZER.decode(new PromptCodec(HarmonyChat.standard(), true).encode(prompt));
        assertTrue(withSystem.startsWith("<|start|>system<|message|>"), withSystem);
        assertTrue(withSystem.endsWith("<|end|>" + COMPLETION_TAIL), withSystem);
        assertFalse(withSystem.contains("Current date"), "no date: a corpus renders the same every day");
    }

    @Test
    void messagesAreAChatCompletionsRequest() {
        String line = "{\"messages\": [{\"role\": \"user\", \"content\": \"Why is the sky blue?\"}]}";
        String text = TOKENIZER.decode(new PromptCodec(HarmonyChat.standard(), true).encode(new ProfileInput.ChatPrompt(3, line, 1)));
        assertTrue(text.startsWith("<|start|>system<|message|>") && text.endsWith("<|end|>" + COMPLETION_TAIL), text);
        assertFalse(text.contains("Current date"));
    }

    @Test
    void tokenTextShowsPartialCharactersAsBytes() {
        PromptCodec codec = new PromptCodec(HarmonyChat.standard(), true);
        int[] the = TOKENIZER.encode(" the");
        assertEquals(1, the.length);
        assertEquals(" the", codec.tokenText().apply(the[0]));
        assertEquals("<|start|>", codec.tokenText().apply(200006));
        assertEquals("<201088>", codec.tokenText().apply(201088));
        int partial = -1;
        for (int id = 0; id < 1000 && partial < 0; id++) {
            byte[] b = TOKENIZER.tokenBytes(id);
            if (!new String(b, StandardCharsets.UTF_8).equals(new String(b, StandardCharsets.UTF_8).replace("\uFFFD", "")) ) partial = id;
        }
        assertTrue(partial >= 0, "a byte-level token that is not a whole character");
        StringBuilder hex = new StringBuilder();
        for (byte x : TOKENIZER.tokenBytes(partial)) hex.append(String.format("\\x%02x", x & 0xFF));
        assertEquals(hex.toString(), codec.tokenText().apply(partial));
    }
}
