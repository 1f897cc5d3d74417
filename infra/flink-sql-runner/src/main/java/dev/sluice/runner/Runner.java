package dev.sluice.runner;

import org.apache.flink.api.common.JobID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The main class of the runner jar: opens a sealed Flink SQL script and submits it as one Flink
 * job. On a session cluster it runs inside the JobManager ({@code POST /jars/{id}/run} with {@code
 * programArgsList}); on Managed Service for Apache Flink as the application's main.
 *
 * <pre>
 *   --sealed &lt;base64 of the envelope JSON&gt;   | --script-s3 s3://bucket/key
 *   | --plaintext-script &lt;base64 of the SQL&gt;  (only with SLUICE_RUNNER_ALLOW_PLAINTEXT=true)
 *   [--expect-job &lt;job_id&gt;] [--expect-run &lt;run_id&gt;]
 * </pre>
 *
 * <ol>
 *   <li>{@link RunnerArgs}: the arguments;
 *   <li>{@link ScriptLoader}: the envelope JSON from the argument or from S3, opened by {@link
 *       EnvelopeOpener} with KMS ({@link KmsKeyDecryptor});
 *   <li>{@link ScriptPolicy}: the whole script is checked (statement kinds, SET allow-list) before
 *       anything runs;
 *   <li>{@link FlinkSubmitter}: DDL, then all INSERTs as one statement set, one job;
 *   <li>prints {@code sluice-job-id: <id>} and returns right after the submission.
 * </ol>
 *
 * <p>Failures are {@link RunnerException}s that name what failed. Neither they nor the log carry
 * the script, its values, the argument values or key material. The runner never calls {@code
 * System.exit} (it runs inside the JobManager).
 */
public final class Runner {

    private static final Logger LOG = LoggerFactory.getLogger(Runner.class);

    /** The line the runner prints on stdout once the job is submitted. */
    public static final String JOB_ID_PREFIX = "sluice-job-id: ";

    private Runner() {}

    public static void main(String[] args) throws RunnerException {
        JobID jobId = run(args);
        System.out.println(JOB_ID_PREFIX + jobId);
        System.out.flush();
    }

    static JobID run(String[] args) throws RunnerException {
        RunnerArgs parsed = RunnerArgs.parse(args, RunnerArgs.plaintextAllowedByEnvironment());
        if (parsed.plaintextScript() != null) {
            LOG.warn("sluice runner: running a plaintext script (SLUICE_RUNNER_ALLOW_PLAINTEXT=true); sealed scripts are safer");
        }
        String script;
        try (AwsClients.PerRun aws = new AwsClients.PerRun()) {
            script = ScriptLoader.load(
                    parsed,
                    () -> new KmsKeyDecryptor(aws.kms()),
                    location -> new S3ScriptFetcher(aws.s3()).fetch(location));
        }
        ScriptPolicy.Plan plan = ScriptPolicy.check(script);
        LOG.info("sluice runner: script admitted ({} settings, {} DDL, {} INSERT, {} mode)",
                plan.settings().size(),
                plan.statements().stream().filter(c -> c.kind() == ScriptPolicy.Kind.DDL).count(),
                plan.statements().stream().filter(c -> c.kind() == ScriptPolicy.Kind.INSERT).count(),
                plan.runtimeMode());
        JobID jobId = FlinkSubmitter.submit(plan, new Redactor(script));
        LOG.info("sluice runner: submitted Flink job {}", jobId);
        return jobId;
    }
}
