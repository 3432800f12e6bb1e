package gptoss.model.config;

/** Attention kind of a layer, as named in the Hugging Face {@code layer_types} list. */
public enum LayerType {
    SLIDING_ATTENTION("sliding_attention"),
    FULL_ATTENTION("full_attention");

    private final String jsonName;

    LayerType(String jsonName) {
        this.jsonName = jsonName;
    }

    public String jsonName() {
        return jsonName;
    }

    public static LayerType fromJson(String name) {
        for (LayerType t : values()) if (t.jsonName.equals(name)) return t;
        return null;
    }
}
