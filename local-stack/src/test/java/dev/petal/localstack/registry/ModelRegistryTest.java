package dev.petal.localstack.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.image.Normalization;
import dev.petal.common.model.Architecture;
import dev.petal.common.model.ModelSpec;
import dev.petal.common.model.Stem;
import dev.petal.common.registry.AliasMove;
import dev.petal.common.registry.ModelRegistry;
import dev.petal.common.registry.RegistryException;
import dev.petal.common.storage.ObjectStore;
import dev.petal.localstack.LocalStack;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Aliases against the real S3 server (S3Proxy's filesystem store): atomic moves, history, rollback, labels. */
class ModelRegistryTest {
    private static final List<String> SHAPES = List.of("circle", "cross", "square", "triangle");
    private static ObjectStore objects;

    @BeforeAll
    static void store() {
        objects = LocalStack.shared().objectStore();
        objects.ensureBucket();
    }

    private static void publish(String name, String version, List<String> labels) {
        ModelSpec spec = new ModelSpec(Architecture.RESNET18, labels, 16, Stem.SMALL, Normalization.IMAGENET);
        new CheckpointStore(objects).publish(new CheckpointManifest(CheckpointManifest.FORMAT_VERSION, name, version, null,
                Instant.now().toString(), spec, Map.of(), 1, 1, Map.of(), null, null, null),
                Map.of(CheckpointManifest.WEIGHTS_FILE, version.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void theServerRefusesASecondCreateOfTheSameKey() {
        String key = "registry-test/if-none-match-" + System.nanoTime();
        assertTrue(objects.putIfAbsent(key, "first".getBytes(StandardCharsets.UTF_8)));
        assertFalse(objects.putIfAbsent(key, "second".getBytes(StandardCharsets.UTF_8)));
        assertEquals("first", new String(objects.get(key), StandardCharsets.UTF_8), "the second write changed nothing");
    }

    @Test
    void ofManyConcurrentMovesExactlyOneWinsEachRound() throws Exception {
        String name = "reg-race";
        int writers = 8;
        for (int i = 0; i < writers; i++) {
            publish(name, "v" + i, SHAPES);
        }
        List<AliasMove> announced = new CopyOnWriteArrayList<>();
        ModelRegistry registry = new ModelRegistry(objects, announced::add);
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            for (int round = 0; round < 5; round++) {
                long before = registry.current(name, "champion").map(AliasMove::seq).orElse(0L);
                CountDownLatch go = new CountDownLatch(1);
                List<Future<String>> results = new ArrayList<>();
                for (int i = 0; i < writers; i++) {
                    String version = "v" + i;
                    results.add(pool.submit(() -> {
                        go.await();
                        try {
                            // Every writer decided on the same state: the move number it read before the race.
                            registry.move(name, "champion", version, AliasMove.PROMOTE, "race", "writer-" + version, false, before);
                            return "won:" + version;
                        } catch (RegistryException e) {
                            assertEquals(409, e.status());
                            assertTrue(e.getMessage().contains("lost a concurrent move") || e.getMessage().contains("moved meanwhile"),
                                    e.getMessage());
                            return "lost";
                        }
                    }));
                }
                go.countDown();
                List<String> winners = new ArrayList<>();
                for (Future<String> r : results) {
                    String outcome = r.get(60, TimeUnit.SECONDS);
                    if (outcome.startsWith("won:")) {
                        winners.add(outcome.substring(4));
                    }
                }
                assertEquals(1, winners.size(), "round " + round + ": exactly one of " + writers + " moves wins: " + winners);
                AliasMove now = registry.current(name, "champion").orElseThrow();
                assertEquals(winners.get(0), now.to(), "the alias points at the winner");
                assertEquals(before + 1, now.seq(), "one move per round");
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(5, registry.history(name, "champion").size(), "history: one entry per winning move");
        assertEquals(5, announced.size(), "one announcement per winning move");
    }

    @Test
    void twoMovesWithoutAnExpectationStillCannotBothWin() throws Exception {
        String name = "reg-race-plain";
        publish(name, "a", SHAPES);
        publish(name, "b", SHAPES);
        int wins = 0;
        for (int round = 0; round < 10; round++) {
            ModelRegistry one = new ModelRegistry(objects);
            ModelRegistry two = new ModelRegistry(objects);
            long before = one.current(name, "challenger").map(AliasMove::seq).orElse(0L);
            CountDownLatch go = new CountDownLatch(1);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            Future<Boolean> a = pool.submit(() -> attempt(go, one, name, "a"));
            Future<Boolean> b = pool.submit(() -> attempt(go, two, name, "b"));
            go.countDown();
            int won = (a.get(60, TimeUnit.SECONDS) ? 1 : 0) + (b.get(60, TimeUnit.SECONDS) ? 1 : 0);
            pool.shutdownNow();
            long after = one.current(name, "challenger").orElseThrow().seq();
            // Both may win only one after the other (each saw the other's move): then there are two moves in the log.
            assertEquals(after - before, won, "round " + round + ": every win is one move in the log, no move lost");
            wins += won;
        }
        assertEquals(wins, new ModelRegistry(objects).history(name, "challenger").size());
    }

    private static boolean attempt(CountDownLatch go, ModelRegistry registry, String name, String version) throws InterruptedException {
        go.await();
        try {
            registry.move(name, "challenger", version, AliasMove.PROMOTE, "race", version, false, null);
            return true;
        } catch (RegistryException e) {
            return false;
        }
    }

    @Test
    void rollbackWalksBackThroughTheHistoryAndThePointerIsOnlyAHint() {
        String name = "reg-rollback";
        for (String v : List.of("r1", "r2", "r3")) {
            publish(name, v, SHAPES);
        }
        ModelRegistry registry = new ModelRegistry(objects);
        assertEquals(Optional.empty(), registry.resolve(name, "champion"));
        registry.move(name, "champion", "r1", AliasMove.PROMOTE, "first", "test", false, null);
        registry.move(name, "champion", "r2", AliasMove.PROMOTE, "better", "test", false, null);
        registry.move(name, "champion", "r3", AliasMove.PROMOTE, "better still", "test", false, null);
        assertEquals("r2", registry.rollback(name, "champion", null, "test").to());
        assertEquals("r1", registry.rollback(name, "champion", null, "test").to(), "a second rollback goes further back");
        RegistryException none = assertThrows(RegistryException.class, () -> registry.rollback(name, "champion", null, "test"));
        assertEquals(404, none.status());
        List<AliasMove> history = registry.history(name);
        assertEquals(List.of("r1", "r2", "r3", "r2", "r1"), history.stream().map(AliasMove::to).toList());
        assertEquals("r3", history.get(3).from());

        // A pointer left behind (a crash between the move and the pointer): readers follow the log past it.
        objects.put(ModelRegistry.aliasKey(name, "champion"), "{\"version\": \"r3\", \"seq\": 3}".getBytes(StandardCharsets.UTF_8));
        assertEquals("r1", registry.resolve(name, "champion").orElseThrow());
        assertEquals(Map.of("champion", "r1"), registry.aliases(name));
        assertEquals(List.of("r1", "r2", "r3"), registry.versions(name));
    }

    @Test
    void unknownNamesVersionsAndOtherLabelsAreRefusedInOneLine() {
        String name = "reg-errors";
        publish(name, "e1", SHAPES);
        publish(name, "e2", List.of("cat", "dog"));
        ModelRegistry registry = new ModelRegistry(objects);
        registry.move(name, "champion", "e1", AliasMove.PROMOTE, "", "test", false, null);
        RegistryException unknownModel = assertThrows(RegistryException.class,
                () -> registry.move("reg-no-such-model", "champion", "e1", AliasMove.PROMOTE, "", "test", false, null));
        assertEquals(404, unknownModel.status());
        assertTrue(unknownModel.getMessage().contains("no model named 'reg-no-such-model'"), unknownModel.getMessage());
        RegistryException unknownVersion = assertThrows(RegistryException.class,
                () -> registry.move(name, "champion", "e9", AliasMove.PROMOTE, "", "test", false, null));
        assertEquals(404, unknownVersion.status());
        assertTrue(unknownVersion.getMessage().contains("has no version 'e9'"), unknownVersion.getMessage());
        RegistryException labels = assertThrows(RegistryException.class,
                () -> registry.move(name, "champion", "e2", AliasMove.PROMOTE, "", "test", false, null));
        assertEquals(409, labels.status());
        assertTrue(labels.getMessage().contains("--force"), labels.getMessage());
        assertFalse(labels.getMessage().contains("\n"));
        assertEquals("e1", registry.resolve(name, "champion").orElseThrow(), "a refused move changes nothing");
        assertEquals("e2", registry.move(name, "champion", "e2", AliasMove.PROMOTE, "", "test", true, null).to(), "forced");
        assertEquals(400, assertThrows(RegistryException.class, () -> registry.resolve(name, "../x")).status());
    }
}
