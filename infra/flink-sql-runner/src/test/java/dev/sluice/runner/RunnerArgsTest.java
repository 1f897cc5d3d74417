package dev.sluice.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RunnerArgsTest {

    static RunnerArgs parse(boolean plaintextAllowed, String... args) throws RunnerException {
        return RunnerArgs.parse(args, plaintextAllowed);
    }

    @Test
    void sealedWithExpectations() throws Exception {
        RunnerArgs a = parse(false, "--sealed", "e30=", "--expect-job", "job_1", "--expect-run", "run_1");
        assertEquals("e30=", a.sealed());
        assertEquals("job_1", a.expectJob());
        assertEquals("run_1", a.expectRun());
        assertNull(a.scriptS3());
        assertFalse(a.toString().contains("e30="), a.toString());
    }

    @Test
    void scriptFromS3() throws Exception {
        RunnerArgs a = parse(false, "--script-s3", "s3://bucket/runs/run_1.json");
        assertEquals("s3://bucket/runs/run_1.json", a.scriptS3());
        assertEquals(new S3ScriptFetcher.S3Location("bucket", "runs/run_1.json"), S3ScriptFetcher.S3Location.parse(a.scriptS3()));
    }

    @Test
    void s3UrisMustNameBucketAndKey() {
        for (String bad : new String[] {"bucket/key", "s3://", "s3://bucket", "s3://bucket/", "s3:///key", "https://b/k"}) {
            assertThrows(RunnerException.class, () -> S3ScriptFetcher.S3Location.parse(bad), bad);
        }
    }

    @Test
    void plaintextOnlyWhenAllowed() throws Exception {
        RunnerException e = assertThrows(RunnerException.class, () -> parse(false, "--plaintext-script", "U0VMRUNUIDE="));
        assertTrue(e.getMessage().contains(RunnerArgs.ALLOW_PLAINTEXT), e.getMessage());
        assertFalse(e.getMessage().contains("U0VMRUNUIDE="), e.getMessage());
        assertEquals("U0VMRUNUIDE=", parse(true, "--plaintext-script", "U0VMRUNUIDE=").plaintextScript());
        assertThrows(RunnerException.class, () -> parse(true, "--plaintext-script", "x", "--expect-job", "job_1"));
    }

    @Test
    void exactlyOneSource() {
        assertThrows(RunnerException.class, () -> parse(true));
        assertThrows(RunnerException.class, () -> parse(true, "--expect-job", "job_1"));
        assertThrows(RunnerException.class, () -> parse(true, "--sealed", "a", "--script-s3", "s3://b/k"));
        assertThrows(RunnerException.class, () -> parse(true, "--sealed", "a", "--plaintext-script", "b"));
    }

    @Test
    void errorsNeverEchoValues() {
        String secret = "c2VjcmV0LXBhc3N3b3Jk";
        for (String[] args : new String[][] {
            {secret},
            {"--sealed", "a", secret},
            {"--sealed", secret, "--sealed", secret},
            {"--sealed"},
            {"--sealed", ""},
            {"--password=" + secret},
        }) {
            RunnerException e = assertThrows(RunnerException.class, () -> parse(false, args));
            assertFalse(e.getMessage().contains(secret), e.getMessage());
        }
        RunnerException unknown = assertThrows(RunnerException.class, () -> parse(false, "--sealed", "a", "--verbose"));
        assertTrue(unknown.getMessage().contains("unknown argument #3 (--verbose)"), unknown.getMessage());
    }
}
