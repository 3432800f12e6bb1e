package gptoss.model.harmony;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Renders a function's JSON-schema parameters as the TypeScript-like type gpt-oss was trained on (spec §5.3),
 * reproducing the Harmony library's {@code json_schema_to_typescript} line for line, quirks included:
 * <ul>
 *   <li>object: an optional {@code // description} line, then {@code {}, one line per property in schema order
 *       ({@code // title} + {@code //}, {@code // description}, {@code // Examples:} lines above it; {@code name?}
 *       when not required; {@code , // default: x} after it), then {@code }} indented like the property;</li>
 *   <li>string enum → {@code "a" | "b"}; integer → {@code number}; array → {@code T[]} (no items:
 *       {@code Array<any>}); a type list → {@code a | b}; {@code nullable: true} → {@code T | null};</li>
 *   <li>{@code oneOf} → one {@code  | variant // comments} line per variant;</li>
 *   <li>anything else (no type, {@code anyOf}, {@code $ref}, {@code null}) → {@code any}.</li>
 * </ul>
 * Defaults are printed as compact JSON; string defaults quoted, except enum strings of a property (bare).
 */
public final class TypeScriptSchema {
    private TypeScriptSchema() {
    }

    /** The type of a schema at the given indentation (the indent applies to the lines it opens). */
    public static String render(JsonNode schema, String indent) {
        JsonNode oneOf = schema.get("oneOf");
        if (oneOf != null && oneOf.isArray()) return renderOneOf(oneOf, indent);

        JsonNode type = schema.get("type");
        if (type != null && type.isArray()) {
            List<String> names = new ArrayList<>();
            for (JsonNode t : type) if (t.isTextual()) names.add(t.textValue().equals("integer") ? "number" : t.textValue());
            if (!names.isEmpty()) return String.join(" | ", names);
        }
        if (type == null || !type.isTextual()) return "any";
        return switch (type.textValue()) {
            case "object" -> renderObject(schema, indent);
            case "string" -> renderString(schema);
            case "number", "integer" -> "number";
            case "boolean" -> "boolean";
            case "array" -> {
                JsonNode items = schema.get("items");
                yield items == null ? "Array<any>" : render(items, indent) + "[]";
            }
            default -> "any";
        };
    }

    private static String renderOneOf(JsonNode variants, String indent) {
        StringBuilder out = new StringBuilder();
        for (JsonNode variant : variants) {
            out.append('\n').append(indent).append(" | ");
            out.append(withNullable(render(variant, indent + "   "), variant));
            List<String> comments = new ArrayList<>();
            String description = text(variant, "description");
            if (description != null) comments.add(description);
            JsonNode def = variant.get("default");
            if (def != null) {
                // Unlike the property-level case, an enum's string default is printed as JSON (quoted).
                comments.add(def.isTextual() && !isEnum(variant) ? "default: \"" + def.textValue() + "\"" : "default: " + def);
            }
            if (!comments.isEmpty()) out.append(" // ").append(String.join(" ", comments));
        }
        return out.toString();
    }

    private static String renderString(JsonNode schema) {
        JsonNode values = schema.get("enum");
        if (values != null && values.isArray()) {
            List<String> quoted = new ArrayList<>();
            for (JsonNode v : values) if (v.isTextual()) quoted.add("\"" + v.textValue() + "\"");
            if (!quoted.isEmpty()) return String.join(" | ", quoted);
        }
        return "string";
    }

    private static String renderObject(JsonNode schema, String indent) {
        StringBuilder out = new StringBuilder();
        String description = text(schema, "description");
        if (description != null) out.append(indent).append("// ").append(description).append('\n');
        out.append("{\n");
        JsonNode properties = schema.get("properties");
        if (properties != null && properties.isObject()) {
            Set<String> required = new HashSet<>();
            JsonNode req = schema.get("required");
            if (req != null && req.isArray()) for (JsonNode r : req) if (r.isTextual()) required.add(r.textValue());
            for (Map.Entry<String, JsonNode> property : properties.properties()) {
                renderProperty(out, property.getKey(), property.getValue(), required.contains(property.getKey()), indent);
            }
        }
        out.append(indent).append('}');
        return out.toString();
    }

    private static void renderProperty(StringBuilder out, String key, JsonNode value, boolean required, String indent) {
        String optional = required ? "" : "?";
        String title = text(value, "title");
        if (title != null) out.append(indent).append("// ").append(title).append('\n').append(indent).append("//\n");
        boolean hasOneOf = value.get("oneOf") != null;
        String description = text(value, "description");
        if (!hasOneOf && description != null) out.append(indent).append("// ").append(description).append('\n');
        JsonNode examples = value.get("examples");
        if (examples != null && examples.isArray() && !examples.isEmpty()) {
            out.append(indent).append("// Examples:\n");
            for (JsonNode example : examples) {
                if (example.isTextual()) out.append(indent).append("// - \"").append(example.textValue()).append("\"\n");
            }
        }
        JsonNode oneOf = value.get("oneOf");
        if (oneOf != null && oneOf.isArray()) {
            renderOneOfProperty(out, key, value, oneOf, optional, description, indent);
            return;
        }
        out.append(indent).append(key).append(optional).append(": ");
        out.append(withNullable(render(value, indent + "    "), value)).append(',');
        JsonNode def = value.get("default");
        if (!hasOneOf && def != null) out.append(" // ").append(propertyDefault(def, value));
        out.append('\n');
    }

    /** A property whose type is a oneOf: comments above, then {@code name?:} and one line per variant. */
    private static void renderOneOfProperty(StringBuilder out, String key, JsonNode value, JsonNode variants,
                                            String optional, String description, String indent) {
        // The property's description is dropped when the first variant repeats it.
        String firstVariantDescription = variants.isEmpty() ? null : text(variants.get(0), "description");
        boolean descriptionAbove = description != null && !description.equals(firstVariantDescription);
        if (descriptionAbove) out.append(indent).append("// ").append(description).append('\n');
        JsonNode def = value.get("default");
        if (def != null) out.append(indent).append("// ").append(propertyDefault(def, value)).append('\n');
        out.append(indent).append(key).append(optional).append(":\n");
        for (int i = 0; i < variants.size(); i++) {
            JsonNode variant = variants.get(i);
            out.append(indent).append(" | ");
            out.append(withNullable(render(variant, indent + "   "), variant));
            List<String> comments = new ArrayList<>();
            String variantDescription = text(variant, "description");
            if (!(i == 0 && descriptionAbove) && variantDescription != null && !variantDescription.equals(description)) {
                comments.add(variantDescription);
            }
            JsonNode variantDefault = variant.get("default");
            if (variantDefault != null) comments.add(propertyDefault(variantDefault, variant));
            if (!comments.isEmpty()) out.append(" // ").append(String.join(" ", comments));
            out.append('\n');
        }
        out.append(indent).append(",\n");
    }

    /** {@code default: "text"}, {@code default: enumValue} (bare) or {@code default: <json>}. */
    private static String propertyDefault(JsonNode def, JsonNode schema) {
        if (def.isTextual()) return isEnum(schema) ? "default: " + def.textValue() : "default: \"" + def.textValue() + "\"";
        return "default: " + def;
    }

    private static String withNullable(String type, JsonNode schema) {
        JsonNode nullable = schema.get("nullable");
        boolean isNullable = nullable != null && nullable.isBoolean() && nullable.booleanValue();
        return isNullable && !type.contains("null") ? type + " | null" : type;
    }

    private static boolean isEnum(JsonNode schema) {
        JsonNode values = schema.get("enum");
        return values != null && values.isArray() && !values.isEmpty();
    }

    private static String text(JsonNode node, String key) {
        JsonNode v = node.get(key);
        return v != null && v.isTextual() ? v.textValue() : null;
    }
}
