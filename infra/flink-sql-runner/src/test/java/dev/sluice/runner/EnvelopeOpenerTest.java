package dev.sluice.runner;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EnvelopeOpenerTest {

    // The known-answer vector of the envelope format (the Rust side's layout).
    static final byte[] KEY = Sealing.filled(32, 0x07);
    static final byte[] NONCE = Sealing.filled(12, 0x09);
    static final String JOB = "job_01J0000000000000000000000A";
    static final String RUN = "run_01J0000000000000000000000B";
    static final String PLAINTEXT = "SET 'parallelism.default' = '1';";
    /**
     * AES-256-GCM(key = 32 x 0x07, nonce = 12 x 0x09, aad = canonical ctx, PLAINTEXT), ciphertext
     * followed by the tag. Computed independently with Python's {@code cryptography}:
     * {@code AESGCM(key).encrypt(nonce, plaintext, json.dumps(ctx, sort_keys=True,
     * separators=(",", ":")).encode())}.
     */
    static final String KNOWN_CT_HEX =
            "74c0d0b49980a013c10ea75d8a83d0b2fad40695559b9bb4488e7b86f24526416a04c049e3226eb93d5843eb3fade754";

    static final String KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";
    static final byte[] EDK = "not-really-encrypted-data-key".getBytes(StandardCharsets.UTF_8);

    static Map<String, String> ctx() {
        Map<String, String> ctx = new LinkedHashMap<>();
        ctx.put("job_id", JOB);
        ctx.put("purpose", "flink-script");
        ctx.put("run_id", RUN);
        ctx.put("tenant", "acme");
        return ctx;
    }

    /** Returns a copy of a fixed key; records the calls and the arrays it handed out. */
    static final class FixedKey implements KeyDecryptor {
        final byte[] key;
        final List<byte[]> handedOut = new ArrayList<>();
        final List<Map<String, String>> contexts = new ArrayList<>();
        final List<String> keyIds = new ArrayList<>();
        final List<byte[]> edks = new ArrayList<>();

        FixedKey(byte[] key) {
            this.key = key;
        }

        @Override
        public byte[] decryptDataKey(byte[] encryptedKey, String keyId, Map<String, String> context) {
            edks.add(encryptedKey.clone());
            keyIds.add(keyId);
            contexts.add(new HashMap<>(context));
            byte[] copy = key.clone();
            handedOut.add(copy);
            return copy;
        }
    }

    static Envelope envelope(byte[] ct, byte[] nonce, Map<String, String> ctx) throws RunnerException {
        return Envelope.parse(Sealing.envelopeJson(KEY_ARN, EDK, nonce, ct, ctx));
    }

    @Test
    void knownAnswerVectorOpens() throws Exception {
        FixedKey keys = new FixedKey(KEY);
        byte[] plaintext = new EnvelopeOpener(keys).open(envelope(Sealing.hex(KNOWN_CT_HEX), NONCE, ctx()), JOB, RUN);
        assertEquals(PLAINTEXT, new String(plaintext, StandardCharsets.UTF_8));
        // KMS was asked with the envelope's edk, key id and context
        assertEquals(List.of(KEY_ARN), keys.keyIds);
        assertArrayEquals(EDK, keys.edks.get(0));
        assertEquals(ctx(), keys.contexts.get(0));
    }

    @Test
    void javaSealingReproducesTheKnownAnswer() {
        byte[] ct = Sealing.aesGcm(KEY, NONCE, CanonicalJson.encode(ctx()), PLAINTEXT.getBytes(StandardCharsets.UTF_8));
        assertArrayEquals(Sealing.hex(KNOWN_CT_HEX), ct);
    }

    @Test
    void theDataKeyIsZeroedAfterUseAndAfterFailure() throws Exception {
        FixedKey keys = new FixedKey(KEY);
        new EnvelopeOpener(keys).open(envelope(Sealing.hex(KNOWN_CT_HEX), NONCE, ctx()), null, null);
        byte[] tampered = Sealing.hex(KNOWN_CT_HEX);
        tampered[0] ^= 1;
        assertThrows(RunnerException.class,
                () -> new EnvelopeOpener(keys).open(envelope(tampered, NONCE, ctx()), null, null));
        assertEquals(2, keys.handedOut.size());
        for (byte[] handed : keys.handedOut) {
            assertArrayEquals(new byte[32], handed);
        }
    }

    @Test
    void anyFlippedBitInCiphertextOrTagFails() throws Exception {
        byte[] ct = Sealing.hex(KNOWN_CT_HEX);
        for (int index : new int[] {0, 5, PLAINTEXT.length() - 1, PLAINTEXT.length(), ct.length - 1}) {
            for (int bit : new int[] {0, 7}) {
                byte[] bad = ct.clone();
                bad[index] ^= (byte) (1 << bit);
                RunnerException e = assertThrows(RunnerException.class,
                        () -> new EnvelopeOpener(new FixedKey(KEY)).open(envelope(bad, NONCE, ctx()), JOB, RUN),
                        "byte " + index + " bit " + bit);
                assertTrue(e.getMessage().contains("failed authentication"), e.getMessage());
                assertNoSecret(e);
            }
        }
    }

    @Test
    void anyFlippedBitInTheNonceFails() throws Exception {
        for (int index : new int[] {0, 6, 11}) {
            byte[] bad = NONCE.clone();
            bad[index] ^= 0x10;
            RunnerException e = assertThrows(RunnerException.class,
                    () -> new EnvelopeOpener(new FixedKey(KEY)).open(envelope(Sealing.hex(KNOWN_CT_HEX), bad, ctx()), JOB, RUN));
            assertTrue(e.getMessage().contains("failed authentication"), e.getMessage());
        }
    }

    @Test
    void aChangedContextValueFailsTheAad() throws Exception {
        // The fake key provider does not check the context: the failure is GCM's (the AAD).
        for (String[] change : new String[][] {
            {"tenant", "acme2"}, {"tenant", "Acme"}, {"job_id", "job_01J0000000000000000000000C"},
            {"run_id", "run_01J0000000000000000000000C"}, {"extra", "x"}
        }) {
            Map<String, String> moved = ctx();
            moved.put(change[0], change[1]);
            RunnerException e = assertThrows(RunnerException.class,
                    () -> new EnvelopeOpener(new FixedKey(KEY)).open(envelope(Sealing.hex(KNOWN_CT_HEX), NONCE, moved), null, null),
                    change[0]);
            assertTrue(e.getMessage().contains("failed authentication"), e.getMessage());
        }
    }

    @Test
    void aDifferentDataKeyFails() {
        byte[] other = KEY.clone();
        other[31] ^= 1;
        assertThrows(RunnerException.class,
                () -> new EnvelopeOpener(new FixedKey(other)).open(envelope(Sealing.hex(KNOWN_CT_HEX), NONCE, ctx()), JOB, RUN));
    }

    @Test
    void envelopeChecksComeBeforeKms() throws Exception {
        byte[] ct = Sealing.hex(KNOWN_CT_HEX);
        Map<String, String> wrongPurpose = ctx();
        wrongPurpose.put("purpose", "source-secrets");
        Map<String, String> noTenant = ctx();
        noTenant.remove("tenant");
        Map<String, Envelope> cases = new LinkedHashMap<>();
        cases.put("purpose", envelope(ct, NONCE, wrongPurpose));
        cases.put("tenant", envelope(ct, NONCE, noTenant));
        cases.put("version", Envelope.parse(Sealing.envelopeJson(2, Envelope.ALGORITHM, KEY_ARN, EDK, NONCE, ct, ctx())));
        cases.put("algorithm", Envelope.parse(Sealing.envelopeJson(1, "AES_128_GCM", KEY_ARN, EDK, NONCE, ct, ctx())));
        cases.put("nonce", envelope(ct, Arrays.copyOf(NONCE, 16), ctx()));
        cases.put("tag", envelope(Arrays.copyOf(ct, 15), NONCE, ctx()));
        for (Map.Entry<String, Envelope> c : cases.entrySet()) {
            FixedKey keys = new FixedKey(KEY);
            RunnerException e = assertThrows(RunnerException.class,
                    () -> new EnvelopeOpener(keys).open(c.getValue(), JOB, RUN), c.getKey());
            assertTrue(e.getMessage().contains(c.getKey()), e.getMessage());
            assertTrue(keys.handedOut.isEmpty(), "asked KMS for " + c.getKey());
        }
    }

    @Test
    void expectedJobAndRunMustMatch() throws Exception {
        Envelope envelope = envelope(Sealing.hex(KNOWN_CT_HEX), NONCE, ctx());
        FixedKey keys = new FixedKey(KEY);
        RunnerException job = assertThrows(RunnerException.class,
                () -> new EnvelopeOpener(keys).open(envelope, "job_other", RUN));
        assertTrue(job.getMessage().contains("job_other") && job.getMessage().contains(JOB), job.getMessage());
        RunnerException run = assertThrows(RunnerException.class,
                () -> new EnvelopeOpener(keys).open(envelope, JOB, "run_other"));
        assertTrue(run.getMessage().contains("run_other"), run.getMessage());
        assertTrue(keys.handedOut.isEmpty());
        // either one alone is checked too, and an absent expectation is not
        new EnvelopeOpener(keys).open(envelope, JOB, null);
        new EnvelopeOpener(keys).open(envelope, null, RUN);
    }

    @Test
    void aWrongSizedDataKeyIsRefused() {
        assertThrows(RunnerException.class,
                () -> new EnvelopeOpener(new FixedKey(new byte[16])).open(envelope(Sealing.hex(KNOWN_CT_HEX), NONCE, ctx()), null, null));
    }

    @Test
    void randomRoundTripsOpen() throws Exception {
        SecureRandom random = new SecureRandom();
        for (int i = 0; i < 20; i++) {
            byte[] key = new byte[32];
            byte[] nonce = new byte[12];
            random.nextBytes(key);
            random.nextBytes(nonce);
            byte[] plaintext = new byte[random.nextInt(2000)];
            random.nextBytes(plaintext);
            Map<String, String> ctx = ctx();
            ctx.put("tenant", "t\"\\\n/é" + i);
            byte[] ct = Sealing.aesGcm(key, nonce, CanonicalJson.encode(ctx), plaintext);
            assertArrayEquals(plaintext, new EnvelopeOpener(new FixedKey(key)).open(envelope(ct, nonce, ctx), JOB, RUN));
        }
    }

    @Test
    void envelopeShapeErrorsNameTheField() {
        String good = Sealing.envelopeJson(KEY_ARN, EDK, NONCE, Sealing.hex(KNOWN_CT_HEX), ctx());
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("not valid JSON", "{");
        cases.put("not a JSON object", "[]");
        cases.put("'v'", good.replace("\"v\":1", "\"v\":\"1\""));
        cases.put("'alg'", good.replace("\"alg\":\"AES_256_GCM\",", ""));
        cases.put("'key_id'", good.replace("\"key_id\":\"" + KEY_ARN + "\"", "\"key_id\":\"\""));
        cases.put("'nonce' is not valid base64", good.replace("\"nonce\":\"", "\"nonce\":\"!!"));
        cases.put("'ctx'", good.replace("\"ctx\":{", "\"ctx\":[{").replace("}}", "}]}"));
        cases.put("context value 'tenant'", good.replace("\"tenant\":\"acme\"", "\"tenant\":7"));
        cases.put("duplicate", good.replace("{\"v\":1,", "{\"v\":1,\"v\":1,"));
        for (Map.Entry<String, String> c : cases.entrySet()) {
            RunnerException e = assertThrows(RunnerException.class, () -> Envelope.parse(c.getValue()), c.getKey());
            assertTrue(e.getMessage().contains(c.getKey()), c.getKey() + ": " + e.getMessage());
        }
    }

    @Test
    void unknownTopLevelFieldsAreIgnored() throws Exception {
        String json = Sealing.envelopeJson(KEY_ARN, EDK, NONCE, Sealing.hex(KNOWN_CT_HEX), ctx())
                .replace("{\"v\":1,", "{\"v\":1,\"created_at\":\"2025-01-01T00:00:00Z\",");
        assertEquals(PLAINTEXT, new String(new EnvelopeOpener(new FixedKey(KEY)).open(Envelope.parse(json), JOB, RUN),
                StandardCharsets.UTF_8));
    }

    static void assertNoSecret(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage());
            assertFalse(m.contains("parallelism"), m);
            assertFalse(m.contains("0707070707"), m);
        }
    }
}
