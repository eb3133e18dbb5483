package dev.petal.common.registry;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.petal.common.checkpoint.CheckpointIntegrityException;
import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.storage.NoSuchObjectException;
import dev.petal.common.storage.ObjectStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Which version of a model serves: aliases in object storage ({@code champion}, {@code challenger}, any name) that point
 * at versions, moved atomically, with their history kept beside them, and the promotion gate's decisions.
 *
 * <p>Layout under {@code models/<name>/}:
 * <ul>
 *   <li>{@code alias-history/<alias>/<seq>.json}: move number {@code seq} (1, 2, ...; ten digits) of the alias, an
 *       {@link AliasMove}. The alias points at the {@code to} of its highest move. This log is the truth, and the
 *       compare-and-set: a move reads the highest number {@code n} and creates {@code n + 1} with a conditional write
 *       ({@code If-None-Match: *}, {@link ObjectStore#putIfAbsent}); of two moves that read the same {@code n}, the
 *       server lets exactly one create {@code n + 1}, and the other fails with a {@link RegistryException} (409).</li>
 *   <li>{@code aliases/<alias>}: {@code {"version": ..., "seq": n}}, written after each move for people and plain
 *       tools; readers take it as a hint and follow the log past it, so a pointer left behind by a crash or a slow
 *       writer never shows an older version.</li>
 *   <li>{@code gate/<version>.json}: the gate's {@link GateRecord} for a candidate version.</li>
 * </ul>
 * {@code latest} stays the newest published version; versions themselves are untouched (immutable, maybe signed).
 */
public final class ModelRegistry {
    public static final String CHAMPION = "champion";
    public static final String CHALLENGER = "challenger";
    /** An alias or model name: one folder name. */
    private static final Pattern ALIAS = Pattern.compile("[a-z][a-z0-9_-]{0,62}");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ObjectStore store;
    private final CheckpointStore checkpoints;
    private final Consumer<AliasMove> announcer;

    /** A registry that announces nothing (reads, tests). */
    public ModelRegistry(ObjectStore store) {
        this(store, move -> { });
    }

    /** {@code announcer} is told of every move this registry makes, once it is stored (the {@code petal.models} event). */
    public ModelRegistry(ObjectStore store, Consumer<AliasMove> announcer) {
        this.store = store;
        this.checkpoints = new CheckpointStore(store);
        this.announcer = announcer;
    }

    public static String aliasKey(String name, String alias) {
        return "models/" + name + "/aliases/" + alias;
    }

    static String historyPrefix(String name, String alias) {
        return "models/" + name + "/alias-history/" + alias + "/";
    }

    static String historyKey(String name, String alias, long seq) {
        return historyPrefix(name, alias) + String.format("%010d.json", seq);
    }

    public static String gateKey(String name, String version) {
        return "models/" + name + "/gate/" + version + ".json";
    }

    /** A {@link RegistryException} (400) unless {@code alias} is a plain lower-case name. */
    public static String checkAlias(String alias) {
        if (alias == null || !ALIAS.matcher(alias).matches()) {
            throw RegistryException.badRequest("an alias is a lower-case name of letters, digits, - and _ (like champion), not '"
                    + (alias == null ? "" : alias.replaceAll("[^\\x20-\\x7e]", "?")) + "'");
        }
        return alias;
    }

    private static String checkName(String what, String value) {
        if (value == null || !NAME.matcher(value).matches()) {
            throw RegistryException.badRequest("not a " + what + ": '" + (value == null ? "" : value.replaceAll("[^\\x20-\\x7e]", "?")) + "'");
        }
        return value;
    }

    /** The models in the bucket: every {@code models/<name>/} that holds a published version or an alias. */
    public List<String> models() {
        List<String> names = new ArrayList<>();
        for (String name : store.listFolders("models/")) {
            if (NAME.matcher(name).matches() && (!versions(name).isEmpty() || !aliases(name).isEmpty())) {
                names.add(name);
            }
        }
        return names;
    }

    /** The model's published versions (those with a manifest), oldest first (version ids sort by time). */
    public List<String> versions(String name) {
        checkName("model name", name);
        String prefix = "models/" + name + "/";
        List<String> versions = new ArrayList<>();
        for (String key : store.list(prefix)) {
            String rest = key.substring(prefix.length());
            int slash = rest.indexOf('/');
            if (slash > 0 && rest.substring(slash + 1).equals(CheckpointManifest.MANIFEST_FILE) && !rest.startsWith("alias")
                    && !rest.startsWith("gate/")) {
                versions.add(rest.substring(0, slash));
            }
        }
        return versions;
    }

    /** A {@link RegistryException} (404) unless the model has a published version or an alias. */
    public void requireModel(String name) {
        checkName("model name", name);
        if (versions(name).isEmpty()) {
            throw RegistryException.notFound("no model named '" + name + "' (no version of it is published)");
        }
    }

    /** The version's manifest; a {@link RegistryException} (404) when it has none. */
    public CheckpointManifest manifest(String name, String version) {
        checkName("model name", name);
        checkName("version", version);
        try {
            return checkpoints.manifest(name, version);
        } catch (NoSuchObjectException e) {
            requireModel(name);
            throw RegistryException.notFound("model '" + name + "' has no version '" + version + "'");
        } catch (CheckpointIntegrityException e) {
            throw RegistryException.conflict("version '" + version + "' of '" + name + "' has an unusable manifest: " + e.getMessage());
        }
    }

    /** Every alias of the model and the version it points at. */
    public Map<String, String> aliases(String name) {
        checkName("model name", name);
        Map<String, String> aliases = new LinkedHashMap<>();
        for (String alias : store.listFolders("models/" + name + "/alias-history/")) {
            if (ALIAS.matcher(alias).matches()) {
                current(name, alias).ifPresent(move -> aliases.put(alias, move.to()));
            }
        }
        return aliases;
    }

    /** The version {@code alias} points at; empty when it was never set. */
    public Optional<String> resolve(String name, String alias) {
        return current(name, alias).map(AliasMove::to);
    }

    /** The alias's last move; empty when it was never moved. */
    public Optional<AliasMove> current(String name, String alias) {
        checkName("model name", name);
        checkAlias(alias);
        long seq = 0;
        try {
            seq = JSON.readTree(store.get(aliasKey(name, alias))).path("seq").asLong(0);
        } catch (NoSuchObjectException e) {
            // never moved, or only its log is there: start from the log's beginning
        } catch (IOException e) {
            seq = 0; // a pointer that does not parse is only a hint: the log decides
        }
        AliasMove last = null;
        if (seq > 0) {
            last = readMove(name, alias, seq).orElse(null);
            if (last == null) {
                seq = 0; // the pointer names a move that is not there: read the log from its start
            }
        }
        while (true) {
            Optional<AliasMove> next = readMove(name, alias, seq + 1);
            if (next.isEmpty()) {
                return Optional.ofNullable(last);
            }
            last = next.get();
            seq++;
        }
    }

    private Optional<AliasMove> readMove(String name, String alias, long seq) {
        try {
            return Optional.of(JSON.readValue(store.get(historyKey(name, alias, seq)), AliasMove.class));
        } catch (NoSuchObjectException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("move " + seq + " of alias " + alias + " of " + name + " does not parse", e);
        }
    }

    /** The alias's moves, oldest first. */
    public List<AliasMove> history(String name, String alias) {
        checkName("model name", name);
        checkAlias(alias);
        List<AliasMove> moves = new ArrayList<>();
        for (String key : store.list(historyPrefix(name, alias))) {
            if (key.endsWith(".json")) {
                try {
                    moves.add(JSON.readValue(store.get(key), AliasMove.class));
                } catch (IOException e) {
                    throw new UncheckedIOException(key + " does not parse", e);
                }
            }
        }
        moves.sort(Comparator.comparingLong(AliasMove::seq));
        return moves;
    }

    /** Every alias's moves, oldest first (by time). */
    public List<AliasMove> history(String name) {
        checkName("model name", name);
        List<AliasMove> all = new ArrayList<>();
        for (String alias : store.listFolders("models/" + name + "/alias-history/")) {
            if (ALIAS.matcher(alias).matches()) {
                all.addAll(history(name, alias));
            }
        }
        all.sort(Comparator.comparing(AliasMove::at).thenComparing(AliasMove::alias).thenComparingLong(AliasMove::seq));
        return all;
    }

    /**
     * Points {@code alias} at {@code version}: atomically against any concurrent move (the loser gets a
     * {@link RegistryException}, 409), appended to its history, then announced. A version whose label set differs from
     * the one the alias points at now is refused (409) unless {@code force}: consumers of its predictions would see
     * other labels. Moving an alias to the version it points at already is a move too (it is recorded and announced).
     *
     * @param expectedSeq the alias's move number the caller decided on ({@link AliasMove#seq()} of {@link #current}, 0
     *                    for an alias never moved), or {@code null} to move from whatever it points at now
     */
    public AliasMove move(String name, String alias, String version, String kind, String reason, String actor, boolean force,
                          Long expectedSeq) {
        checkAlias(alias);
        CheckpointManifest target = manifest(name, version);
        Optional<AliasMove> now = current(name, alias);
        long seq = now.map(AliasMove::seq).orElse(0L);
        if (expectedSeq != null && expectedSeq != seq) {
            throw RegistryException.conflict("alias '" + alias + "' of '" + name + "' moved meanwhile (to " + now.map(AliasMove::to)
                    .orElse("nothing") + "); not moved to " + version);
        }
        String from = now.map(AliasMove::to).orElse(null);
        if (from != null && !force && !from.equals(version)) {
            List<String> served = labelsOf(name, from);
            List<String> next = target.model() == null ? List.of() : target.model().labels();
            if (served != null && !new HashSet<>(served).equals(new HashSet<>(next))) {
                throw RegistryException.conflict("version " + version + " of '" + name + "' has labels " + next + ", but " + alias
                        + " (" + from + ") has " + served + ": consumers would see other labels; use --force (\"force\": true) to move it anyway");
            }
        }
        AliasMove move = new AliasMove(name, alias, from, version, kind, reason == null ? "" : reason, actor, Instant.now().toString(),
                seq + 1);
        byte[] json = json(move);
        if (!store.putIfAbsent(historyKey(name, alias, seq + 1), json)) {
            Optional<AliasMove> there = readMove(name, alias, seq + 1);
            // (a refusal that finds this very move there means the client retried a write the server had taken: it won)
            if (!there.equals(Optional.of(move))) {
                String winner = there.map(m -> m.to() + " by " + m.actor()).orElse("another move");
                throw RegistryException.conflict("lost a concurrent move of alias '" + alias + "' of '" + name + "': it was moved to "
                        + winner + " first; " + version + " not aliased (look again and retry)");
            }
        }
        Map<String, Object> pointer = new LinkedHashMap<>();
        pointer.put("version", version);
        pointer.put("seq", seq + 1);
        try {
            store.put(aliasKey(name, alias), JSON.writeValueAsBytes(pointer));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            // the log has the move already: readers follow it past a pointer left behind
        }
        announcer.accept(move);
        return move;
    }

    private List<String> labelsOf(String name, String version) {
        try {
            CheckpointManifest m = checkpoints.manifest(name, version);
            return m.model() == null ? null : m.model().labels();
        } catch (RuntimeException e) {
            return null; // the served version is unreadable: nothing to compare with
        }
    }

    /**
     * The version {@code alias} pointed at before its current one, with moves back ({@code rollback} kinds) undone as
     * they were made: so rolling back twice goes back two versions, never back and forth. Empty when there is none.
     */
    public Optional<String> rollbackTarget(String name, String alias) {
        Deque<String> stack = new ArrayDeque<>();
        for (AliasMove move : history(name, alias)) {
            if (move.kind() != null && move.kind().endsWith(AliasMove.ROLLBACK)) {
                if (!stack.isEmpty()) {
                    stack.pop();
                }
                if (stack.isEmpty() || !stack.peek().equals(move.to())) {
                    stack.push(move.to());
                }
            } else {
                stack.push(move.to());
            }
        }
        if (stack.size() < 2) {
            return Optional.empty();
        }
        String current = stack.pop();
        while (!stack.isEmpty()) {
            String previous = stack.pop();
            if (!previous.equals(current)) {
                return Optional.of(previous);
            }
        }
        return Optional.empty();
    }

    /** Moves {@code alias} back to {@link #rollbackTarget}; a {@link RegistryException} (404) when there is nothing before it. */
    public AliasMove rollback(String name, String alias, String reason, String actor) {
        requireModel(name);
        String target = rollbackTarget(name, checkAlias(alias)).orElseThrow(() -> RegistryException.notFound(
                "alias '" + alias + "' of '" + name + "' has no earlier version to roll back to"));
        return move(name, alias, target, AliasMove.ROLLBACK, reason == null || reason.isBlank() ? "rollback" : reason, actor, true, null);
    }

    public void recordGate(String name, String version, GateRecord gate) {
        store.put(gateKey(checkName("model name", name), checkName("version", version)), json(gate));
    }

    public Optional<GateRecord> gate(String name, String version) {
        try {
            return Optional.of(JSON.readValue(store.get(gateKey(name, version)), GateRecord.class));
        } catch (NoSuchObjectException e) {
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The gate's records of every version of the model that has one. */
    public Map<String, GateRecord> gates(String name) {
        Map<String, GateRecord> gates = new LinkedHashMap<>();
        String prefix = "models/" + checkName("model name", name) + "/gate/";
        for (String key : store.list(prefix)) {
            if (key.endsWith(".json")) {
                String version = key.substring(prefix.length(), key.length() - ".json".length());
                gate(name, version).ifPresent(g -> gates.put(version, g));
            }
        }
        return gates;
    }

    private static byte[] json(Object value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
