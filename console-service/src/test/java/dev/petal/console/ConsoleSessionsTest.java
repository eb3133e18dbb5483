package dev.petal.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Sessions and one-time codes by the clock: a code works once and briefly; a session ends at the token's expiry or the cap. */
class ConsoleSessionsTest {
    private static final Instant NOW = Instant.parse("2026-12-02T08:00:00Z");

    private static ConsoleSettings settings() {
        return new ConsoleSettings() {
            public String trainerUrl() { return "http://127.0.0.1:1"; }
            public List<String> inferenceMetricsUrls() { return List.of(); }
            public String inferenceGroup() { return "petal-inference"; }
            public String modelName() { return "petal"; }
            public Duration sessionMax() { return Duration.ofHours(8); }
            public Duration loginCodeTtl() { return Duration.ofSeconds(60); }
            public boolean secureCookie() { return false; }
            public Duration refresh() { return Duration.ofSeconds(1); }
        };
    }

    private static ConsoleSessions at(Instant now) {
        return new ConsoleSessions(settings(), Clock.fixed(now, ZoneOffset.UTC));
    }

    @Test
    void aCodeOpensOneSessionOnlyOnceAndOnlyWithinItsLifetime() {
        ConsoleSessions sessions = at(NOW);
        String code = sessions.issueCode("alice", Set.of("admin"), "jwt", NOW.plus(Duration.ofHours(1)));
        assertTrue(code.length() >= 43, "256 random bits");
        var session = sessions.redeem(code).orElseThrow();
        assertEquals("alice", session.subject());
        assertNotEquals(code, session.id(), "the session id is not the code");
        assertTrue(sessions.redeem(code).isEmpty(), "once");
        assertTrue(sessions.find(session.id()).isPresent());

        MovingClock clock = new MovingClock();
        ConsoleSessions moving = new ConsoleSessions(settings(), clock);
        String late = moving.issueCode("alice", Set.of("admin"), "jwt", NOW.plus(Duration.ofHours(1)));
        clock.now = NOW.plusSeconds(61);
        assertTrue(moving.redeem(late).isEmpty(), "a code older than login-code-ttl opens nothing");
        assertTrue(at(NOW).redeem(code).isEmpty(), "a code of another console (or before a restart) opens nothing");
    }

    private static final class MovingClock extends Clock {
        Instant now = NOW;

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    @Test
    void aSessionEndsAtTheTokensExpiryOrTheCapWhicheverIsFirst() {
        ConsoleSessions sessions = at(NOW);
        var shortToken = sessions.open("bob", Set.of("scorer"), "jwt", NOW.plus(Duration.ofMinutes(30)));
        assertEquals(NOW.plus(Duration.ofMinutes(30)), shortToken.expiresAt());
        var longToken = sessions.open("bob", Set.of("scorer"), "jwt", NOW.plus(Duration.ofDays(7)));
        assertEquals(NOW.plus(Duration.ofHours(8)), longToken.expiresAt(), "session-max caps it");
        assertTrue(shortToken.expired(NOW.plus(Duration.ofMinutes(30))));
        sessions.close(longToken.id());
        assertTrue(sessions.find(longToken.id()).isEmpty(), "signed out");
    }

    @Test
    void anExpiredTokensCodeOpensNothing() {
        ConsoleSessions sessions = at(NOW);
        String code = sessions.issueCode("carol", Set.of("admin"), "jwt", NOW.minusSeconds(1));
        assertTrue(sessions.redeem(code).isEmpty());
    }

    @Test
    void prometheusLinesAndPercentiles() {
        var samples = PrometheusText.parse("""
                # HELP petal_inference_inputs_total Records consumed
                petal_inference_inputs_total 42.0
                petal_inference_model_loaded{version="20261202-e003"} 1.0
                petal_inference_model_loaded{version="20261202-e002"} 0.0
                petal_inference_batch_size_sum 84.0
                """);
        assertEquals(42.0, PrometheusText.sum(samples, "petal_inference_inputs_total"));
        assertEquals("20261202-e003", samples.stream().filter(s -> s.value() == 1.0 && s.name().equals("petal_inference_model_loaded"))
                .findFirst().orElseThrow().labels().get("version"));
        double[] sorted = {1, 2, 3, 4, 5, 6, 7, 8, 9, 100};
        assertEquals(5.0, ScoringMonitor.percentile(sorted, 0.5));
        assertEquals(100.0, ScoringMonitor.percentile(sorted, 0.99));
        assertEquals(null, ScoringMonitor.percentile(new double[0], 0.5));
    }
}
