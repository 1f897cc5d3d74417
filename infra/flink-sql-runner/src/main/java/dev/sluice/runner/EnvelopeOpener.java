package dev.sluice.runner;

import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Objects;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Opens a sealed script: checks the envelope (version, algorithm, purpose, the job and run it is
 * bound to), has the data key unwrapped by a {@link KeyDecryptor} with the envelope's context, and
 * decrypts AES-256-GCM (128-bit tag) with the canonical context as associated data. The plaintext
 * data key is zeroed as soon as the cipher is initialised, also on failure.
 */
public final class EnvelopeOpener {

    static final int NONCE_BYTES = 12;
    static final int TAG_BYTES = 16;
    static final int KEY_BYTES = 32;

    private final KeyDecryptor keys;

    public EnvelopeOpener(KeyDecryptor keys) {
        this.keys = Objects.requireNonNull(keys);
    }

    /**
     * The plaintext of {@code envelope} (the caller zeroes it once read). {@code expectedJob} and
     * {@code expectedRun}, when not null, must equal the envelope's context {@code job_id} and
     * {@code run_id}.
     */
    public byte[] open(Envelope envelope, String expectedJob, String expectedRun) throws RunnerException {
        check(envelope, expectedJob, expectedRun);
        byte[] key = keys.decryptDataKey(envelope.encryptedDataKey(), envelope.keyId(), envelope.context());
        try {
            if (key == null || key.length != KEY_BYTES) {
                throw new RunnerException("sealed script: the key provider returned a data key of the wrong size");
            }
            return decrypt(key, envelope.nonce(), envelope.ciphertext(), CanonicalJson.encode(envelope.context()));
        } finally {
            if (key != null) {
                Arrays.fill(key, (byte) 0);
            }
        }
    }

    /** The checks that need no key: done before KMS is asked for anything. */
    static void check(Envelope envelope, String expectedJob, String expectedRun) throws RunnerException {
        if (envelope.version() != 1) {
            throw new RunnerException("sealed script: unsupported envelope version " + envelope.version() + " (expected 1)");
        }
        if (!Envelope.ALGORITHM.equals(envelope.algorithm())) {
            throw new RunnerException("sealed script: unsupported algorithm '" + printable(envelope.algorithm())
                    + "' (expected " + Envelope.ALGORITHM + ")");
        }
        for (String key : Envelope.REQUIRED_CONTEXT) {
            String value = envelope.context().get(key);
            if (value == null || value.isEmpty()) {
                throw new RunnerException("sealed script: the envelope context has no '" + key + "'");
            }
        }
        String purpose = envelope.context().get("purpose");
        if (!Envelope.PURPOSE.equals(purpose)) {
            throw new RunnerException("sealed script: the envelope's purpose is '" + printable(purpose)
                    + "', expected '" + Envelope.PURPOSE + "'");
        }
        if (expectedJob != null && !expectedJob.equals(envelope.context().get("job_id"))) {
            throw new RunnerException("sealed script: the envelope is bound to job '"
                    + printable(envelope.context().get("job_id")) + "', not to the expected job '" + printable(expectedJob) + "'");
        }
        if (expectedRun != null && !expectedRun.equals(envelope.context().get("run_id"))) {
            throw new RunnerException("sealed script: the envelope is bound to run '"
                    + printable(envelope.context().get("run_id")) + "', not to the expected run '" + printable(expectedRun) + "'");
        }
        if (envelope.nonce().length != NONCE_BYTES) {
            throw new RunnerException("sealed script: the nonce is " + envelope.nonce().length + " bytes, expected " + NONCE_BYTES);
        }
        if (envelope.ciphertext().length < TAG_BYTES) {
            throw new RunnerException("sealed script: the ciphertext is shorter than the GCM tag");
        }
        if (envelope.encryptedDataKey().length == 0) {
            throw new RunnerException("sealed script: the encrypted data key is empty");
        }
    }

    /** AES-256-GCM decryption, 128-bit tag, {@code aad} as associated data. */
    static byte[] decrypt(byte[] key, byte[] nonce, byte[] ciphertext, byte[] aad) throws RunnerException {
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_BYTES * 8, nonce));
            cipher.updateAAD(aad);
            return cipher.doFinal(ciphertext);
        } catch (AEADBadTagException e) {
            throw new RunnerException("sealed script: the ciphertext failed authentication (tampered ciphertext or"
                    + " nonce, a different encryption context, or a different data key)");
        } catch (GeneralSecurityException e) {
            throw new RunnerException("sealed script: AES-GCM decryption failed (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** Ids and names from the envelope, shortened and without control characters, for messages. */
    static String printable(String value) {
        if (value == null) {
            return "";
        }
        String s = value.codePoints()
                .map(c -> Character.isISOControl(c) ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
                .toString();
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }
}
