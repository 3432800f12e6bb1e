package gptoss.api;

import gptoss.model.harmony.Conversation;
import gptoss.model.harmony.DeveloperContent;
import gptoss.model.harmony.Message;
import gptoss.model.harmony.ReasoningEffort;
import gptoss.model.harmony.SystemContent;
import gptoss.model.harmony.ToolDescription;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A Harmony conversation to continue as the assistant, with its generation settings. Build one with
 * {@link #builder()}, or from any {@link Conversation} (e.g. {@code ChatCompletions.fromJson} for an OpenAI request).
 */
public record ChatRequest(Conversation conversation, GenerationParams params) {

    public static Builder builder() {
        return new Builder();
    }

    /** One user message with the default system message. */
    public static ChatRequest of(String userText, GenerationParams params) {
        return builder().user(userText).params(params).build();
    }

    /** Assembles system, developer (instructions and function tools) and conversation messages. */
    public static final class Builder {
        private SystemContent system = SystemContent.defaults();
        private String instructions;
        private final List<ToolDescription> tools = new ArrayList<>();
        private final List<Message> messages = new ArrayList<>();
        private GenerationParams params = GenerationParams.defaults();

        public Builder system(SystemContent content) {
            this.system = content;
            return this;
        }

        public Builder reasoning(ReasoningEffort effort) {
            this.system = system.withReasoningEffort(effort);
            return this;
        }

        /** The developer message's instructions (what OpenAI calls the system prompt). */
        public Builder instructions(String text) {
            this.instructions = text;
            return this;
        }

        /** A function the model may call (its parameters a JSON schema, or null). */
        public Builder tool(ToolDescription tool) {
            tools.add(tool);
            return this;
        }

        public Builder user(String text) {
            messages.add(Message.user(text));
            return this;
        }

        /** Any message: earlier assistant turns, tool results ({@code Message.of(Author.tool("functions.NAME"), ...)}). */
        public Builder message(Message m) {
            messages.add(m);
            return this;
        }

        public Builder params(GenerationParams p) {
            this.params = p;
            return this;
        }

        public ChatRequest build() {
            List<Message> all = new ArrayList<>();
            all.add(Message.system(system));
            if ((instructions != null && !instructions.isEmpty()) || !tools.isEmpty()) {
                DeveloperContent developer = new DeveloperContent(instructions == null || instructions.isEmpty() ? null : instructions, Map.of());
                if (!tools.isEmpty()) developer = developer.withFunctionTools(tools);
                all.add(Message.developer(developer));
            }
            all.addAll(messages);
            return new ChatRequest(new Conversation(all), params);
        }
    }
}
