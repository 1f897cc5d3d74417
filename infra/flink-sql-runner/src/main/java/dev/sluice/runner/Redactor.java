package dev.sluice.runner;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Keeps an opened script's secrets out of the errors the runner throws. Flink's exceptions are
 * useful (an unknown column, a missing connector option) but may quote the statement or an option
 * value. Every exception from Flink is therefore replaced by a chain of {@link Sanitized} copies:
 * same class names and stack frames, no other state, and messages in which every whole statement
 * is replaced by a marker and every string literal of the script (at least {@value #MIN_LITERAL}
 * characters long) by {@value #MASK} — except option keys ({@code 'key' =}) and the values of the
 * few options in {@link #PUBLIC_OPTIONS} (connector and format names and the like), which stay
 * readable. (Flink also masks the values of sensitive option keys such as {@code password} in its
 * own messages; this does not rely on it.)
 */
final class Redactor {

    static final int MIN_LITERAL = 4;
    static final String MASK = "******";

    /** A sanitized stand-in for an exception: the original's class name, a redacted message, its frames. */
    static final class Sanitized extends RuntimeException {
        private final String originalClass;

        Sanitized(String originalClass, String message, Sanitized cause) {
            super(message, cause);
            this.originalClass = originalClass;
        }

        String originalClass() {
            return originalClass;
        }

        @Override
        public String toString() {
            String message = getLocalizedMessage();
            return message != null ? originalClass + ": " + message : originalClass;
        }
    }

    /** Options whose values are names, not data: kept readable in messages. */
    static final Set<String> PUBLIC_OPTIONS = Set.of(
            "connector", "format", "key.format", "value.format", "driver", "scan.startup.mode",
            "sink.delivery-guarantee", "changelog-mode", "sink.partition-commit.policy.kind");

    /** A string literal of the script; {@code optionKey} is set when it is the value of {@code 'optionKey' =}. */
    record Literal(String text, boolean isKey, String optionKey) {}

    private final List<String> secrets;
    private final List<String> statements;

    Redactor(String script) {
        Set<String> literals = new LinkedHashSet<>();
        for (Literal literal : literals(script)) {
            if (literal.text().length() >= MIN_LITERAL
                    && !literal.isKey()
                    && !(literal.optionKey() != null && PUBLIC_OPTIONS.contains(literal.optionKey()))) {
                literals.add(literal.text());
                literals.add(literal.text().replace("'", "''")); // as written in the script
                literals.addAll(embeddedValues(literal.text()));
            }
        }
        List<String> sorted = new ArrayList<>(literals);
        sorted.sort(Comparator.comparingInt(String::length).reversed()); // longest first
        this.secrets = sorted;
        this.statements = StatementSplitter.split(script);
    }

    private static final java.util.regex.Pattern KEY_VALUE = java.util.regex.Pattern.compile("[A-Za-z0-9_.\\-]+=([^&;,\\s\"']+)");
    private static final java.util.regex.Pattern DOUBLE_QUOTED = java.util.regex.Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"");

    /**
     * Parts of a literal that a message may quote on their own: the values of {@code key=value}
     * pairs (URL query parameters such as {@code password=...}) and double-quoted strings (the
     * values of a JAAS configuration).
     */
    static List<String> embeddedValues(String literal) {
        List<String> out = new ArrayList<>();
        for (java.util.regex.Pattern p : List.of(KEY_VALUE, DOUBLE_QUOTED)) {
            java.util.regex.Matcher m = p.matcher(literal);
            while (m.find()) {
                if (m.group(1).length() >= MIN_LITERAL) {
                    out.add(m.group(1));
                }
            }
        }
        return out;
    }

    /** {@code text} with the script's statements and literals masked. */
    String redact(String text) {
        if (text == null) {
            return null;
        }
        String out = text;
        for (int i = 0; i < statements.size(); i++) {
            String statement = statements.get(i);
            if (statement.length() >= MIN_LITERAL) {
                out = out.replace(statement, "<statement " + (i + 1) + ">");
            }
        }
        for (String secret : secrets) {
            out = out.replace(secret, MASK);
        }
        return out;
    }

    /** A sanitized copy of {@code e} and its causes (at most 20 deep). */
    Sanitized sanitize(Throwable e) {
        List<Throwable> chain = new ArrayList<>();
        for (Throwable t = e; t != null && chain.size() < 20 && !chain.contains(t); t = t.getCause()) {
            chain.add(t);
        }
        Sanitized copy = null;
        for (int i = chain.size() - 1; i >= 0; i--) {
            Throwable t = chain.get(i);
            copy = new Sanitized(t.getClass().getName(), redact(t.getMessage()), copy);
            copy.setStackTrace(t.getStackTrace());
        }
        return copy;
    }

    /** The message of the deepest cause, redacted and on one line: what a user most needs to see. */
    String rootMessage(Throwable e) {
        Throwable root = e;
        for (int depth = 0; root.getCause() != null && root.getCause() != root && depth < 20; depth++) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? "" : root.getMessage();
        String outer = e.getMessage() == null ? "" : e.getMessage();
        String text = root == e || outer.contains(message) ? outer : outer + " | root cause: "
                + root.getClass().getSimpleName() + ": " + message;
        text = redact(text).replaceAll("\\s+", " ").trim();
        return text.length() > 1500 ? text.substring(0, 1497) + "..." : text;
    }

    /**
     * The single-quoted string literals of {@code script} ({@code ''} unescaped), each marked as an
     * option key (followed by {@code =}) or as the value of the option key before it.
     */
    static List<Literal> literals(String script) {
        List<Literal> out = new ArrayList<>();
        String pendingKey = null; // a literal followed by '=': the next literal is its value
        boolean afterEquals = false;
        int n = script.length();
        int i = 0;
        while (i < n) {
            char c = script.charAt(i);
            if (c == '-' && i + 1 < n && script.charAt(i + 1) == '-') {
                while (i < n && script.charAt(i) != '\n') {
                    i++;
                }
            } else if (c == '/' && i + 1 < n && script.charAt(i + 1) == '*') {
                int end = script.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
            } else if (c == '"' || c == '`') {
                int end = i + 1;
                while (end < n && script.charAt(end) != c) {
                    end++;
                }
                i = end + 1;
            } else if (c == '\'') {
                StringBuilder literal = new StringBuilder();
                i++;
                while (i < n) {
                    char q = script.charAt(i);
                    if (q == '\'') {
                        if (i + 1 < n && script.charAt(i + 1) == '\'') {
                            literal.append('\'');
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    literal.append(q);
                    i++;
                }
                i++;
                int j = i;
                while (j < n && Character.isWhitespace(script.charAt(j))) {
                    j++;
                }
                boolean isKey = j < n && script.charAt(j) == '=';
                String text = literal.toString();
                out.add(new Literal(text, isKey, !isKey && afterEquals ? pendingKey : null));
                pendingKey = isKey ? text : null;
                afterEquals = false;
                if (isKey) {
                    i = j + 1;
                    afterEquals = true;
                }
            } else {
                if (!Character.isWhitespace(c)) {
                    pendingKey = null;
                    afterEquals = false;
                }
                i++;
            }
        }
        return out;
    }
}
