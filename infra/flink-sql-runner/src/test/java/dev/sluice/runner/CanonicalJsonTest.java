package dev.sluice.runner;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CanonicalJsonTest {

    @Test
    void theFlinkScriptContextEncodesAsTheRustSideDoes() {
        Map<String, String> ctx = new HashMap<>();
        ctx.put("tenant", "acme");
        ctx.put("run_id", "run_01J0000000000000000000000B");
        ctx.put("purpose", "flink-script");
        ctx.put("job_id", "job_01J0000000000000000000000A");
        assertEquals(
                "{\"job_id\":\"job_01J0000000000000000000000A\",\"purpose\":\"flink-script\","
                        + "\"run_id\":\"run_01J0000000000000000000000B\",\"tenant\":\"acme\"}",
                CanonicalJson.encodeToString(ctx));
    }

    @Test
    void emptyContext() {
        assertEquals("{}", CanonicalJson.encodeToString(Map.of()));
    }

    /**
     * Escaping and ordering, byte for byte. The expected bytes are the output of serde_json 1.x
     * ({@code serde_json::to_vec} of a {@code BTreeMap<String, String>}) for the same map: quote
     * and backslash escaped; \n \r \t \b \f by letter; other C0 controls as lowercase backslash-u00xx;
     * '/', DEL, U+2028 and non-ASCII as raw UTF-8; keys ordered by UTF-8 bytes, so U+FFFF sorts
     * before U+1F600 (UTF-16 order would put the emoji first).
     */
    @Test
    void escapingAndKeyOrderMatchSerdeJson() {
        Map<String, String> ctx = new LinkedHashMap<>();
        ctx.put("tenant", "a\"b\\c/d\n\r\t\b\f\u0000\u001f\u007fé€😀\u2028");
        ctx.put("😀", "astral");
        ctx.put("\uffff", "bmp-max");
        ctx.put("job_id", "job_1");
        ctx.put("Z", "upper");
        ctx.put("", "empty");
        String expectedHex = "7b22223a22656d707479222c225a223a227570706572222c226a6f625f6964223a226a6f625f31222c"
                + "2274656e616e74223a22615c22625c5c632f645c6e5c725c745c625c665c75303030305c75303031667fc3a9e282ac"
                + "f09f9880e280a8222c22efbfbf223a22626d702d6d6178222c22f09f9880223a2261737472616c227d";
        assertArrayEquals(Sealing.hex(expectedHex), CanonicalJson.encode(ctx));
    }

    @Test
    void controlCharactersUseLowercaseHex() {
        assertEquals(
                "{\"k\":\"\\u0001\\u000b\\u001a\\u001e\"}",
                new String(CanonicalJson.encode(Map.of("k", "\u0001\u000b\u001a\u001e")), StandardCharsets.UTF_8));
    }
}
