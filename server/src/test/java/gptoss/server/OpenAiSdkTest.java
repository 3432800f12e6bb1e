package gptoss.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.NotFoundException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.ResponseFormatJsonSchema;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The official OpenAI Java SDK (a client we did not write) against the running server on loopback. */
class OpenAiSdkTest {
    @TempDir
    static Path dir;
    static ServerFixture fx;
    static OpenAIClient client;

    @BeforeAll
    static void start() {
        fx = new ServerFixture(dir, ServerSettings.defaults().withApiKey("sk-sdk"), 4, 8);
        client = OpenAIOkHttpClient.builder().baseUrl(fx.base() + "/v1").apiKey("sk-sdk").maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        client.close();
        fx.close();
    }

    @Test
    void plainChat() {
        ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder().model("tiny")
                .addSystemMessage("Be brief.").addUserMessage("Hello").maxCompletionTokens(10).seed(3).build());
        assertEquals("tiny", c.model());
        assertTrue(c.choices().get(0).message().content().isPresent());
        var usage = c.usage().orElseThrow();
        assertTrue(usage.completionTokens() >= 1 && usage.completionTokens() <= 10);
        assertTrue(usage.promptTokensDetails().orElseThrow().cachedTokens().isPresent());
        assertEquals("tiny", client.models().list().data().get(0).id());
    }

    @Test
    void streamingWithReasoningContent() {
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("tiny").addUserMessage("What is 2 + 2?")
                .maxCompletionTokens(60).seed(ServerFixture.REASONING_SEED).build();
        StringBuilder content = new StringBuilder(), reasoning = new StringBuilder();
        String[] finish = {null};
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            stream.stream().forEach(chunk -> {
                if (chunk.choices().isEmpty()) return;
                var choice = chunk.choices().get(0);
                choice.delta().content().ifPresent(content::append);
                JsonValue r = choice.delta()._additionalProperties().get("reasoning_content");
                if (r != null) reasoning.append(r.asString().orElseThrow());
                choice.finishReason().ifPresent(f -> finish[0] = f.asString());
            });
        }
        assertEquals("2 + 2 = 4.", content.toString());
        assertEquals("User asks 2+2. Answer 4.", reasoning.toString());
        assertEquals("stop", finish[0]);

        ChatCompletion whole = client.chat().completions().create(params);
        assertEquals("2 + 2 = 4.", whole.choices().get(0).message().content().orElseThrow());
        assertEquals("User asks 2+2. Answer 4.", whole.choices().get(0).message()._additionalProperties().get("reasoning_content").asString().orElseThrow());
    }

    @Test
    void aToolCallRoundTrip() throws Exception {
        ChatCompletionFunctionTool weather = ChatCompletionFunctionTool.builder().function(FunctionDefinition.builder()
                .name("get_weather").description("Current weather in a city")
                .parameters(FunctionParameters.builder().putAdditionalProperty("type", JsonValue.from("object"))
                        .putAdditionalProperty("properties", JsonValue.from(Map.of("city", Map.of("type", "string"))))
                        .putAdditionalProperty("required", JsonValue.from(List.of("city"))).build())
                .build()).build();
        ChatCompletionCreateParams ask = ChatCompletionCreateParams.builder().model("tiny").addUserMessage("Weather in Paris?")
                .addTool(weather).maxCompletionTokens(80).seed(ServerFixture.TOOL_CALL_SEED).build();
        ChatCompletion first = client.chat().completions().create(ask);
        var choice = first.choices().get(0);
        assertEquals("tool_calls", choice.finishReason().asString());
        ChatCompletionMessageFunctionToolCall call = choice.message().toolCalls().orElseThrow().get(0).asFunction();
        assertEquals("get_weather", call.function().name());
        JsonNode args = new ObjectMapper().readTree(call.function().arguments());
        assertEquals("Paris", args.get("city").textValue(), "arguments are valid JSON");

        ChatCompletion second = client.chat().completions().create(ask.toBuilder()
                .addMessage(choice.message())
                .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id()).content("{\"temperature_c\": 21}").build())
                .seed(5).maxCompletionTokens(5).build());
        var u1 = first.usage().orElseThrow();
        var u2 = second.usage().orElseThrow();
        assertTrue(u2.promptTokens() > u1.promptTokens() + 10, "the call and its result are in the prompt: " + u1.promptTokens() + " → " + u2.promptTokens());
        assertTrue(u2.promptTokensDetails().orElseThrow().cachedTokens().orElseThrow() > u1.promptTokens() / 2,
                "the shared start of the conversation came from the prefix cache");
    }

    @Test
    void aJsonSchemaResponseFormatIsAccepted() throws Exception {
        // Constrained: the answer is a JSON object (StructuredOutputSdkTest validates richer schemas).
        ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder().model("tiny").addUserMessage("A city?")
                .responseFormat(ResponseFormatJsonSchema.builder().jsonSchema(ResponseFormatJsonSchema.JsonSchema.builder().name("city")
                        .schema(ResponseFormatJsonSchema.JsonSchema.Schema.builder().putAdditionalProperty("type", JsonValue.from("object")).build())
                        .build()).build())
                .maxCompletionTokens(24).seed(1).build());
        assertTrue(new ObjectMapper().readTree(c.choices().get(0).message().content().orElseThrow()).isObject());
    }

    @Test
    void sdkErrorsMapToItsExceptions() {
        assertThrows(NotFoundException.class, () -> client.chat().completions().create(ChatCompletionCreateParams.builder()
                .model("gpt-4o").addUserMessage("x").build()));
        OpenAIClient wrongKey = OpenAIOkHttpClient.builder().baseUrl(fx.base() + "/v1").apiKey("nope").maxRetries(0).build();
        try {
            assertThrows(UnauthorizedException.class, () -> wrongKey.models().list());
        } finally {
            wrongKey.close();
        }
    }
}
