package dev.sluice.runner;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a Flink SQL script into statements on {@code ;}.
 *
 * <p>A semicolon ends a statement only outside of single-quoted strings ({@code ''} is an escaped
 * quote), backtick-quoted and double-quoted identifiers (a doubled quote character escapes it),
 * {@code -- line comments} and {@code /* block comments *\/}. Comments before a statement are
 * dropped; comments inside a statement are kept (so {@code /*+ OPTIONS(...) *\/} hints survive).
 * Statements with nothing but whitespace and comments are dropped. An unterminated string or
 * comment runs to the end of the script and is left for Flink's parser to report.
 */
public final class StatementSplitter {

    /** One statement, without its terminating semicolon, and the 1-based line it starts on. */
    public record Statement(String sql, int line) {}

    private StatementSplitter() {}

    /** The statements of {@code script}, in order. */
    public static List<String> split(String script) {
        return splitWithLines(script).stream().map(Statement::sql).toList();
    }

    /** The statements of {@code script}, in order, with the line each starts on. */
    public static List<Statement> splitWithLines(String script) {
        List<Statement> statements = new ArrayList<>();
        int length = script.length();
        int line = 1;
        int start = -1; // index of the first character of the current statement, -1 before it
        int startLine = 0;
        int i = 0;
        while (i < length) {
            char c = script.charAt(i);
            char next = i + 1 < length ? script.charAt(i + 1) : '\0';
            if (c == '-' && next == '-') {
                // up to the end of the line; the newline itself is counted below
                while (i < length && script.charAt(i) != '\n') {
                    i++;
                }
                continue;
            }
            if (c == '/' && next == '*') {
                i += 2;
                while (i < length && !(script.charAt(i) == '*' && i + 1 < length && script.charAt(i + 1) == '/')) {
                    if (script.charAt(i) == '\n') {
                        line++;
                    }
                    i++;
                }
                i = Math.min(i + 2, length);
                continue;
            }
            if (c == ';') {
                if (start >= 0) {
                    statements.add(new Statement(script.substring(start, i).strip(), startLine));
                    start = -1;
                }
                i++;
                continue;
            }
            if (c == '\n') {
                line++;
                i++;
                continue;
            }
            if (Character.isWhitespace(c)) {
                i++;
                continue;
            }
            if (start < 0) {
                start = i;
                startLine = line;
            }
            if (c == '\'' || c == '"' || c == '`') {
                // quoted: a doubled quote character is an escaped one
                i++;
                while (i < length) {
                    char q = script.charAt(i);
                    if (q == c) {
                        if (i + 1 < length && script.charAt(i + 1) == c) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    if (q == '\n') {
                        line++;
                    }
                    i++;
                }
                i = Math.min(i + 1, length);
                continue;
            }
            i++;
        }
        if (start >= 0) {
            statements.add(new Statement(script.substring(start).strip(), startLine));
        }
        return statements;
    }
}
