package gptoss.model.harmony;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Objects;

/**
 * A function the model may call.
 *
 * @param description may be empty; each line is rendered as a {@code //} comment
 * @param parameters  a JSON schema of the argument object, or null for a function without parameters
 *                    (kept as a private deep copy, so later changes to the caller's node do not leak in)
 */
public record ToolDescription(String name, String description, JsonNode parameters) {
    public ToolDescription {
        Objects.requireNonNull(name, "name");
        description = description == null ? "" : description;
        parameters = parameters == null || parameters.isNull() ? null : parameters.deepCopy();
    }

    @Override
    public JsonNode parameters() {
        return parameters == null ? null : parameters.deepCopy();
    }
}
