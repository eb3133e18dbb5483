package dev.petal.localstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.TimeoutException;

import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;

import dev.petal.common.storage.S3Settings;

/**
 * A real S3-compatible server (S3Proxy) in this JVM, on {@code 127.0.0.1} (or where {@link Listening} says), checking AWS V2/V4
 * request signatures against one access key. Objects live in files under a directory
 * (buckets are sub-directories), or in memory when no directory is given; either way they
 * survive {@link #stop()} and {@link #start()}, which reuses the same port.
 */
public final class EmbeddedS3 implements AutoCloseable {

    public static final String DEFAULT_ACCESS_KEY = "petal";
    public static final String DEFAULT_SECRET_KEY = "petal-secret";

    private final Path dir;
    private final String accessKey;
    private final String secretKey;
    private final BlobStore blobStore;
    private final Listening listening;
    private int port;
    private S3Proxy proxy;

    /** A server on a free port with the default keys, objects under {@code dir} ({@code null}: in memory). */
    public EmbeddedS3(Path dir) {
        this(dir, 0, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY);
    }

    /** A server on {@code port} (0: a free one, kept across restarts), objects under {@code dir} ({@code null}: in memory). */
    public EmbeddedS3(Path dir, int port, String accessKey, String secretKey) {
        this(dir, port, accessKey, secretKey, Listening.LOOPBACK);
    }

    /** The same, listening where {@code listening} says. */
    public EmbeddedS3(Path dir, int port, String accessKey, String secretKey, Listening listening) {
        this.listening = listening;
        this.dir = dir == null ? null : dir.toAbsolutePath();
        this.port = Ports.orFree(port, listening.bindAddress());
        this.accessKey = Objects.requireNonNull(accessKey, "accessKey");
        this.secretKey = Objects.requireNonNull(secretKey, "secretKey");
        QuietLogging.apply();
        if (this.dir == null) {
            blobStore = new TransientNio2BlobStore();
        } else {
            try {
                Files.createDirectories(this.dir);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create " + this.dir, e);
            }
            blobStore = new FilesystemNio2BlobStore(this.dir.toString());
        }
    }

    public synchronized EmbeddedS3 start() {
        if (proxy != null) {
            return this;
        }
        S3Proxy started = S3Proxy.builder()
                .blobStore(blobStore)
                .endpoint(URI.create("http://" + listening.bindAddress() + ":" + port))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
                .jettyMaxThreads(16)
                .stopTimeout(100) // ms; do not wait for idle keep-alive connections to end
                .build();
        try {
            started.start();
        } catch (Exception e) {
            throw new IllegalStateException("cannot start S3Proxy on port " + port, e);
        }
        proxy = started;
        return this;
    }

    public synchronized void stop() {
        if (proxy == null) {
            return;
        }
        try {
            proxy.stop();
        } catch (TimeoutException e) {
            // Jetty gave idle keep-alive connections the stop timeout, then closed them: stopped all the same.
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop S3Proxy on port " + port, e);
        } finally {
            proxy = null;
        }
    }

    @Override
    public void close() {
        stop();
    }

    public synchronized boolean isRunning() {
        return proxy != null;
    }

    public int port() {
        return port;
    }

    /** {@code http://127.0.0.1:<port>} (or the advertised address when it listens elsewhere) */
    public URI endpoint() {
        return URI.create("http://" + listening.advertisedHost() + ":" + port);
    }

    public String accessKey() {
        return accessKey;
    }

    public String secretKey() {
        return secretKey;
    }

    /** The directory that holds the objects, or {@code null} when they are in memory. */
    public Path dataDir() {
        return dir;
    }

    /** Client settings for this server and {@code bucket} (path-style, static keys). */
    public S3Settings settings(String bucket) {
        return new S3Settings(endpoint(), S3Settings.DEFAULT_REGION, bucket, true, accessKey, secretKey);
    }

    @Override
    public String toString() {
        return "EmbeddedS3[" + endpoint() + ", " + (dir == null ? "in memory" : dir)
                + (isRunning() ? ", running]" : ", stopped]");
    }
}
