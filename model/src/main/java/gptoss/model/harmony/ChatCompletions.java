package gptoss.model.harmony;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Maps an OpenAI chat-completions request to a Harmony conversation the way OpenAI-compatible gpt-oss servers
 * do (vLLM {@code harmony_utils.py}: {@code get_system_message}, {@code get_developer_message},
 * {@code parse_chat_input_to_harmony_message}):
 * <ul>
 *   <li>a system message with the library defaults, the request's {@code reasoning_effort} and (as vLLM) the
 *       conversation start date;</li>
 *   <li>a leading {@code system} or {@code developer} message becomes the developer {@code # Instructions};
 *       {@code tools} (type {@code function}) become the developer's {@code functions} namespace; the developer
 *       message is left out when it would be empty;</li>
 *   <li>{@code user} messages (and later system/developer ones) keep their role and text;</li>
 *   <li>an {@code assistant} message's {@code reasoning} (or {@code reasoning_content}) becomes an
 *       {@code analysis} message; its content becomes a {@code final} message, or a {@code commentary} preamble
 *       when it also has {@code tool_calls}; each tool call becomes
 *       {@code assistant to=functions.NAME <|channel|>commentary <|constrain|>json} with the arguments as content;</li>
 *   <li>a {@code tool} message becomes a message authored {@code functions.NAME} (NAME from its
 *       {@code tool_call_id}, else its {@code name}) to {@code assistant} on {@code commentary}.</li>
 * </ul>
 * Deliberate differences from vLLM: tool calls use the {@code <|constrain|>json} content type the model itself
 * writes (vLLM uses plain {@code json}); a reasoning text comes before the preamble, the order the model
 * generates them; {@code tool_choice: "none"} leaves the tools out of the prompt; and unsupported input
 * (non-text content parts, non-function tools, unknown tool call ids) is an error instead of being dropped.
 * Chain of thought of completed turns is dropped as format.md documents: every {@code analysis} message before
 * the last assistant {@code final} message is removed.
 */
public final class ChatCompletions {
    private ChatCompletions() {
    }

    /**
     * @param conversationStartDate the {@code Current date:} of the system message, or null to leave it out
     */
    public record Options(String conversationStartDate) {
        /** Today's date, as vLLM does. */
        public static Options today() {
            return new Options(LocalDate.now().toString());
        }

        /** No date: the prompt depends on the request alone. */
        public static Options withoutDate() {
            return new Options(null);
        }
    }

    /** How the request lets the model use tools. {@code functionName} is set for {@link Mode#FUNCTION} only. */
    public record ToolChoice(Mode mode, String functionName) {
        public enum Mode { NONE, AUTO, REQUIRED, FUNCTION }

        public static final ToolChoice NONE = new ToolChoice(Mode.NONE, null);
        public static final ToolChoice AUTO = new ToolChoice(Mode.AUTO, null);
        public static final ToolChoice REQUIRED = new ToolChoice(Mode.REQUIRED, null);
    }

    /**
     * A request mapped to Harmony, with the sampling settings it asked for (null when not given).
     *
     * @param maxTokens {@code max_completion_tokens}, else {@code max_tokens}
     */
    public record ChatRequest(Conversation conversation, ToolChoice toolChoice, Double temperature, Double topP,
                              Long maxTokens, Long seed) {
    }

    public static ChatRequest read(Path file, Options options) {
        return read(JsonFields.readFile(file), file.getFileName().toString(), options);
    }

    /** @param source names the input in error messages, e.g. the file name */
    public static ChatRequest read(String json, String source, Options options) {
        return fromJson(JsonFields.parse(json, source), source, options);
    }

    public static ChatRequest fromJson(JsonNode root, String source, Options options) {
        JsonFields request = JsonFields.object(root, source);
        JsonNode chat = request.requiredArray("messages");
        if (chat.isEmpty()) throw request.error("messages", "empty: a request needs at least one message");

        SystemContent system = SystemContent.defaults().withConversationStartDate(options.conversationStartDate());
        String effortText = request.optionalString("reasoning_effort");
        if (effortText != null) {
            ReasoningEffort effort = ReasoningEffort.parse(effortText);
            if (effort == null || !effortText.equals(effort.wireName())) {
                throw request.error("reasoning_effort", "'" + effortText + "' is not supported by gpt-oss (expected low, medium or high)");
            }
            system = system.withReasoningEffort(effort);
        }

        List<ToolDescription> tools = tools(request);
        ToolChoice toolChoice = toolChoice(request, tools);

        int first = 0;
        String instructions = null;
        JsonFields firstMessage = JsonFields.object(chat.get(0), source + ": messages[0]");
        String firstRole = firstMessage.optionalString("role");
        if ("system".equals(firstRole) || "developer".equals(firstRole)) {
            instructions = text(firstMessage);
            first = 1;
        }

        List<Message> messages = new ArrayList<>();
        messages.add(Message.system(system));
        boolean renderTools = !tools.isEmpty() && toolChoice.mode() != ToolChoice.Mode.NONE;
        if ((instructions != null && !instructions.isEmpty()) || renderTools) {
            DeveloperContent developer = new DeveloperContent(instructions == null || instructions.isEmpty() ? null : instructions, Map.of());
            if (renderTools) developer = developer.withFunctionTools(tools);
            messages.add(Message.developer(developer));
        }

        Map<String, String> toolNamesById = toolNamesById(chat, source);
        for (int i = first; i < chat.size(); i++) {
            messages.addAll(map(JsonFields.object(chat.get(i), source + ": messages[" + i + "]"), toolNamesById));
        }

        Long maxTokens = request.optionalInteger("max_completion_tokens");
        if (maxTokens == null) maxTokens = request.optionalInteger("max_tokens");
        return new ChatRequest(new Conversation(dropCompletedAnalysis(messages)), toolChoice,
                request.optionalNumber("temperature"), request.optionalNumber("top_p"), maxTokens, request.optionalInteger("seed"));
    }

    private static List<Message> map(JsonFields m, Map<String, String> toolNamesById) {
        String roleName = m.requiredString("role");
        List<Message> out = new ArrayList<>();
        switch (roleName) {
            case "system", "developer", "user" -> out.add(new Message(Author.of(Role.fromWireName(roleName)), null, null, null,
                    textParts(m)));
            case "assistant" -> {
                String reasoning = m.present("reasoning") ? m.optionalString("reasoning") : m.optionalString("reasoning_content");
                if (reasoning != null && !reasoning.isEmpty()) out.add(Message.assistant("analysis", reasoning));
                String content = text(m);
                JsonNode calls = m.optionalArray("tool_calls");
                if (calls != null && !calls.isEmpty()) {
                    if (content != null && !content.isEmpty()) out.add(Message.assistant("commentary", content));
                    for (int i = 0; i < calls.size(); i++) {
                        JsonFields call = JsonFields.object(calls.get(i), m.path("tool_calls") + "[" + i + "]");
                        JsonFields function = JsonFields.object(call.get("function"), call.path("function"));
                        JsonNode arguments = function.get("arguments");
                        String argumentText = arguments == null || arguments.isNull() ? ""
                                : arguments.isTextual() ? arguments.textValue() : arguments.toString();
                        out.add(Message.assistant("commentary", argumentText)
                                .withRecipient("functions." + function.requiredString("name"))
                                .withContentType("<|constrain|>json"));
                    }
                } else if (content != null && !content.isEmpty()) {
                    out.add(Message.assistant("final", content));
                }
            }
            case "tool" -> {
                String id = m.optionalString("tool_call_id");
                String name = id == null ? null : toolNamesById.get(id);
                if (name == null) name = m.optionalString("name");
                if (name == null) {
                    throw m.error("tool_call_id", id == null
                            ? "missing, and no 'name' either: cannot tell which function this result answers"
                            : "'" + id + "' matches no earlier assistant tool call, and the message has no 'name'");
                }
                String content = text(m);
                out.add(Message.of(Author.tool("functions." + name), content == null ? "" : content)
                        .withRecipient("assistant").withChannel("commentary"));
            }
            default -> throw m.error("role", "unknown role '" + roleName + "' (expected system, developer, user, assistant or tool)");
        }
        return out;
    }

    /** Every assistant tool call's id → function name, so tool results can name their function. */
    private static Map<String, String> toolNamesById(JsonNode chat, String source) {
        Map<String, String> names = new HashMap<>();
        for (int i = 0; i < chat.size(); i++) {
            JsonFields m = JsonFields.object(chat.get(i), source + ": messages[" + i + "]");
            JsonNode calls = m.optionalArray("tool_calls");
            if (calls == null) continue;
            for (int j = 0; j < calls.size(); j++) {
                JsonFields call = JsonFields.object(calls.get(j), m.path("tool_calls") + "[" + j + "]");
                String id = call.optionalString("id");
                JsonNode function = call.get("function");
                if (id != null && function != null && function.path("name").isTextual()) names.put(id, function.get("name").textValue());
            }
        }
        return names;
    }

    /** The text of a message's content: a string, or the concatenated text parts; null when null or missing. */
    private static String text(JsonFields m) {
        List<Content> parts = textParts(m);
        if (parts.isEmpty() && !m.present("content")) return null;
        StringBuilder sb = new StringBuilder();
        for (Content c : parts) sb.append(((TextContent) c).text());
        return sb.toString();
    }

    private static List<Content> textParts(JsonFields m) {
        JsonNode content = m.get("content");
        if (content == null || content.isNull()) return List.of();
        if (content.isTextual()) return List.of(new TextContent(content.textValue()));
        if (!content.isArray()) throw m.error("content", "expected a string or a list of parts, got " + JsonFields.kind(content));
        List<Content> parts = new ArrayList<>();
        for (int i = 0; i < content.size(); i++) {
            JsonFields part = JsonFields.object(content.get(i), m.path("content") + "[" + i + "]");
            String type = part.requiredString("type");
            if (!type.equals("text")) throw part.error("type", "content part type '" + type + "' is not supported (gpt-oss reads text only)");
            parts.add(new TextContent(part.requiredString("text")));
        }
        return parts;
    }

    private static List<ToolDescription> tools(JsonFields request) {
        JsonNode list = request.optionalArray("tools");
        if (list == null) return List.of();
        List<ToolDescription> tools = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (int i = 0; i < list.size(); i++) {
            JsonFields tool = JsonFields.object(list.get(i), request.path("tools") + "[" + i + "]");
            String type = tool.requiredString("type");
            if (!type.equals("function")) throw tool.error("type", "tool type '" + type + "' is not supported (only 'function')");
            JsonFields function = JsonFields.object(tool.get("function"), tool.path("function"));
            String name = function.requiredString("name");
            if (!names.add(name)) throw function.error("name", "function '" + name + "' is defined twice");
            JsonNode parameters = function.get("parameters");
            if (parameters != null && !parameters.isNull() && !parameters.isObject()) {
                throw function.error("parameters", "expected a JSON schema object, got " + JsonFields.kind(parameters));
            }
            tools.add(new ToolDescription(name, function.stringOr("description", ""), parameters));
        }
        return tools;
    }

    private static ToolChoice toolChoice(JsonFields request, List<ToolDescription> tools) {
        JsonNode node = request.get("tool_choice");
        if (node == null || node.isNull()) return tools.isEmpty() ? ToolChoice.NONE : ToolChoice.AUTO;
        if (node.isTextual()) {
            return switch (node.textValue()) {
                case "none" -> ToolChoice.NONE;
                case "auto" -> ToolChoice.AUTO;
                case "required" -> {
                    if (tools.isEmpty()) throw request.error("tool_choice", "'required' but the request defines no tools");
                    yield ToolChoice.REQUIRED;
                }
                default -> throw request.error("tool_choice", "unknown value '" + node.textValue() + "' (expected none, auto, required or a function)");
            };
        }
        JsonFields choice = JsonFields.object(node, request.path("tool_choice"));
        JsonFields function = JsonFields.object(choice.get("function"), choice.path("function"));
        String name = function.requiredString("name");
        if (tools.stream().noneMatch(t -> t.name().equals(name))) throw function.error("name", "function '" + name + "' is not among the request's tools");
        return new ToolChoice(ToolChoice.Mode.FUNCTION, name);
    }

    /** Drops every {@code analysis} message before the last assistant {@code final} message. */
    static List<Message> dropCompletedAnalysis(List<Message> messages) {
        int lastFinal = -1;
        for (int i = messages.size() - 1; i >= 0 && lastFinal < 0; i--) {
            if (messages.get(i).role() == Role.ASSISTANT && "final".equals(messages.get(i).channel())) lastFinal = i;
        }
        List<Message> kept = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            if (i < lastFinal && "analysis".equals(messages.get(i).channel())) continue;
            kept.add(messages.get(i));
        }
        return kept;
    }
}
