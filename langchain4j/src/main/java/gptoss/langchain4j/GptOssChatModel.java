package gptoss.langchain4j;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.internal.JsonSchemaElementUtils;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.CompleteToolCall;
import dev.langchain4j.model.chat.response.PartialThinking;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import gptoss.api.ChatListener;
import gptoss.api.ChatRequest;
import gptoss.api.ChatResult;
import gptoss.api.GenerationParams;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.request.ResponseFormatType;
import gptoss.api.GptOss;
import gptoss.api.ToolCall;
import gptoss.model.harmony.Author;
import gptoss.model.harmony.Message;
import gptoss.model.harmony.ReasoningEffort;
import gptoss.model.harmony.SystemContent;
import gptoss.model.harmony.ToolDescription;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

/**
 * gpt-oss as a LangChain4j {@link ChatModel} and {@link StreamingChatModel}, in-process on {@link GptOss}: messages
 * become a Harmony conversation (system → developer instructions, tool specifications → the developer's functions,
 * tool requests and results → Harmony tool-call messages), the analysis channel becomes {@code thinking}, and
 * function calls become {@link ToolExecutionRequest}s, so {@code AiServices} with {@code @Tool} methods works.
 * <pre>
 * GptOssChatModel model = GptOssChatModel.builder(gptoss).reasoning(ReasoningEffort.LOW).maxTokens(512).build();
 * Assistant a = AiServices.builder(Assistant.class).chatModel(model).tools(new Calculator()).build();
 * </pre>
 */
public final class GptOssChatModel implements ChatModel, StreamingChatModel {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final GptOss model;
    private final ReasoningEffort reasoning;
    private final GenerationParams defaults;

    private GptOssChatModel(GptOss model, ReasoningEffort reasoning, GenerationParams defaults) {
        this.model = model;
        this.reasoning = reasoning;
        this.defaults = defaults;
    }

    public static Builder builder(GptOss model) {
        return new Builder(model);
    }

    /** Settings used when a request does not give its own. */
    public static final class Builder {
        private final GptOss model;
        private ReasoningEffort reasoning = ReasoningEffort.MEDIUM;
        private GenerationParams params = GenerationParams.defaults().withMaxTokens(1024);

        private Builder(GptOss model) {
            this.model = model;
        }

        public Builder reasoning(ReasoningEffort effort) {
            this.reasoning = effort;
            return this;
        }

        public Builder maxTokens(int n) {
            params = params.withMaxTokens(n);
            return this;
        }

        public Builder temperature(double t) {
            params = params.withTemperature(t);
            return this;
        }

        public Builder topP(double p) {
            params = params.withTopP(p);
            return this;
        }

        public Builder seed(Long seed) {
            params = params.withSeed(seed);
            return this;
        }

        public GptOssChatModel build() {
            return new GptOssChatModel(model, reasoning, params);
        }
    }

    // Both interfaces define these defaults: take ChatModel's.
    @Override
    public java.util.Set<dev.langchain4j.model.chat.Capability> supportedCapabilities() {
        // JSON schemas are enforced by constrained decoding (AiServices then asks for structured output with one)
        return java.util.Set.of(dev.langchain4j.model.chat.Capability.RESPONSE_FORMAT_JSON_SCHEMA);
    }

    @Override
    public dev.langchain4j.model.chat.request.ChatRequestParameters defaultRequestParameters() {
        return ChatModel.super.defaultRequestParameters();
    }

    @Override
    public List<dev.langchain4j.model.chat.listener.ChatModelListener> listeners() {
        return ChatModel.super.listeners();
    }

    @Override
    public dev.langchain4j.model.ModelProvider provider() {
        return ChatModel.super.provider();
    }

    @Override
    public ChatResponse doChat(dev.langchain4j.model.chat.request.ChatRequest request) {
        return response(model.chat(toRequest(request)));
    }

    @Override
    public void doChat(dev.langchain4j.model.chat.request.ChatRequest request, StreamingChatResponseHandler handler) {
        GptOss.ChatHandle h;
        try {
            int[] index = {0};
            h = model.chatAsync(toRequest(request), new ChatListener() {
                @Override
                public void onText(String delta) {
                    handler.onPartialResponse(delta);
                }

                @Override
                public void onReasoning(String delta) {
                    handler.onPartialThinking(new PartialThinking(delta));
                }

                @Override
                public void onToolCall(ToolCall call) {
                    handler.onCompleteToolCall(new CompleteToolCall(index[0]++, toolRequest(call)));
                }
            });
        } catch (RuntimeException e) {
            handler.onError(e);
            return;
        }
        h.result().whenComplete((r, e) -> {
            if (e != null) handler.onError(e.getCause() != null ? e.getCause() : e);
            else handler.onCompleteResponse(response(r));
        });
    }

    /** The Harmony request for a LangChain4j request. */
    ChatRequest toRequest(dev.langchain4j.model.chat.request.ChatRequest request) {
        ChatRequest.Builder b = ChatRequest.builder()
                .system(SystemContent.defaults().withReasoningEffort(reasoning).withConversationStartDate(LocalDate.now().toString()));
        StringBuilder instructions = new StringBuilder();
        List<Message> messages = new ArrayList<>();
        for (ChatMessage m : request.messages()) {
            switch (m) {
                case SystemMessage s -> instructions.append(instructions.isEmpty() ? "" : "\n\n").append(s.text());
                case UserMessage u -> {
                    if (!u.hasSingleText()) throw new IllegalArgumentException("gpt-oss reads text only; a user message has other content");
                    messages.add(Message.user(u.singleText()));
                }
                case AiMessage a -> {
                    if (a.thinking() != null && !a.thinking().isEmpty()) messages.add(Message.assistant("analysis", a.thinking()));
                    boolean calls = a.toolExecutionRequests() != null && !a.toolExecutionRequests().isEmpty();
                    if (a.text() != null && !a.text().isEmpty()) messages.add(Message.assistant(calls ? "commentary" : "final", a.text()));
                    if (calls) {
                        for (ToolExecutionRequest t : a.toolExecutionRequests()) {
                            messages.add(Message.assistant("commentary", t.arguments() == null ? "{}" : t.arguments())
                                    .withRecipient("functions." + t.name()).withContentType("<|constrain|>json"));
                        }
                    }
                }
                case ToolExecutionResultMessage t -> messages.add(Message.of(Author.tool("functions." + t.toolName()), t.text())
                        .withRecipient("assistant").withChannel("commentary"));
                default -> throw new IllegalArgumentException("unsupported message type " + m.type());
            }
        }
        if (!instructions.isEmpty()) b.instructions(instructions.toString());
        dev.langchain4j.model.chat.request.ToolChoice toolChoice = request.toolChoice();
        if (request.toolSpecifications() != null && toolChoice != dev.langchain4j.model.chat.request.ToolChoice.NONE) {
            for (ToolSpecification t : request.toolSpecifications()) {
                b.tool(new ToolDescription(t.name(), t.description(),
                        t.parameters() == null ? null : JSON.valueToTree(JsonSchemaElementUtils.toMap(t.parameters()))));
            }
        }
        messages.forEach(b::message);
        GenerationParams p = defaults;
        if (request.maxOutputTokens() != null) p = p.withMaxTokens(request.maxOutputTokens());
        if (request.temperature() != null) p = p.withTemperature(request.temperature());
        if (request.topP() != null) p = p.withTopP(request.topP());
        if (request.stopSequences() != null && !request.stopSequences().isEmpty()) p = p.withStop(request.stopSequences());
        if (request.topK() != null) p = p.withTopK(request.topK());
        if (request.frequencyPenalty() != null) p = p.withFrequencyPenalty(request.frequencyPenalty());
        if (request.presencePenalty() != null) p = p.withPresencePenalty(request.presencePenalty());
        ResponseFormat format = request.responseFormat();
        if (format != null && format.type() == ResponseFormatType.JSON) {
            p = p.withConstraint(format.jsonSchema() == null || format.jsonSchema().rootElement() == null
                    ? GenerationParams.OutputConstraint.anyJson()
                    : GenerationParams.OutputConstraint.jsonSchema(JSON.valueToTree(JsonSchemaElementUtils.toMap(format.jsonSchema().rootElement())).toString()));
        }
        if (toolChoice == dev.langchain4j.model.chat.request.ToolChoice.REQUIRED
                && request.toolSpecifications() != null && !request.toolSpecifications().isEmpty()) {
            p = p.withConstraint(GenerationParams.OutputConstraint.toolCall(
                    request.toolSpecifications().size() == 1 ? request.toolSpecifications().getFirst().name() : null));
        }
        return b.params(p).build();
    }

    private static ToolExecutionRequest toolRequest(ToolCall call) {
        return ToolExecutionRequest.builder().id(call.id()).name(call.name()).arguments(call.arguments()).build();
    }

    private ChatResponse response(ChatResult r) {
        AiMessage.Builder ai = AiMessage.builder().text(r.text().isEmpty() && !r.toolCalls().isEmpty() ? null : r.text());
        if (!r.reasoning().isEmpty()) ai.thinking(r.reasoning());
        if (!r.toolCalls().isEmpty()) ai.toolExecutionRequests(r.toolCalls().stream().map(GptOssChatModel::toolRequest).toList());
        FinishReason finish = switch (r.finishReason()) {
            case STOP -> FinishReason.STOP;
            case LENGTH -> FinishReason.LENGTH;
            case TOOL_CALLS -> FinishReason.TOOL_EXECUTION;
            case CANCELLED -> FinishReason.OTHER;
        };
        return ChatResponse.builder().aiMessage(ai.build()).modelName(model.id()).finishReason(finish)
                .tokenUsage(new TokenUsage(r.usage().promptTokens(), r.usage().completionTokens())).build();
    }
}
