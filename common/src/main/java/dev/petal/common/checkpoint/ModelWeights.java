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

    /**
     * Loads into an initialised block of the same architecture. DJL would accept a head of another
     * size silently (the tutorial's 10-class-weights-in-a-5-class-model bug), so every parameter's
     * shape is compared after loading; a mismatch is an integrity error.
     */
    public static void load(Block block, NDManager manager, byte[] weights) {
        java.util.Map<String, ai.djl.ndarray.types.Shape> expected = new java.util.LinkedHashMap<>();
        block.getParameters().forEach(p -> expected.put(p.getKey(), p.getValue().getShape()));
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(weights))) {
            block.loadParameters(manager, in);
        } catch (IOException | MalformedModelException | IllegalArgumentException e) {
            throw new CheckpointIntegrityException(CheckpointIntegrityException.Reason.SHAPE,
                    "weights do not fit the model: " + e.getMessage(), e);
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
