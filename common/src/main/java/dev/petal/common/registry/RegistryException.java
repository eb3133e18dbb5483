package dev.petal.common.registry;

/**
 * A model-registry operation refused, with a one-line message for a person and the HTTP status the API answers with:
 * 404 an unknown model, version or alias; 409 a concurrent move won, or the labels differ without force; 400 a bad name.
 */
public class RegistryException extends RuntimeException {
    private final int status;

    public RegistryException(int status, String message) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }

    public static RegistryException notFound(String message) {
        return new RegistryException(404, message);
    }

    public static RegistryException conflict(String message) {
        return new RegistryException(409, message);
    }

    public static RegistryException badRequest(String message) {
        return new RegistryException(400, message);
    }
}
