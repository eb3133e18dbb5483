package dev.petal.localstack.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.jose4j.jwt.consumer.JwtConsumerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local stack's token key pair: made once, the private half its owner's alone, tokens that verify with the public half. */
class LocalKeyPairTest {
    @Test
    void isMadeOnceWithThePrivateKeyReadableByItsOwnerOnly(@TempDir Path state) throws Exception {
        Path auth = state.resolve("auth");
        LocalKeyPair first = LocalKeyPair.ensure(auth);
        String privatePem = Files.readString(first.privateKeyFile());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(first.privateKeyFile())));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(auth)));
        assertTrue(privatePem.startsWith("-----BEGIN PRIVATE KEY-----"));
        assertTrue(Files.readString(first.publicKeyFile()).startsWith("-----BEGIN PUBLIC KEY-----"));
        LocalKeyPair again = LocalKeyPair.ensure(auth);
        assertEquals(privatePem, Files.readString(again.privateKeyFile()), "a second ./petal up keeps the pair");
    }

    @Test
    void itsTokensVerifyWithItsPublicKey(@TempDir Path state) throws Exception {
        LocalKeyPair keys = LocalKeyPair.ensure(state.resolve("auth"));
        String token = keys.issuer().mint("someone", List.of("ingester"), Duration.ofMinutes(5));
        var claims = new JwtConsumerBuilder().setVerificationKey(PemKeys.publicKey(Files.readString(keys.publicKeyFile())))
                .setExpectedIssuer(TokenIssuer.LOCAL_ISSUER).setExpectedAudience(TokenIssuer.LOCAL_AUDIENCE)
                .build().processToClaims(token);
        assertEquals(List.of("ingester"), claims.getStringListClaimValue("groups"));
        assertEquals("someone", claims.getSubject());
    }
}
