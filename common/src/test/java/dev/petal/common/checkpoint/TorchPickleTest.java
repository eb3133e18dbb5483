package dev.petal.common.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The restricted unpickler on handwritten pickles: what it builds, and what it refuses by name. */
class TorchPickleTest {

    @Test
    void buildsPlainValuesFromTheAllowedOpcodes() {
        Object value = TorchPickle.load(pickle(
                "\u0080\u0002", "]", "q\u0000", "(",
                "J", le(-1, 4), "\u008a\u0001\u00ff", "\u008a\u0000", "M", le(0x1234, 2), "K\u00c8",
                "G", be(1.5), "N", "\u0088", "\u0089",
                "X", le(3, 4), "abc", "\u008c\u0002de",
                "K\u0001K\u0002K\u0003\u0087", "(K\u0004t", "(K\u0005K\u0006d", "(K\u0007l",
                "r", le(300, 4), "j", le(300, 4), "h\u0000\u0085",
                "e", "."), "test.pkl");
        List<?> list = (List<?>) value;
        assertEquals(-1L, list.get(0), "BININT is signed");
        assertEquals(-1L, list.get(1), "LONG1 is two's complement");
        assertEquals(0L, list.get(2), "LONG1 of no bytes is 0");
        assertEquals(0x1234L, list.get(3));
        assertEquals(200L, list.get(4), "BININT1 is unsigned");
        assertEquals(1.5, list.get(5));
        assertEquals(Arrays.asList(null, true, false, "abc", "de"), list.subList(6, 11));
        assertEquals(new TorchPickle.Tuple(List.of(1L, 2L, 3L)), list.get(11));
        assertEquals(new TorchPickle.Tuple(List.of(4L)), list.get(12));
        assertEquals(Map.of(5L, 6L), list.get(13));
        assertEquals(List.of(7L), list.get(14));
        assertSame(list.get(14), list.get(15), "LONG_BINGET gives the object LONG_BINPUT stored");
        assertSame(list, ((TorchPickle.Tuple) list.get(16)).items().get(0), "BINGET 0: the outer list itself");
    }

    @Test
    void buildsATensorReferenceFromATorchPersistentId() {
        Object value = TorchPickle.load(pickle("\u0080\u0002",
                "ccollections\nOrderedDict\n)R(", "X", le(1, 4), "w",
                "ctorch._utils\n_rebuild_tensor_v2\n((X", le(7, 4), "storagectorch\nHalfStorage\nX", le(1, 4), "0X",
                le(3, 4), "cpuK\u0006tQ", "K\u0002", "K\u0002K\u0002\u0086", "K\u0002K\u0001\u0086", "\u0089",
                "ccollections\nOrderedDict\n)R", "tR", "u", "}X", le(9, 4), "_metadata}sb", "."), "t.pth");
        Map<?, ?> dict = (Map<?, ?>) value;
        assertEquals(List.of("w"), List.copyOf(dict.keySet()), "BUILD's attributes are not entries");
        TorchPickle.TensorRef tensor = (TorchPickle.TensorRef) dict.get("w");
        assertEquals(new TorchPickle.StorageRef(TorchDtype.FLOAT16, "0", 6), tensor.storage());
        assertEquals(2, tensor.offset());
        assertArrayEquals(new long[] {2, 2}, tensor.shape());
        assertArrayEquals(new long[] {2, 1}, tensor.stride());
    }

    @Test
    void refusesAnyOtherGlobalByName() {
        assertRefused("the pickle calls os.system, which a state_dict never does; only tensors and OrderedDict are read",
                "\u0080\u0002cos\nsystem\nX", le(4, 4), "echo\u0085R.");
        assertRefused("the pickle calls builtins.getattr", "\u0080\u0004\u008c\u0008builtins\u008c\u0007getattr\u0093.");
        assertRefused("the pickle calls torch.load", "\u0080\u0002ctorch\nload\n.");
        assertRefused("the pickle calls torch.FloatStorage", "\u0080\u0002ctorch\nFloatStorage\n)R.");
    }

    @Test
    void refusesOpcodesAStateDictNeverUses() {
        assertRefused("opcode 0x69 (INST) at byte 3", "\u0080\u0002(ios\nsystem\n.");
        assertRefused("opcode 0x81 (NEWOBJ)", "\u0080\u0002ccollections\nOrderedDict\n)\u0081.");
        assertRefused("opcode 0x50 (PERSID)", "\u0080\u0002P0\n.");
        assertRefused("opcode 0x82 (EXT1)", "\u0080\u0002\u0082\u0001.");
        assertRefused("the pickle sets the state of a list", "\u0080\u0002]}b.");
    }

    @Test
    void malformedPicklesAreErrorsNotCrashes() {
        assertMalformed("stack underflow", "\u0080\u0002(a.");
        assertMalformed("no MARK to close", "\u0080\u0002t.");
        assertMalformed("memo entry 5 read before it was written", "\u0080\u0002h\u0005.");
        assertMalformed("ends in the middle of an opcode", "\u0080\u0002X\u0010\u0000");
        assertMalformed("a string of 4294967295 bytes", "\u0080\u0002X\u00ff\u00ff\u00ff\u00ff.");
        assertMalformed("no STOP opcode", "\u0080\u0002N");
        assertMalformed("pickle protocol 9", "\u0080\u0009.");
        assertMalformed("an integer of 9 bytes", "\u0080\u0002\u008a\u0009");
        assertMalformed("a persistent id that is not a storage", "\u0080\u0002X\u0001\u0000\u0000\u0000xQ.");
    }

    private static void assertRefused(String expected, String... parts) {
        CheckpointIntegrityException e = assertThrows(CheckpointIntegrityException.class,
                () -> TorchPickle.load(pickle(parts), "evil.pth"));
        assertTrue(e.getMessage().startsWith("refusing evil.pth: "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    private static void assertMalformed(String expected, String... parts) {
        CheckpointIntegrityException e = assertThrows(CheckpointIntegrityException.class,
                () -> TorchPickle.load(pickle(parts), "bad.pth"));
        assertTrue(e.getMessage().startsWith("bad.pth: data.pkl is not a state_dict pickle: "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    /** Bytes from strings of chars 0-255 (ISO 8859-1 maps each char to the byte of the same value). */
    private static byte[] pickle(String... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String part : parts) {
            out.writeBytes(part.getBytes(StandardCharsets.ISO_8859_1));
        }
        return out.toByteArray();
    }

    private static String le(long value, int bytes) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < bytes; i++) {
            s.append((char) ((value >> (8 * i)) & 0xFF));
        }
        return s.toString();
    }

    private static String be(double value) {
        return new String(ByteBuffer.allocate(8).putDouble(value).array(), StandardCharsets.ISO_8859_1);
    }
}
