package gptoss.model.harmony;

/** Who wrote a message. A tool's messages are rendered under the tool's name instead of "tool". */
public enum Role {
    SYSTEM, DEVELOPER, USER, ASSISTANT, TOOL;

    /** The lower-case name used in rendered headers and in JSON. */
    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The role of a lower-case name, or null when the name is not a role. */
    public static Role fromWireName(String name) {
        for (Role r : values()) if (r.wireName().equals(name)) return r;
        return null;
    }
}
