package gptoss.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gptoss.api.ChatListener;
import gptoss.api.ChatRequest;
import gptoss.api.ChatResult;
import gptoss.api.ContextOverflowException;
import gptoss.api.FinishReason;
import gptoss.api.Sampling;
import gptoss.sampling.SamplingParams;
import gptoss.api.GenerationParams;
import gptoss.api.GptOss;
import gptoss.api.Scheduler;
import gptoss.api.ToolCall;
import gptoss.api.Usage;
import gptoss.model.harmony.ChatCompletions;
import gptoss.model.harmony.Conversation;
import gptoss.model.harmony.HarmonyFormatException;
import gptoss.model.harmony.Message;
import gptoss.model.harmony.ReasoningEffort;
import gptoss.model.harmony.SystemContent;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The OpenAI-compatible HTTP API over {@link GptOss}: it only translates. Requests become {@link ChatRequest}s
 * (through {@link ChatCompletions}, the Harmony mapping of chat-completions requests), the model's scheduler runs
 * them, and results and streamed deltas become OpenAI JSON and server-sent events. Handlers run on Helidon's
 * virtual threads; the scheduler's callbacks only enqueue events for them.
 */
public final class OpenAiServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OpenAiServer.class);
    static final ObjectMapper JSON = new ObjectMapper();

    private final GptOss model;
    private final ServerSettings settings;
    private final ServerMetrics metrics;
    private final long created = System.currentTimeMillis() / 1000;
    private WebServer server;

    public OpenAiServer(GptOss model, ServerSettings settings) {
        this.model = model;
        this.settings = settings;
        this.metrics = new ServerMetrics(model);
    }

    /** Binds and starts serving; returns the bound port. */
    public int start() {
        server = WebServer.builder()
                .host(settings.host())
                .port(settings.port())
                .maxPayloadSize(settings.maxBodyBytes() * 4) // our own limit below answers 413 in OpenAI's shape first
                .routing(this::routes)
                .build()
                .start();
        log.info("serving {} on http://{}:{} (max {} sequences, context {})", model.id(), settings.host(), server.port(),
                model.scheduler().maxSequences(), model.maxContext());
        return server.port();
    }

    public int port() {
        return server.port();
    }

    ServerMetrics metrics() {
        return metrics;
    }

    private void routes(HttpRouting.Builder r) {
        r.post("/v1/chat/completions", api("chat.completions", this::chatCompletions))
                .post("/v1/completions", api("completions", this::completions))
                .post("/v1/responses", api("responses", this::responses))
                .get("/v1/models", api("models", (req, res) -> send(res, 200, modelList())))
                .get("/v1/models/{id}", api("models", (req, res) -> {
                    String id = req.path().pathParameters().get("id");
                    if (!id.equals(model.id())) throw unknownModel(id);
                    send(res, 200, modelObject());
                }))
                .get("/health", (req, res) -> send(res, 200, JSON.createObjectNode().put("status", "ok")))
                .get("/metrics", (req, res) -> {
                    res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
                    res.send(metrics.scrape().getBytes(StandardCharsets.UTF_8));
                })
                .any(api("other", (req, res) -> {
                    throw new ApiError(404, "invalid_request_error", null, "not_found",
                            "no route for " + req.prologue().method().text() + " " + req.path().path());
                }));
    }

    /** A handler that checks the key and answers every failure as an OpenAI error. */
    private Handler api(String endpoint, Handler handler) {
        return (req, res) -> {
            int status = 200;
            try {
                checkKey(req);
                handler.handle(req, res);
            } catch (ApiError e) {
                status = e.status();
                sendError(res, e);
            } catch (ContextOverflowException e) {
                status = 400;
                sendError(res, new ApiError(400, "invalid_request_error", "messages", "context_length_exceeded", e.getMessage()));
            } catch (Scheduler.QueueFullException e) {
                status = 429;
                sendError(res, new ApiError(429, "rate_limit_exceeded", null, "queue_full", e.getMessage()));
            } catch (HarmonyFormatException e) {
                status = 400;
                sendError(res, ApiError.invalid(paramOf(e.getMessage()), e.getMessage()));
            } catch (Sampling.UnsupportedSchemaException e) {
                status = 400;
                sendError(res, ApiError.invalid(e.param(), e.getMessage()));
            } catch (IllegalArgumentException e) {
                status = 400;
                sendError(res, ApiError.invalid(null, e.getMessage()));
            } catch (UncheckedIOException e) {
                status = 499; // the client went away
                log.debug("client disconnected: {}", e.getMessage());
            } catch (RuntimeException e) {
                status = 500;
                log.error("{} failed", endpoint, e);
                sendError(res, new ApiError(500, "server_error", null, null, "internal error: " + e));
            } finally {
                metrics.request(endpoint, status);
            }
        };
    }

    private void checkKey(ServerRequest req) {
        if (settings.apiKey() == null) return;
        String auth = req.headers().first(HeaderNames.AUTHORIZATION).orElse(null);
        if (auth == null) throw new ApiError(401, "invalid_request_error", null, "invalid_api_key",
                "missing API key: send 'Authorization: Bearer KEY'");
        if (!auth.equals("Bearer " + settings.apiKey())) throw new ApiError(401, "invalid_request_error", null, "invalid_api_key",
                "incorrect API key provided");
    }

    /** "request.messages[0].role: missing" → "messages[0].role". */
    static String paramOf(String message) {
        String m = message.startsWith("request: ") ? message.substring("request: ".length())
                : message.startsWith("request.") ? message.substring("request.".length()) : null;
        if (m == null) return null;
        int colon = m.indexOf(": ");
        return colon < 0 ? null : m.substring(0, colon);
    }

    // ---------------------------------------------------------------- request reading

    private JsonNode body(ServerRequest req) {
        long declared = req.headers().contentLength().orElse(-1);
        if (declared > settings.maxBodyBytes()) throw tooLarge(declared);
        byte[] bytes;
        try (InputStream in = req.content().inputStream()) {
            bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, settings.maxBodyBytes() + 1));
            if (bytes.length > settings.maxBodyBytes()) throw tooLarge(bytes.length);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw ApiError.invalid(null, "the body is not valid JSON: " + e.getOriginalMessage()
                    + " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (root == null || !root.isObject()) throw ApiError.invalid(null, "the body must be a JSON object");
        return root;
    }

    private ApiError tooLarge(long bytes) {
        return new ApiError(413, "invalid_request_error", null, "request_too_large",
                "the request body has " + (bytes > settings.maxBodyBytes() ? "more than " + settings.maxBodyBytes() : bytes)
                        + " bytes; the limit is " + settings.maxBodyBytes());
    }

    private void checkModel(JsonNode root) {
        JsonNode m = root.get("model");
        if (m == null || m.isNull()) throw ApiError.invalid("model", "missing: name the model ('" + model.id() + "')");
        if (!m.isTextual()) throw ApiError.invalid("model", "expected a string");
        if (!m.textValue().equals(model.id())) throw unknownModel(m.textValue());
    }

    private ApiError unknownModel(String id) {
        return new ApiError(404, "invalid_request_error", "model", "model_not_found",
                "The model '" + id + "' does not exist; this server serves '" + model.id() + "'");
    }

    private static boolean bool(JsonNode root, String field) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) return false;
        if (!v.isBoolean()) throw ApiError.invalid(field, "expected true or false");
        return v.booleanValue();
    }

    private static Double number(JsonNode root, String field, double min, double max) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isNumber()) throw ApiError.invalid(field, "expected a number");
        double d = v.doubleValue();
        if (!(d >= min && d <= max)) throw ApiError.invalid(field, field + " must be in [" + min + ", " + max + "], got " + d);
        return d;
    }

    private static Long integer(JsonNode root, String field, long min) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isIntegralNumber()) throw ApiError.invalid(field, "expected an integer");
        if (v.longValue() < min) throw ApiError.invalid(field, field + " must be >= " + min + ", got " + v.longValue());
        return v.longValue();
    }

    private static List<String> stops(JsonNode root) {
        JsonNode v = root.get("stop");
        if (v == null || v.isNull()) return List.of();
        if (v.isTextual()) return List.of(v.textValue());
        if (!v.isArray()) throw ApiError.invalid("stop", "expected a string or a list of strings");
        if (v.size() > 4) throw ApiError.invalid("stop", "at most 4 stop strings");
        List<String> out = new ArrayList<>();
        for (JsonNode s : v) {
            if (!s.isTextual()) throw ApiError.invalid("stop", "expected a string or a list of strings");
            out.add(s.textValue());
        }
        return out;
    }

    private static void checkN(JsonNode root) {
        Long n = integer(root, "n", 1);
        if (n != null && n != 1) throw ApiError.invalid("n", "only n = 1 is supported");
    }

    /** Sampling settings common to the endpoints; {@code maxTokens} defaults to what the context leaves. */
    /** Sampling fields of a request; without a max token count, as many as the context holds after the prompt. */
    private GenerationParams params(JsonNode root, Long maxTokens) {
        Double temperature = number(root, "temperature", 0, 2);
        Double topP = number(root, "top_p", Double.MIN_VALUE, 1);
        Long seed = root.hasNonNull("seed") ? integer(root, "seed", Long.MIN_VALUE) : null;
        int max = maxTokens != null ? (int) Math.min(Integer.MAX_VALUE - 1, maxTokens) : GenerationParams.UNTIL_CONTEXT_FULL;
        Long topK = integer(root, "top_k", 0);
        Double minP = number(root, "min_p", 0, Math.nextDown(1.0));
        Double presence = number(root, "presence_penalty", -2, 2);
        Double frequency = number(root, "frequency_penalty", -2, 2);
        Double repetition = number(root, "repetition_penalty", Double.MIN_VALUE, Double.MAX_VALUE);
        SamplingParams sampling = SamplingParams.defaults()
                .withTemperature(temperature != null ? temperature : 1.0)
                .withTopP(topP != null ? topP : 1.0)
                .withTopK(topK != null ? (int) Math.min(Integer.MAX_VALUE, topK) : 0)
                .withMinP(minP != null ? minP : 0)
                .withPresencePenalty(presence != null ? presence : 0)
                .withFrequencyPenalty(frequency != null ? frequency : 0)
                .withRepetitionPenalty(repetition != null ? repetition : 1)
                .withLogitBias(logitBias(root));
        return new GenerationParams(max, sampling, seed, stops(root), null);
    }

    /** OpenAI's {@code logit_bias}: token id (as a string key) → bias in [-100, 100]. */
    private Map<Integer, Float> logitBias(JsonNode root) {
        JsonNode b = root.get("logit_bias");
        if (b == null || b.isNull()) return Map.of();
        if (!b.isObject()) throw ApiError.invalid("logit_bias", "expected an object mapping token ids to biases");
        Map<Integer, Float> out = new HashMap<>();
        int V = model.config().vocabSize();
        for (Map.Entry<String, JsonNode> e : b.properties()) {
            int id;
            try {
                id = Integer.parseInt(e.getKey());
            } catch (NumberFormatException x) {
                throw ApiError.invalid("logit_bias", "key '" + e.getKey() + "' is not a token id");
            }
            if (id < 0 || id >= V) throw ApiError.invalid("logit_bias", "token id " + id + " is outside the vocabulary (0.." + (V - 1) + ")");
            if (!e.getValue().isNumber() || Math.abs(e.getValue().doubleValue()) > 100) {
                throw ApiError.invalid("logit_bias", "the bias of token " + id + " must be a number in [-100, 100]");
            }
            out.put(id, e.getValue().floatValue());
        }
        return out;
    }

    // ---------------------------------------------------------------- /v1/chat/completions

    private void chatCompletions(ServerRequest req, ServerResponse res) {
        JsonNode root = body(req);
        checkModel(root);
        checkN(root);
        boolean stream = bool(root, "stream");
        integer(root, "max_tokens", 1);
        integer(root, "max_completion_tokens", 1);
        ChatCompletions.ChatRequest mapped = ChatCompletions.fromJson(root, "request", new ChatCompletions.Options(LocalDate.now().toString()));
        GenerationParams.OutputConstraint constraint = responseFormat(root);
        if (mapped.toolChoice().mode() == ChatCompletions.ToolChoice.Mode.FUNCTION) {
            constraint = GenerationParams.OutputConstraint.toolCall(mapped.toolChoice().functionName());
        } else if (mapped.toolChoice().mode() == ChatCompletions.ToolChoice.Mode.REQUIRED) {
            constraint = GenerationParams.OutputConstraint.toolCall(null);
        }
        GenerationParams params = params(root, mapped.maxTokens()).withConstraint(constraint);
        ChatRequest request = new ChatRequest(mapped.conversation(), params);
        boolean includeUsage = root.path("stream_options").path("include_usage").asBoolean(false);
        String id = "chatcmpl-" + UUID.randomUUID().toString().replace("-", "");
        long now = System.currentTimeMillis() / 1000;
        if (!stream) {
            ChatResult r = model.chat(request);
            metrics.tokens(r.usage());
            ObjectNode message = JSON.createObjectNode().put("role", "assistant");
            if (r.toolCalls().isEmpty() || !r.text().isEmpty()) message.put("content", r.text());
            else message.putNull("content");
            if (!r.reasoning().isEmpty()) message.put("reasoning_content", r.reasoning());
            if (!r.toolCalls().isEmpty()) message.set("tool_calls", toolCalls(r.toolCalls(), false));
            ObjectNode choice = JSON.createObjectNode().put("index", 0);
            choice.set("message", message);
            choice.putNull("logprobs");
            choice.put("finish_reason", finish(r.finishReason()));
            ObjectNode out = JSON.createObjectNode().put("id", id).put("object", "chat.completion").put("created", now).put("model", model.id());
            out.putArray("choices").add(choice);
            out.set("usage", usage(r.usage()));
            send(res, 200, out);
            return;
        }
        Events events = new Events();
        GptOss.ChatHandle handle = model.chatAsync(request, new ChatListener() {
            @Override
            public void onText(String delta) {
                events.add(chunk(id, now, JSON.createObjectNode().put("content", delta), null));
            }

            @Override
            public void onReasoning(String delta) {
                events.add(chunk(id, now, JSON.createObjectNode().put("reasoning_content", delta), null));
            }

            private int calls;

            @Override
            public void onToolCall(ToolCall call) {
                ObjectNode delta = JSON.createObjectNode();
                ArrayNode list = toolCalls(List.of(call), true);
                ((ObjectNode) list.get(0)).put("index", calls++);
                delta.set("tool_calls", list);
                events.add(chunk(id, now, delta, null));
            }
        });
        handle.result().whenComplete((r, e) -> {
            if (e != null) events.fail(e);
            else {
                metrics.tokens(r.usage());
                events.add(chunk(id, now, JSON.createObjectNode(), finish(r.finishReason())));
                if (includeUsage) {
                    ObjectNode u = JSON.createObjectNode().put("id", id).put("object", "chat.completion.chunk").put("created", now)
                            .put("model", model.id());
                    u.putArray("choices");
                    u.set("usage", usage(r.usage()));
                    events.add(u);
                }
                events.end();
            }
        });
        ObjectNode first = JSON.createObjectNode().put("role", "assistant").put("content", "");
        stream(res, handle::cancel, events, chunk(id, now, first, null), true);
    }

    private static GenerationParams.OutputConstraint responseFormat(JsonNode root) {
        JsonNode f = root.get("response_format");
        if (f == null || f.isNull()) return null;
        if (!f.isObject() || !f.path("type").isTextual()) throw ApiError.invalid("response_format", "expected an object with a 'type'");
        return switch (f.get("type").textValue()) {
            case "text" -> null;
            case "json_object" -> GenerationParams.OutputConstraint.anyJson();
            case "json_schema" -> {
                JsonNode schema = f.path("json_schema").get("schema");
                if (schema == null || !schema.isObject()) throw ApiError.invalid("response_format.json_schema.schema", "missing: a JSON schema object");
                yield GenerationParams.OutputConstraint.jsonSchema(schema.toString());
            }
            default -> throw ApiError.invalid("response_format.type", "'" + f.get("type").textValue()
                    + "' is not supported (expected text, json_object or json_schema)");
        };
    }

    private ObjectNode chunk(String id, long created, ObjectNode delta, String finishReason) {
        ObjectNode out = JSON.createObjectNode().put("id", id).put("object", "chat.completion.chunk").put("created", created).put("model", model.id());
        ObjectNode choice = out.putArray("choices").addObject().put("index", 0);
        choice.set("delta", delta);
        choice.putNull("logprobs");
        if (finishReason == null) choice.putNull("finish_reason");
        else choice.put("finish_reason", finishReason);
        return out;
    }

    private static ArrayNode toolCalls(List<ToolCall> calls, boolean streaming) {
        ArrayNode list = JSON.createArrayNode();
        for (ToolCall c : calls) {
            ObjectNode call = list.addObject();
            if (streaming) call.put("index", 0);
            call.put("id", c.id()).put("type", "function");
            call.putObject("function").put("name", c.name()).put("arguments", c.arguments());
        }
        return list;
    }

    private static ObjectNode usage(Usage u) {
        ObjectNode o = JSON.createObjectNode().put("prompt_tokens", u.promptTokens()).put("completion_tokens", u.completionTokens())
                .put("total_tokens", u.totalTokens());
        o.putObject("prompt_tokens_details").put("cached_tokens", u.cachedTokens());
        return o;
    }

    private static String finish(FinishReason r) {
        return r == FinishReason.CANCELLED ? "stop" : r.wireName();
    }

    // ---------------------------------------------------------------- /v1/completions

    private void completions(ServerRequest req, ServerResponse res) {
        JsonNode root = body(req);
        checkModel(root);
        checkN(root);
        boolean stream = bool(root, "stream");
        int[] prompt = completionPrompt(root.get("prompt"));
        if (prompt.length == 0) throw ApiError.invalid("prompt", "empty: give text or token ids");
        try {
            model.checkTokens(prompt);
        } catch (IllegalArgumentException e) {
            throw ApiError.invalid("prompt", e.getMessage());
        }
        Long maxTokens = integer(root, "max_tokens", 1);
        GenerationParams params = params(root, maxTokens != null ? maxTokens : 16L);
        String id = "cmpl-" + UUID.randomUUID().toString().replace("-", "");
        long now = System.currentTimeMillis() / 1000;
        if (!stream) {
            GptOss.CompletionResult r = model.complete(prompt, params, d -> { }).await();
            metrics.tokens(r.usage());
            ObjectNode out = JSON.createObjectNode().put("id", id).put("object", "text_completion").put("created", now).put("model", model.id());
            ObjectNode choice = out.putArray("choices").addObject().put("text", r.text()).put("index", 0);
            choice.putNull("logprobs");
            choice.put("finish_reason", finish(r.finishReason()));
            out.set("usage", usage(r.usage()));
            send(res, 200, out);
            return;
        }
        Events events = new Events();
        GptOss.CompletionHandle handle = model.complete(prompt, params, delta -> events.add(textChunk(id, now, delta, null)));
        handle.result().whenComplete((r, e) -> {
            if (e != null) events.fail(e);
            else {
                metrics.tokens(r.usage());
                events.add(textChunk(id, now, "", finish(r.finishReason())));
                events.end();
            }
        });
        stream(res, handle::cancel, events, null, true);
    }

    private ObjectNode textChunk(String id, long created, String text, String finishReason) {
        ObjectNode out = JSON.createObjectNode().put("id", id).put("object", "text_completion").put("created", created).put("model", model.id());
        ObjectNode choice = out.putArray("choices").addObject().put("text", text).put("index", 0);
        choice.putNull("logprobs");
        if (finishReason == null) choice.putNull("finish_reason");
        else choice.put("finish_reason", finishReason);
        return out;
    }

    private int[] completionPrompt(JsonNode p) {
        if (p == null || p.isNull()) throw ApiError.invalid("prompt", "missing");
        if (p.isTextual()) return model.tokenize(p.textValue());
        if (p.isArray() && p.size() == 1 && (p.get(0).isTextual() || p.get(0).isArray())) return completionPrompt(p.get(0));
        if (p.isArray()) {
            int[] ids = new int[p.size()];
            for (int i = 0; i < ids.length; i++) {
                if (!p.get(i).isIntegralNumber()) throw ApiError.invalid("prompt", "expected a string, a list of token ids, or one of either in a list");
                ids[i] = p.get(i).intValue();
            }
            return ids;
        }
        throw ApiError.invalid("prompt", "expected a string, a list of token ids, or one of either in a list");
    }

    // ---------------------------------------------------------------- /v1/responses (a subset)

    private void responses(ServerRequest req, ServerResponse res) {
        JsonNode root = body(req);
        checkModel(root);
        boolean stream = bool(root, "stream");
        SystemContent system = SystemContent.defaults().withConversationStartDate(LocalDate.now().toString());
        JsonNode reasoning = root.path("reasoning").get("effort");
        if (reasoning != null && !reasoning.isNull()) {
            ReasoningEffort e = reasoning.isTextual() ? ReasoningEffort.parse(reasoning.textValue()) : null;
            if (e == null) throw ApiError.invalid("reasoning.effort", "expected low, medium or high");
            system = system.withReasoningEffort(e);
        }
        ChatRequest.Builder b = ChatRequest.builder().system(system);
        JsonNode instructions = root.get("instructions");
        if (instructions != null && !instructions.isNull()) {
            if (!instructions.isTextual()) throw ApiError.invalid("instructions", "expected a string");
            b.instructions(instructions.textValue());
        }
        JsonNode input = root.get("input");
        if (input == null || input.isNull()) throw ApiError.invalid("input", "missing");
        if (input.isTextual()) b.user(input.textValue());
        else if (input.isArray()) {
            for (int i = 0; i < input.size(); i++) {
                JsonNode m = input.get(i);
                String role = m.path("role").asText("");
                String text = responsesText(m.get("content"), "input[" + i + "].content");
                switch (role) {
                    case "user" -> b.user(text);
                    case "assistant" -> b.message(Message.assistant("final", text));
                    case "system", "developer" -> b.instructions(text);
                    default -> throw ApiError.invalid("input[" + i + "].role", "expected user, assistant, system or developer");
                }
            }
        } else throw ApiError.invalid("input", "expected a string or a list of messages");
        ChatRequest draft = b.build();
        Long maxTokens = integer(root, "max_output_tokens", 1);
        GenerationParams params = params(root, maxTokens);
        ChatRequest request = new ChatRequest(draft.conversation(), params);
        String id = "resp_" + UUID.randomUUID().toString().replace("-", "");
        long now = System.currentTimeMillis() / 1000;
        if (!stream) {
            ChatResult r = model.chat(request);
            metrics.tokens(r.usage());
            send(res, 200, response(id, now, r));
            return;
        }
        Events events = new Events();
        String messageId = "msg_" + id.substring(5);
        GptOss.ChatHandle handle = model.chatAsync(request, new ChatListener() {
            @Override
            public void onText(String delta) {
                events.add(event("response.output_text.delta").put("item_id", messageId).put("output_index", 0).put("content_index", 0).put("delta", delta));
            }

            @Override
            public void onReasoning(String delta) {
                events.add(event("response.reasoning_text.delta").put("item_id", "rs_" + id.substring(5)).put("output_index", 0).put("content_index", 0).put("delta", delta));
            }
        });
        handle.result().whenComplete((r, e) -> {
            if (e != null) events.fail(e);
            else {
                metrics.tokens(r.usage());
                ObjectNode done = event("response.completed");
                done.set("response", response(id, now, r));
                events.add(done);
                events.end();
            }
        });
        ObjectNode createdEvent = event("response.created");
        createdEvent.putObject("response").put("id", id).put("object", "response").put("created_at", now).put("status", "in_progress").put("model", model.id());
        stream(res, handle::cancel, events, createdEvent, false);
    }

    private static String responsesText(JsonNode content, String where) {
        if (content != null && content.isTextual()) return content.textValue();
        if (content != null && content.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : content) {
                if (!part.path("text").isTextual()) throw ApiError.invalid(where, "only text parts are supported");
                sb.append(part.get("text").textValue());
            }
            return sb.toString();
        }
        throw ApiError.invalid(where, "expected a string or a list of text parts");
    }

    private static ObjectNode event(String type) {
        return JSON.createObjectNode().put("type", type);
    }

    private ObjectNode response(String id, long now, ChatResult r) {
        ObjectNode out = JSON.createObjectNode().put("id", id).put("object", "response").put("created_at", now)
                .put("status", r.finishReason() == FinishReason.LENGTH ? "incomplete" : "completed").put("model", model.id());
        ArrayNode output = out.putArray("output");
        if (!r.reasoning().isEmpty()) {
            ObjectNode rs = output.addObject().put("type", "reasoning").put("id", "rs_" + id.substring(5));
            rs.putArray("summary");
            rs.putArray("content").addObject().put("type", "reasoning_text").put("text", r.reasoning());
        }
        ObjectNode msg = output.addObject().put("type", "message").put("id", "msg_" + id.substring(5)).put("status", "completed").put("role", "assistant");
        msg.putArray("content").addObject().put("type", "output_text").put("text", r.text()).putArray("annotations");
        ObjectNode u = out.putObject("usage").put("input_tokens", r.usage().promptTokens()).put("output_tokens", r.usage().completionTokens())
                .put("total_tokens", r.usage().totalTokens());
        u.putObject("input_tokens_details").put("cached_tokens", r.usage().cachedTokens());
        u.putObject("output_tokens_details").put("reasoning_tokens", 0);
        return out;
    }

    // ---------------------------------------------------------------- /v1/models

    private ObjectNode modelObject() {
        return JSON.createObjectNode().put("id", model.id()).put("object", "model").put("created", created).put("owned_by", "gptoss")
                .put("max_model_len", model.maxContext());
    }

    private ObjectNode modelList() {
        ObjectNode out = JSON.createObjectNode().put("object", "list");
        out.putArray("data").add(modelObject());
        return out;
    }

    // ---------------------------------------------------------------- output

    private static void send(ServerResponse res, int status, JsonNode body) {
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        try {
            res.send(JSON.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void sendError(ServerResponse res, ApiError e) {
        if (res.isSent()) return;
        ObjectNode out = JSON.createObjectNode();
        ObjectNode err = out.putObject("error").put("message", e.getMessage()).put("type", e.type());
        if (e.param() == null) err.putNull("param");
        else err.put("param", e.param());
        if (e.code() == null) err.putNull("code");
        else err.put("code", e.code());
        send(res, e.status(), out);
    }

    /** Events of one streamed request, from the scheduler thread to the handler's virtual thread. */
    static final class Events {
        private static final ObjectNode END = JSON.createObjectNode();
        private final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();

        void add(ObjectNode event) {
            queue.add(event);
        }

        void end() {
            queue.add(END);
        }

        void fail(Throwable e) {
            queue.add(e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e);
        }

        Object take() throws InterruptedException {
            return queue.poll(600, TimeUnit.SECONDS);
        }
    }

    /**
     * Writes the events as server-sent events until the end; a client that goes away cancels the request (its
     * sequence leaves the batch and its KV cache is freed at the next step).
     */
    private void stream(ServerResponse res, Runnable cancel, Events events, ObjectNode first, boolean doneMarker) {
        res.status(200);
        res.header(HeaderNames.CONTENT_TYPE, "text/event-stream");
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        try (OutputStream out = res.outputStream()) {
            if (first != null) write(out, first);
            while (true) {
                Object e = events.take();
                if (e == null) throw new IllegalStateException("the generation stalled");
                if (e == Events.END) break;
                if (e instanceof Throwable t) {
                    ObjectNode err = JSON.createObjectNode();
                    err.putObject("error").put("message", String.valueOf(t.getMessage())).put("type", "server_error");
                    write(out, err);
                    break;
                }
                write(out, (ObjectNode) e);
            }
            if (doneMarker) {
                out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        } catch (IOException | RuntimeException | InterruptedException e) {
            // the client went away (or the connection broke): stop generating for it; the response is gone
            cancel.run();
            log.debug("stream ended early: {}", e.toString());
        }
    }

    private static void write(OutputStream out, ObjectNode event) throws IOException {
        out.write(("data: " + JSON.writeValueAsString(event) + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    @Override
    public void close() {
        if (server != null) server.stop();
        metrics.close();
    }
}
