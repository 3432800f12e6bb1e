package gptoss.model.harmony;

import java.util.List;
import java.util.Objects;

/** The header of a message as parsed from model output: everything but the content. */
public record MessageHeader(Author author, String recipient, String channel, String contentType) {
    public MessageHeader {
        Objects.requireNonNull(author, "author");
    }

    public Role role() {
        return author.role();
    }

    /** The complete message with this header and the given text. */
    public Message toMessage(String text) {
        return new Message(author, recipient, channel, contentType, List.of(new TextContent(text)));
    }
}
