package dev.petal.common.checkpoint;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A block's parameters (running statistics included) as bytes, in DJL's parameter format. */
public final class ModelWeights {
    private ModelWeights() {}

    /**
     * The parameters in one array of exactly their size. A growing buffer would hold up to twice the
     * weights (its doubled array, then the trimmed copy), and the JVM keeps the heap that grew for it:
     * so the block is written twice, first only to count the bytes.
     */
    public static byte[] toBytes(Block block) {
        CountingOutputStream counter = new CountingOutputStream();
        write(block, counter);
        FixedArrayOutputStream out = new FixedArrayOutputStream(Math.toIntExact(counter.count));
        write(block, out);
        return out.filled();
    }

    /** Writes the parameters to {@code file}, streamed: the weights never sit whole on the heap. */
    public static void save(Block block, Path file) {
        try {
            write(block, new BufferedOutputStream(Files.newOutputStream(file), 1 << 16));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private static void write(Block block, OutputStream to) {
        try (DataOutputStream out = new DataOutputStream(to)) {
            block.saveParameters(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final class CountingOutputStream extends OutputStream {
        private long count;

        @Override
        public void write(int b) {
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            count += len;
        }
    }

    /** Writes into an array of a known size and hands that array over, without ByteArrayOutputStream's trimmed copy. */
    private static final class FixedArrayOutputStream extends ByteArrayOutputStream {
        FixedArrayOutputStream(int size) {
            super(size);
        }

        byte[] filled() {
            if (count != buf.length) {
                throw new IllegalStateException("the parameters wrote " + count + " bytes, counted " + buf.length);
            }
            return buf;
        }
    }

    /**
     * Loads into an initialised block of the same architecture. DJL would accept a head of another
     * size silently (the tutorial's 10-class-weights-in-a-5-class-model bug), so every parameter's
     * shape is compared after loading; a mismatch is an integrity error.
     *
     * <p>The block's initial arrays are closed first: DJL replaces a parameter's array on load without
     * closing the old one, which would keep a second copy of every weight until the model closes. So
     * after a failed load the block has no usable weights: discard it.
     */
    public static void load(Block block, NDManager manager, byte[] weights) {
        load(block, manager, new ByteArrayInputStream(weights));
    }

    /**
     * As {@link #load(Block, NDManager, byte[])}, reading {@code weights} as it goes: each tensor lands in
     * native memory that libtorch owns ({@link OwnedTensorDecoder}), without the whole file on the heap.
     * Does not close the stream.
     */
    public static void load(Block block, NDManager manager, InputStream weights) {
        java.util.Map<String, ai.djl.ndarray.types.Shape> expected = new java.util.LinkedHashMap<>();
        block.getParameters().forEach(p -> expected.put(p.getKey(), p.getValue().getShape()));
        block.getParameters().forEach(p -> p.getValue().close());
        try {
            block.loadParameters(OwnedTensorDecoder.over(manager), new DataInputStream(new BufferedInputStream(weights)));
        } catch (EOFException | MalformedModelException | IllegalArgumentException e) {
            throw new CheckpointIntegrityException(CheckpointIntegrityException.Reason.SHAPE,
                    "weights do not fit the model: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the weights: " + e.getMessage(), e);
        }
        block.getParameters().forEach(p -> {
            ai.djl.ndarray.types.Shape want = expected.get(p.getKey());
            ai.djl.ndarray.types.Shape got = p.getValue().getArray().getShape();
            if (want != null && !want.equals(got)) {
                throw new CheckpointIntegrityException(CheckpointIntegrityException.Reason.SHAPE,
                        "weights do not fit the model: " + p.getKey() + " is " + got
                        + " in the checkpoint but " + want + " in the model (another architecture or label count?)");
            }
        });
    }
}
