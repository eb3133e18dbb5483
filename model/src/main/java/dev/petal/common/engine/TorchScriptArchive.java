package dev.petal.common.engine;

import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes a TorchScript module file (what {@code torch.jit.save} writes and {@code torch::jit::load}
 * reads) for a module with no parameters of its own and one attribute, {@code w: List[Tensor]},
 * starting empty: its methods fill and use it. libtorch compiles the module's source when it loads
 * the file, so Java can hand libtorch a whole program without Python.
 *
 * <p>The file is a zip: {@code code/__torch__.py} (the source), {@code data.pkl} (the module object,
 * pickle protocol 2: the class, {@code training} and the empty list), {@code constants.pkl} (an empty
 * tuple) and {@code version} (3, the format torch 1.13 writes; newer libtorch reads it).
 */
public final class TorchScriptArchive {
    private static final String ROOT = "petal/";

    private TorchScriptArchive() {}

    /**
     * The archive of class {@code __torch__.className} whose body is {@code methods}: TorchScript
     * {@code def}s indented by four spaces, which may read and assign {@code self.w}.
     */
    public static byte[] of(String className, String methods) {
        if (!className.matches("[A-Za-z_][A-Za-z0-9_]*")) {
            throw new IllegalArgumentException("not a TorchScript class name: " + className);
        }
        String source = "class " + className + "(Module):\n"
                + "    __parameters__ = []\n"
                + "    __buffers__ = []\n"
                + "    training : bool\n"
                + "    w : List[Tensor]\n"
                + methods;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            stored(zip, "data.pkl", modulePickle(className));
            stored(zip, "code/__torch__.py", source.getBytes(StandardCharsets.UTF_8));
            stored(zip, "constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'});
            stored(zip, "version", "3\n".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in-memory streams do not fail
        }
        return out.toByteArray();
    }

    /** Compiles {@link #of the archive} of {@code className} and {@code methods} into a module in {@code manager}. */
    public static PtSymbolBlock load(NDManager manager, String className, String methods) {
        try {
            return JniUtils.loadModule((PtNDManager) manager, new ByteArrayInputStream(of(className, methods)), false, false);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // an in-memory stream does not fail
        }
    }

    /** {@code __torch__.className()} with state {training: False, w: build_tensorlist([])}. */
    private static byte[] modulePickle(String className) {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(0x80); // PROTO 2
        p.write(2);
        global(p, "__torch__", className);
        p.write(')'); // EMPTY_TUPLE
        p.write(0x81); // NEWOBJ
        p.write('}'); // EMPTY_DICT
        p.write('('); // MARK
        unicode(p, "training");
        p.write(0x89); // NEWFALSE: loaded for evaluation
        unicode(p, "w");
        global(p, "torch.jit._pickle", "build_tensorlist"); // gives the empty list its element type
        p.write('('); // MARK
        p.write(']'); // EMPTY_LIST
        p.write('t'); // TUPLE: the one argument
        p.write('R'); // REDUCE
        p.write('u'); // SETITEMS
        p.write('b'); // BUILD
        p.write('.'); // STOP
        return p.toByteArray();
    }

    private static void global(ByteArrayOutputStream p, String module, String name) {
        p.write('c');
        p.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    private static void unicode(ByteArrayOutputStream p, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        p.write('X'); // BINUNICODE: 4-byte little-endian length, then UTF-8
        for (int i = 0; i < 4; i++) {
            p.write(bytes.length >>> (8 * i));
        }
        p.writeBytes(bytes);
    }

    /** Uncompressed entries, as torch writes its small records. */
    private static void stored(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
        ZipEntry entry = new ZipEntry(ROOT + name);
        entry.setMethod(ZipEntry.STORED);
        entry.setSize(bytes.length);
        entry.setCompressedSize(bytes.length);
        CRC32 crc = new CRC32();
        crc.update(bytes);
        entry.setCrc(crc.getValue());
        zip.putNextEntry(entry);
        zip.write(bytes);
        zip.closeEntry();
    }
}
