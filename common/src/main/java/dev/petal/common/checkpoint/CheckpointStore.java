package dev.petal.common.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.petal.common.storage.NoSuchObjectException;
import dev.petal.common.storage.ObjectStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The checkpoint layout in object storage: {@code models/<name>/<version>/} holds the files and
 * {@code manifest.json}; {@code models/<name>/latest} holds the newest version's id. Files go
 * first, the manifest last, then {@code latest}: a reader never sees a half-written version.
 *
 * <p>With a {@link ManifestSigner} every published manifest is signed; with a {@link ManifestVerifier}
 * {@link #manifest} refuses a manifest that is unsigned or whose signature does not verify.
 */
public final class CheckpointStore {
    public static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final ObjectStore store;
    private final ManifestSigner signer;
    private final ManifestVerifier verifier;

    /** Publishes unsigned manifests and reads any manifest, signed or not. */
    public CheckpointStore(ObjectStore store) {
        this(store, null, null);
    }

    /** Signs every manifest it publishes with {@code signer} ({@code null}: unsigned). */
    public CheckpointStore(ObjectStore store, ManifestSigner signer) {
        this(store, signer, null);
    }

    /**
     * @param signer   signs every published manifest; {@code null}: unsigned
     * @param verifier every manifest read must carry a signature it accepts; {@code null}: signatures unchecked
     */
    public CheckpointStore(ObjectStore store, ManifestSigner signer, ManifestVerifier verifier) {
        this.store = store;
        this.signer = signer;
        this.verifier = verifier;
    }

    public static String versionPrefix(String name, String version) {
        return "models/" + name + "/" + version + "/";
    }

    public static String latestKey(String name) {
        return "models/" + name + "/latest";
    }

    /** A verified checkpoint: its manifest and the bytes of each file it lists. */
    public record Checkpoint(CheckpointManifest manifest, Map<String, byte[]> files) {
        public byte[] weights() {
            return files.get(CheckpointManifest.WEIGHTS_FILE);
        }
    }

    /**
     * Uploads {@code files}, then the manifest (with their sizes and hashes filled in), then moves
     * {@code latest}. Returns the manifest as written, signed when this store has a signer (a
     * signature the draft carries is dropped or replaced: it cannot cover the new file list). Safe to
     * call again after a failure: a version whose identical manifest is already stored only has
     * {@code latest} moved (signing is deterministic, so a signed retry matches too).
     */
    public CheckpointManifest publish(CheckpointManifest draft, Map<String, byte[]> files) {
        String prefix = versionPrefix(draft.name(), draft.version());
        Map<String, CheckpointManifest.FileEntry> entries = new LinkedHashMap<>();
        for (Map.Entry<String, byte[]> file : files.entrySet()) {
            entries.put(file.getKey(), new CheckpointManifest.FileEntry(file.getValue().length, Sha256.hex(file.getValue())));
        }
        CheckpointManifest manifest = draft.withFiles(entries).withSignature(null);
        if (signer != null) {
            manifest = signer.sign(manifest);
        }
        byte[] manifestJson = toJson(manifest);
        if (store.exists(prefix + CheckpointManifest.MANIFEST_FILE)) {
            // A retry after the manifest went up but latest did not: the same version, finish it.
            if (!Arrays.equals(store.get(prefix + CheckpointManifest.MANIFEST_FILE), manifestJson)) {
                throw new IllegalStateException("version " + draft.version() + " of " + draft.name()
                        + " exists already; versions are immutable");
            }
        } else {
            for (Map.Entry<String, byte[]> file : files.entrySet()) {
                store.put(prefix + file.getKey(), file.getValue());
            }
            store.put(prefix + CheckpointManifest.MANIFEST_FILE, manifestJson);
        }
        store.put(latestKey(draft.name()), draft.version().getBytes(StandardCharsets.UTF_8));
        return manifest;
    }

    public Optional<String> latestVersion(String name) {
        try {
            return Optional.of(new String(store.get(latestKey(name)), StandardCharsets.UTF_8).trim());
        } catch (NoSuchObjectException e) {
            return Optional.empty();
        }
    }

    /**
     * Reads a version's manifest. It must name the model and version it is stored under, and when
     * this store has a verifier, carry a signature that verifies over the bytes as stored.
     *
     * @throws CheckpointIntegrityException unreadable, misplaced, unsigned or mis-signed
     */
    public CheckpointManifest manifest(String name, String version) {
        String key = versionPrefix(name, version) + CheckpointManifest.MANIFEST_FILE;
        byte[] json = store.get(key);
        if (verifier != null) {
            verifier.verify(json, key);
        }
        CheckpointManifest manifest = CheckpointManifest.parse(json, "the manifest of " + name + "/" + version);
        if (!name.equals(manifest.name()) || !version.equals(manifest.version())) {
            // Its files would be read from the prefix it names, not the one it was found under.
            throw new CheckpointIntegrityException(CheckpointIntegrityException.Reason.OUTSIDE_PREFIX, key + " describes "
                    + manifest.name() + "/" + manifest.version() + ", not " + name + "/" + version);
        }
        return manifest;
    }

    /** Downloads every file the manifest lists and checks its size and sha256. */
    public Checkpoint fetch(CheckpointManifest manifest) {
        String prefix = versionPrefix(manifest.name(), manifest.version());
        weightsEntry(manifest);
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (Map.Entry<String, CheckpointManifest.FileEntry> entry : manifest.files().entrySet()) {
            String key = fileKey(prefix, entry.getKey());
            byte[] bytes = store.get(key);
            entry.getValue().verify(key, bytes.length, Sha256.hex(bytes));
            files.put(entry.getKey(), bytes);
        }
        return new Checkpoint(manifest, files);
    }

    /**
     * Downloads only the version's weights, to {@code target}, and checks their size and sha256 from the
     * file: what serving needs, without the optimizer state (twice the weights) or the whole file on the heap.
     * {@code target} stays the caller's to delete, also when the check fails.
     */
    public void downloadWeights(CheckpointManifest manifest, Path target) {
        String key = fileKey(versionPrefix(manifest.name(), manifest.version()), CheckpointManifest.WEIGHTS_FILE);
        CheckpointManifest.FileEntry expected = weightsEntry(manifest);
        store.download(key, target);
        try {
            expected.verify(key, Files.size(target), Sha256.hex(target));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read back " + target, e);
        }
    }

    private static CheckpointManifest.FileEntry weightsEntry(CheckpointManifest manifest) {
        return manifest.requireWeightsEntry("manifest of " + manifest.name() + "/" + manifest.version());
    }

    private static String fileKey(String prefix, String file) {
        if (file.contains("..") || file.startsWith("/")) {
            throw new CheckpointIntegrityException(CheckpointIntegrityException.Reason.OUTSIDE_PREFIX,
                    "manifest names a file outside its version: " + file);
        }
        return prefix + file;
    }

    public static byte[] toJson(CheckpointManifest manifest) {
        try {
            return JSON.writeValueAsBytes(manifest);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
