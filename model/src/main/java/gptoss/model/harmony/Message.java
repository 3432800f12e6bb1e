package gptoss.model.harmony;

import java.util.List;
import java.util.Objects;

/**
 * One Harmony message: {@code <|start|>author[ to=recipient][<|channel|>channel][ contentType]<|message|>content<|end|>}.
 *
 * @param recipient   null (or "all") for everyone; a tool name such as {@code functions.get_weather} for a tool
 *                    call; {@code assistant} for a tool's answer
 * @param channel     {@code analysis}, {@code commentary}, {@code final}, or null
 * @param contentType e.g. {@code <|constrain|>json} or {@code json}, or null
 * @param content     the pieces, rendered one after another
 */
public record Message(Author author, String recipient, String channel, String contentType, List<Content> content) {
    public Message {
        Objects.requireNonNull(author, "author");
        content = List.copyOf(content);
    }

    public static Message of(Role role, String text) {
        return of(Author.of(role), text);
    }

    public static Message of(Author author, String text) {
        return new Message(author, null, null, null, List.of(new TextContent(text)));
    }

    public static Message of(Role role, Content content) {
        return new Message(Author.of(role), null, null, null, List.of(content));
    }

    public static Message system(SystemContent content) {
        return of(Role.SYSTEM, content);
    }

    public static Message developer(DeveloperContent content) {
        return of(Role.DEVELOPER, content);
    }

    public static Message user(String text) {
        return of(Role.USER, text);
    }

    /** An assistant message on a channel, e.g. {@code assistant("final", "4")}. */
    public static Message assistant(String channel, String text) {
        return of(Role.ASSISTANT, text).withChannel(channel);
    }

    public Role role() {
        return author.role();
    }

    public Message withChannel(String newChannel) {
        return new Message(author, recipient, newChannel, contentType, content);
    }

    public Message withRecipient(String newRecipient) {
        return new Message(author, newRecipient, channel, contentType, content);
    }

    public Message withContentType(String newContentType) {
        return new Message(author, recipient, channel, newContentType, content);
    }

    /** The text contents joined (system and developer contents are skipped). */
    public String text() {
        StringBuilder sb = new StringBuilder();
        for (Content c : content) if (c instanceof TextContent t) sb.append(t.text());
        return sb.toString();
    }

    /** Whether this is an assistant message addressed to a tool (rendered with {@code <|call|>}). */
    public boolean isToolCall() {
        return author.role() == Role.ASSISTANT && recipient != null;
    }
}
