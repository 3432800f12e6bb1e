package gptoss.model;

/**
 * A checkpoint, config or input that cannot be used, with a message naming the file and the part at fault.
 * Every loading error of the model module is one of these, so callers can report it in one line.
 */
public class InvalidModelException extends RuntimeException {
    public InvalidModelException(String message) {
        super(message);
    }

    public InvalidModelException(String message, Throwable cause) {
        super(message, cause);
    }
}
