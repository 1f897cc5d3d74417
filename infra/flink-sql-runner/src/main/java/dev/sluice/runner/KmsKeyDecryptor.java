package dev.sluice.runner;

import java.util.Map;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.DecryptResponse;
import software.amazon.awssdk.services.kms.model.EncryptionAlgorithmSpec;
import software.amazon.awssdk.services.kms.model.InvalidCiphertextException;
import software.amazon.awssdk.services.kms.model.KmsException;

/**
 * {@link KeyDecryptor} by KMS {@code Decrypt} with {@code CiphertextBlob} = the encrypted data
 * key, {@code KeyId} = the envelope's key id and {@code EncryptionContext} = the envelope's
 * context: KMS refuses a data key moved to another job, run, tenant or purpose.
 */
final class KmsKeyDecryptor implements KeyDecryptor {

    private final KmsClient kms;

    KmsKeyDecryptor(KmsClient kms) {
        this.kms = kms;
    }

    @Override
    public byte[] decryptDataKey(byte[] encryptedKey, String keyId, Map<String, String> context) throws RunnerException {
        DecryptResponse response;
        try {
            response = kms.decrypt(b -> b.ciphertextBlob(SdkBytes.fromByteArray(encryptedKey))
                    .keyId(keyId)
                    .encryptionContext(context)
                    .encryptionAlgorithm(EncryptionAlgorithmSpec.SYMMETRIC_DEFAULT));
        } catch (InvalidCiphertextException e) {
            throw new RunnerException("sealed script: KMS refused to decrypt the data key (InvalidCiphertextException:"
                    + " a tampered data key or an encryption context that does not match)");
        } catch (KmsException e) {
            String code = e.awsErrorDetails() != null ? e.awsErrorDetails().errorCode() : "?";
            throw new RunnerException("sealed script: KMS Decrypt of the data key failed (" + code + ", HTTP "
                    + e.statusCode() + ", request id " + e.requestId() + ")");
        } catch (SdkClientException e) {
            throw new RunnerException("sealed script: KMS Decrypt could not be called (" + e.getMessage() + ")");
        }
        SdkBytes plaintext = response.plaintext();
        if (plaintext == null) {
            throw new RunnerException("sealed script: KMS Decrypt returned no plaintext data key");
        }
        // The SDK's own array when it has one, so that zeroing it clears the key there too.
        return plaintext.asByteArrayUnsafe();
    }
}
