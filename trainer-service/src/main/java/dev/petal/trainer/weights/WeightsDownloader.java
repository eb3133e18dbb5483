package dev.petal.trainer.weights;

import dev.petal.common.checkpoint.Sha256;
import dev.petal.common.checkpoint.TorchvisionDownloads;
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

/**
 * Downloads a weights file whose name promises the start of its sha256 ({@code resnet18-f37072fd.pth}), as
 * torch.hub does, into a folder. The bytes go to a temporary file beside the target and are renamed into
 * place only once the hash matches, so the target is either absent or whole and verified.
 */
public final class WeightsDownloader {
    /** Why a download failed; {@link #network()} when the cause is reaching the server at all. */
    public static final class DownloadException extends Exception {
        private final boolean network;

        DownloadException(String message, boolean network, Throwable cause) {
            super(message, cause);
            this.network = network;
        }

        public boolean network() {
            return network;
        }
    }

    /** Told the bytes received so far and the total (-1 when the server does not say). */
    public interface Progress {
        void update(long received, long total);
    }

    private final Duration connectTimeout;
    private final Duration readTimeout;

    public WeightsDownloader(Duration connectTimeout, Duration readTimeout) {
        this.connectTimeout = connectTimeout;
        this.readTimeout = readTimeout;
    }

    /**
     * {@code url} into {@code dir/fileName}, checked against the sha256 prefix in {@code fileName}.
     *
     * @return the written file
     */
    public Path fetch(URI url, Path dir, String fileName, Progress progress) throws DownloadException {
        String promised = TorchvisionDownloads.hashPrefix(fileName);
        Path target = dir.resolve(fileName);
        Path part;
        try {
            Files.createDirectories(dir);
            part = Files.createTempFile(dir, "." + fileName + ".", ".part");
        } catch (IOException e) {
            throw new DownloadException("cannot write into " + dir + ": " + reason(e), false, e);
        }
        try {
            String sha256 = download(url, part, progress);
            if (!sha256.startsWith(promised)) {
                throw new DownloadException("the file from " + url + " has sha256 " + sha256 + ", but its name promises "
                        + promised + "...: refusing it (corrupt or tampered with); nothing was written", false, null);
            }
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            throw new DownloadException("cannot write " + target + ": " + reason(e), false, e);
        } finally {
            try {
                Files.deleteIfExists(part);
            } catch (IOException e) {
                // a leftover .part file is harmless and the next fetch ignores it
            }
        }
    }

    /** Whether {@code file} is there and its sha256 starts as its name promises. */
    public static boolean isVerified(Path file) throws IOException {
        return Files.isRegularFile(file)
                && Sha256.hex(file).startsWith(TorchvisionDownloads.hashPrefix(String.valueOf(file.getFileName())));
    }

    /**
     * Streams the body into {@code part} and returns its hex sha256. Failing to get the bytes is a network
     * error; failing to write them is an IOException (a local problem).
     */
    private String download(URI url, Path part, Progress progress) throws DownloadException, IOException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NORMAL).build();
        HttpRequest request = HttpRequest.newBuilder(url).timeout(readTimeout).GET().build();
        HttpResponse<InputStream> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new DownloadException(reason(e), true, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DownloadException("interrupted", true, e);
        }
        MessageDigest digest = Sha256.newDigest();
        try (InputStream body = response.body();
                OutputStream out = new DigestOutputStream(Files.newOutputStream(part), digest)) {
            if (response.statusCode() != 200) {
                throw new DownloadException("HTTP " + response.statusCode(), true, null);
            }
            long total = response.headers().firstValueAsLong("content-length").orElse(-1);
            byte[] buffer = new byte[1 << 16];
            long received = 0;
            progress.update(0, total);
            while (true) {
                int n;
                try {
                    n = body.read(buffer);
                } catch (IOException e) {
                    throw new DownloadException(reason(e) + " after " + received + " bytes", true, e);
                }
                if (n < 0) {
                    break;
                }
                out.write(buffer, 0, n);
                received += n;
                progress.update(received, total);
            }
            if (total >= 0 && received != total) {
                throw new DownloadException("the connection ended after " + received + " of " + total + " bytes", true, null);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /** A one-line reason: what went wrong, not a stack trace. */
    private String reason(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UnknownHostException || t instanceof UnresolvedAddressException) {
                return "cannot resolve the host name (no DNS, or offline)";
            }
            if (t instanceof HttpConnectTimeoutException) {
                return "no connection within " + connectTimeout.toSeconds() + " s";
            }
            if (t instanceof HttpTimeoutException) {
                return "no answer within " + readTimeout.toSeconds() + " s";
            }
            if (t instanceof ConnectException) {
                return "connection refused or unreachable";
            }
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                return t.getClass().getSimpleName() + ": " + t.getMessage();
            }
        }
        return e.getClass().getSimpleName();
    }
}
