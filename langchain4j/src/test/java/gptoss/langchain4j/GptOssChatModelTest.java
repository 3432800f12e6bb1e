package gptoss.langchain4j;

import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.CompleteToolCall;
import dev.langchain4j.model.chat.response.PartialThinking;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import dev.langchain4j.model.chat.request.json.JsonArraySchema;
import dev.langchain4j.model.chat.request.json.JsonEnumSchema;
import dev.langchain4j.model.chat.request.json.JsonIntegerSchema;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.request.json.JsonSchema;
import dev.langchain4j.model.chat.request.json.JsonStringSchema;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import gptoss.api.GenerationParams;
import gptoss.api.GptOss;
import gptoss.api.GptOssOptions;
import gptoss.api.Sampling;
import gptoss.api.TokenSelector;
import gptoss.model.synth.SyntheticCheckpoint;
import gptoss.model.testing.TestModels;
import gptoss.model.tokenizer.HarmonyTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The LangChain4j model in-process on a tiny synthetic checkpoint. A random model never calls a tool by chance, so
 * requests with seed 7001 get a scripted "model" that writes what a trained gpt-oss writes: first a call of
 * {@code add}, then, once the conversation holds the tool's result, an answer. Everything else is the real path.
 */
class GptOssChatModelTest {
    static final long SCRIPTED = 7001;
    static final String CALL = "<|channel|>analysis<|message|>Use add.<|end|><|start|>assistant<|channel|>commentary to=functions.add "
            + "<|constrain|>json<|message|>{\"a\":2,\"b\":3}<|call|>";
    static final String ANSWER = "<|channel|>final<|message|>The sum is 5.<|return|>";

    @TempDir
    static Path dir;
    static GptOss gptoss;
    static final List<String> scripts = new ArrayList<>();

    @BeforeAll
    static void open() {
        Path p = TestModels.write(dir.resolve("tiny"), TestModels.config(2, 32, 4, 2, 8, 4, 2, 32, 201088, 8), 3,
                SyntheticCheckpoint.Layout.HUGGING_FACE, 1);
        gptoss = GptOss.open(p, GptOssOptions.defaults().withContext(2048).withThreads(2).withQuiet(true), GptOssChatModelTest::selector);
    }

    @AfterAll
    static void close() {
        gptoss.close();
    }

    static synchronized TokenSelector selector(GenerationParams params) {
        if (params.seed() == null || params.seed() != SCRIPTED) return Sampling.selector(params);
        String script = scripts.isEmpty() ? CALL : ANSWER; // first turn: call the tool; then answer
        scripts.add(script);
        int[] ids = HarmonyTokenizer.instance().encodeWithSpecialTokens(script);
        int[] next = {0};
        return (logits, offset, vocab) -> ids[Math.min(next[0]++, ids.length - 1)];
    }

    interface Assistant {
        String chat(String question);
    }

    static final class Calculator {
        final List<String> calls = new ArrayList<>();

        @Tool("Adds two integers")
        int add(@P("first") int a, @P("second") int b) {
            calls.add(a + "+" + b);
            return a + b;
        }
    }

    @Test
    void anAiServicesRoundTripCallsTheToolAndAnswers() {
        synchronized (GptOssChatModelTest.class) {
            scripts.clear();
        }
        GptOssChatModel model = GptOssChatModel.builder(gptoss).seed(SCRIPTED).maxTokens(100).build();
        Calculator calculator = new Calculator();
        Assistant assistant = AiServices.builder(Assistant.class).chatModel(model).tools(calculator).build();
        String answer = assistant.chat("What is 2 + 3?");
        assertEquals(List.of("2+3"), calculator.calls, "the @Tool method ran with the model's arguments");
        assertEquals("The sum is 5.", answer);
        assertEquals(List.of(CALL, ANSWER), scripts, "two model turns: the call, then the answer");
    }

    enum Unit { CELSIUS, FAHRENHEIT }

    record Forecast(String city, boolean rain, Unit unit) {
    }

    interface Forecaster {
        Forecast forecast(String city);
    }

    @Test
    void aServiceReturningARecordGetsSchemaValidJsonFromARandomModel() {
        // AiServices asks for a JSON schema response format (our capability); constrained decoding makes even random
        // weights answer with JSON that LangChain4j parses into the record
        for (long seed = 1; seed <= 3; seed++) {
            GptOssChatModel model = GptOssChatModel.builder(gptoss).seed(seed).maxTokens(60).build();
            Forecast f = AiServices.builder(Forecaster.class).chatModel(model).build().forecast("Oslo"); // throws on bad JSON
            assertTrue(f != null, "parsed into the record");
        }
    }

    @Test
    void aJsonSchemaResponseFormatValidatesWithAnIndependentValidator() throws Exception {
        JsonObjectSchema root = JsonObjectSchema.builder()
                .addProperty("city", JsonStringSchema.builder().build())
                .addProperty("unit", JsonEnumSchema.builder().enumValues("CELSIUS", "FAHRENHEIT").build())
                .addProperty("days", JsonArraySchema.builder().items(JsonIntegerSchema.builder().build()).build())
                .required("city", "unit", "days").additionalProperties(false).build();
        JsonNode schema = new ObjectMapper().valueToTree(dev.langchain4j.internal.JsonSchemaElementUtils.toMap(root));
        var validator = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(schema);
        for (long seed = 1; seed <= 5; seed++) {
            GptOssChatModel model = GptOssChatModel.builder(gptoss).seed(seed).maxTokens(60).build();
            ChatResponse r = model.chat(dev.langchain4j.model.chat.request.ChatRequest.builder()
                    .messages(UserMessage.from("Weather in Oslo?"))
                    .responseFormat(ResponseFormat.builder().type(ResponseFormatType.JSON)
                            .jsonSchema(JsonSchema.builder().name("forecast").rootElement(root).build()).build())
                    .build());
            String text = r.aiMessage().text();
            var errors = validator.validate(new ObjectMapper().readTree(text));
            assertTrue(errors.isEmpty(), "seed " + seed + ": " + text + " → " + errors);
            assertEquals(FinishReason.STOP, r.finishReason(), text);
        }
    }

    @Test
    void theToolResultReachesThePromptAsAHarmonyToolMessage() {
        GptOssChatModel model = GptOssChatModel.builder(gptoss).build();
        ToolExecutionRequest call = ToolExecutionRequest.builder().id("c1").name("add").arguments("{\"a\":2,\"b\":3}").build();
        var request = dev.langchain4j.model.chat.request.ChatRequest.builder().messages(
                SystemMessage.from("Be exact."), UserMessage.from("What is 2 + 3?"), AiMessage.from(call),
                ToolExecutionResultMessage.from(call, "5")).build();
        String prompt = HarmonyTokenizer.instance().decode(gptoss.render(model.toRequest(request)));
        assertTrue(prompt.contains("<|start|>developer<|message|># Instructions\n\nBe exact."), prompt);
        assertTrue(prompt.contains("<|start|>assistant to=functions.add<|channel|>commentary <|constrain|>json<|message|>{\"a\":2,\"b\":3}<|call|>"), prompt);
        assertTrue(prompt.contains("<|start|>functions.add to=assistant<|channel|>commentary<|message|>5<|end|>"), prompt);
        assertTrue(prompt.endsWith("<|start|>assistant"), prompt);
    }

    @Test
    void streamingDeliversThinkingToolCallsAndTheResponse() throws Exception {
        synchronized (GptOssChatModelTest.class) {
            scripts.clear();
        }
        GptOssChatModel model = GptOssChatModel.builder(gptoss).seed(SCRIPTED).maxTokens(100).build();
        StringBuilder thinking = new StringBuilder();
        List<ToolExecutionRequest> calls = new ArrayList<>();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        model.chat(dev.langchain4j.model.chat.request.ChatRequest.builder().messages(UserMessage.from("2 + 3?"))
                .toolSpecifications(dev.langchain4j.agent.tool.ToolSpecifications.toolSpecificationsFrom(Calculator.class)).build(),
                new StreamingChatResponseHandler() {
                    @Override
                    public void onPartialResponse(String partial) {
                    }

                    @Override
                    public void onPartialThinking(PartialThinking partial) {
                        thinking.append(partial.text());
                    }

                    @Override
                    public void onCompleteToolCall(CompleteToolCall call) {
                        calls.add(call.toolExecutionRequest());
                    }

                    @Override
                    public void onCompleteResponse(ChatResponse response) {
                        done.complete(response);
                    }

                    @Override
                    public void onError(Throwable error) {
                        done.completeExceptionally(error);
                    }
                });
        ChatResponse r = done.get(60, TimeUnit.SECONDS);
        assertEquals("Use add.", thinking.toString());
        assertEquals(1, calls.size());
        assertEquals("add", calls.get(0).name());
        assertEquals(FinishReason.TOOL_EXECUTION, r.finishReason());
        assertEquals("{\"a\":2,\"b\":3}", r.aiMessage().toolExecutionRequests().get(0).arguments());
        assertTrue(r.tokenUsage().inputTokenCount() > 0 && r.tokenUsage().outputTokenCount() > 5);
    }

    @Test
    void aPlainChatWithRandomWeightsEndsWithinItsTokenLimit() {
        GptOssChatModel model = GptOssChatModel.builder(gptoss).seed(3L).maxTokens(6).build();
        ChatResponse r = model.chat(dev.langchain4j.model.chat.request.ChatRequest.builder().messages(UserMessage.from("Hi")).build());
        assertTrue(r.tokenUsage().outputTokenCount() <= 6);
        assertTrue(r.finishReason() == FinishReason.LENGTH || r.finishReason() == FinishReason.STOP || r.finishReason() == FinishReason.TOOL_EXECUTION);
    }
}
