package dev.petal.common.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files written by real torch.save (PyTorch 1.13, {@code src/test/resources/torch/make_pth_fixtures.py}):
 * values follow the script's formula, and hostile pickles are refused without running.
 */
class TorchSaveReaderTest {
    /** What the malicious fixtures would create if their pickle ran (see the script). */
    private static final Path PWNED_MARKER = Path.of("/tmp/petal-pth-fixture-pwned");

    @TempDir
    Path tmp;

    @Test
    void readsAStateDictOfEveryDtypeWithTheScriptsValues() throws Exception {
        for (String fixture : List.of("state_dict.pth", "state_dict_protocol4.pth")) {
            SafeTensors weights = TorchSaveReader.read(fixture(fixture));
            assertEquals(List.of("scale", "conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                    "bn1.num_batches_tracked", "fc.weight", "fc.bias", "extra.view_a", "extra.view_b"),
                    List.copyOf(weights.tensors().keySet()), fixture + ": _metadata is an attribute, not an entry");
            // Tensor number t holds t - 0.125 * j at flat index j, whatever its dtype.
            expect(weights, "scale", 0, "F64", 2);
            expect(weights, "conv1.weight", 1, "F32", 4, 3, 3, 3);
            expect(weights, "bn1.weight", 2, "BF16", 4);
            expect(weights, "bn1.bias", 3, "BF16", 4);
            expect(weights, "bn1.running_mean", 4, "BF16", 4);
            expect(weights, "bn1.running_var", 5, "BF16", 4);
            expect(weights, "fc.weight", 7, "F16", 3, 4);
            expect(weights, "fc.bias", 8, "F16", 3);
            SafeTensors.Tensor batches = weights.get("bn1.num_batches_tracked");
            assertEquals("I64", batches.dtype());
            assertArrayEquals(new long[0], batches.shape(), "an int64 scalar");
            assertNull(batches.values(), "integer tensors are listed, not converted");
            // Views of one shared storage, base[k] = 0.5 k: view_a starts at offset 2, view_b at 8.
            assertArrayEquals(new long[] {2, 3}, weights.get("extra.view_a").shape());
            assertArrayEquals(new float[] {1f, 1.5f, 2f, 2.5f, 3f, 3.5f}, weights.get("extra.view_a").values());
            assertArrayEquals(new float[] {4f, 4.5f, 5f, 5.5f}, weights.get("extra.view_b").values());
        }
    }

    private static void expect(SafeTensors weights, String name, int t, String dtype, long... shape) {
        SafeTensors.Tensor tensor = weights.get(name);
        assertEquals(dtype, tensor.dtype(), name);
        assertArrayEquals(shape, tensor.shape(), name);
        float[] expected = new float[(int) tensor.size()];
        for (int j = 0; j < expected.length; j++) {
            expected[j] = t - 0.125f * j;
        }
        assertArrayEquals(expected, tensor.values(), name); // exact: every value fits float16 and bfloat16
    }

    @Test
    void aPickleCallingOsSystemIsRefusedAndNothingRuns() throws Exception {
        Files.deleteIfExists(PWNED_MARKER);
        CheckpointIntegrityException e = assertThrows(CheckpointIntegrityException.class,
                () -> TorchSaveReader.read(fixture("malicious_os_system.pth")));
        // pickle spells os.system as posix.system on Linux
        assertEquals("refusing malicious_os_system.pth: the pickle calls posix.system, which a state_dict never does;"
                + " only tensors and OrderedDict are read", e.getMessage());
        assertFalse(Files.exists(PWNED_MARKER), "the payload must not have run");
    }

    @Test
    void aPickleReachingEvalThroughStackGlobalIsRefused() throws Exception {
        Files.deleteIfExists(PWNED_MARKER);
        CheckpointIntegrityException e = assertThrows(CheckpointIntegrityException.class,
                () -> TorchSaveReader.read(fixture("malicious_eval.pth")));
        assertTrue(e.getMessage().startsWith("refusing malicious_eval.pth: the pickle calls builtins.eval,"), e.getMessage());
        assertFalse(Files.exists(PWNED_MARKER), "the payload must not have run");
    }

    @Test
    void theLegacyFormatIsRefusedByName() {
        CheckpointIntegrityException e = assertThrows(CheckpointIntegrityException.class,
                () -> TorchSaveReader.read(fixture("legacy_format.pth")));
        assertTrue(e.getMessage().contains("legacy format (PyTorch before 1.6"), e.getMessage());
    }

    @Test
    void aNonContiguousTensorIsRefused() {
        CheckpointIntegrityException e = assertThrows(CheckpointIntegrityException.class,
                () -> TorchSaveReader.read(fixture("noncontiguous.pth")));
        assertEquals("noncontiguous.pth: tensor 'weight' is not contiguous (shape [3, 2], strides [1, 3]);"
                + " save tensor.contiguous() instead", e.getMessage());
    }

    @Test
    void aStorageShorterThanItsTensorIsRefused() throws Exception {
        Path truncated = tmp.resolve("truncated.pth");
        copyZip(fixture("state_dict.pth"), truncated, "state_dict/data/0", 4);
        CheckpointIntegrityException e = assertThrows(CheckpointIntegrityException.class, () -> TorchSaveReader.read(truncated));
        assertEquals("truncated.pth: tensor 'scale': storage 0 has 4 bytes, its 2 F64 elements need 16", e.getMessage());
    }

    @Test
    void anArchiveWithoutItsVersionOrPickleIsRefused() throws Exception {
        Path noVersion = tmp.resolve("no-version.pth");
        copyZip(fixture("state_dict.pth"), noVersion, "state_dict/version", -1);
        assertTrue(assertThrows(CheckpointIntegrityException.class, () -> TorchSaveReader.read(noVersion))
                .getMessage().contains("has no state_dict/version"));
        Path noPickle = tmp.resolve("no-pickle.pth");
        copyZip(fixture("state_dict.pth"), noPickle, "state_dict/data.pkl", -1);
        assertTrue(assertThrows(CheckpointIntegrityException.class, () -> TorchSaveReader.read(noPickle))
                .getMessage().contains("expected one <archive>/data.pkl, found 0"));
    }

    @Test
    void contiguityIgnoresTheStrideOfSizeOneDimensions() {
        assertTrue(TorchSaveReader.isContiguous(new long[] {4, 3, 3, 3}, new long[] {27, 9, 3, 1}));
        assertTrue(TorchSaveReader.isContiguous(new long[] {2, 1, 3}, new long[] {3, 99, 1}));
        assertTrue(TorchSaveReader.isContiguous(new long[0], new long[0]));
        assertFalse(TorchSaveReader.isContiguous(new long[] {3, 2}, new long[] {1, 3}));
    }

    /** A committed fixture as a file: in place, or copied out of the test jar when another module's test reads it. */
    static Path fixture(String name) throws URISyntaxException {
        java.net.URL url = TorchSaveReaderTest.class.getResource("/torch/" + name);
        if ("file".equals(url.getProtocol())) {
            return Path.of(url.toURI());
        }
        try (java.io.InputStream in = url.openStream()) {
            Path copy = Files.createTempFile("petal-fixture-", "-" + name);
            copy.toFile().deleteOnExit();
            Files.copy(in, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return copy;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A copy of a zip with {@code entryName} cut to {@code keepBytes} bytes, or dropped when negative. */
    private static void copyZip(Path from, Path to, String entryName, int keepBytes) throws IOException {
        try (ZipFile in = new ZipFile(from.toFile()); OutputStream file = Files.newOutputStream(to);
                ZipOutputStream out = new ZipOutputStream(file)) {
            for (Enumeration<? extends ZipEntry> entries = in.entries(); entries.hasMoreElements(); ) {
                ZipEntry entry = entries.nextElement();
                if (entry.getName().equals(entryName) && keepBytes < 0) {
                    continue;
                }
                byte[] bytes;
                try (InputStream data = in.getInputStream(entry)) {
                    bytes = data.readAllBytes();
                }
                if (entry.getName().equals(entryName)) {
                    bytes = java.util.Arrays.copyOf(bytes, keepBytes);
                }
                out.putNextEntry(new ZipEntry(entry.getName()));
                out.write(bytes);
                out.closeEntry();
            }
        }
    }
}
