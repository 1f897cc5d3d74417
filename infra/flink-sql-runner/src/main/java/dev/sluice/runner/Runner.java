package dev.sluice.runner;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
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
 * <p>With no program arguments (how MSF starts an application's main class) the run comes from
 * the application's properties ({@link ApplicationProperties}, group {@link ManagedRun#GROUP}):
 * the script from S3, and, for batch jobs ({@code await=true}), the runner waits for the job's
 * end and reports it to {@code status.s3} ({@link RunStatus}), because MSF keeps the application
 * running after its job has finished and tells nobody. A run that fails before its job is
 * submitted is reported there too.
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
        if (args.length == 0) {
            runManaged(ManagedRun.from(ApplicationProperties.load(ApplicationProperties.location())));
            return;
        }
        JobID jobId = run(args);
        printJobId(jobId);
    }

    private static void printJobId(JobID jobId) {
        System.out.println(JOB_ID_PREFIX + jobId);
        System.out.flush();
    }

    static JobID run(String[] args) throws RunnerException {
        RunnerArgs parsed = RunnerArgs.parse(args, RunnerArgs.plaintextAllowedByEnvironment());
        if (parsed.plaintextScript() != null) {
            LOG.warn("sluice runner: running a plaintext script (SLUICE_RUNNER_ALLOW_PLAINTEXT=true); sealed scripts are safer");
        }
        try (AwsClients.PerRun aws = new AwsClients.PerRun()) {
            return submit(load(parsed, aws)).getJobID();
        }
    }

    /**
     * A run handed over by a managed target: submitted like {@code --script-s3}; with {@code
     * await}, followed to its end, which is written to {@code status.s3}. Returns the final
     * status ({@code null} when not awaited).
     */
    static RunStatus runManaged(ManagedRun managed) throws RunnerException {
        LOG.info("sluice runner: managed run {} of job {}", managed.expectRun(), managed.expectJob());
        try (AwsClients.PerRun aws = new AwsClients.PerRun()) {
            Submitted submitted;
            try {
                submitted = submit(load(managed.args(), aws));
            } catch (RunnerException e) {
                report(aws, managed, new RunStatus(RunStatus.FAILED, null, e.getMessage()));
                throw e;
            }
            JobID jobId = submitted.getJobID();
            printJobId(jobId);
            if (!managed.await()) {
                return null;
            }
            RunStatus status = submitted.awaitEnd();
            LOG.info("sluice runner: Flink job {} ended {}", jobId, status.state());
            report(aws, managed, status);
            return status;
        }
    }

    private static void report(AwsClients.PerRun aws, ManagedRun managed, RunStatus status) throws RunnerException {
        if (managed.statusS3() != null) {
            status.write(aws.s3(), managed.statusS3());
        }
    }

    private static String load(RunnerArgs parsed, AwsClients.PerRun aws) throws RunnerException {
        return ScriptLoader.load(
                parsed,
                () -> new KmsKeyDecryptor(aws.kms()),
                location -> new S3ScriptFetcher(aws.s3()).fetch(location));
    }

    /** A submitted job and what it takes to report its end without script values. */
    record Submitted(JobClient client, Redactor redactor) {
        JobID getJobID() {
            return client.getJobID();
        }

        /** Waits for the job's end: finished, canceled, or failed with its redacted root cause. */
        RunStatus awaitEnd() {
            String id = client.getJobID().toString();
            try {
                client.getJobExecutionResult().get();
                return new RunStatus(RunStatus.FINISHED, id, null);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new RunStatus(RunStatus.FAILED, id, "the runner was interrupted while waiting for the job");
            } catch (ExecutionException e) {
                if (finalStatus() == JobStatus.CANCELED) {
                    return new RunStatus(RunStatus.CANCELED, id, null);
                }
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                return new RunStatus(RunStatus.FAILED, id, redactor.rootMessage(cause));
            }
        }

        private JobStatus finalStatus() {
            try {
                return client.getJobStatus().get(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            } catch (ExecutionException | TimeoutException e) {
                return null;
            }
        }
    }

    private static Submitted submit(String script) throws RunnerException {
        ScriptPolicy.Plan plan = ScriptPolicy.check(script);
        LOG.info("sluice runner: script admitted ({} settings, {} DDL, {} INSERT, {} mode)",
                plan.settings().size(),
                plan.statements().stream().filter(c -> c.kind() == ScriptPolicy.Kind.DDL).count(),
                plan.statements().stream().filter(c -> c.kind() == ScriptPolicy.Kind.INSERT).count(),
                plan.runtimeMode());
        Redactor redactor = new Redactor(script);
        JobClient client = FlinkSubmitter.submitForClient(plan, redactor);
        LOG.info("sluice runner: submitted Flink job {}", client.getJobID());
        return new Submitted(client, redactor);
    }
}
