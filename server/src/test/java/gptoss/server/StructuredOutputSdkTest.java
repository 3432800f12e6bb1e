package gptoss.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.ResponseFormatJsonObject;
import com.openai.models.ResponseFormatJsonSchema;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionNamedToolChoice;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Structured output through HTTP with the official OpenAI Java SDK, on a model with random weights and the real
 * vocabulary (so only constrained decoding can make the output valid): forced tool calls and {@code json_schema}
 * answers at temperature 1 always validate against their schemas, checked by the networknt validator (not by our
 * code); a seeded constrained request gives the same answer alone or batched.
 */
class StructuredOutputSdkTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final JsonSchemaFactory SCHEMAS = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);

    @TempDir
    static Path dir;
    static ServerFixture fx;
    static OpenAIClient client;
    static JsonNode forecast, weatherParams, timeParams;

    @BeforeAll
    static void start() throws Exception {
        fx = new ServerFixture(dir, ServerSettings.defaults(), 4, 16);
        client = OpenAIOkHttpClient.builder().baseUrl(fx.base() + "/v1").apiKey("unused").maxRetries(0).build();
        forecast = resource("/forecast.schema.json");
        weatherParams = resource("/get_weather.parameters.json");
        timeParams = resource("/get_time.parameters.json");
    }

    @AfterAll
    static void stop() {
        client.close();
        fx.close();
    }

    static JsonNode resource(String name) throws Exception {
        try (InputStream in = StructuredOutputSdkTest.class.getResourceAsStream(name)) {
            return JSON.readTree(in);
        }
    }

    static void assertValid(JsonNode schema, String text, String what) throws Exception {
        JsonNode doc;
        try {
            doc = JSON.readTree(text);
        } catch (Exception e) {
            throw new AssertionError(what + ": not JSON: " + text);
        }
        Set<ValidationMessage> errors = SCHEMAS.getSchema(schema).validate(doc);
        assertTrue(errors.isEmpty(), what + ": " + text + " → " + errors);
    }

    @SuppressWarnings("unchecked")
    static JsonValue value(JsonNode node) {
        return JsonValue.from(JSON.convertValue(node, Object.class));
    }

    static ChatCompletionFunctionTool tool(String name, JsonNode parameters) {
        FunctionParameters.Builder p = FunctionParameters.builder();
        parameters.properties().forEach(e -> p.putAdditionalProperty(e.getKey(), value(e.getValue())));
        return ChatCompletionFunctionTool.builder().function(FunctionDefinition.builder().name(name)
                .description("a function").parameters(p.build()).build()).build();
    }

    static ResponseFormatJsonSchema forecastFormat() {
        ResponseFormatJsonSchema.JsonSchema.Schema.Builder s = ResponseFormatJsonSchema.JsonSchema.Schema.builder();
        forecast.properties().forEach(e -> s.putAdditionalProperty(e.getKey(), value(e.getValue())));
        return ResponseFormatJsonSchema.builder().jsonSchema(ResponseFormatJsonSchema.JsonSchema.builder().name("forecast")
                .schema(s.build()).build()).build();
    }

    static ChatCompletionCreateParams.Builder forcedCall(long seed) {
        return ChatCompletionCreateParams.builder().model("tiny").addUserMessage("What time is it, and the weather in Oslo?")
                .addTool(tool("get_time", timeParams)).addTool(tool("get_weather", weatherParams))
                .toolChoice(ChatCompletionNamedToolChoice.builder()
                        .function(ChatCompletionNamedToolChoice.Function.builder().name("get_weather").build()).build())
                .temperature(1.0).seed(seed).maxCompletionTokens(64);
    }

    static ChatCompletionCreateParams.Builder schemaAnswer(long seed) {
        return ChatCompletionCreateParams.builder().model("tiny").addUserMessage("Forecast for Oslo as JSON.")
                .responseFormat(forecastFormat()).temperature(1.0).seed(seed).maxCompletionTokens(96);
    }

    @Test
    void aForcedToolCallAlwaysHasValidArguments() throws Exception {
        for (long seed = 1; seed <= 20; seed++) {
            ChatCompletion c = client.chat().completions().create(forcedCall(seed).build());
            var choice = c.choices().get(0);
            assertEquals("tool_calls", choice.finishReason().asString(), "seed " + seed);
            List<ChatCompletionMessageFunctionToolCall> calls = choice.message().toolCalls().orElseThrow().stream()
                    .map(t -> t.asFunction()).toList();
            assertEquals(1, calls.size(), "seed " + seed);
            assertEquals("get_weather", calls.get(0).function().name(), "seed " + seed + ": the named function is called");
            assertValid(weatherParams, calls.get(0).function().arguments(), "seed " + seed);
        }
    }

    @Test
    void toolChoiceRequiredCallsOneOfTheTools() throws Exception {
        Set<String> names = new HashSet<>();
        for (long seed = 1; seed <= 8; seed++) {
            ChatCompletion c = client.chat().completions().create(forcedCall(seed).toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build());
            var choice = c.choices().get(0);
            assertEquals("tool_calls", choice.finishReason().asString(), "seed " + seed);
            ChatCompletionMessageFunctionToolCall call = choice.message().toolCalls().orElseThrow().get(0).asFunction();
            String name = call.function().name();
            assertTrue(name.equals("get_weather") || name.equals("get_time"), name);
            names.add(name);
            assertValid(name.equals("get_weather") ? weatherParams : timeParams, call.function().arguments(), "seed " + seed);
        }
        assertFalse(names.isEmpty());
    }

    @Test
    void aJsonSchemaAnswerAlwaysValidates() throws Exception {
        for (long seed = 1; seed <= 20; seed++) {
            ChatCompletion c = client.chat().completions().create(schemaAnswer(seed).build());
            var choice = c.choices().get(0);
            assertEquals("stop", choice.finishReason().asString(), "seed " + seed);
            assertValid(forecast, choice.message().content().orElseThrow(), "seed " + seed);
        }
    }

    @Test
    void aStreamedJsonSchemaAnswerValidates() throws Exception {
        StringBuilder content = new StringBuilder();
        String[] finish = {null};
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(schemaAnswer(77).build())) {
            stream.stream().forEach(chunk -> {
                if (chunk.choices().isEmpty()) return;
                chunk.choices().get(0).delta().content().ifPresent(content::append);
                chunk.choices().get(0).finishReason().ifPresent(f -> finish[0] = f.asString());
            });
        }
        assertEquals("stop", finish[0]);
        assertValid(forecast, content.toString(), "streamed");
    }

    @Test
    void jsonObjectGivesJson() throws Exception {
        for (long seed = 1; seed <= 5; seed++) {
            ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder().model("tiny")
                    .addUserMessage("Any JSON.").responseFormat(ResponseFormatJsonObject.builder().build())
                    .temperature(1.0).seed(seed).maxCompletionTokens(60).build());
            String text = c.choices().get(0).message().content().orElseThrow();
            assertTrue(JSON.readTree(text).isObject(), text);
            assertEquals("stop", c.choices().get(0).finishReason().asString(), text);
        }
    }

    @Test
    void aSeededConstrainedRequestIsTheSameAloneOrBatched() throws Exception {
        String alone = client.chat().completions().create(schemaAnswer(4242).build()).choices().get(0).message().content().orElseThrow();
        String aloneCall = client.chat().completions().create(forcedCall(4243).build()).choices().get(0).message().toolCalls()
                .orElseThrow().get(0).asFunction().function().arguments();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<String>> answers = new ArrayList<>(), calls = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                answers.add(pool.submit(() -> client.chat().completions().create(schemaAnswer(4242).build()).choices().get(0).message().content().orElseThrow()));
                calls.add(pool.submit(() -> client.chat().completions().create(forcedCall(4243).build()).choices().get(0).message()
                        .toolCalls().orElseThrow().get(0).asFunction().function().arguments()));
            }
            for (Future<String> f : answers) assertEquals(alone, f.get());
            for (Future<String> f : calls) assertEquals(aloneCall, f.get());
        } finally {
            pool.shutdown();
        }
    }

    static HttpResponse<String> post(String path, Map<String, Object> body) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(fx.base() + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void samplingFieldsReachTheSampler() throws Exception {
        // logit_bias +100 on one token under greedy decoding: every generated token is that one
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("model", "tiny");
        body.put("prompt", List.of(1, 2, 3));
        body.put("max_tokens", 5);
        body.put("temperature", 0);
        body.put("top_k", 40);
        body.put("min_p", 0.05);
        body.put("presence_penalty", 0.5);
        body.put("logit_bias", Map.of("12345", 100));
        HttpResponse<String> r = post("/v1/completions", body);
        assertEquals(200, r.statusCode(), r.body());
        String expected = gptoss.model.tokenizer.HarmonyTokenizer.instance().decode(new int[]{12345, 12345, 12345, 12345, 12345});
        assertEquals(expected, JSON.readTree(r.body()).path("choices").get(0).path("text").textValue());

        for (var bad : List.of(Map.entry("top_k", (Object) (-1)), Map.entry("min_p", (Object) 1.5),
                Map.entry("logit_bias", (Object) Map.of("abc", 1)), Map.entry("repetition_penalty", (Object) 0))) {
            Map<String, Object> b = new LinkedHashMap<>(body);
            b.put(bad.getKey(), bad.getValue());
            HttpResponse<String> e = post("/v1/completions", b);
            assertEquals(400, e.statusCode(), bad + ": " + e.body());
            assertEquals(bad.getKey(), JSON.readTree(e.body()).path("error").path("param").textValue(), e.body());
        }
    }

    @Test
    void anUnsupportedSchemaIsA400NamingTheProblem() throws Exception {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("model", "tiny");
        body.put("messages", List.of(Map.of("role", "user", "content", "hi")));
        body.put("response_format", Map.of("type", "json_schema", "json_schema", Map.of("name", "x",
                "schema", Map.of("type", "string", "pattern", "^[a-z]+$"))));
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(fx.base() + "/v1/chat/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(400, r.statusCode(), r.body());
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertEquals("response_format.json_schema.schema", error.get("param").textValue(), r.body());
        assertTrue(error.get("message").textValue().contains("pattern"), r.body());

        // through the SDK, a tool whose parameters cannot be enforced
        JsonNode bad = JSON.readTree("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"pattern\":\"x+\"}},\"required\":[\"a\"]}");
        BadRequestException e = assertThrows(BadRequestException.class, () -> client.chat().completions().create(
                forcedCall(1).tools(List.of()).addTool(tool("get_weather", bad)).build()));
        assertTrue(e.getMessage().contains("pattern"), e.getMessage());
    }
}
