package gptoss.model.harmony;

import java.util.Locale;

/** How long the model should think; rendered as {@code Reasoning: low|medium|high} in the system message. */
public enum ReasoningEffort {
    LOW, MEDIUM, HIGH;

    /** "low", "medium" or "high", as rendered. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses "low"/"Low"/"LOW" etc.; null when the text names no effort. */
    public static ReasoningEffort parse(String text) {
        for (ReasoningEffort e : values()) if (e.name().equalsIgnoreCase(text)) return e;
        return null;
    }
}
