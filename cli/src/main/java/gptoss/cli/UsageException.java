package gptoss.cli;

/** A bad command-line value found after parsing: one line on stderr and exit code 2, like a parse error. */
final class UsageException extends RuntimeException {
    UsageException(String message) {
        super(message);
    }
}
