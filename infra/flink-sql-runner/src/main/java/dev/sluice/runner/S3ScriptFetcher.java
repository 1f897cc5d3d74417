package dev.sluice.runner;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;

/** Reads a sealed script's envelope JSON from {@code s3://bucket/key} (at most 4 MiB). */
final class S3ScriptFetcher {

    static final int MAX_BYTES = 4 * 1024 * 1024;

    /** An {@code s3://bucket/key} location. */
    record S3Location(String bucket, String key) {
        static S3Location parse(String uri) throws RunnerException {
            if (uri == null || !uri.startsWith("s3://")) {
                throw new RunnerException("an S3 location (--script-s3, script.s3, status.s3) must be an s3://bucket/key URI");
            }
            String rest = uri.substring("s3://".length());
            int slash = rest.indexOf('/');
            if (slash <= 0 || slash == rest.length() - 1) {
                throw new RunnerException("an S3 location (--script-s3, script.s3, status.s3) must be an s3://bucket/key URI");
            }
            return new S3Location(rest.substring(0, slash), rest.substring(slash + 1));
        }

        @Override
        public String toString() {
            return "s3://" + bucket + "/" + key;
        }
    }

    private final S3Client s3;

    S3ScriptFetcher(S3Client s3) {
        this.s3 = s3;
    }

    String fetch(S3Location location) throws RunnerException {
        try (ResponseInputStream<GetObjectResponse> in =
                s3.getObject(b -> b.bucket(location.bucket()).key(location.key()))) {
            Long length = in.response().contentLength();
            if (length != null && length > MAX_BYTES) {
                throw new RunnerException("sealed script: " + location + " is larger than " + MAX_BYTES + " bytes");
            }
            byte[] body = readAtMost(in, MAX_BYTES);
            return new String(body, StandardCharsets.UTF_8);
        } catch (S3Exception e) {
            String code = e.awsErrorDetails() != null ? e.awsErrorDetails().errorCode() : "?";
            throw new RunnerException("sealed script: S3 GetObject " + location + " failed (" + code + ", HTTP "
                    + e.statusCode() + ", request id " + e.requestId() + ")");
        } catch (SdkClientException e) {
            throw new RunnerException("sealed script: S3 GetObject " + location + " could not be called (" + e.getMessage() + ")");
        } catch (IOException e) {
            throw new RunnerException("sealed script: reading " + location + " failed (" + e.getMessage() + ")");
        }
    }

    private static byte[] readAtMost(InputStream in, int max) throws IOException, RunnerException {
        byte[] body = in.readNBytes(max + 1);
        if (body.length > max) {
            throw new RunnerException("sealed script: the S3 object is larger than " + max + " bytes");
        }
        return body;
    }
}
