package dev.sluice.runner;

/**
 * A failure of the runner. Its message names what failed and never carries the script, a value
 * from it, an argument value, or key material; causes attached to it are either free of those
 * too (AWS SDK errors) or sanitized copies (see {@link Redactor}).
 */
public class RunnerException extends Exception {

    public RunnerException(String message) {
        super(message);
    }

    public RunnerException(String message, Throwable cause) {
        super(message, cause);
    }
}
