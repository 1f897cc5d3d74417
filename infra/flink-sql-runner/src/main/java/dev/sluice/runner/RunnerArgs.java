package dev.sluice.runner;

import java.util.HashSet;
import java.util.Set;

/**
 * The runner's program arguments (values are never echoed in errors: they may be secrets):
 *
 * <pre>
 *   --sealed &lt;base64 of the envelope JSON&gt;        the sealed script inline, or
 *   --script-s3 s3://bucket/key                   the envelope JSON as an S3 object, or
 *   --plaintext-script &lt;base64 of the SQL&gt;        only with SLUICE_RUNNER_ALLOW_PLAINTEXT=true
 *   [--expect-job &lt;job_id&gt;] [--expect-run &lt;run_id&gt;]
 * </pre>
 */
record RunnerArgs(String sealed, String scriptS3, String plaintextScript, String expectJob, String expectRun) {

    static final String ALLOW_PLAINTEXT = "SLUICE_RUNNER_ALLOW_PLAINTEXT";

    static final String USAGE = "usage: --sealed <base64 envelope JSON> | --script-s3 s3://bucket/key"
            + " | --plaintext-script <base64 SQL> (needs " + ALLOW_PLAINTEXT + "=true),"
            + " optionally --expect-job <job_id> --expect-run <run_id>";

    static RunnerArgs parse(String[] args, boolean plaintextAllowed) throws RunnerException {
        String sealed = null, scriptS3 = null, plaintext = null, expectJob = null, expectRun = null;
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < args.length; i++) {
            String option = args[i];
            switch (option) {
                case "--sealed", "--script-s3", "--plaintext-script", "--expect-job", "--expect-run" -> {}
                default -> throw new RunnerException("unknown argument #" + (i + 1)
                        + (option.startsWith("--") && option.length() < 40 && option.matches("--[a-z0-9-]+")
                                ? " (" + option + ")" : "")
                        + "; " + USAGE);
            }
            if (!seen.add(option)) {
                throw new RunnerException(option + " is given more than once; " + USAGE);
            }
            if (i + 1 >= args.length || args[i + 1].isEmpty()) {
                throw new RunnerException(option + " needs a value; " + USAGE);
            }
            String value = args[++i];
            switch (option) {
                case "--sealed" -> sealed = value;
                case "--script-s3" -> scriptS3 = value;
                case "--plaintext-script" -> plaintext = value;
                case "--expect-job" -> expectJob = value;
                default -> expectRun = value;
            }
        }
        int sources = (sealed != null ? 1 : 0) + (scriptS3 != null ? 1 : 0) + (plaintext != null ? 1 : 0);
        if (sources != 1) {
            throw new RunnerException("exactly one of --sealed, --script-s3 and --plaintext-script is needed; " + USAGE);
        }
        if (plaintext != null && !plaintextAllowed) {
            throw new RunnerException("--plaintext-script is refused: it is allowed only when the system property"
                    + " or environment variable " + ALLOW_PLAINTEXT + "=true is set on the cluster"
                    + " (plaintext transport is weaker: use --sealed or --script-s3)");
        }
        if (plaintext != null && (expectJob != null || expectRun != null)) {
            throw new RunnerException("--expect-job and --expect-run apply to sealed scripts only");
        }
        return new RunnerArgs(sealed, scriptS3, plaintext, expectJob, expectRun);
    }

    /** {@code SLUICE_RUNNER_ALLOW_PLAINTEXT=true} as a system property or environment variable. */
    static boolean plaintextAllowedByEnvironment() {
        return "true".equalsIgnoreCase(trim(System.getProperty(ALLOW_PLAINTEXT)))
                || "true".equalsIgnoreCase(trim(System.getenv(ALLOW_PLAINTEXT)));
    }

    private static String trim(String s) {
        return s == null ? null : s.trim();
    }

    /** Never prints the values. */
    @Override
    public String toString() {
        return "RunnerArgs[source=" + (sealed != null ? "sealed" : scriptS3 != null ? "s3" : "plaintext")
                + ", expectJob=" + (expectJob != null) + ", expectRun=" + (expectRun != null) + "]";
    }
}
