package dev.sluice.jdbc;

import java.util.ArrayList;
import java.util.List;

/**
 * Names of JDBC tables as sluice's compiler writes them into Flink DDL, and their quoting.
 *
 * <p>Flink's JDBC sink binds values through named parameters ({@code :field}) that end at the
 * first character that is not a Java identifier part, so a column named {@code a b} or {@code
 * Order-Id} cannot be a Flink field name of a JDBC table. The compiler therefore encodes every
 * column and table name of a JDBC table: ASCII letters, digits, {@code _} and common letters stay,
 * every other character (and {@code $} itself) becomes {@code $<hex code point>$}. This class
 * decodes them. A {@code $} that does not start an escape is kept, so plain names pass through.
 * Table names are encoded part by part and joined with {@code .} (a dot inside a part is escaped).
 */
public final class SluiceNames {

    private SluiceNames() {}

    /** The real name behind an encoded one. */
    public static String decode(String encoded) {
        StringBuilder out = new StringBuilder(encoded.length());
        int i = 0;
        while (i < encoded.length()) {
            char c = encoded.charAt(i);
            if (c == '$') {
                int end = encoded.indexOf('$', i + 1);
                Integer codePoint = end > i + 1 ? hex(encoded.substring(i + 1, end)) : null;
                if (codePoint != null) {
                    out.appendCodePoint(codePoint);
                    i = end + 1;
                    continue;
                }
            }
            out.append(c);
            i++;
        }
        return out.toString();
    }

    /** The parts of a table name ({@code schema.table} or {@code table}), each decoded. */
    public static List<String> decodeTable(String encoded) {
        List<String> parts = new ArrayList<>();
        for (String part : encoded.split("\\.", -1)) {
            parts.add(decode(part));
        }
        return parts;
    }

    /**
     * A PostgreSQL identifier in double quotes. A name holding {@code :} or {@code ?} is written
     * as a Unicode-escaped identifier ({@code U&"a\003Ab"}): Flink's statement parser would take
     * {@code :b} for a parameter, and refuses {@code ?} anywhere in a statement.
     */
    public static String quotePostgres(String name) {
        boolean escape = name.indexOf(':') >= 0 || name.indexOf('?') >= 0;
        StringBuilder out = new StringBuilder(name.length() + 8);
        out.append(escape ? "U&\"" : "\"");
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '"') {
                out.append("\"\"");
            } else if (escape && c == '\\') {
                out.append("\\\\");
            } else if (escape && (c == ':' || c == '?')) {
                out.append(String.format("\\%04X", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }

    /**
     * A MySQL/MariaDB identifier in backticks, a backtick doubled. MySQL has no escape for
     * {@code :} or {@code ?}: the compiler refuses such names for MySQL targets.
     */
    public static String quoteMySql(String name) {
        return "`" + name.replace("`", "``") + "`";
    }

    private static Integer hex(String digits) {
        if (digits.length() > 6) {
            return null;
        }
        int value = 0;
        for (int i = 0; i < digits.length(); i++) {
            int d = Character.digit(digits.charAt(i), 16);
            if (d < 0) {
                return null;
            }
            value = value * 16 + d;
        }
        return Character.isValidCodePoint(value) ? value : null;
    }
}
