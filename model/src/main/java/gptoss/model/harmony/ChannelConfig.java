package gptoss.model.harmony;

import java.util.List;

/**
 * The channels the system message tells the model about.
 *
 * @param validChannels   rendered as {@code # Valid channels: a, b, c.}; nothing is rendered when empty
 * @param channelRequired appends "Channel must be included for every message."
 */
public record ChannelConfig(List<String> validChannels, boolean channelRequired) {
    public ChannelConfig {
        validChannels = List.copyOf(validChannels);
    }

    public static ChannelConfig requireChannels(String... channels) {
        return new ChannelConfig(List.of(channels), true);
    }

    /** analysis, commentary, final — all required (the default). */
    public static ChannelConfig standard() {
        return requireChannels("analysis", "commentary", "final");
    }
}
