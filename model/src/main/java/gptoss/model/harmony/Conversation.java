package gptoss.model.harmony;

import java.util.ArrayList;
import java.util.List;

/** An ordered list of messages. */
public record Conversation(List<Message> messages) {
    public Conversation {
        messages = List.copyOf(messages);
    }

    public static Conversation of(Message... messages) {
        return new Conversation(List.of(messages));
    }

    /** This conversation with more messages at the end. */
    public Conversation append(Message... more) {
        List<Message> all = new ArrayList<>(messages);
        all.addAll(List.of(more));
        return new Conversation(all);
    }
}
