package dev.sluice.runner;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/** Turns the program arguments into the script text: decode, fetch, open. */
final class ScriptLoader {

    /** Supplies the KMS side lazily: plaintext scripts never create an AWS client. */
    interface Keys {
        KeyDecryptor get() throws RunnerException;
    }

    /** Supplies the S3 side lazily. */
    interface Objects {
        String fetch(S3ScriptFetcher.S3Location location) throws RunnerException;
    }

    static final int MAX_SCRIPT_BYTES = 2 * 1024 * 1024;

    private ScriptLoader() {}

    static String load(RunnerArgs args, Keys keys, Objects objects) throws RunnerException {
        if (args.plaintextScript() != null) {
            byte[] sql = decodeBase64(args.plaintextScript(), "--plaintext-script");
            try {
                return utf8(sql, "--plaintext-script");
            } finally {
                Arrays.fill(sql, (byte) 0);
            }
        }
        String envelopeJson;
        if (args.sealed() != null) {
            byte[] json = decodeBase64(args.sealed(), "--sealed");
            envelopeJson = utf8(json, "--sealed");
        } else {
            envelopeJson = objects.fetch(S3ScriptFetcher.S3Location.parse(args.scriptS3()));
        }
        Envelope envelope = Envelope.parse(envelopeJson);
        // Checks that need no key first: a wrong envelope never reaches KMS.
        EnvelopeOpener.check(envelope, args.expectJob(), args.expectRun());
        byte[] plaintext = new EnvelopeOpener(keys.get()).open(envelope, args.expectJob(), args.expectRun());
        try {
            return utf8(plaintext, "the opened script");
        } finally {
            Arrays.fill(plaintext, (byte) 0);
        }
    }

    private static byte[] decodeBase64(String value, String what) throws RunnerException {
        if (value.length() > MAX_SCRIPT_BYTES * 2) {
            throw new RunnerException(what + " is too large");
        }
        try {
            return Base64.getDecoder().decode(value.strip());
        } catch (IllegalArgumentException e) {
            throw new RunnerException(what + " is not valid base64");
        }
    }

    /** Strict UTF-8 (malformed input is an error, not replaced). */
    static String utf8(byte[] bytes, String what) throws RunnerException {
        if (bytes.length > MAX_SCRIPT_BYTES) {
            throw new RunnerException(what + " is larger than " + MAX_SCRIPT_BYTES + " bytes");
        }
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes));
            String s = chars.toString();
            Arrays.fill(chars.array(), '\0');
            return s;
        } catch (CharacterCodingException e) {
            throw new RunnerException(what + " is not valid UTF-8");
        }
    }
}
