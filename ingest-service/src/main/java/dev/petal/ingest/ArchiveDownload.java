package dev.petal.ingest;

import dev.petal.common.checkpoint.Sha256;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Downloads a {@code .tgz} archive, checks its size and sha256, and unpacks it. The download goes
 * to a temporary file first, so a failed or tampered download leaves nothing that looks complete;
 * entries that would land outside the target folder, and links, are refused.
 */
public final class ArchiveDownload {

    /** TensorFlow's flower_photos: 3,670 JPEGs in daisy, dandelion, roses, sunflowers, tulips. */
    public static final URI FLOWERS_URL =
            URI.create("https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz");
    public static final long FLOWERS_SIZE = 228_813_984L;
    /** As recorded by TensorFlow Datasets (url_checksums/tf_flowers.txt). */
    public static final String FLOWERS_SHA256 = "4c54ace7911aaffe13a365c34f650e71dd5bf1be0a58b464e5a7183e3e595d9c";

    /** A download that failed: unreachable, HTTP error, wrong size or checksum, bad archive. */
    public static class DownloadException extends RuntimeException {
        public DownloadException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** @param root the top folder of the unpacked archive (or the target when it has several) */
    public record Result(Path root, long bytes, String sha256, int files) {}

    private final Duration connectTimeout;
    private final Duration progressInterval;

    public ArchiveDownload(Duration connectTimeout, Duration progressInterval) {
        this.connectTimeout = connectTimeout;
        this.progressInterval = progressInterval;
    }

    /**
     * @param expectedSize   the archive's size in bytes, or a negative number to skip the check
     * @param expectedSha256 hex sha256, or {@code null} to skip the check
     */
    public Result fetch(URI url, long expectedSize, String expectedSha256, Path target) {
        try {
            Files.createDirectories(target);
        } catch (IOException e) {
            throw new DownloadException("cannot create " + target + ": " + e.getMessage(), e);
        }
        Path part = target.resolve(".download-" + System.nanoTime() + ".part");
        try {
            String sha256 = download(url, expectedSize, part);
            long size = part.toFile().length();
            if (expectedSize >= 0 && size != expectedSize) {
                throw new DownloadException(url + ": got " + size + " bytes, expected " + expectedSize, null);
            }
            if (expectedSha256 != null && !expectedSha256.equalsIgnoreCase(sha256)) {
                throw new DownloadException(url + ": sha256 " + sha256 + " does not match the expected " + expectedSha256
                        + "; the archive was not unpacked", null);
            }
            Unpacked unpacked = unpack(part, target);
            return new Result(unpacked.root(), size, sha256, unpacked.files());
        } finally {
            try {
                Files.deleteIfExists(part);
            } catch (IOException e) {
                // a leftover temporary file is harmless
            }
        }
    }

    private String download(URI url, long expectedSize, Path part) {
        HttpClient http = HttpClient.newBuilder()
                .connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
        HttpRequest request = HttpRequest.newBuilder(url).timeout(connectTimeout.multipliedBy(3)).GET().build();
        MessageDigest digest = Sha256.newDigest();
        try {
            HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream body = response.body()) {
                if (response.statusCode() != 200) {
                    throw new DownloadException(url + " answered HTTP " + response.statusCode(), null);
                }
                long total = response.headers().firstValueAsLong("content-length").orElse(expectedSize);
                try (OutputStream out = new DigestOutputStream(Files.newOutputStream(part), digest);
                     ProgressReporter progress = ProgressReporter.forConsole("downloading", total / (1 << 20), "MiB", progressInterval)) {
                    byte[] buffer = new byte[1 << 16];
                    long carried = 0;
                    for (int n; (n = body.read(buffer)) > 0; ) {
                        out.write(buffer, 0, n);
                        carried += n;
                        progress.advance(carried >> 20);
                        carried &= (1 << 20) - 1;
                    }
                }
            }
        } catch (HttpConnectTimeoutException e) {
            throw new DownloadException("cannot download " + url + ": no connection to " + url.getHost() + " within "
                    + connectTimeout.toSeconds() + " s (no internet access, or a proxy is needed?)", e);
        } catch (HttpTimeoutException e) {
            throw new DownloadException("cannot download " + url + ": " + url.getHost() + " did not answer within "
                    + connectTimeout.multipliedBy(3).toSeconds() + " s", e);
        } catch (ConnectException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            String why = cause instanceof UnresolvedAddressException || cause instanceof UnknownHostException
                    ? "cannot resolve host " + url.getHost() + " (no internet access?)"
                    : "cannot connect to " + url.getHost() + " (no internet access, or a proxy is needed?): "
                    + (e.getMessage() == null ? cause : e.getMessage());
            throw new DownloadException("cannot download " + url + ": " + why, e);
        } catch (IOException e) {
            throw new DownloadException("cannot download " + url + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DownloadException("download of " + url + " interrupted", e);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private record Unpacked(Path root, int files) {}

    private static Unpacked unpack(Path archive, Path target) {
        Path base = target.toAbsolutePath().normalize();
        String top = null;
        boolean singleTop = true;
        int files = 0;
        try (TarArchiveInputStream tar = new TarArchiveInputStream(
                new GzipCompressorInputStream(new BufferedInputStream(Files.newInputStream(archive), 1 << 16)))) {
            for (TarArchiveEntry entry; (entry = tar.getNextEntry()) != null; ) {
                Path out = base.resolve(entry.getName()).normalize();
                if (!out.startsWith(base) || out.equals(base)) {
                    if (out.equals(base)) {
                        continue; // "./"
                    }
                    throw new DownloadException("archive entry '" + entry.getName() + "' points outside " + target, null);
                }
                String first = base.relativize(out).getName(0).toString();
                if (top == null) {
                    top = first;
                } else if (!top.equals(first)) {
                    singleTop = false;
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(out);
                } else if (entry.isFile()) {
                    Files.createDirectories(out.getParent());
                    Files.copy(tar, out, StandardCopyOption.REPLACE_EXISTING);
                    files++;
                } // links and devices are skipped: a dataset needs none
            }
        } catch (IOException e) {
            throw new DownloadException("cannot unpack " + archive + ": " + e.getMessage(), e);
        }
        return new Unpacked(singleTop && top != null ? base.resolve(top) : base, files);
    }
}
