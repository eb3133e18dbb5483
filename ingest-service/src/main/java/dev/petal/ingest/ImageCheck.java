package dev.petal.ingest;

import dev.petal.common.image.DecodedImage;
import dev.petal.common.image.ImageDecoder;
import dev.petal.common.image.ImageLimits;
import dev.petal.common.image.RejectedImageException;

/**
 * Validation before publishing, through common's {@link ImageDecoder}: size, magic bytes, header
 * dimensions (bombs are refused before any pixel is allocated), container structure, then a decode
 * check. The decode check is subsampled to {@link #CHECK_SIZE} pixels a side: the whole compressed
 * stream is still parsed, so corrupt data is caught, but far fewer pixels are produced. Thread-safe.
 */
public final class ImageCheck {
    /** Smallest side of the subsampled decode check. */
    static final int CHECK_SIZE = 64;

    private final ImageDecoder decoder;

    public ImageCheck(ImageLimits limits) {
        this.decoder = new ImageDecoder(limits);
    }

    public ImageLimits limits() {
        return decoder.limits();
    }

    /** @throws RejectedImageException when the bytes are not an acceptable image */
    public ImageFacts check(byte[] bytes) {
        try {
            DecodedImage decoded = decoder.decode(bytes, CHECK_SIZE);
            return new ImageFacts(decoded.info().contentType(), decoded.info().colorModel(),
                    decoded.info().width(), decoded.info().height());
        } catch (RejectedImageException e) {
            throw e;
        } catch (RuntimeException e) {
            // A decoder bug must cost one file, never the run.
            throw new RejectedImageException(RejectedImageException.Kind.CORRUPT, "decoder failed: " + e, e);
        }
    }
}
