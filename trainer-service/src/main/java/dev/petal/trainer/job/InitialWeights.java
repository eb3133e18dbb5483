package dev.petal.trainer.job;

import dev.petal.common.checkpoint.CheckpointIntegrityException;
import dev.petal.common.checkpoint.SafeTensors;
import dev.petal.common.checkpoint.TorchvisionWeights;
import dev.petal.common.checkpoint.TorchvisionWeightsFile;
import dev.petal.common.model.ModelParameters;
import dev.petal.common.storage.BucketRefs;
import dev.petal.common.storage.ObjectStore;
import dev.petal.common.storage.ObjectStoreException;
import dev.petal.common.storage.ObjectTooLargeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jboss.logging.Logger;

/**
 * A run's {@code --init-weights}: torchvision-named weights from {@code torchvision:<arch>} (the local weights
 * cache), from {@code s3://<bucket>/<key>} (the configured bucket, at most {@value #MAX_OBJECT_BYTES} bytes, through
 * a temporary file deleted after), or from a file (the command line; POST /train refuses paths).
 */
final class InitialWeights {
    private static final Logger LOG = Logger.getLogger(InitialWeights.class);
    /** Larger than any ResNet's weights (wide_resnet50_2's are 263 MB), small enough to hold once on the heap. */
    static final long MAX_OBJECT_BYTES = 1L << 30;

    private InitialWeights() {}

    /**
     * Loads the weights {@code location} names into {@code params}.
     *
     * @throws UnreadableWeightsException when they cannot be read or do not fit
     */
    static void load(String location, ModelParameters params, ObjectStore store) {
        try {
            SafeTensors weights = read(location, store);
            TorchvisionWeights.LoadResult result = TorchvisionWeights.load(params, weights, true);
            LOG.infof("--init-weights %s: %d tensors loaded%s", location, result.loaded(),
                    result.headReplaced() ? ", head replaced (new label count)" : "");
        } catch (IOException | CheckpointIntegrityException | ObjectStoreException | ObjectTooLargeException e) {
            LOG.warnf("--init-weights %s cannot be used: %s", location, e.getMessage());
            throw new UnreadableWeightsException(location, e.getMessage(), e);
        }
    }

    static SafeTensors read(String location, ObjectStore store) throws IOException {
        if (!BucketRefs.isObjectRef(location)) {
            return TorchvisionWeightsFile.read(location);
        }
        String key = BucketRefs.keyOf(location, store.bucket());
        byte[] bytes = store.get(key, MAX_OBJECT_BYTES);
        // The torch.save reader works on a file (a zip); the name keeps the object's extension, which decides
        // only for content of neither kind.
        String name = key.substring(key.lastIndexOf('/') + 1).replaceAll("[^A-Za-z0-9._-]", "_");
        Path file = Files.createTempFile("petal-init-weights-", "-" + name);
        try {
            Files.write(file, bytes);
            bytes = null; // the file holds them now
            return TorchvisionWeightsFile.read(file);
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
