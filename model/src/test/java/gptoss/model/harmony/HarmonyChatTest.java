package gptoss.model.harmony;

import gptoss.model.harmony.HarmonyChat.Prompt;
import gptoss.model.tokenizer.SpecialTokens;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The facade the CLI uses: files in, prompt ids out; sampled ids in, messages out; the next turn. */
class HarmonyChatTest {
    static final HarmonyChat CHAT = HarmonyChat.standard();

    @Test
    void conversationFileToPromptAndCompletionBackToMessages(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("conversation.json");
        Files.writeString(file, HarmonyJson.writeConversation(Conversation.of(
                Message.system(SystemContent.defaults().withModelIdentity(HarmonyRendererTest.IDENTITY)), Message.user("What is 2 + 2?"))));
        Prompt prompt = CHAT.promptFromConversationFile(file);
        assertEquals(HarmonyTestData.SIMPLE_CONVO, CHAT.tokenizer().decode(prompt.tokens()));
        assertEquals(64, prompt.length());

        // the model answers (spec §5.6 (d)); the sampler stops at <|return|>
        int[] completion = HarmonyRendererTest.ids("""
                200005 35644 200008 1844 31064 25 392 4827 382 220 17 659 220 17 16842 12295 81645 13 51441 6052 13 200007
                200006 173781 200005 17196 200008 17 659 220 17 314 220 19 13 200002""");
        assertTrue(CHAT.stopTokens().contains(completion[completion.length - 1]));
        assertEquals(Set.of(SpecialTokens.RETURN, SpecialTokens.CALL), CHAT.stopTokens());
        List<Message> answer = CHAT.parseCompletion(completion);
        assertEquals("2 + 2 = 4.", answer.getLast().text());

        // next turn: the answer's <|return|> is stored as <|end|>, and its analysis is dropped
        Conversation next = CHAT.continueWith(prompt.conversation(), answer).append(Message.user("And 3 + 3?"));
        String text = CHAT.tokenizer().decode(CHAT.prompt(next).tokens());
        assertTrue(text.endsWith("<|start|>assistant<|channel|>final<|message|>2 + 2 = 4.<|end|>"
                + "<|start|>user<|message|>And 3 + 3?<|end|><|start|>assistant"), text);
        assertTrue(!text.contains("Simple arithmetic"), text);
    }

    @Test
    void chatCompletionsFileAndUserPrompt(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("request.json");
        Files.writeString(file, "{\"messages\": [{\"role\": \"user\", \"content\": \"What is 2 + 2?\"}], \"max_tokens\": 9}");
        Prompt prompt = CHAT.promptFromChatCompletionsFile(file, ChatCompletions.Options.withoutDate());
        assertEquals(9L, prompt.request().maxTokens());
        // the same prompt as test_simple_convo: a default system message and the question
        assertArrayEquals(CHAT.promptFromConversationJson(HarmonyJson.writeConversation(Conversation.of(
                Message.system(SystemContent.defaults()), Message.user("What is 2 + 2?"))), "c").tokens(), prompt.tokens());
        assertArrayEquals(prompt.tokens(), CHAT.userPrompt("What is 2 + 2?", ReasoningEffort.MEDIUM).tokens());
        HarmonyFormatException missing = assertThrows(HarmonyFormatException.class,
                () -> CHAT.promptFromConversationFile(dir.resolve("nope.json")));
        assertTrue(missing.getMessage().contains("nope.json: cannot read"), missing.getMessage());
    }
}
