package dev.petal.common.checkpoint;

import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** A block's parameters (running statistics included) as bytes, in DJL's parameter format. */
public final class ModelWeights {
    private ModelWeights() {}

    public static byte[] toBytes(Block block) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            block.saveParameters(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Loads into an initialised block of the same architecture; a shape mismatch is an integrity error. */
    public static void load(Block block, NDManager manager, byte[] weights) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(weights))) {
            block.loadParameters(manager, in);
        } catch (IOException | MalformedModelException | IllegalArgumentException e) {
            throw new CheckpointIntegrityException("weights do not fit the model: " + e.getMessage(), e);
        }
    }
}
