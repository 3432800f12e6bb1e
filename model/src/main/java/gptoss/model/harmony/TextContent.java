package gptoss.model.harmony;

import java.util.Objects;

public record TextContent(String text) implements Content {
    public TextContent {
        Objects.requireNonNull(text, "text");
    }
}
