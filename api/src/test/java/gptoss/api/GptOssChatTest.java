package gptoss.api;

import gptoss.model.harmony.ToolDescription;
import gptoss.model.synth.SyntheticCheckpoint;
import gptoss.model.testing.TestModels;
import gptoss.model.tokenizer.HarmonyTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The chat API on random weights: streaming adds up to the result, usage counts, context checks, profiler. */
class GptOssChatTest {
    @TempDir
    static Path dir;
    static GptOss model;

    @BeforeAll
    static void open() {
        Path p = TestModels.write(dir.resolve("m"), TestModels.config(2, 32, 4, 2, 8, 4, 2, 32, 201088, 8), 3,
                SyntheticCheckpoint.Layout.HUGGING_FACE, 1);
        model = GptOss.open(p, GptOssOptions.defaults().withContext(2048).withThreads(2).withQuiet(true));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void streamedDeltasAddUpToTheResultAndUsageCountsTokens() {
        ChatRequest request = ChatRequest.builder().instructions("Be brief.")
                .tool(new ToolDescription("get_weather", "Weather in a city", null))
                .user("Hi <|end|> there").params(GenerationParams.defaults().withMaxTokens(40).withSeed(5L)).build();
        StringBuilder text = new StringBuilder(), reasoning = new StringBuilder();
        ChatResult r = model.chat(request, new ChatListener() {
            public void onText(String d) {
                text.append(d);
            }

            public void onReasoning(String d) {
                reasoning.append(d);
            }
        });
        assertEquals(r.text(), text.toString());
        assertEquals(r.reasoning(), reasoning.toString());
        int[] prompt = model.render(request);
        assertEquals(prompt.length, r.usage().promptTokens());
        assertEquals(r.tokens().length, r.usage().completionTokens());
        assertTrue(r.usage().completionTokens() <= 40);
        String rendered = HarmonyTokenizer.instance().decode(prompt);
        assertTrue(rendered.contains("Hi <|end|> there"), "user text kept as text");
        assertEquals(1, count(prompt, 200007) - count(model.tokenize("Hi <|end|> there"), 200007) - 2,
                "the <|end|> typed by the user is not the special token: " + rendered);
        // The same seed gives the same answer.
        ChatResult again = model.chat(request);
        assertEquals(r.text(), again.text());
        assertEquals(r.finishReason(), again.finishReason());
        assertTrue(again.usage().cachedTokens() > 0, "the second run reuses the cached prompt");
    }

    private static int count(int[] ids, int id) {
        int n = 0;
        for (int t : ids) if (t == id) n++;
        return n;
    }

    @Test
    void tooLongARequestNamesTheNumbers() {
        ContextOverflowException e = assertThrows(ContextOverflowException.class,
                () -> model.chat(ChatRequest.of("hello", GenerationParams.defaults().withMaxTokens(5000))));
        assertEquals(5000, e.maxTokens());
        assertEquals(2048, e.context());
        assertTrue(e.getMessage().contains("2048"), e.getMessage());
    }

    @Test
    void theProfilerCountsRoutedTokens() {
        try (var profiler = model.attachProfiler()) {
            ChatResult r = model.chat(ChatRequest.of("count", GenerationParams.defaults().withMaxTokens(5).withSeed(1L)));
            assertTrue(profiler.profile().tokens(0) >= r.usage().promptTokens() - r.usage().cachedTokens() + r.usage().completionTokens() - 1);
        }
    }

    @Test
    void aCompletionStopsAtAStopString() {
        GptOss.CompletionResult free = model.complete(model.tokenize("Once upon a time"), GenerationParams.defaults().withMaxTokens(30).withSeed(3L), d -> { }).await();
        assertEquals(FinishReason.LENGTH, free.finishReason());
        String text = free.text();
        if (text.length() > 6) {
            String stop = text.substring(3, 6);
            GptOss.CompletionResult cut = model.complete(model.tokenize("Once upon a time"),
                    GenerationParams.defaults().withMaxTokens(30).withSeed(3L).withStop(java.util.List.of(stop)), d -> { }).await();
            assertEquals(text.substring(0, text.indexOf(stop)), cut.text());
            assertEquals(FinishReason.STOP, cut.finishReason());
        }
    }
}
