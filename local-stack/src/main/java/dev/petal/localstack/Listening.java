package dev.petal.localstack;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Where the local stack's servers listen for clients (Kafka's client listener, S3, the services' APIs) and the
 * address they give clients. By default the loopback address only: nothing on the stack is reachable from other
 * machines. {@code ./petal up --bind ADDRESS} chooses another interface, explicitly. The broker's controller and
 * internal listeners stay on the loopback address either way.
 *
 * @param bindAddress the IPv4 address or host name to listen on ({@code 0.0.0.0}: every interface)
 * @param advertisedHost the address clients are told to use
 */
public record Listening(String bindAddress, String advertisedHost) {
    public static final Listening LOOPBACK = new Listening(Ports.HOST, Ports.HOST);

    public Listening {
        check(bindAddress);
        check(advertisedHost);
    }

    /**
     * Listening on {@code address}: advertised as itself, or, for the wildcard {@code 0.0.0.0}, as this machine's name.
     *
     * @throws IllegalArgumentException for an empty address or an IPv6 literal (not supported here)
     */
    public static Listening on(String address) {
        if (address == null || address.isBlank()) {
            throw new IllegalArgumentException("--bind needs an address, e.g. 127.0.0.1 or 0.0.0.0");
        }
        String bind = address.trim();
        if (!bind.equals("0.0.0.0")) {
            return new Listening(bind, bind);
        }
        try {
            return new Listening(bind, InetAddress.getLocalHost().getCanonicalHostName());
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("--bind 0.0.0.0: this machine's name does not resolve; give the interface's address instead");
        }
    }

    /** Whether only this machine can reach the servers. */
    public boolean loopbackOnly() {
        return bindAddress.equals(Ports.HOST) || bindAddress.equals("localhost");
    }

    private static void check(String address) {
        if (address == null || address.isBlank() || address.contains(":") || address.contains("/") || address.contains(" ")) {
            throw new IllegalArgumentException("'" + address + "' is not an IPv4 address or host name to listen on");
        }
    }
}
