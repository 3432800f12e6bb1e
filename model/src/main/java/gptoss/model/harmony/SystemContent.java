package gptoss.model.harmony;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The content of the system message (spec §5.2). Null fields are left out of the rendering.
 *
 * @param modelIdentity         first line, default {@link #DEFAULT_MODEL_IDENTITY}
 * @param knowledgeCutoff       {@code Knowledge cutoff: ...}, default {@code 2024-06}
 * @param conversationStartDate {@code Current date: YYYY-MM-DD}, default absent
 * @param reasoningEffort       {@code Reasoning: ...}, default medium
 * @param channelConfig         the {@code # Valid channels} line, default analysis/commentary/final required
 * @param tools                 built-in tool namespaces (browser, python) by name, rendered sorted by name;
 *                              developer-defined functions belong in {@link DeveloperContent}
 */
public record SystemContent(String modelIdentity, String knowledgeCutoff, String conversationStartDate,
                            ReasoningEffort reasoningEffort, ChannelConfig channelConfig,
                            Map<String, ToolNamespace> tools) implements Content {
    public static final String DEFAULT_MODEL_IDENTITY = "You are ChatGPT, a large language model trained by OpenAI.";
    public static final String DEFAULT_KNOWLEDGE_CUTOFF = "2024-06";

    public SystemContent {
        tools = tools == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(tools));
    }

    /** The library's defaults: identity, cutoff 2024-06, medium effort, the three channels, no date, no tools. */
    public static SystemContent defaults() {
        return new SystemContent(DEFAULT_MODEL_IDENTITY, DEFAULT_KNOWLEDGE_CUTOFF, null, ReasoningEffort.MEDIUM,
                ChannelConfig.standard(), Map.of());
    }

    public SystemContent withModelIdentity(String identity) {
        return new SystemContent(identity, knowledgeCutoff, conversationStartDate, reasoningEffort, channelConfig, tools);
    }

    public SystemContent withKnowledgeCutoff(String cutoff) {
        return new SystemContent(modelIdentity, cutoff, conversationStartDate, reasoningEffort, channelConfig, tools);
    }

    public SystemContent withConversationStartDate(String date) {
        return new SystemContent(modelIdentity, knowledgeCutoff, date, reasoningEffort, channelConfig, tools);
    }

    public SystemContent withReasoningEffort(ReasoningEffort effort) {
        return new SystemContent(modelIdentity, knowledgeCutoff, conversationStartDate, effort, channelConfig, tools);
    }

    public SystemContent withChannelConfig(ChannelConfig config) {
        return new SystemContent(modelIdentity, knowledgeCutoff, conversationStartDate, reasoningEffort, config, tools);
    }

    public SystemContent withRequiredChannels(String... channels) {
        return withChannelConfig(ChannelConfig.requireChannels(channels));
    }

    /** Adds (or replaces) a tool namespace under its name. */
    public SystemContent withTools(ToolNamespace namespace) {
        Map<String, ToolNamespace> more = new TreeMap<>(tools);
        more.put(namespace.name(), namespace);
        return new SystemContent(modelIdentity, knowledgeCutoff, conversationStartDate, reasoningEffort, channelConfig, more);
    }

    public SystemContent withBrowserTool() {
        return withTools(BuiltinTools.browser());
    }

    public SystemContent withPythonTool() {
        return withTools(BuiltinTools.python());
    }
}
