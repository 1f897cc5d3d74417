package dev.sluice.runner;

import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A sealed script as the trigger writes it (the contract between the Rust side and the runner):
 *
 * <pre>{"v":1,"alg":"AES_256_GCM","key_id":"&lt;KMS key ARN&gt;","edk":"&lt;base64&gt;",
 *  "nonce":"&lt;base64, 12 bytes&gt;","ct":"&lt;base64 ciphertext || 16-byte GCM tag&gt;",
 *  "ctx":{"job_id":"job_…","purpose":"flink-script","run_id":"run_…","tenant":"…"}}</pre>
 *
 * <p>{@code edk} is the data key encrypted by KMS under {@code key_id} with {@code ctx} as the KMS
 * encryption context; {@code ct} is AES-256-GCM of the script under that data key and {@code
 * nonce}, with the canonical encoding of {@code ctx} ({@link CanonicalJson}) as associated data.
 * Base64 is the standard alphabet (padding optional). Fields not named here are ignored: they are
 * not authenticated and carry no meaning in version 1.
 *
 * <p>{@link #parse} checks only the shape; {@link EnvelopeOpener} checks the values.
 */
record Envelope(
        long version,
        String algorithm,
        String keyId,
        byte[] encryptedDataKey,
        byte[] nonce,
        byte[] ciphertext,
        Map<String, String> context) {

    static final String ALGORITHM = "AES_256_GCM";
    static final String PURPOSE = "flink-script";

    static Envelope parse(String json) throws RunnerException {
        Object root;
        try {
            root = Json.parse(json);
        } catch (Json.JsonException e) {
            throw new RunnerException("sealed script: the envelope is not valid JSON (" + e.getMessage() + ")");
        }
        if (!(root instanceof Map<?, ?> map)) {
            throw new RunnerException("sealed script: the envelope is not a JSON object");
        }
        Object v = map.get("v");
        if (!(v instanceof Long version)) {
            throw new RunnerException("sealed script: envelope field 'v' is missing or not an integer");
        }
        Object ctx = map.get("ctx");
        if (!(ctx instanceof Map<?, ?> ctxMap)) {
            throw new RunnerException("sealed script: envelope field 'ctx' is missing or not an object");
        }
        Map<String, String> context = new TreeMap<>(CanonicalJson::compareUtf8);
        for (Map.Entry<?, ?> e : ctxMap.entrySet()) {
            if (!(e.getValue() instanceof String value)) {
                throw new RunnerException("sealed script: envelope context value '" + e.getKey() + "' is not a string");
            }
            context.put((String) e.getKey(), value);
        }
        return new Envelope(
                version,
                string(map, "alg"),
                string(map, "key_id"),
                base64(map, "edk"),
                base64(map, "nonce"),
                base64(map, "ct"),
                Collections.unmodifiableMap(context));
    }

    private static String string(Map<?, ?> map, String field) throws RunnerException {
        Object value = map.get(field);
        if (!(value instanceof String s) || s.isEmpty()) {
            throw new RunnerException("sealed script: envelope field '" + field + "' is missing or not a non-empty string");
        }
        return s;
    }

    private static byte[] base64(Map<?, ?> map, String field) throws RunnerException {
        String value = string(map, field);
        try {
            return Base64.getDecoder().decode(value);
        } catch (IllegalArgumentException e) {
            throw new RunnerException("sealed script: envelope field '" + field + "' is not valid base64");
        }
    }

    /** The context keys every flink-script envelope carries. */
    static final List<String> REQUIRED_CONTEXT = List.of("job_id", "purpose", "run_id", "tenant");
}
