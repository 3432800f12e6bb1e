package gptoss.model.harmony;

import gptoss.model.InvalidModelException;

/** A conversation, request or message that cannot be read or rendered in the Harmony format; the message names the part at fault. */
public class HarmonyFormatException extends InvalidModelException {
    public HarmonyFormatException(String message) {
        super(message);
    }

    public HarmonyFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
