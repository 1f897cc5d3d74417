package dev.sluice.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.DataKeySpec;
import software.amazon.awssdk.services.kms.model.GenerateDataKeyResponse;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The real KMS and S3 path against moto (the local stack): skipped unless {@code SLUICE_IT_KMS=1}.
 * Needs {@code AWS_ENDPOINT_URL} (moto), dummy credentials and {@code AWS_REGION} in the
 * environment, as {@code infra/local/env.sh} exports them:
 *
 * <pre>
 *   source infra/local/env.sh   # and moto running on $MOTO_PORT
 *   SLUICE_IT_KMS=1 mvn -f infra/flink-sql-runner/pom.xml test -Dtest=KmsMotoIntegrationTest
 * </pre>
 *
 * <p>The clients are built exactly as the runner builds them ({@link AwsClients}: no endpoint in
 * the code), so passing also shows that the SDK picks up {@code AWS_ENDPOINT_URL} by itself.
 */
@EnabledIfEnvironmentVariable(named = "SLUICE_IT_KMS", matches = "1")
class KmsMotoIntegrationTest {

    static final String SCRIPT = "SET 'parallelism.default' = '1';\n"
            + "CREATE TEMPORARY TABLE t (x INT) WITH ('connector' = 'jdbc', 'password' = 'canary-it-7f3a');\n"
            + "INSERT INTO t SELECT 1;\n";

    static KmsClient kms;
    static S3Client s3;
    static String keyArn;

    @BeforeAll
    static void clients() throws RunnerException {
        kms = AwsClients.kms();
        s3 = AwsClients.s3();
        keyArn = kms.createKey(b -> b.description("sluice runner integration test")).keyMetadata().arn();
    }

    @AfterAll
    static void close() {
        if (kms != null) {
            kms.close();
        }
        if (s3 != null) {
            s3.close();
        }
    }

    static Map<String, String> ctx(String run) {
        return Map.of("job_id", "job_01J0000000000000000000000A", "purpose", "flink-script", "run_id", run, "tenant", "acme");
    }

    /** Seals like the trigger: GenerateDataKey with the context, AES-256-GCM with a fresh nonce. */
    static String seal(Map<String, String> ctx, String plaintext) {
        GenerateDataKeyResponse dataKey = kms.generateDataKey(b -> b.keyId(keyArn).keySpec(DataKeySpec.AES_256).encryptionContext(ctx));
        byte[] key = dataKey.plaintext().asByteArray();
        byte[] nonce = new byte[12];
        new SecureRandom().nextBytes(nonce);
        byte[] ct = Sealing.aesGcm(key, nonce, CanonicalJson.encode(ctx), plaintext.getBytes(StandardCharsets.UTF_8));
        Arrays.fill(key, (byte) 0);
        return Sealing.envelopeJson(dataKey.keyId(), dataKey.ciphertextBlob().asByteArray(), nonce, ct, ctx);
    }

    static String load(String... args) throws RunnerException {
        return ScriptLoader.load(RunnerArgs.parse(args, false),
                () -> new KmsKeyDecryptor(kms), location -> new S3ScriptFetcher(s3).fetch(location));
    }

    @Test
    void opensAnInlineEnvelopeThroughKms() throws Exception {
        String envelope = seal(ctx("run_01J0000000000000000000000B"), SCRIPT);
        assertTrue(envelope.contains("\"key_id\":\"arn:aws:kms:"), "key_id is the key ARN");
        assertEquals(SCRIPT, load("--sealed", Sealing.base64(envelope),
                "--expect-job", "job_01J0000000000000000000000A", "--expect-run", "run_01J0000000000000000000000B"));
    }

    @Test
    void opensAnEnvelopeFromS3() throws Exception {
        String bucket = "sluice-runner-it-" + Long.toHexString(System.nanoTime());
        s3.createBucket(b -> b.bucket(bucket));
        String key = "runs/run_01J0000000000000000000000C.json";
        s3.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromString(seal(ctx("run_01J0000000000000000000000C"), SCRIPT)));
        assertEquals(SCRIPT, load("--script-s3", "s3://" + bucket + "/" + key, "--expect-run", "run_01J0000000000000000000000C"));
        RunnerException missing = assertThrows(RunnerException.class, () -> load("--script-s3", "s3://" + bucket + "/nope.json"));
        assertTrue(missing.getMessage().contains("NoSuchKey"), missing.getMessage());
    }

    @Test
    void kmsRefusesAMovedEnvelope() throws Exception {
        String envelope = seal(ctx("run_01J0000000000000000000000D"), SCRIPT);
        String moved = envelope.replace("run_01J0000000000000000000000D", "run_01J0000000000000000000000E");
        RunnerException e = assertThrows(RunnerException.class, () -> load("--sealed", Sealing.base64(moved)));
        assertTrue(e.getMessage().contains("KMS"), e.getMessage());
        assertTrue(!e.getMessage().contains("canary"), e.getMessage());
    }

    @Test
    void theRunnerPathBuildsItsOwnClients() throws Exception {
        // Runner.run's loader, with the clients it creates itself (AwsClients), up to the policy.
        String envelope = seal(ctx("run_01J0000000000000000000000F"), SCRIPT);
        String script;
        try (AwsClients.PerRun aws = new AwsClients.PerRun()) {
            script = ScriptLoader.load(RunnerArgs.parse(new String[] {"--sealed", Sealing.base64(envelope)}, false),
                    () -> new KmsKeyDecryptor(aws.kms()), location -> new S3ScriptFetcher(aws.s3()).fetch(location));
        }
        assertEquals(3, ScriptPolicy.check(script).statements().size() + ScriptPolicy.check(script).settings().size());
    }
}
