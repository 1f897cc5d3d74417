package dev.sluice.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApplicationPropertiesTest {

    /** As MSF writes /etc/flink/application_properties.json for an application of the MSF adapter. */
    static final String MSF_FILE = """
            [
              {"PropertyGroupId": "kinesis.analytics.flink.run.options", "PropertyMap": {"python": "x.py"}},
              {"PropertyGroupId": "sluice", "PropertyMap": {
                "script.s3": "s3://sluice-scripts/sluice/runs/job_1/run_1/script.json",
                "status.s3": "s3://sluice-scripts/sluice/runs/job_1/run_1/status.json",
                "expect.job": "job_1", "expect.run": "run_1", "await": "true"}}
            ]""";

    @Test
    void readsMsfsPropertyFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("application_properties.json");
        Files.writeString(file, MSF_FILE);
        Map<String, Map<String, String>> groups = ApplicationProperties.load(file);
        assertEquals(2, groups.size());
        assertEquals("x.py", groups.get("kinesis.analytics.flink.run.options").get("python"));
        ManagedRun run = ManagedRun.from(groups);
        assertEquals("s3://sluice-scripts/sluice/runs/job_1/run_1/script.json", run.scriptS3());
        assertEquals("s3://sluice-scripts/sluice/runs/job_1/run_1/status.json", run.statusS3());
        assertEquals("job_1", run.expectJob());
        assertEquals("run_1", run.expectRun());
        assertTrue(run.await());
        RunnerArgs args = run.args();
        assertEquals(run.scriptS3(), args.scriptS3());
        assertNull(args.sealed());
        assertNull(args.plaintextScript());
        assertEquals("run_1", args.expectRun());
    }

    @Test
    void theMsfPathIsTheDefaultAndCanBeOverridden(@TempDir Path dir) {
        assertEquals(Path.of("/etc/flink/application_properties.json"), ApplicationProperties.location());
        System.setProperty(ApplicationProperties.PATH_PROPERTY, dir.resolve("p.json").toString());
        try {
            assertEquals(dir.resolve("p.json"), ApplicationProperties.location());
        } finally {
            System.clearProperty(ApplicationProperties.PATH_PROPERTY);
        }
    }

    @Test
    void aMissingFileSaysWhatWasExpected(@TempDir Path dir) {
        RunnerException e = assertThrows(RunnerException.class, () -> ApplicationProperties.load(dir.resolve("none.json")));
        assertTrue(e.getMessage().contains("no program arguments"), e.getMessage());
        assertTrue(e.getMessage().contains(ApplicationProperties.PATH_ENV), e.getMessage());
    }

    @Test
    void malformedFilesAreRefused() {
        for (String bad : new String[] {
            "{", "{}", "[1]", "[{\"PropertyMap\": {}}]", "[{\"PropertyGroupId\": \"g\"}]",
            "[{\"PropertyGroupId\": \"g\", \"PropertyMap\": {\"k\": 1}}]",
            "[{\"PropertyGroupId\": \"g\", \"PropertyMap\": {}}, {\"PropertyGroupId\": \"g\", \"PropertyMap\": {}}]",
        }) {
            assertThrows(RunnerException.class, () -> ApplicationProperties.parse(bad, "test"), bad);
        }
    }

    static Map<String, Map<String, String>> group(Map<String, String> properties) {
        return Map.of("sluice", properties);
    }

    @Test
    void theSluiceGroupIsChecked() throws Exception {
        Map<String, String> streaming = Map.of("script.s3", "s3://b/k.json", "expect.job", "job_1", "expect.run", "run_1");
        ManagedRun run = ManagedRun.from(group(streaming));
        assertFalse(run.await());
        assertNull(run.statusS3());

        assertThrows(RunnerException.class, () -> ManagedRun.from(Map.of()));
        assertThrows(RunnerException.class, () -> ManagedRun.from(group(Map.of("expect.job", "j", "expect.run", "r"))));
        assertThrows(RunnerException.class, () -> ManagedRun.from(group(Map.of("script.s3", "s3://b/k", "expect.run", "r"))));
        // Waiting makes sense only with somewhere to report to.
        RunnerException noStatus = assertThrows(RunnerException.class, () -> ManagedRun.from(group(Map.of(
                "script.s3", "s3://b/k", "expect.job", "j", "expect.run", "r", "await", "true"))));
        assertTrue(noStatus.getMessage().contains("status.s3"), noStatus.getMessage());
        assertThrows(RunnerException.class, () -> ManagedRun.from(group(Map.of(
                "script.s3", "s3://b/k", "expect.job", "j", "expect.run", "r", "await", "yes"))));
        assertThrows(RunnerException.class, () -> ManagedRun.from(group(Map.of(
                "script.s3", "s3://b/k", "expect.job", "j", "expect.run", "r", "status.s3", "/tmp/status.json"))));
        // Unknown keys are refused (a plaintext script cannot be slipped in this way).
        RunnerException unknown = assertThrows(RunnerException.class, () -> ManagedRun.from(group(Map.of(
                "script.s3", "s3://b/k", "expect.job", "j", "expect.run", "r", "plaintext-script", "U0VMRUNUIDE="))));
        assertTrue(unknown.getMessage().contains("plaintext-script"), unknown.getMessage());
        assertFalse(unknown.getMessage().contains("U0VMRUNUIDE="), unknown.getMessage());
    }

    @Test
    void statusObjectsAreWhatTheReconcilerReads() {
        assertEquals("{\"v\":1,\"flink_job_id\":\"a1b2\",\"state\":\"FINISHED\"}",
                new RunStatus(RunStatus.FINISHED, "a1b2", null).json());
        assertEquals("{\"v\":1,\"failure\":\"SQLException: \\\"x\\\"\\nnext\",\"state\":\"FAILED\"}",
                new RunStatus(RunStatus.FAILED, null, "SQLException: \"x\"\nnext").json());
        String longFailure = "x".repeat(5000);
        assertTrue(new RunStatus(RunStatus.FAILED, null, longFailure).json().length() < 1100);
    }
}
