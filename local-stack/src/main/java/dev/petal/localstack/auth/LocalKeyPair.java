package dev.petal.localstack.auth;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.util.Optional;
import java.util.Set;

/**
 * The local stack's token key pair, made once under {@code .petal/auth/}: {@value #PRIVATE_FILE} (mode 600, in a
 * folder of mode 700) signs the tokens {@code ./petal token} and the commands mint, {@value #PUBLIC_FILE} is what
 * the services verify them with ({@code mp.jwt.verify.publickey.location}).
 */
public final class LocalKeyPair {
    public static final String PRIVATE_FILE = "jwt-private.pem";
    public static final String PUBLIC_FILE = "jwt-public.pem";
    private static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");

    private final Path dir;

    private LocalKeyPair(Path dir) {
        this.dir = dir.toAbsolutePath();
    }

    /** The key pair under {@code dir}, made there first if it is not. */
    public static LocalKeyPair ensure(Path dir) {
        LocalKeyPair keys = new LocalKeyPair(dir);
        if (!Files.isRegularFile(keys.privateKeyFile()) || !Files.isRegularFile(keys.publicKeyFile())) {
            keys.create();
        }
        return keys;
    }

    /** The key pair under {@code dir}, when {@link #ensure} made one. */
    public static Optional<LocalKeyPair> find(Path dir) {
        LocalKeyPair keys = new LocalKeyPair(dir);
        return Files.isRegularFile(keys.privateKeyFile()) && Files.isRegularFile(keys.publicKeyFile())
                ? Optional.of(keys) : Optional.empty();
    }

    public Path privateKeyFile() {
        return dir.resolve(PRIVATE_FILE);
    }

    public Path publicKeyFile() {
        return dir.resolve(PUBLIC_FILE);
    }

    /** An issuer of tokens the local stack's services accept. */
    public TokenIssuer issuer() {
        try {
            return new TokenIssuer(PemKeys.privateKey(Files.readString(privateKeyFile(), StandardCharsets.US_ASCII)),
                    TokenIssuer.LOCAL_ISSUER, TokenIssuer.LOCAL_AUDIENCE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the local token key " + privateKeyFile(), e);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(privateKeyFile() + " is " + e.getMessage() + "; delete " + dir
                    + " and run ./petal up to make a new key pair");
        }
    }

    private void create() {
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
            }
            Files.setPosixFilePermissions(dir, OWNER_ONLY_DIR);
            KeyPair pair = PemKeys.newRsaKeyPair();
            // The private key is written to a file that is owner-only from its creation, then moved in place.
            Path tmp = dir.resolve(PRIVATE_FILE + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY_FILE));
            Files.writeString(tmp, PemKeys.privateKeyPem(pair.getPrivate()), StandardCharsets.US_ASCII);
            Files.writeString(publicKeyFile(), PemKeys.publicKeyPem(pair.getPublic()), StandardCharsets.US_ASCII);
            Files.move(tmp, privateKeyFile(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            throw new IllegalStateException("another process is making the key pair in " + dir + "; try again", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the local token key pair in " + dir, e);
        }
    }
}
