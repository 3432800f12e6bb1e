package gptoss.model.harmony;

import java.util.Objects;

/**
 * The author of a message.
 *
 * @param name optional; for {@link Role#TOOL} it is required and is the tool's name (e.g. {@code functions.get_weather}),
 *             for other roles it is rendered as {@code role:name}
 */
public record Author(Role role, String name) {
    public Author {
        Objects.requireNonNull(role, "role");
    }

    public static Author of(Role role) {
        return new Author(role, null);
    }

    /** A tool as author, e.g. {@code functions.get_weather} answering a call. */
    public static Author tool(String toolName) {
        return new Author(Role.TOOL, Objects.requireNonNull(toolName, "toolName"));
    }
}
