package dev.petal.inference.model;

import dev.petal.common.checkpoint.CheckpointIntegrityException;
import dev.petal.common.checkpoint.CheckpointManifest;
import dev.petal.common.checkpoint.CheckpointStore;
import dev.petal.common.checkpoint.ManifestVerifier;
import dev.petal.common.engine.PyTorchEngine;
import dev.petal.common.inference.Classifier;
import dev.petal.common.inference.LoadedModel;
import dev.petal.common.inference.ModelSource;
import dev.petal.common.records.ModelEvent;
import dev.petal.common.registry.AliasMove;
import dev.petal.common.registry.ModelRegistry;
import dev.petal.common.records.Topics;
import dev.petal.common.records.UntrustedText;
import dev.petal.common.storage.ObjectStoreException;
import dev.petal.inference.InferenceMetrics;
import dev.petal.inference.InferenceSettings;
import dev.petal.service.Storage;
import dev.petal.service.config.CheckpointKeys;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import dev.petal.common.model.ServingRuntime;
import org.jboss.logging.Logger;

/**
 * Keeps the served model current: on start it loads the pinned version or the version its alias points at
 * ({@code petal.inference.model-alias}, {@code champion} by default; {@code challenger} in shadow mode; docs/model-lifecycle.md),
 * then follows {@code petal.models} ({@link ModelEventChannel}: every replica sees every event) and reads the alias
 * ({@link ModelRegistry}) every poll interval in case an event was missed. Downgrade protection: it only ever loads the
 * version its alias points at in object storage. An alias event makes it read the alias (the event itself is not
 * trusted); a version event for a version that no followed alias points at is ignored and counted
 * ({@code refusals{reason="not-aliased"}}). During a canary ({@code petal.inference.canary-percent} &gt; 0) it also
 * follows {@code challenger} into {@link #canaryHolder()}. A new version is downloaded, every file's sha256 checked, loaded,
 * warmed on a dummy batch and only then swapped in; until then the old one keeps serving. A version
 * that fails verification or loading is refused once (log line and metric) and never retried: versions
 * are immutable. A storage outage is not a refusal: the version is tried again on the next poll.
 *
 * <p>Refused, each counted in {@code petal_inference_model_refusals_total{reason=...}}: a file whose sha256
 * differs from the manifest ({@code sha256}); with {@code petal.checkpoint.verify-key} set, an unsigned or
 * mis-signed manifest ({@code signature}); weights that do not fit the architecture or label count the
 * manifest names ({@code shape}); a version id that is not a plain folder name, a manifest that describes
 * another model or version than the folder it sits in, or a {@code petal.models} event whose object key is
 * not {@code models/<name>/<version>/manifest.json} in the configured bucket ({@code outside-prefix}: the
 * event is ignored, the version it names is not marked refused); an unreadable manifest ({@code manifest});
 * anything else that fails to load or warm up ({@code load}).
 */
@ApplicationScoped
public class ModelWatcher {
    private static final Logger LOG = Logger.getLogger(ModelWatcher.class);
    /** A version id is one folder name: no slashes, no {@code .} or {@code ..}. */
    private static final Pattern VERSION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private final InferenceSettings settings;
    private final ModelEventChannel events;
    private final Storage storage;
    private final ModelHolder holder;
    private final InferenceMetrics metrics;
    private final Set<String> refused = ConcurrentHashMap.newKeySet();
    /** The challenger's model during a canary; empty otherwise. */
    private final ModelHolder canary = new ModelHolder();
    private final List<Follow> follows = new ArrayList<>();

    /** An alias followed into a holder. */
    private record Follow(String alias, ModelHolder holder) {}
    private volatile boolean running;
    private volatile boolean failed;
    private Thread thread;

    public ModelWatcher(InferenceSettings settings, ModelEventChannel events, Storage storage, ModelHolder holder,
                        InferenceMetrics metrics) {
        this.settings = settings;
        this.events = events;
        this.storage = storage;
        this.holder = holder;
        this.metrics = metrics;
    }

    public synchronized void start() {
        if (thread != null) {
            return;
        }
        // A malformed verify key stops the service here, instead of refusing every version later.
        Optional<ManifestVerifier> verifier = storage.manifestVerifier();
        LOG.infof("model manifests: %s", verifier.map(v -> "must be signed (" + v.algorithm() + ", " + CheckpointKeys.VERIFY_KEY + ")")
                .orElse("signatures not checked (" + CheckpointKeys.VERIFY_KEY + " unset); sha256 of every file checked"));
        ServingRuntime.refusal(settings.runtime(), settings.precision(), PyTorchEngine.device(settings.device())).ifPresent(why -> {
            throw new IllegalArgumentException("petal.inference.runtime=" + settings.runtime() + " with petal.inference.precision="
                    + settings.precision().id() + " on " + settings.device() + ": " + why);
        });
        PyTorchEngine.precisionCaveat(settings.precision(), PyTorchEngine.device(settings.device()))
                .ifPresent(why -> LOG.warnf("petal.inference.precision=%s, but %s", settings.precision().id(), why));
        follows.clear();
        follows.add(new Follow(servedAlias(), holder));
        if (settings.canaryPercent() > 0 && !isShadow()) {
            follows.add(new Follow(ModelRegistry.CHALLENGER, canary));
        }
        running = true;
        thread = new Thread(this::run, "petal-model-watcher");
        thread.setDaemon(true);
        thread.start();
    }

    public void stop() {
        running = false;
        synchronized (warm) {
            warm.values().forEach(r -> r.classifier().close());
            warm.clear();
        }
        Thread t = thread;
        if (t != null) {
            // The loop checks the flag every 200 ms.
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** False once the watcher has died of an unexpected error (a pinned watcher that is done is fine). */
    public boolean isAlive() {
        return !failed;
    }

    /** The alias this replica serves: {@code challenger} in shadow mode, else {@code petal.inference.model-alias}. */
    public String servedAlias() {
        return isShadow() ? ModelRegistry.CHALLENGER : ModelRegistry.checkAlias(settings.modelAlias());
    }

    public boolean isShadow() {
        return "shadow".equals(settings.mode());
    }

    /** The challenger's model while a canary runs (empty before it is loaded, or without a canary). */
    public ModelHolder canaryHolder() {
        return canary;
    }

    /** Versions refused so far (failed verification or loading). */
    public Set<String> refusedVersions() {
        return Set.copyOf(refused);
    }

    private void run() {
        Optional<String> pinned = settings.modelVersion().filter(v -> !v.isBlank());
        if (pinned.isPresent()) {
            LOG.infof("serving %s version %s only (pinned): not following latest", settings.modelName(), pinned.get());
            while (running && !holder.isLoaded() && !refused.contains(pinned.get())) {
                offer(pinned.get());
                sleep(settings.pollInterval());
            }
            return;
        }
        LOG.infof("serving %s alias %s%s", settings.modelName(), servedAlias(),
                follows.size() > 1 ? " (canary: " + settings.canaryPercent() + "% of keys to " + ModelRegistry.CHALLENGER + ")" : "");
        events.start(this);
        try {
            while (running) {
                for (Follow follow : follows) {
                    aliased(follow.alias()).ifPresent(version -> offer(follow, version));
                }
                prepareChallenger();
                sleep(settings.pollInterval());
            }
        } catch (RuntimeException | Error e) {
            // Errors too (a LinkageError, OutOfMemoryError): a watcher that died silently would never
            // reload again while liveness said all is well. Failing liveness gets the pod restarted.
            if (running) {
                failed = true;
                LOG.error("the model watcher stopped; the current model keeps serving", e);
            }
        }
    }

    /**
     * A {@code petal.models} event arrived. An alias move of this model's followed alias: the alias is read from object
     * storage and the version it points at loaded. A version event: loaded only when a followed alias points at that
     * version; otherwise ignored and counted ({@code not-aliased}).
     */
    void onEvent(ConsumerRecord<byte[], byte[]> event) {
        if (!running) {
            return;
        }
        Optional<AliasMove> move = ModelEvent.parseAlias(event.value());
        if (move.isPresent()) {
            AliasMove m = move.get();
            for (Follow follow : follows) {
                if (settings.modelName().equals(m.name()) && follow.alias().equals(m.alias())) {
                    aliased(follow.alias()).ifPresent(version -> offer(follow, version));
                }
            }
            if (settings.modelName().equals(m.name()) && ModelRegistry.CHALLENGER.equals(m.alias())) {
                prepareChallenger();
            }
            return;
        }
        Optional<String> announced = versionIn(event);
        if (announced.isEmpty()) {
            return;
        }
        String version = announced.get();
        boolean followed = false;
        for (Follow follow : follows) {
            Optional<String> aliased = aliased(follow.alias());
            if (aliased.map(version::equals).orElse(false)) {
                offer(follow, version);
                followed = true;
            }
        }
        if (!followed) {
            metrics.refused(InferenceMetrics.NOT_ALIASED);
            LOG.infof("ignoring %s/%s from %s (partition %d, offset %d): no followed alias (%s) points at it; still serving %s",
                    settings.modelName(), UntrustedText.forLog(version), Topics.MODELS, event.partition(), event.offset(), servedAlias(),
                    holder.version().orElse("nothing"));
        }
    }

    /** Versions kept loaded beside the served ones, ready to swap in (the challenger, the last swapped out). */
    public Set<String> warmVersions() {
        synchronized (warm) {
            return Set.copyOf(warm.keySet());
        }
    }

    /** Keeps the challenger warm for a promote, unless a holder here follows it already. */
    private void prepareChallenger() {
        for (Follow follow : follows) {
            if (ModelRegistry.CHALLENGER.equals(follow.alias())) {
                return;
            }
        }
        aliased(ModelRegistry.CHALLENGER).ifPresent(this::prepare);
    }

    /** The version {@code alias} points at now, from object storage; empty when unset or unreadable. */
    private Optional<String> aliased(String alias) {
        try {
            return new ModelRegistry(storage.objects()).resolve(settings.modelName(), alias);
        } catch (ObjectStoreException | java.io.UncheckedIOException e) {
            LOG.warnf("cannot read alias %s of %s: %s", alias, settings.modelName(), e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * The version an event announces, from its manifest or its object key; empty when it is about another
     * model, and empty (a refusal, counted) when its object key is not this model's
     * {@code models/<name>/<version>/manifest.json} in the configured bucket.
     */
    Optional<String> versionIn(ConsumerRecord<byte[], byte[]> event) {
        String name = settings.modelName();
        ModelEvent announced;
        try {
            announced = ModelEvent.parse(event.key(), event.value());
        } catch (IllegalArgumentException e) {
            LOG.warnf("ignoring an unreadable %s event at offset %d: %s", Topics.MODELS, event.offset(), UntrustedText.forLog(e.getMessage()));
            return Optional.empty();
        }
        if (!name.equals(announced.modelName())) {
            return Optional.empty();
        }
        String version = announced.version();
        String objectKey = announced.manifestKey();
        if (!objectKey.isEmpty()) {
            Optional<String> keyed = versionOfManifestKey(objectKey);
            if (keyed.isEmpty() || (!version.isEmpty() && !version.equals(keyed.get()))) {
                refuseEvent(event, "announces " + (version.isEmpty() ? "a version" : "version " + version) + " of " + name
                        + " at " + objectKey + ", which is not " + CheckpointStore.versionPrefix(name, version.isEmpty() ? "<version>" : version)
                        + CheckpointManifest.MANIFEST_FILE + " in bucket " + storage.settings().bucket());
                return Optional.empty();
            }
            version = keyed.get();
        }
        return version.isEmpty() ? Optional.empty() : Optional.of(version);
    }

    /**
     * The version in {@code models/<name>/<version>/manifest.json} (or that key as
     * {@code s3://<configured bucket>/...}); empty for any other key, bucket or model.
     */
    private Optional<String> versionOfManifestKey(String objectKey) {
        String key = objectKey;
        if (key.startsWith("s3://")) {
            String bucketAndKey = key.substring("s3://".length());
            int slash = bucketAndKey.indexOf('/');
            if (slash < 0 || !bucketAndKey.substring(0, slash).equals(storage.settings().bucket())) {
                return Optional.empty();
            }
            key = bucketAndKey.substring(slash + 1);
        }
        String prefix = "models/" + settings.modelName() + "/";
        String suffix = "/" + CheckpointManifest.MANIFEST_FILE;
        if (!key.startsWith(prefix) || !key.endsWith(suffix) || key.length() <= prefix.length() + suffix.length()) {
            return Optional.empty();
        }
        String version = key.substring(prefix.length(), key.length() - suffix.length());
        return VERSION.matcher(version).matches() ? Optional.of(version) : Optional.empty();
    }

    /** Loads {@code version} into the served holder (a pinned version). */
    synchronized void offer(String version) {
        offer(new Follow(servedAlias(), holder), version);
    }

    /** A verified, loaded and warmed model, ready to swap in. */
    private record Ready(Classifier classifier, CheckpointManifest manifest, String took) {}

    /**
     * Loads {@code version} into the follow's holder unless it holds it already or it was refused. A version kept warm
     * ({@link #keepWarm}) swaps in at once; any other is downloaded, verified, loaded and warmed first.
     */
    private synchronized void offer(Follow follow, String version) {
        ModelHolder holder = follow.holder();
        if (holder.version().map(version::equals).orElse(false) || refused.contains(version)) {
            return;
        }
        Ready ready = takeWarm(version);
        boolean warm = ready != null;
        if (ready == null) {
            ready = load(version);
            if (ready == null) {
                return;
            }
        }
        String previous = holder.version().orElse("none");
        CheckpointManifest manifest = ready.manifest();
        holder.swap(ready.classifier(), manifest, retired -> keepWarm(new Ready(retired, manifest, null)));
        if (holder == this.holder) {
            metrics.reloaded(version);
        }
        LOG.infof("now serving %s/%s as %s in %s on %s (was %s; weights sha256 %s; %s)", settings.modelName(), version, follow.alias(),
                ready.classifier().precision().id(), ready.classifier().runtime(), previous, ready.classifier().id().sha256(), warm ? "kept warm, swapped at once" : ready.took());
    }

    /**
     * Loads the challenger into the warm standby ahead of time (when this replica does not serve it already), so that
     * promoting it swaps at once.
     */
    private synchronized void prepare(String version) {
        if (refused.contains(version) || isWarm(version)) {
            return;
        }
        for (Follow follow : follows) {
            if (follow.holder().version().map(version::equals).orElse(false)) {
                return;
            }
        }
        Ready ready = load(version);
        if (ready != null) {
            LOG.infof("%s/%s (%s) ready to swap in: %s", settings.modelName(), version, ModelRegistry.CHALLENGER, ready.took());
            keepWarm(ready);
        }
    }

    /** Downloads, verifies, loads and warms {@code version}; null when refused (counted) or not reachable yet. */
    private Ready load(String version) {
        String name = settings.modelName();
        if (!VERSION.matcher(version).matches()) {
            refuse(version, CheckpointIntegrityException.Reason.OUTSIDE_PREFIX.tag(),
                    new IllegalArgumentException("the version id is not a plain folder name under models/" + name + "/"));
            return null;
        }
        long start = System.nanoTime();
        LoadedModel loaded;
        Classifier classifier;
        try {
            loaded = ModelSource.fromStore(storage.checkpoints(), name, version);
        } catch (CheckpointIntegrityException e) {
            refuse(version, e.reason().tag(), e);
            return null;
        } catch (IllegalArgumentException e) {
            refuse(version, CheckpointIntegrityException.Reason.MANIFEST.tag(), e);
            return null;
        } catch (ObjectStoreException | java.io.UncheckedIOException e) {
            // Storage unreachable, or the local temporary file for the weights failed (a full disk).
            LOG.warnf("cannot fetch %s/%s yet (%s); will try again", name, version, e.getMessage());
            return null;
        }
        long fetched = System.nanoTime();
        try (loaded) { // the downloaded weights file is not needed once they are in the model
            classifier = Classifier.load(loaded, PyTorchEngine.device(settings.device()), settings.precision(), settings.runtime());
        } catch (CheckpointIntegrityException e) {
            // Verified bytes that do not fit the network the manifest describes (architecture, label count).
            refuse(version, CheckpointIntegrityException.Reason.SHAPE.tag(), e);
            return null;
        } catch (RuntimeException e) {
            refuse(version, "load", e);
            return null;
        }
        long built = System.nanoTime();
        try {
            classifier.warmUp(1);
        } catch (RuntimeException e) {
            classifier.close();
            refuse(version, "load", e);
            return null;
        }
        long now = System.nanoTime();
        return new Ready(classifier, loaded.manifest(), String.format("fetched and verified in %d ms, loaded in %d ms, warmed in %d ms",
                (fetched - start) / 1_000_000, (built - fetched) / 1_000_000, (now - built) / 1_000_000));
    }

    /**
     * Models kept loaded though no holder serves them: the challenger, loaded ahead of a promote, and the models swapped
     * out last, for a rollback. At most {@value #WARM_MODELS}; the oldest is closed. Versions are immutable, so a model
     * verified once stays good.
     */
    private static final int WARM_MODELS = 2;
    private final java.util.LinkedHashMap<String, Ready> warm = new java.util.LinkedHashMap<>();

    private void keepWarm(Ready ready) {
        List<Classifier> evicted = new ArrayList<>();
        synchronized (warm) {
            String version = ready.classifier().id().version();
            Ready previous = warm.remove(version);
            if (previous != null && previous.classifier() != ready.classifier()) {
                evicted.add(previous.classifier());
            }
            warm.put(version, ready);
            while (warm.size() > WARM_MODELS) {
                String oldest = warm.keySet().iterator().next();
                evicted.add(warm.remove(oldest).classifier());
            }
        }
        evicted.forEach(Classifier::close);
    }

    private Ready takeWarm(String version) {
        synchronized (warm) {
            return warm.remove(version);
        }
    }

    private boolean isWarm(String version) {
        synchronized (warm) {
            return warm.containsKey(version);
        }
    }

    private void refuse(String version, String reason, Exception e) {
        refused.add(version);
        metrics.refused(reason);
        // The version and the reason come from petal.models or the bucket: anyone who can write there chooses them.
        LOG.errorf("refused model %s/%s (%s): %s; still serving %s", settings.modelName(), UntrustedText.forLog(version), reason,
                UntrustedText.oneLine(e.getMessage(), 400), holder.version().orElse("nothing"));
    }

    /** A {@code petal.models} event that points outside this model's prefix: ignored and counted, no version marked. */
    private void refuseEvent(ConsumerRecord<byte[], byte[]> event, String why) {
        metrics.refused(CheckpointIntegrityException.Reason.OUTSIDE_PREFIX.tag());
        LOG.errorf("refused a %s event (partition %d, offset %d) (%s): it %s; still serving %s", Topics.MODELS, event.partition(),
                event.offset(), CheckpointIntegrityException.Reason.OUTSIDE_PREFIX.tag(), UntrustedText.oneLine(why, 600),
                holder.version().orElse("nothing"));
    }

    private void sleep(Duration duration) {
        long until = System.currentTimeMillis() + duration.toMillis();
        try {
            while (running && System.currentTimeMillis() < until) {
                Thread.sleep(Math.min(200, Math.max(1, until - System.currentTimeMillis())));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }
}
