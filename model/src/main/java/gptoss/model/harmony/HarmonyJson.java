package gptoss.model.harmony;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Conversations in the JSON of the openai-harmony library (serde of {@code src/chat.rs}, as its Python
 * {@code Conversation.to_json}/{@code from_json} write and read it):
 * <pre>
 * {"messages": [
 *   {"role": "system", "content": [{"type": "system_content", "model_identity": "...", "reasoning_effort": "Medium",
 *       "knowledge_cutoff": "2024-06", "conversation_start_date": "2025-06-28",
 *       "channel_config": {"valid_channels": ["analysis", "commentary", "final"], "channel_required": true},
 *       "tools": {"browser": {"name": "browser", "description": "...", "tools": [...]}}}]},
 *   {"role": "developer", "content": [{"type": "developer_content", "instructions": "...",
 *       "tools": {"functions": {"name": "functions", "tools": [{"name": "f", "description": "...", "parameters": {...}}]}}}]},
 *   {"role": "user", "content": "a plain string is one text content"},
 *   {"role": "assistant", "channel": "commentary", "recipient": "functions.f", "content_type": "&lt;|constrain|&gt;json",
 *    "content": [{"type": "text", "text": "{\"x\": 1}"}]},
 *   {"role": "tool", "name": "functions.f", "recipient": "assistant", "channel": "commentary", "content": "..."}]}
 * </pre>
 * Reading system content, a missing field takes the library's default (Python {@code from_dict}) and an explicit
 * null means "absent"; reasoning effort is accepted in any case ("Medium", "medium"). Unknown fields are ignored,
 * as serde does.
 */
public final class HarmonyJson {
    private HarmonyJson() {
    }

    public static Conversation readConversation(Path file) {
        return readConversation(JsonFields.readFile(file), file.getFileName().toString());
    }

    /** @param source names the input in error messages, e.g. the file name */
    public static Conversation readConversation(String json, String source) {
        return conversationFromJson(JsonFields.parse(json, source), source);
    }

    public static Conversation conversationFromJson(JsonNode root, String source) {
        JsonFields conversation = JsonFields.object(root, source);
        JsonNode list = conversation.requiredArray("messages");
        List<Message> messages = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) messages.add(messageFromJson(list.get(i), source + ": messages[" + i + "]"));
        return new Conversation(messages);
    }

    public static Message messageFromJson(JsonNode node, String where) {
        JsonFields m = JsonFields.object(node, where);
        String roleName = m.requiredString("role");
        Role role = Role.fromWireName(roleName);
        if (role == null) throw m.error("role", "unknown role '" + roleName + "' (expected system, developer, user, assistant or tool)");
        Author author = new Author(role, m.optionalString("name"));
        if (role == Role.TOOL && author.name() == null) throw m.error("name", "missing: a tool message needs the tool's name, e.g. functions.get_weather");
        List<Content> content = new ArrayList<>();
        JsonNode raw = m.get("content");
        if (raw == null || raw.isNull()) throw m.error("content", "missing");
        if (raw.isTextual()) {
            content.add(new TextContent(raw.textValue()));
        } else if (raw.isArray()) {
            for (int i = 0; i < raw.size(); i++) content.add(contentFromJson(raw.get(i), m.path("content") + "[" + i + "]"));
        } else {
            throw m.error("content", "expected a string or a list of contents, got " + JsonFields.kind(raw));
        }
        return new Message(author, m.optionalString("recipient"), m.optionalString("channel"), m.optionalString("content_type"), content);
    }

    private static Content contentFromJson(JsonNode node, String where) {
        JsonFields c = JsonFields.object(node, where);
        String type = c.requiredString("type");
        return switch (type) {
            case "text" -> new TextContent(c.requiredString("text"));
            case "system_content" -> systemContent(c);
            case "developer_content" -> new DeveloperContent(c.optionalString("instructions"), namespaces(c, "tools"));
            default -> throw c.error("type", "unknown content type '" + type + "' (expected text, system_content or developer_content)");
        };
    }

    private static SystemContent systemContent(JsonFields c) {
        SystemContent defaults = SystemContent.defaults();
        ReasoningEffort effort = defaults.reasoningEffort();
        if (c.has("reasoning_effort")) {
            String text = c.optionalString("reasoning_effort");
            effort = text == null ? null : ReasoningEffort.parse(text);
            if (text != null && effort == null) throw c.error("reasoning_effort", "unknown effort '" + text + "' (expected Low, Medium or High)");
        }
        ChannelConfig channels = defaults.channelConfig();
        if (c.has("channel_config")) {
            JsonNode node = c.get("channel_config");
            if (node.isNull()) {
                channels = null;
            } else {
                JsonFields cc = JsonFields.object(node, c.path("channel_config"));
                channels = new ChannelConfig(strings(cc, "valid_channels"), cc.booleanOr("channel_required", false));
            }
        }
        return new SystemContent(c.stringOr("model_identity", defaults.modelIdentity()),
                c.stringOr("knowledge_cutoff", defaults.knowledgeCutoff()),
                c.stringOr("conversation_start_date", null), effort, channels, namespaces(c, "tools"));
    }

    private static List<String> strings(JsonFields f, String key) {
        JsonNode list = f.requiredArray(key);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!list.get(i).isTextual()) throw f.error(key + "[" + i + "]", "expected a string, got " + JsonFields.kind(list.get(i)));
            out.add(list.get(i).textValue());
        }
        return out;
    }

    /** A map of namespace name → {name, description, tools: [{name, description, parameters}]}. */
    private static Map<String, ToolNamespace> namespaces(JsonFields f, String key) {
        JsonNode node = f.get(key);
        if (node == null || node.isNull()) return Map.of();
        JsonFields map = JsonFields.object(node, f.path(key));
        Map<String, ToolNamespace> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : node.properties()) {
            JsonFields ns = JsonFields.object(entry.getValue(), map.path(entry.getKey()));
            JsonNode toolList = ns.requiredArray("tools");
            List<ToolDescription> tools = new ArrayList<>();
            for (int i = 0; i < toolList.size(); i++) {
                JsonFields t = JsonFields.object(toolList.get(i), ns.path("tools") + "[" + i + "]");
                JsonNode parameters = t.get("parameters");
                if (parameters != null && !parameters.isNull() && !parameters.isObject()) {
                    throw t.error("parameters", "expected a JSON schema object, got " + JsonFields.kind(parameters));
                }
                tools.add(new ToolDescription(t.requiredString("name"), t.stringOr("description", ""), parameters));
            }
            String name = ns.has("name") ? ns.requiredString("name") : entry.getKey();
            out.put(entry.getKey(), new ToolNamespace(name, ns.optionalString("description"), tools));
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------------------
    // writing

    /** The conversation as indented JSON that {@link #readConversation} (and the Harmony library) reads back. */
    public static String writeConversation(Conversation conversation) {
        ObjectNode root = JsonFields.MAPPER.createObjectNode();
        ArrayNode list = root.putArray("messages");
        for (Message m : conversation.messages()) list.add(toJson(m));
        try {
            return JsonFields.MAPPER.writer().with(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static ObjectNode toJson(Message message) {
        ObjectNode out = JsonFields.MAPPER.createObjectNode();
        out.put("role", message.role().wireName());
        if (message.author().name() != null) out.put("name", message.author().name());
        ArrayNode content = out.putArray("content");
        for (Content c : message.content()) content.add(toJson(c));
        if (message.channel() != null) out.put("channel", message.channel());
        if (message.recipient() != null) out.put("recipient", message.recipient());
        if (message.contentType() != null) out.put("content_type", message.contentType());
        return out;
    }

    private static ObjectNode toJson(Content content) {
        ObjectNode out = JsonFields.MAPPER.createObjectNode();
        switch (content) {
            case TextContent t -> {
                out.put("type", "text");
                out.put("text", t.text());
            }
            case SystemContent s -> {
                out.put("type", "system_content");
                // every field is written, nulls included, so that absent values survive the defaults of the reader
                out.put("model_identity", s.modelIdentity());
                out.put("reasoning_effort", s.reasoningEffort() == null ? null
                        : s.reasoningEffort().name().charAt(0) + s.reasoningEffort().wireName().substring(1));
                out.set("tools", s.tools().isEmpty() ? null : toJson(s.tools()));
                out.put("conversation_start_date", s.conversationStartDate());
                out.put("knowledge_cutoff", s.knowledgeCutoff());
                if (s.channelConfig() == null) {
                    out.putNull("channel_config");
                } else {
                    ObjectNode cc = out.putObject("channel_config");
                    ArrayNode valid = cc.putArray("valid_channels");
                    s.channelConfig().validChannels().forEach(valid::add);
                    cc.put("channel_required", s.channelConfig().channelRequired());
                }
            }
            case DeveloperContent d -> {
                out.put("type", "developer_content");
                if (d.instructions() != null) out.put("instructions", d.instructions());
                if (!d.tools().isEmpty()) out.set("tools", toJson(d.tools()));
            }
        }
        return out;
    }

    private static ObjectNode toJson(Map<String, ToolNamespace> namespaces) {
        ObjectNode out = JsonFields.MAPPER.createObjectNode();
        namespaces.forEach((key, ns) -> {
            ObjectNode n = out.putObject(key);
            n.put("name", ns.name());
            if (ns.description() != null) n.put("description", ns.description());
            ArrayNode tools = n.putArray("tools");
            for (ToolDescription t : ns.tools()) {
                ObjectNode tool = tools.addObject();
                tool.put("name", t.name());
                tool.put("description", t.description());
                if (t.parameters() != null) tool.set("parameters", t.parameters());
            }
        });
        return out;
    }
}
