package dev.petal.localstack.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.localstack.auth.LocalKeyPair;
import dev.petal.localstack.auth.PemKeys;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.consumer.JwtConsumerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ./petal token}: a token the local stack's services accept, from the key pair {@code ./petal up} made. */
class TokenCommandTest {
    private record Run(int exitCode, String out, String err) {}

    private static Run run(Path stateDir, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            List<String> all = new java.util.ArrayList<>(List.of("--state-dir", stateDir.toString(), "token"));
            all.addAll(List.of(args));
            int code = new CommandLine(new PipelineCli()).execute(all.toArray(String[]::new));
            return new Run(code, out.toString(StandardCharsets.UTF_8).trim(), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
    }

    @Test
    void printsATokenWithTheRolesIssuerAudienceAndLifetimeTheServicesCheck(@TempDir Path stateDir) throws Exception {
        LocalKeyPair keys = LocalKeyPair.ensure(new StateDir(stateDir).authDir());
        Run run = run(stateDir, "--role", "scorer", "--role", "trainer", "--ttl", "30m");
        assertEquals(0, run.exitCode(), run.err());
        JwtClaims claims = new JwtConsumerBuilder()
                .setVerificationKey(PemKeys.publicKey(Files.readString(keys.publicKeyFile())))
                .setExpectedIssuer("petal-local").setExpectedAudience("petal").setRequireExpirationTime()
                .build().processToClaims(run.out());
        assertEquals(List.of("scorer", "trainer"), claims.getStringListClaimValue("groups"));
        assertEquals(Duration.ofMinutes(30).toSeconds(), claims.getExpirationTime().getValue() - claims.getIssuedAt().getValue());
        assertEquals(TokenCommand.subject(), claims.getSubject());
    }

    @Test
    void theDefaultLifetimeIsAnHour(@TempDir Path stateDir) throws Exception {
        LocalKeyPair keys = LocalKeyPair.ensure(new StateDir(stateDir).authDir());
        Run run = run(stateDir, "--role", "admin");
        JwtClaims claims = new JwtConsumerBuilder().setVerificationKey(PemKeys.publicKey(Files.readString(keys.publicKeyFile())))
                .setExpectedAudience("petal").build().processToClaims(run.out());
        assertEquals(3600, claims.getExpirationTime().getValue() - claims.getIssuedAt().getValue());
    }

    @Test
    void refusesUnknownRolesAndLifetimesOutsideTheBoundsWithUsageErrors(@TempDir Path stateDir) {
        LocalKeyPair.ensure(new StateDir(stateDir).authDir());
        Run unknown = run(stateDir, "--role", "root");
        assertEquals(2, unknown.exitCode());
        assertTrue(unknown.err().contains("unknown role 'root'"), unknown.err());
        assertEquals(2, run(stateDir, "--role", "admin", "--ttl", "30d").exitCode());
        assertEquals(2, run(stateDir, "--role", "admin", "--ttl", "forever").exitCode());
        assertEquals(2, run(stateDir).exitCode(), "--role is required");
    }

    @Test
    void withoutAKeyPairItSaysToRunUpFirst(@TempDir Path stateDir) {
        Run run = run(stateDir, "--role", "scorer");
        assertEquals(1, run.exitCode());
        assertTrue(run.err().contains("./petal up"), run.err());
        assertEquals("", run.out());
    }

    @Test
    void lifetimes() {
        assertEquals(Duration.ofSeconds(90), TokenCommand.parseTtl("90s"));
        assertEquals(Duration.ofMinutes(15), TokenCommand.parseTtl("15m"));
        assertEquals(Duration.ofDays(7), TokenCommand.parseTtl("7d"));
        assertThrows(IllegalArgumentException.class, () -> TokenCommand.parseTtl("0s"));
        assertThrows(IllegalArgumentException.class, () -> TokenCommand.parseTtl("169h"));
        assertThrows(IllegalArgumentException.class, () -> TokenCommand.parseTtl("1w"));
        assertThrows(IllegalArgumentException.class, () -> TokenCommand.parseTtl("-1h"));
    }
}
