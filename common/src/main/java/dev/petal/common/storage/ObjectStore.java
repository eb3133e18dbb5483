package dev.petal.common.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.BucketAlreadyOwnedByYouException;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A small client for the one bucket that Petal stores its objects in: checkpoints, and the
 * bytes of claim-checked images. Works against AWS S3, MinIO and S3Proxy.
 *
 * <p>Every failure is an unchecked {@link ObjectStoreException} naming the bucket and key; a
 * missing object is a {@link NoSuchObjectException}. Thread-safe.
 */
public final class ObjectStore implements AutoCloseable {

    private final S3Settings settings;
    private final S3Client s3;

    public ObjectStore(S3Settings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.s3 = buildClient(settings);
    }

    private static S3Client buildClient(S3Settings settings) {
        AwsCredentialsProvider credentials = settings.hasStaticCredentials()
                ? StaticCredentialsProvider.create(AwsBasicCredentials.create(settings.accessKey(), settings.secretKey()))
                : DefaultCredentialsProvider.builder().build();
        S3ClientBuilder builder = S3Client.builder()
                .httpClient(UrlConnectionHttpClient.create())
                .region(Region.of(settings.region()))
                .credentialsProvider(credentials)
                .forcePathStyle(settings.pathStyle())
                // Since SDK 2.30 the client adds CRC checksums to every upload by default; S3-compatible
                // servers (S3Proxy, older MinIO) do not all understand them. Only send them when required.
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        if (settings.endpoint() != null) {
            builder.endpointOverride(settings.endpoint());
        }
        return builder.build();
    }

    public S3Settings settings() {
        return settings;
    }

    public String bucket() {
        return settings.bucket();
    }

    /** Creates the bucket unless it already exists. */
    public void ensureBucket() {
        call("create bucket", null, () -> {
            try {
                s3.headBucket(b -> b.bucket(bucket()));
                return null;
            } catch (NoSuchBucketException e) {
                // fall through and create it
            } catch (S3Exception e) {
                if (e.statusCode() != 404) {
                    throw e;
                }
            }
            try {
                s3.createBucket(b -> b.bucket(bucket()));
            } catch (BucketAlreadyOwnedByYouException e) {
                // a concurrent caller won the race: fine
            }
            return null;
        });
    }

    public void put(String key, byte[] bytes) {
        call("put", key, () -> s3.putObject(r -> r.bucket(bucket()).key(key), RequestBody.fromBytes(bytes)));
    }

    public void put(String key, Path file) {
        call("put", key, () -> s3.putObject(r -> r.bucket(bucket()).key(key), RequestBody.fromFile(file)));
    }

    /** The object's bytes, in one array of the object's size. */
    public byte[] get(String key) {
        return get(key, Integer.MAX_VALUE - 8);
    }

    /**
     * The object's bytes, or {@link ObjectTooLargeException} when it holds more than {@code maxBytes}:
     * decided from the response's length before the body is read, so a claim-check that points at a
     * huge object costs no memory. With the length known the body is read into one array of that size:
     * the SDK's {@code getObjectAsBytes} grows a buffer and copies it twice, three times a checkpoint's
     * size on the heap, and the JVM keeps the heap it grew.
     */
    public byte[] get(String key, long maxBytes) {
        return call("get", key, () -> {
            try (ResponseInputStream<GetObjectResponse> in = s3.getObject(r -> r.bucket(bucket()).key(key))) {
                Long length = in.response().contentLength();
                if (length != null && length > maxBytes) {
                    in.abort();
                    throw new ObjectTooLargeException(bucket(), key, length, maxBytes);
                }
                if (length != null) {
                    byte[] bytes = new byte[Math.toIntExact(length)];
                    int read = in.readNBytes(bytes, 0, bytes.length);
                    if (read < bytes.length) {
                        throw new IOException("the object ended after " + read + " of its " + length + " bytes");
                    }
                    return bytes;
                }
                byte[] bytes = in.readNBytes((int) Math.min(maxBytes + 1, Integer.MAX_VALUE - 8));
                if (bytes.length > maxBytes) {
                    in.abort();
                    throw new ObjectTooLargeException(bucket(), key, -1, maxBytes);
                }
                return bytes;
            }
        });
    }

    /** Downloads to {@code target} (replacing it) through a temporary file, so a failure leaves no partial file. */
    public void download(String key, Path target) {
        call("download", key, () -> {
            Path dir = target.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, ".download-", ".tmp");
            try {
                Files.delete(tmp); // the SDK refuses to overwrite an existing file
                s3.getObject(r -> r.bucket(bucket()).key(key), tmp);
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
            return null;
        });
    }

    public boolean exists(String key) {
        try {
            call("head", key, () -> s3.headObject(r -> r.bucket(bucket()).key(key)));
            return true;
        } catch (NoSuchObjectException e) {
            return false;
        }
    }

    /** Every key that starts with {@code prefix} ({@code ""} for all), in lexicographic order. */
    public List<String> list(String prefix) {
        return call("list", prefix, () -> {
            List<String> keys = new ArrayList<>();
            for (S3Object object : s3.listObjectsV2Paginator(r -> r.bucket(bucket()).prefix(prefix)).contents()) {
                keys.add(object.key());
            }
            return keys;
        });
    }

    /**
     * Creates {@code key} only when no object has that key (a conditional write, {@code If-None-Match: *}): true when
     * this call created it, false when the key existed already or a concurrent conditional write won (412 or 409). S3,
     * MinIO and S3Proxy's filesystem store decide it atomically on the server (S3Proxy links the new file into place,
     * which fails when the name exists), so of two racing calls exactly one returns true. A server that does not
     * implement conditional writes (501) is an {@link ObjectStoreException} that says so.
     */
    public boolean putIfAbsent(String key, byte[] bytes) {
        try {
            call("put if absent", key, () -> s3.putObject(r -> r.bucket(bucket()).key(key).ifNoneMatch("*"), RequestBody.fromBytes(bytes)));
            return true;
        } catch (ObjectStoreException e) {
            if (e.getCause() instanceof S3Exception s3e && (s3e.statusCode() == 412 || s3e.statusCode() == 409)) {
                return false;
            }
            if (e.getCause() instanceof S3Exception s3e && s3e.statusCode() == 501) {
                throw new ObjectStoreException("put if absent (the server does not implement conditional writes, If-None-Match)",
                        bucket(), key, s3e);
            }
            throw e;
        }
    }

    /**
     * The "folders" right under {@code prefix} (which ends with {@code /}): each common prefix up to the next
     * {@code /}, without {@code prefix} and the trailing slash, in lexicographic order.
     */
    public List<String> listFolders(String prefix) {
        return call("list", prefix, () -> {
            List<String> folders = new ArrayList<>();
            for (var page : s3.listObjectsV2Paginator(r -> r.bucket(bucket()).prefix(prefix).delimiter("/"))) {
                for (var common : page.commonPrefixes()) {
                    String folder = common.prefix().substring(prefix.length());
                    folders.add(folder.endsWith("/") ? folder.substring(0, folder.length() - 1) : folder);
                }
            }
            return folders;
        });
    }

    /** Deletes the object; deleting a missing key is not an error. */
    public void delete(String key) {
        call("delete", key, () -> s3.deleteObject(r -> r.bucket(bucket()).key(key)));
    }

    @Override
    public void close() {
        s3.close();
    }

    @Override
    public String toString() {
        return "ObjectStore[" + settings + "]";
    }

    private interface Call<T> {
        T run() throws IOException;
    }

    private <T> T call(String operation, String key, Call<T> call) {
        try {
            return call.run();
        } catch (NoSuchKeyException | NoSuchBucketException e) {
            throw new NoSuchObjectException(operation, bucket(), key, e);
        } catch (S3Exception e) {
            if (e.statusCode() == 404) { // HEAD responses carry no error code, only the status
                throw new NoSuchObjectException(operation, bucket(), key, e);
            }
            throw new ObjectStoreException(operation, bucket(), key, e);
        } catch (ObjectTooLargeException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new ObjectStoreException(operation, bucket(), key, e);
        }
    }
}
