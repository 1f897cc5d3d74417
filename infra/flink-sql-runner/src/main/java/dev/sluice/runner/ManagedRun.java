package dev.sluice.runner;

import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A run as a managed target hands it over: the property group {@value #GROUP} of the
 * application's properties ({@link ApplicationProperties}), written by sluice's MSF adapter
 * ({@code shared/aws/src/msf.rs}):
 *
 * <pre>
 *   script.s3   s3://bucket/.../script.json   the sealed script (envelope JSON)
 *   expect.job  job_...                       the job the envelope must be bound to
 *   expect.run  run_...                       the run the envelope must be bound to
 *   status.s3   s3://bucket/.../status.json   where the run's end is reported (optional)
 *   await       true | false                  wait for the job's end (batch jobs)
 * </pre>
 *
 * <p>Unknown keys are refused, like unknown program arguments.
 */
record ManagedRun(String scriptS3, String expectJob, String expectRun, String statusS3, boolean await) {

    static final String GROUP = "sluice";
    private static final Set<String> KEYS = Set.of("script.s3", "expect.job", "expect.run", "status.s3", "await");

    static ManagedRun from(Map<String, Map<String, String>> groups) throws RunnerException {
        Map<String, String> group = groups.get(GROUP);
        if (group == null) {
            throw new RunnerException("the application properties have no property group '" + GROUP + "'");
        }
        for (String key : group.keySet()) {
            if (!KEYS.contains(key)) {
                throw new RunnerException("the property group '" + GROUP + "' has an unknown key"
                        + (key.length() < 40 && key.matches("[a-z0-9.\\-]+") ? " (" + key + ")" : ""));
            }
        }
        String script = required(group, "script.s3");
        String await = group.getOrDefault("await", "false").trim().toLowerCase(Locale.ROOT);
        if (!await.equals("true") && !await.equals("false")) {
            throw new RunnerException("the property 'await' must be true or false");
        }
        String status = group.get("status.s3");
        if (status != null) {
            S3ScriptFetcher.S3Location.parse(status); // a bad location fails before anything runs
        }
        if (await.equals("true") && status == null) {
            throw new RunnerException("'await' needs 'status.s3': the end of the job is reported there");
        }
        return new ManagedRun(script, required(group, "expect.job"), required(group, "expect.run"), status,
                await.equals("true"));
    }

    private static String required(Map<String, String> group, String key) throws RunnerException {
        String value = group.get(key);
        if (value == null || value.isBlank()) {
            throw new RunnerException("the property group '" + GROUP + "' needs '" + key + "'");
        }
        return value.trim();
    }

    /** The arguments the same run would have on the command line. */
    RunnerArgs args() {
        return new RunnerArgs(null, scriptS3, null, expectJob, expectRun);
    }
}
