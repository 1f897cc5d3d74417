package dev.sluice.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScriptLoaderTest {

    static final String ENVELOPE = Sealing.envelopeJson(EnvelopeOpenerTest.KEY_ARN, EnvelopeOpenerTest.EDK,
            EnvelopeOpenerTest.NONCE, Sealing.hex(EnvelopeOpenerTest.KNOWN_CT_HEX), EnvelopeOpenerTest.ctx());

    static final ScriptLoader.Objects NO_S3 = location -> {
        throw new AssertionError("S3 used");
    };
    static final ScriptLoader.Keys NO_KMS = () -> {
        throw new AssertionError("KMS used");
    };

    static ScriptLoader.Keys fixedKey() {
        return () -> new EnvelopeOpenerTest.FixedKey(EnvelopeOpenerTest.KEY);
    }

    @Test
    void opensAnInlineSealedScript() throws Exception {
        RunnerArgs args = RunnerArgs.parse(new String[] {"--sealed", Sealing.base64(ENVELOPE),
            "--expect-job", EnvelopeOpenerTest.JOB, "--expect-run", EnvelopeOpenerTest.RUN}, false);
        assertEquals(EnvelopeOpenerTest.PLAINTEXT, ScriptLoader.load(args, fixedKey(), NO_S3));
    }

    @Test
    void opensAScriptFromS3() throws Exception {
        List<String> fetched = new ArrayList<>();
        RunnerArgs args = RunnerArgs.parse(new String[] {"--script-s3", "s3://scripts/runs/run_1.json"}, false);
        String script = ScriptLoader.load(args, fixedKey(), location -> {
            fetched.add(location.toString());
            return ENVELOPE;
        });
        assertEquals(EnvelopeOpenerTest.PLAINTEXT, script);
        assertEquals(List.of("s3://scripts/runs/run_1.json"), fetched);
    }

    @Test
    void aWrongExpectationNeverReachesKms() throws Exception {
        RunnerArgs args = RunnerArgs.parse(new String[] {"--sealed", Sealing.base64(ENVELOPE), "--expect-run", "run_x"}, false);
        RunnerException e = assertThrows(RunnerException.class, () -> ScriptLoader.load(args, NO_KMS, NO_S3));
        assertTrue(e.getMessage().contains("run_x"), e.getMessage());
    }

    @Test
    void plaintextScriptsNeedNoAws() throws Exception {
        RunnerArgs args = RunnerArgs.parse(new String[] {"--plaintext-script", Sealing.base64("INSERT INTO t SELECT 'é'")}, true);
        assertEquals("INSERT INTO t SELECT 'é'", ScriptLoader.load(args, NO_KMS, NO_S3));
    }

    @Test
    void badInputsAreNamed() throws Exception {
        RunnerException notBase64 = assertThrows(RunnerException.class, () -> ScriptLoader.load(
                RunnerArgs.parse(new String[] {"--sealed", "***"}, false), NO_KMS, NO_S3));
        assertEquals("--sealed is not valid base64", notBase64.getMessage());
        RunnerException notJson = assertThrows(RunnerException.class, () -> ScriptLoader.load(
                RunnerArgs.parse(new String[] {"--sealed", Sealing.base64("secret-ish not json")}, false), NO_KMS, NO_S3));
        assertTrue(notJson.getMessage().startsWith("sealed script: the envelope is not valid JSON"), notJson.getMessage());
        assertFalse(notJson.getMessage().contains("secret-ish"), notJson.getMessage());
        RunnerException notUtf8 = assertThrows(RunnerException.class, () -> ScriptLoader.load(
                RunnerArgs.parse(new String[] {"--plaintext-script", "/w=="}, true), NO_KMS, NO_S3));
        assertEquals("--plaintext-script is not valid UTF-8", notUtf8.getMessage());
    }
}
