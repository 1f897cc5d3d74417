package dev.sluice.runner;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/** Test helper: seals like the Rust trigger does, and writes the envelope JSON. */
final class Sealing {

    private Sealing() {}

    static byte[] aesGcm(byte[] key, byte[] nonce, byte[] aad, byte[] plaintext) {
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
            cipher.updateAAD(aad);
            return cipher.doFinal(plaintext);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static String envelopeJson(String keyId, byte[] edk, byte[] nonce, byte[] ct, Map<String, String> ctx) {
        return envelopeJson(1, Envelope.ALGORITHM, keyId, edk, nonce, ct, ctx);
    }

    static String envelopeJson(long v, String alg, String keyId, byte[] edk, byte[] nonce, byte[] ct, Map<String, String> ctx) {
        Base64.Encoder b64 = Base64.getEncoder();
        return "{\"v\":" + v
                + ",\"alg\":\"" + alg + "\""
                + ",\"key_id\":\"" + keyId + "\""
                + ",\"edk\":\"" + b64.encodeToString(edk) + "\""
                + ",\"nonce\":\"" + b64.encodeToString(nonce) + "\""
                + ",\"ct\":\"" + b64.encodeToString(ct) + "\""
                + ",\"ctx\":" + CanonicalJson.encodeToString(ctx) + "}";
    }

    static String base64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] hex(String hex) {
        byte[] out = new byte[hex.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }

    static byte[] filled(int length, int value) {
        byte[] out = new byte[length];
        java.util.Arrays.fill(out, (byte) value);
        return out;
    }
}
