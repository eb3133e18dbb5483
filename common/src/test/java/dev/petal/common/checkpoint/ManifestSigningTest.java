package dev.petal.common.checkpoint;

import dev.petal.common.image.Normalization;
import dev.petal.common.model.Architecture;
import dev.petal.common.model.ModelSpec;
import dev.petal.common.model.Stem;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.petal.common.checkpoint.CheckpointIntegrityException.Reason;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManifestSigningTest {
    static final String HMAC_SECRET = Base64.getEncoder().encodeToString(bytes(32, 7));
    static final String HMAC_KEY = "hmac-sha256:" + HMAC_SECRET;

    /** A manifest as the trainer makes it: Float recipe values and metrics, a dataset range, two files. */
    static CheckpointManifest manifest() {
        Map<String, Object> recipe = new LinkedHashMap<>();
        recipe.put("learningRate", 1e-4f);
        recipe.put("warmupFactor", 0.01f);
        recipe.put("weightDecay", 0.05f);
        recipe.put("batchSize", 4);
        recipe.put("architecture", "resnet18");
        recipe.put("seed", 100L);
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("trainLoss", 1.2345678f);
        metrics.put("validAccuracy", 0.3f);
        metrics.put("valid", Map.of("loss", 2.5f, "perClass", List.of(0.1f, 0.7f)));
        ModelSpec spec = new ModelSpec(Architecture.RESNET18, List.of("daisy", "rose", "tulip"), 32, Stem.SMALL, Normalization.IMAGENET);
        return new CheckpointManifest(CheckpointManifest.FORMAT_VERSION, "flowers", "20250101-000000-abc", "parent-1",
                "2025-01-01T00:00:00Z", spec, recipe, 3, 1234L, metrics,
                new CheckpointManifest.DatasetRange("petal.train", Map.of(0, List.of(0L, 100L), 1, List.of(5L, 99L))),
                Map.of(CheckpointManifest.WEIGHTS_FILE, new CheckpointManifest.FileEntry(1000, "ab".repeat(32)),
                        "optimizer.bin", new CheckpointManifest.FileEntry(20, "cd".repeat(32))),
                null);
    }

    static KeyPair ed25519() throws Exception {
        return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    }

    static String privateKey(KeyPair pair) {
        return "ed25519:" + Base64.getEncoder().encodeToString(pair.getPrivate().getEncoded());
    }

    static String publicKey(KeyPair pair) {
        return "ed25519:" + Base64.getEncoder().encodeToString(pair.getPublic().getEncoded());
    }

    @Test
    void hmacSignsAndVerifies() {
        ManifestSigner signer = ManifestSigner.parse(HMAC_KEY);
        CheckpointManifest signed = signer.sign(manifest());
        assertTrue(signed.signature().startsWith("hmac-sha256:"), signed.signature());
        ManifestVerifier.parse(HMAC_KEY).verify(CheckpointStore.toJson(signed), "m");
        assertEquals(signed.signature(), signer.sign(signed).signature(), "deterministic, and its own signature is not signed");
    }

    @Test
    void ed25519SignsAndVerifies() throws Exception {
        KeyPair pair = ed25519();
        ManifestSigner signer = ManifestSigner.parse(privateKey(pair));
        assertEquals("ed25519", signer.algorithm());
        CheckpointManifest signed = signer.sign(manifest());
        assertTrue(signed.signature().startsWith("ed25519:"), signed.signature());
        assertEquals(64, Base64.getDecoder().decode(signed.signature().substring("ed25519:".length())).length);
        ManifestVerifier.parse(publicKey(pair)).verify(CheckpointStore.toJson(signed), "m");
        assertEquals(signed.signature(), signer.signatureOf(manifest()), "Ed25519 is deterministic: a retried publish matches");
    }

    /** The trainer signs Floats; inference reads the stored JSON back (Doubles) and must agree. */
    @Test
    void floatsSignedByTheTrainerVerifyAfterAJsonRoundTrip() throws Exception {
        KeyPair pair = ed25519();
        CheckpointManifest signed = ManifestSigner.parse(privateKey(pair)).sign(manifest());
        byte[] stored = CheckpointStore.toJson(signed); // what publish() puts in S3
        ManifestVerifier verifier = ManifestVerifier.parse(publicKey(pair));
        verifier.verify(stored, "stored");

        CheckpointManifest readBack = CheckpointStore.JSON.readValue(stored, CheckpointManifest.class);
        assertInstanceOf(Double.class, readBack.recipe().get("learningRate"), "Jackson reads floats back as Double");
        assertEquals(1e-4f, ((Double) readBack.recipe().get("learningRate")).floatValue());
        assertArrayEquals(CanonicalManifest.of(signed), CanonicalManifest.of(readBack), "Float and Double canonicalise the same");
        verifier.verify(readBack); // re-serialised from the Doubles: same canonical bytes
        verifier.verify(CheckpointStore.JSON.writeValueAsBytes(CheckpointStore.JSON.readTree(stored)), "re-indented");

        // Key order and whitespace are not signed: the stored JSON compacted and reordered verifies too.
        String compact = new String(CanonicalManifest.of(stored), StandardCharsets.UTF_8)
                .substring(CanonicalManifest.CONTEXT.length);
        assertTrue(compact.indexOf("\"createdAt\"") < compact.indexOf("\"version\""), "keys sorted: " + compact);
        assertFalse(compact.contains("signature"));
        assertFalse(compact.contains("\n"));
        String reordered = "{\"signature\":\"" + signed.signature() + "\"," + compact.substring(1);
        verifier.verify(reordered.getBytes(StandardCharsets.UTF_8), "reordered");
    }

    /** Every single-byte change anywhere in the stored manifest (fields, keys, the signature) is refused. */
    @Test
    void aOneByteChangeAnywhereIsRefused() throws Exception {
        KeyPair pair = ed25519();
        for (String[] keys : List.of(new String[] {HMAC_KEY, HMAC_KEY}, new String[] {privateKey(pair), publicKey(pair)})) {
            byte[] stored = CheckpointStore.toJson(ManifestSigner.parse(keys[0]).sign(manifest()));
            ManifestVerifier verifier = ManifestVerifier.parse(keys[1]);
            verifier.verify(stored, "intact");
            int refused = 0;
            for (int i = 0; i < stored.length; i++) {
                byte[] changed = stored.clone();
                changed[i] ^= 0x01;
                CheckpointIntegrityException e = assertThrows(CheckpointIntegrityException.class,
                        () -> verifier.verify(changed, "changed"),
                        "byte " + i + " changed and still verified: ..." + context(changed, i) + "...");
                assertTrue(e.reason() == Reason.SIGNATURE || e.reason() == Reason.MANIFEST, e.reason() + ": " + e.getMessage());
                refused++;
            }
            assertEquals(stored.length, refused);
        }
    }

    @Test
    void aChangedFieldValueIsRefused() {
        CheckpointManifest signed = ManifestSigner.parse(HMAC_KEY).sign(manifest());
        ManifestVerifier verifier = ManifestVerifier.parse(HMAC_KEY);
        List<CheckpointManifest> changed = new ArrayList<>();
        CheckpointManifest m = signed;
        changed.add(new CheckpointManifest(m.formatVersion(), m.name(), "other-version", m.parentVersion(), m.createdAt(), m.model(),
                m.recipe(), m.epoch(), m.step(), m.metrics(), m.dataset(), m.files(), m.signature()));
        changed.add(new CheckpointManifest(m.formatVersion(), m.name(), m.version(), m.parentVersion(), m.createdAt(),
                new ModelSpec(Architecture.RESNET34, m.model().labels(), 32, Stem.SMALL, Normalization.IMAGENET),
                m.recipe(), m.epoch(), m.step(), m.metrics(), m.dataset(), m.files(), m.signature()));
        changed.add(m.withFiles(Map.of(CheckpointManifest.WEIGHTS_FILE, new CheckpointManifest.FileEntry(1000, "ef".repeat(32)))));
        Map<String, Object> recipe = new LinkedHashMap<>(m.recipe());
        recipe.put("learningRate", 1.0001e-4f);
        changed.add(new CheckpointManifest(m.formatVersion(), m.name(), m.version(), m.parentVersion(), m.createdAt(), m.model(),
                recipe, m.epoch(), m.step(), m.metrics(), m.dataset(), m.files(), m.signature()));
        for (CheckpointManifest c : changed) {
            CheckpointIntegrityException e = assertThrows(CheckpointIntegrityException.class, () -> verifier.verify(c));
            assertEquals(Reason.SIGNATURE, e.reason());
            assertTrue(e.getMessage().contains("does not match"), e.getMessage());
        }
    }

    @Test
    void aWrongKeyIsRefused() throws Exception {
        CheckpointManifest hmacSigned = ManifestSigner.parse(HMAC_KEY).sign(manifest());
        String otherSecret = "hmac-sha256:" + Base64.getEncoder().encodeToString(bytes(32, 8));
        assertEquals(Reason.SIGNATURE, assertThrows(CheckpointIntegrityException.class,
                () -> ManifestVerifier.parse(otherSecret).verify(hmacSigned)).reason());

        KeyPair pair = ed25519();
        CheckpointManifest edSigned = ManifestSigner.parse(privateKey(pair)).sign(manifest());
        assertEquals(Reason.SIGNATURE, assertThrows(CheckpointIntegrityException.class,
                () -> ManifestVerifier.parse(publicKey(ed25519())).verify(edSigned)).reason());

        // Only the configured algorithm is used: an HMAC signature means nothing to an Ed25519 verifier and back.
        CheckpointIntegrityException e = assertThrows(CheckpointIntegrityException.class,
                () -> ManifestVerifier.parse(publicKey(pair)).verify(hmacSigned));
        assertTrue(e.getMessage().contains("'hmac-sha256'") && e.getMessage().contains("ed25519"), e.getMessage());
        assertThrows(CheckpointIntegrityException.class, () -> ManifestVerifier.parse(HMAC_KEY).verify(edSigned));
    }

    @Test
    void unsignedOrGarbledSignaturesAreRefused() {
        ManifestVerifier verifier = ManifestVerifier.parse(HMAC_KEY);
        CheckpointIntegrityException unsigned = assertThrows(CheckpointIntegrityException.class, () -> verifier.verify(manifest()));
        assertEquals(Reason.SIGNATURE, unsigned.reason());
        assertTrue(unsigned.getMessage().contains("unsigned"), unsigned.getMessage());
        String good = ManifestSigner.parse(HMAC_KEY).signatureOf(manifest());
        for (String bad : List.of("", "nonsense", "hmac-sha256:", "hmac-sha256:!!!", good.substring(0, good.length() - 2),
                good.substring(0, good.length() - 2) + "B=", "ed25519:" + good.substring("hmac-sha256:".length()))) {
            CheckpointIntegrityException e = assertThrows(CheckpointIntegrityException.class,
                    () -> verifier.verify(manifest().withSignature(bad)), bad);
            assertEquals(Reason.SIGNATURE, e.reason(), bad);
        }
        verifier.verify(manifest().withSignature(good));
        byte[] notJson = "{\"name\": \"x\", \"name\": \"y\", \"signature\": \"a\"}".getBytes(StandardCharsets.UTF_8);
        assertEquals(Reason.MANIFEST, assertThrows(CheckpointIntegrityException.class, () -> verifier.verify(notJson, "dup")).reason(),
                "duplicate keys are refused, not resolved");
    }

    @Test
    void malformedKeysGetClearMessagesWithoutTheKey() throws Exception {
        KeyPair pair = ed25519();
        String shortSecret = Base64.getEncoder().encodeToString(bytes(8, 1));
        String randomDer = Base64.getEncoder().encodeToString(bytes(48, 2));
        assertMessage(() -> ManifestSigner.parse(""), "empty");
        assertMessage(() -> ManifestSigner.parse(HMAC_SECRET), "'hmac-sha256:<base64 secret>' or 'ed25519:<base64 DER PKCS#8 private key>'",
                HMAC_SECRET);
        assertMessage(() -> ManifestSigner.parse("rsa:" + HMAC_SECRET), "'rsa' is not one of them", HMAC_SECRET);
        assertMessage(() -> ManifestSigner.parse("hmac-sha256:not base64!"), "is not base64");
        assertMessage(() -> ManifestSigner.parse("hmac-sha256:"), "empty after");
        assertMessage(() -> ManifestSigner.parse("hmac-sha256:" + shortSecret), "at least 16", shortSecret);
        assertMessage(() -> ManifestSigner.parse("ed25519:" + randomDer), "not a base64 DER PKCS#8 Ed25519 private key", randomDer);
        assertMessage(() -> ManifestSigner.parse(publicKey(pair)), "is a public key");
        assertMessage(() -> ManifestVerifier.parse(privateKey(pair)), "is a private key", privateKey(pair).substring(8));
        assertMessage(() -> ManifestVerifier.parse("ed25519:" + randomDer), "not a base64 DER X.509 Ed25519 public key", randomDer);
        assertMessage(() -> ManifestVerifier.parse("ed25519"), "'hmac-sha256:<base64 secret>' or 'ed25519:<base64 DER X.509 public key>'");
        String rsa = "ed25519:" + Base64.getEncoder().encodeToString(
                KeyPairGenerator.getInstance("RSA").generateKeyPair().getPrivate().getEncoded());
        assertMessage(() -> ManifestSigner.parse(rsa), "not a base64 DER PKCS#8 Ed25519 private key");

        assertTrue(ManifestSigner.fromConfig("petal.checkpoint.signing-key", "  ").isEmpty());
        assertTrue(ManifestVerifier.fromConfig("petal.checkpoint.verify-key", null).isEmpty());
        assertMessage(() -> ManifestVerifier.fromConfig("petal.checkpoint.verify-key", "hmac-sha256:" + shortSecret),
                "petal.checkpoint.verify-key: ", shortSecret);
        // Surrounding whitespace (a trailing newline from a Secret file) is fine; so is base64 wrapped over lines.
        ManifestSigner.parse(" " + privateKey(pair) + "\n");
        ManifestVerifier.parse("ed25519:" + Base64.getMimeEncoder(20, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(pair.getPublic().getEncoded()));
    }

    @Test
    void signingReplacesAStaleSignature() {
        // CheckpointStore.publish signs after filling in the file list (InferenceSigningTest publishes
        // through it); its retry check compares bytes, which holds because both algorithms are deterministic.
        CheckpointManifest stale = manifest().withSignature("hmac-sha256:AAAA");
        ManifestSigner signer = ManifestSigner.parse(HMAC_KEY);
        assertNotEquals(stale.signature(), signer.sign(stale).signature());
        ManifestVerifier.parse(HMAC_KEY).verify(signer.sign(stale));
        assertNull(manifest().signature());
    }

    /** Keys made the documented way (docs/configuration.md) parse; skipped where openssl is missing. */
    @Test
    void acceptsKeysMadeWithOpenssl(@TempDir Path dir) throws Exception {
        Path pem = dir.resolve("signing.pem");
        assumeTrue(run(null, "openssl", "genpkey", "-algorithm", "ed25519", "-out", pem.toString()) != null, "no openssl here");
        String privateDer = run(null, "sh", "-c", "openssl pkey -in '" + pem + "' -outform DER | base64 -w0");
        String publicDer = run(null, "sh", "-c", "openssl pkey -in '" + pem + "' -pubout -outform DER | base64 -w0");
        String secret = run(null, "openssl", "rand", "-base64", "32");
        assertEquals(64, privateDer.length(), "48 DER bytes: " + privateDer);
        assertEquals(60, publicDer.length(), "44 DER bytes: " + publicDer);

        CheckpointManifest signed = ManifestSigner.parse("ed25519:" + privateDer).sign(manifest());
        ManifestVerifier.parse("ed25519:" + publicDer).verify(CheckpointStore.toJson(signed), "openssl");
        CheckpointManifest hmac = ManifestSigner.parse("hmac-sha256:" + secret).sign(manifest());
        ManifestVerifier.parse("hmac-sha256:" + secret).verify(hmac);

        // And openssl verifies what Java signed: the signature is plain Ed25519 over the canonical bytes.
        Files.write(dir.resolve("data"), CanonicalManifest.of(CheckpointStore.toJson(signed)));
        Files.write(dir.resolve("sig"), Base64.getDecoder().decode(signed.signature().substring("ed25519:".length())));
        Files.writeString(dir.resolve("pub.pem"), run(null, "openssl", "pkey", "-in", pem.toString(), "-pubout"));
        String verified = run(dir, "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin",
                "-in", "data", "-sigfile", "sig");
        assertTrue(verified != null && verified.contains("Signature Verified Successfully"), String.valueOf(verified));
    }

    // ---- helpers

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String expected, String... secrets) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
        for (String secret : secrets) {
            assertFalse(e.getMessage().contains(secret), "the message repeats the key: " + e.getMessage());
        }
    }

    /** stdout of a command, trimmed, or null when it cannot run or fails. */
    private static String run(Path dir, String... command) throws Exception {
        try {
            Process p = new ProcessBuilder(command).directory(dir == null ? null : dir.toFile()).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0 ? new String(out, StandardCharsets.UTF_8).trim() : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }

    private static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new SecureRandom().nextBytes(b); // random keys; seed only tells the call sites apart
        return b;
    }

    private static String context(byte[] json, int i) {
        return new String(json, Math.max(0, i - 20), Math.min(json.length, i + 20) - Math.max(0, i - 20), StandardCharsets.UTF_8);
    }
}
