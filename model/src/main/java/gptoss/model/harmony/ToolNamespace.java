package gptoss.model.harmony;

import java.util.List;
import java.util.Objects;

/**
 * A group of tools rendered as one {@code ## name} section, e.g. {@code functions} (developer-defined functions)
 * or the built-in {@code browser} and {@code python} tools (see {@link BuiltinTools}).
 *
 * @param description optional text under the heading (as {@code //} comments when the namespace has tools)
 */
public record ToolNamespace(String name, String description, List<ToolDescription> tools) {
    public static final String FUNCTIONS = "functions";

    public ToolNamespace {
        Objects.requireNonNull(name, "name");
        tools = List.copyOf(tools);
    }

    /** The {@code functions} namespace of developer-defined tools. */
    public static ToolNamespace functions(List<ToolDescription> tools) {
        return new ToolNamespace(FUNCTIONS, null, tools);
    }
}
