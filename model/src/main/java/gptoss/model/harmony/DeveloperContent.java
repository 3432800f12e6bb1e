package gptoss.model.harmony;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The content of the developer message (spec §5.3): the instructions ("system prompt" of chat APIs) and the
 * function tools.
 *
 * @param instructions rendered under {@code # Instructions}; null for none
 * @param tools        tool namespaces by name, normally just {@code functions}; rendered sorted by name
 */
public record DeveloperContent(String instructions, Map<String, ToolNamespace> tools) implements Content {
    public DeveloperContent {
        tools = tools == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(tools));
    }

    public static DeveloperContent empty() {
        return new DeveloperContent(null, Map.of());
    }

    public DeveloperContent withInstructions(String text) {
        return new DeveloperContent(text, tools);
    }

    /** Adds (or replaces) a tool namespace under its name. */
    public DeveloperContent withTools(ToolNamespace namespace) {
        Map<String, ToolNamespace> more = new TreeMap<>(tools);
        more.put(namespace.name(), namespace);
        return new DeveloperContent(instructions, more);
    }

    /** Sets the {@code functions} namespace to these tools. */
    public DeveloperContent withFunctionTools(List<ToolDescription> functions) {
        return withTools(ToolNamespace.functions(functions));
    }

    /** Whether a non-empty {@code functions} namespace is defined (which adds a line to the system message). */
    public boolean hasFunctionTools() {
        ToolNamespace functions = tools.get(ToolNamespace.FUNCTIONS);
        return functions != null && !functions.tools().isEmpty();
    }
}
