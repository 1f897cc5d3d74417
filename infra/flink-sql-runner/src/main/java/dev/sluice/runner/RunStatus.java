package dev.sluice.runner;

import java.util.Map;
import java.util.TreeMap;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * How a run ended, as the runner reports it to sluice's reconciler for managed targets (MSF keeps
 * an application running after its batch job has finished, and has no API that tells the job's
 * state): {@code {"v":1,"failure":...,"flink_job_id":...,"state":"FINISHED|FAILED|CANCELED"}} at
 * {@code status.s3}. Failures are the redacted root cause ({@link Redactor#rootMessage}) or the
 * runner's own message, never script values.
 */
record RunStatus(String state, String flinkJobId, String failure) {

    static final String FINISHED = "FINISHED";
    static final String FAILED = "FAILED";
    static final String CANCELED = "CANCELED";

    String json() {
        Map<String, String> fields = new TreeMap<>();
        fields.put("state", state);
        if (flinkJobId != null) {
            fields.put("flink_job_id", flinkJobId);
        }
        if (failure != null) {
            fields.put("failure", failure.length() > 1000 ? failure.substring(0, 997) + "..." : failure);
        }
        return "{\"v\":1," + CanonicalJson.encodeToString(fields).substring(1);
    }

    void write(S3Client s3, String location) throws RunnerException {
        S3ScriptFetcher.S3Location at = S3ScriptFetcher.S3Location.parse(location);
        try {
            s3.putObject(b -> b.bucket(at.bucket()).key(at.key()).contentType("application/json"),
                    RequestBody.fromString(json()));
        } catch (SdkException e) {
            throw new RunnerException("reporting the run's end to " + at + " failed: " + e.getClass().getSimpleName()
                    + ": " + e.getMessage());
        }
    }
}
