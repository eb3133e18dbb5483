package dev.petal.localstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

final class Ports {

    /** The loopback address: every server here listens on it unless told otherwise ({@link Listening}). */
    static final String HOST = "127.0.0.1";

    private Ports() {
    }

    /** A port that was free a moment ago on {@link #HOST}. */
    static int free() {
        return free(HOST);
    }

    /** A port that was free a moment ago on {@code host}. */
    static int free(String host) {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(host))) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on " + host, e);
        }
    }

    /** {@code port} itself, or a free one on {@code host} when it is 0. */
    static int orFree(int port, String host) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        return port == 0 ? free(host) : port;
    }

    /** {@code port} itself, or a free one when it is 0. */
    static int orFree(int port) {
        return orFree(port, HOST);
    }
}
