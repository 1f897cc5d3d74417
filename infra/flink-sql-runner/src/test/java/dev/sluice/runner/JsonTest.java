package dev.sluice.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

    @Test
    void parsesValues() throws Exception {
        Object v = Json.parse(" {\"a\":1,\"b\":[true,false,null,-2.5e1],\"c\":\"x\\u00e9\\n\\\"\\/\",\"d\":{}} ");
        Map<?, ?> map = (Map<?, ?>) v;
        assertEquals(1L, map.get("a"));
        assertEquals(java.util.Arrays.asList(true, false, null, -25.0), map.get("b"));
        assertEquals("xé\n\"/", map.get("c"));
        assertEquals(Map.of(), map.get("d"));
        assertEquals(List.of(), Json.parse("[]"));
    }

    @Test
    void rejectsWhatIsNotStrictJson() {
        for (String bad : new String[] {
            "", "{", "{\"a\":1,}", "{\"a\":1}x", "{'a':1}", "{\"a\":01}", "[1,]", "\"\\x\"", "\"a\nb\"",
            "{\"a\":1,\"a\":2}", "\"\\ud800\"", "tru", "{\"a\" 1}", "NaN", "1.", "-"
        }) {
            Json.JsonException e = assertThrows(Json.JsonException.class, () -> Json.parse(bad), bad);
            assertFalse(e.getMessage().contains(bad) && bad.length() > 3, "message echoes the input: " + bad);
        }
    }

    @Test
    void rejectsDeepNesting() {
        assertThrows(Json.JsonException.class, () -> Json.parse("[".repeat(100) + "]".repeat(100)));
    }
}
