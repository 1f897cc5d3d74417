package dev.sluice.runner;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The canonical encoding of an encryption context, used as the AES-GCM associated data. It is the
 * byte-for-byte output of the Rust side ({@code serde_json::to_vec} of a {@code BTreeMap<String,
 * String>}): a compact JSON object, keys in lexicographic order of their UTF-8 bytes, no
 * whitespace; in strings {@code "} and {@code \} are escaped with a backslash, the control
 * characters U+0000..U+001F as {@code \b \t \n \f \r} or as a backslash, {@code u00} and two lowercase hex digits;
 * everything else, {@code /}, DEL and non-ASCII included, is written as is (UTF-8).
 */
final class CanonicalJson {

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private CanonicalJson() {}

    static byte[] encode(Map<String, String> context) {
        return encodeToString(context).getBytes(StandardCharsets.UTF_8);
    }

    static String encodeToString(Map<String, String> context) {
        List<String> keys = new ArrayList<>(context.keySet());
        // BTreeMap<String, _> orders by the UTF-8 bytes; String.compareTo orders by UTF-16 code
        // units, which differs for characters above U+FFFF against U+E000..U+FFFF.
        keys.sort(CanonicalJson::compareUtf8);
        StringBuilder out = new StringBuilder("{");
        boolean first = true;
        for (String key : keys) {
            if (!first) {
                out.append(',');
            }
            first = false;
            string(out, key);
            out.append(':');
            string(out, context.get(key));
        }
        return out.append('}').toString();
    }

    static int compareUtf8(String a, String b) {
        return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    private static void string(StringBuilder out, String value) {
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\t' -> out.append("\\t");
                case '\n' -> out.append("\\n");
                case '\f' -> out.append("\\f");
                case '\r' -> out.append("\\r");
                default -> {
                    if (c < 0x20) {
                        out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xf]);
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
