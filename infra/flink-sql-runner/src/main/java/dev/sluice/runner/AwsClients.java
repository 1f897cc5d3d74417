package dev.sluice.runner;

import java.time.Duration;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Builds the AWS clients of the runner (AWS SDK for Java v2, shaded into the jar under {@code
 * dev.sluice.shaded.awssdk}, HTTP through {@code java.net.HttpURLConnection}).
 *
 * <p>Everything else comes from the SDK's default chains, so the same jar runs in AWS and on the
 * local stack: region from {@code AWS_REGION} (or {@code aws.region}, the profile, instance
 * metadata); credentials from the default provider chain (environment, system properties, web
 * identity, profile, container, instance profile); the endpoint from {@code
 * AWS_ENDPOINT_URL_KMS} / {@code AWS_ENDPOINT_URL_S3} / {@code AWS_ENDPOINT_URL} (or the {@code
 * aws.endpointUrl*} system properties, or the profile's {@code endpoint_url}), which SDK 2.57
 * honours itself (checked by the moto integration test, which sets only the environment).
 *
 * <p>S3 uses path-style addressing when an endpoint override is configured (moto, MinIO: a
 * bucket name cannot become a host name of 127.0.0.1) or when {@code SLUICE_S3_PATH_STYLE=true}.
 */
final class AwsClients {

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(60);

    private AwsClients() {}

    private static UrlConnectionHttpClient.Builder http() {
        return UrlConnectionHttpClient.builder()
                .connectionTimeout(CONNECT_TIMEOUT)
                .socketTimeout(SOCKET_TIMEOUT);
    }

    private static ClientOverrideConfiguration overrides() {
        return ClientOverrideConfiguration.builder().apiCallTimeout(CALL_TIMEOUT).build();
    }

    /**
     * The clients of one run, created on first use and closed with it: the runner runs inside
     * the long-lived JobManager, where an unclosed client would keep its threads (and with them
     * the run's user-code class loader) alive.
     */
    static final class PerRun implements AutoCloseable {
        private KmsClient kms;
        private S3Client s3;

        KmsClient kms() throws RunnerException {
            if (kms == null) {
                kms = AwsClients.kms();
            }
            return kms;
        }

        S3Client s3() throws RunnerException {
            if (s3 == null) {
                s3 = AwsClients.s3();
            }
            return s3;
        }

        @Override
        public void close() {
            if (kms != null) {
                kms.close();
            }
            if (s3 != null) {
                s3.close();
            }
        }
    }

    static KmsClient kms() throws RunnerException {
        try {
            return KmsClient.builder().httpClientBuilder(http()).overrideConfiguration(overrides()).build();
        } catch (RuntimeException e) {
            throw new RunnerException("cannot create the KMS client (region or credentials configuration): "
                    + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    static S3Client s3() throws RunnerException {
        try {
            return S3Client.builder()
                    .httpClientBuilder(http())
                    .overrideConfiguration(overrides())
                    .forcePathStyle(s3PathStyle())
                    .build();
        } catch (RuntimeException e) {
            throw new RunnerException("cannot create the S3 client (region or credentials configuration): "
                    + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    static boolean s3PathStyle() {
        String explicit = setting("SLUICE_S3_PATH_STYLE", "sluice.s3.pathStyle");
        if (explicit != null) {
            return Boolean.parseBoolean(explicit.trim());
        }
        return setting("AWS_ENDPOINT_URL_S3", "aws.endpointUrlS3") != null
                || setting("AWS_ENDPOINT_URL", "aws.endpointUrl") != null;
    }

    /** A non-blank system property, else a non-blank environment variable, else null. */
    static String setting(String env, String property) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            value = System.getenv(env);
        }
        return value == null || value.isBlank() ? null : value;
    }
}
