package gptoss.chat;

import gptoss.api.GptOss;
import gptoss.api.GptOssOptions;
import gptoss.api.LoadedModel;
import gptoss.generation.Generator;
import gptoss.model.harmony.HarmonyChat;
import gptoss.model.harmony.HarmonyEvent;
import gptoss.model.harmony.Message;
import gptoss.model.harmony.ReasoningEffort;
import gptoss.model.harmony.Role;
import gptoss.model.harmony.SystemContent;
import gptoss.model.synth.SyntheticCheckpoint;
import gptoss.model.testing.TestModels;
import gptoss.runtime.engine.Engine;
import gptoss.sampling.Sampler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The chat plumbing on a real engine with random weights: a scripted sampler makes the "model" say what a
 * trained one would (spec §5.6 vector d), so rendering, streaming, parsing, history and cache reuse can be
 * checked exactly.
 */
class ChatSessionTest {
    /** Vector (d): analysis then final "2 + 2 = 4.", ending with <|return|>. */
    static final int[] ANSWER = {200005, 35644, 200008, 1844, 31064, 25, 392, 4827, 382, 220, 17, 659, 220, 17, 16842, 12295,
            81645, 13, 51441, 6052, 13, 200007, 200006, 173781, 200005, 17196, 200008, 17, 659, 220, 17, 314, 220, 19, 13, 200002};

    @TempDir
    static Path dir;
    static Path checkpoint;
    static GptOss model;
    static final GptOssOptions OPTIONS = GptOssOptions.defaults().withContext(4096).withPrefillChunk(64).withThreads(2).withQuiet(true);

    @BeforeAll
    static void open() {
        checkpoint = TestModels.write(dir.resolve("m"), TestModels.config(2, 32, 4, 2, 8, 4, 2, 32, 201088, 8), 5,
                SyntheticCheckpoint.Layout.HUGGING_FACE, 1);
        model = GptOss.open(checkpoint, OPTIONS);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** Emits a fixed script, remembering the logits it was shown. */
    static final class ScriptedSampler implements Sampler {
        final int[] script;
        int next;
        final List<float[]> seen = new ArrayList<>();

        ScriptedSampler(int... script) {
            this.script = script;
        }

        @Override
        public int sample(float[] logits, int offset, int vocab) {
            seen.add(Arrays.copyOfRange(logits, offset, offset + vocab));
            return script[next++ % script.length];
        }
    }

    @Test
    void aTurnStreamsParsesAndStopsAtReturn() {
        ScriptedSampler sampler = new ScriptedSampler(ANSWER);
        ChatSession session = new ChatSession(model, sampler, SystemContent.defaults(), 100);
        StringBuilder streamedFinal = new StringBuilder();
        List<HarmonyEvent> events = new ArrayList<>();
        ChatSession.Turn turn = session.send("What is 2 + 2?", e -> {
            events.add(e);
            if (e instanceof HarmonyEvent.ContentDelta d && "final".equals(d.header().channel())) streamedFinal.append(d.text());
        }, () -> false);
        assertEquals(gptoss.sampling.StopReason.STOP_TOKEN, turn.reason());
        assertEquals(ANSWER.length, turn.generatedTokens());
        assertEquals("2 + 2 = 4.", turn.answer());
        assertEquals("2 + 2 = 4.", streamedFinal.toString());
        assertEquals(List.of("analysis", "final"), turn.messages().stream().map(Message::channel).toList());
        assertEquals("User asks: \"What is 2 + 2?\" Simple arithmetic. Provide answer.", turn.messages().get(0).text());
        assertTrue(turn.diagnostics().isEmpty(), turn.diagnostics().toString());
        assertTrue(events.stream().filter(e -> e instanceof HarmonyEvent.ContentDelta).count() > 2, "streamed in several deltas");
    }

    @Test
    void theNextTurnDropsFinishedReasoningAndReusesTheCache() {
        ScriptedSampler sampler = new ScriptedSampler(ANSWER);
        HarmonyChat harmony = HarmonyChat.standard();
        ChatSession session = new ChatSession(model, sampler, SystemContent.defaults(), 100);
        session.send("What is 2 + 2?", e -> { }, () -> false);
        int firstTurnSamples = sampler.seen.size();
        ChatSession.Turn second = session.send("What about 9 / 2?", e -> { }, () -> false);

        List<Message> all = session.conversation().messages();
        var beforeSecondAnswer = new gptoss.model.harmony.Conversation(all.subList(0, all.size() - second.messages().size()));
        int[] prompt = harmony.renderer().renderConversationForCompletion(beforeSecondAnswer, Role.ASSISTANT);
        String text = harmony.tokenizer().decode(prompt);
        assertFalse(text.contains("Simple arithmetic"), "analysis of the finished turn is dropped: " + text);
        assertTrue(text.endsWith("<|start|>assistant<|channel|>final<|message|>2 + 2 = 4.<|end|><|start|>user<|message|>What about 9 / 2?<|end|><|start|>assistant"), text);
        assertEquals(prompt.length, second.promptTokens());
        assertTrue(second.reusedTokens() > 10, "the system message and first question come from the cache: " + second.reusedTokens());

        // The logits after reusing the cache equal those of a fresh pass over the whole prompt.
        float[] expected;
        try (LoadedModel fresh = LoadedModel.open(checkpoint, OPTIONS)) {
            Engine e = fresh.engine();
            expected = e.forward(e.newSequence(), prompt, false);
        }
        float[] actual = sampler.seen.get(firstTurnSamples);
        float worst = 0;
        for (int i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        assertTrue(worst <= 1e-4, "cached continuation differs from recomputation by " + worst);
    }

    @Test
    void anAnswerWithoutStopTokenEndsAtMaxTokensAndCancellationStopsEarly() {
        ChatSession session = new ChatSession(model, new ScriptedSampler(200005, 17196, 200008, 17),
                SystemContent.defaults().withReasoningEffort(ReasoningEffort.HIGH), 9);
        ChatSession.Turn turn = session.send("Count forever", e -> { }, () -> false);
        assertEquals(gptoss.sampling.StopReason.MAX_TOKENS, turn.reason());
        assertEquals(9, turn.generatedTokens());

        int[] calls = {0};
        ChatSession.Turn cancelled = session.send("Again", e -> { }, () -> ++calls[0] >= 3);
        assertEquals(gptoss.sampling.StopReason.CANCELLED, cancelled.reason());
        assertEquals(3, cancelled.generatedTokens());
        session.reset();
        assertEquals(1, session.conversation().messages().size(), "only the system message is left");
    }

    @Test
    void reasoningEffortIsRendered() {
        ChatSession session = new ChatSession(model, new ScriptedSampler(ANSWER), SystemContent.defaults(), 50);
        session.setReasoning(ReasoningEffort.LOW);
        int[] ids = HarmonyChat.standard().renderer().renderConversationForCompletion(session.conversation(), Role.ASSISTANT);
        assertTrue(HarmonyChat.standard().tokenizer().decode(ids).contains("Reasoning: low"));
        assertArrayEquals(new int[]{200006, 173781}, Arrays.copyOfRange(ids, ids.length - 2, ids.length));
    }
}
