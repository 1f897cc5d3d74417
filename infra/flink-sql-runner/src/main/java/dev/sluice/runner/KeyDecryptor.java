package dev.sluice.runner;

import java.util.Map;

/** Unwraps an envelope's data key: KMS in production ({@link KmsKeyDecryptor}), fakes in tests. */
public interface KeyDecryptor {

    /**
     * Decrypts {@code encryptedKey} with the wrapping key {@code keyId}, bound to the encryption
     * context {@code context}. Returns the plaintext data key in a fresh array that the caller
     * zeroes; fails with a message that names the failure and carries no key material.
     */
    byte[] decryptDataKey(byte[] encryptedKey, String keyId, Map<String, String> context) throws RunnerException;
}
