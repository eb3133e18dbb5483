package dev.petal.localstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

final class Ports {

    /** Every server here listens on the loopback address only. */
    static final String HOST = "127.0.0.1";

    private Ports() {
    }

    /** A port that was free a moment ago on {@link #HOST}. */
    static int free() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port", e);
        }
    }

    /** {@code port} itself, or a free one when it is 0. */
    static int orFree(int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        return port == 0 ? free() : port;
    }
}
