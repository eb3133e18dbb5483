package dev.petal.common.image;

import com.twelvemonkeys.imageio.stream.ByteArrayImageInputStream;
import dev.petal.common.image.RejectedImageException.Kind;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.io.EOFException;
import java.io.IOException;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;

/**
 * Checks and decodes encoded images: the one place where untrusted bytes become pixels.
 *
 * <p>Every input is checked in this order, each step cheap and before any pixel is allocated:
 * its size ({@code empty}, {@code too-large}), its magic bytes ({@code not-an-image},
 * {@code unsupported-format}), its container structure, walked to the end-of-image marker
 * ({@code truncated}), the width and height in its header ({@code too-many-pixels}: the
 * decompression-bomb guard); only then are the pixels decoded ({@code corrupt},
 * {@code truncated}). Every failure is a
 * {@link RejectedImageException}.
 *
 * <p>Thread-safe: ImageIO readers are not, so each call borrows one from a small pool per
 * format and returns it. JPEG is read by TwelveMonkeys (CMYK, YCCK, broken ICC profiles), WebP
 * by TwelveMonkeys, PNG, GIF and BMP by the JDK; a JPEG decoded for a much smaller model input by
 * libjpeg-turbo at a reduced scale ({@link #decode(byte[], int)}). A JPEG's embedded RGB profile is
 * taken out first and applied with a transform kept per profile ({@link JpegColourProfile},
 * {@link ProfileTreatment}): making the transform for every image cost most of such a photo's decode.
 */
public final class ImageDecoder {
    private static final int MAX_POOLED_READERS = 64;
    private static final Map<ImageFormat, ImageReaderSpi> PROVIDERS = findProviders();

    private final ImageLimits limits;
    private final Map<ImageFormat, Pool> pools = new EnumMap<>(ImageFormat.class);

    public ImageDecoder() {
        this(ImageLimits.defaults());
    }

    public ImageDecoder(ImageLimits limits) {
        this.limits = limits;
        for (ImageFormat format : ImageFormat.values()) {
            pools.put(format, new Pool(PROVIDERS.get(format)));
        }
    }

    public ImageLimits limits() {
        return limits;
    }

    /**
     * Format, header dimensions and colour model, without decoding pixels. Also checks the limits
     * and that the container is complete (not truncated). Takes microseconds even for a
     * 30000 x 30000 PNG, which it rejects as {@code too-many-pixels}.
     *
     * @throws RejectedImageException when the bytes are not an acceptable image
     */
    public ImageInfo inspect(byte[] bytes) {
        return read(bytes, 0, false).info();
    }

    /** {@link #inspect} and a full-size decode. */
    public DecodedImage decode(byte[] bytes) {
        return read(bytes, 0, true);
    }

    /**
     * {@link #inspect} and a decode for a model of input {@code targetSize}, at the smallest size that
     * keeps each side at least {@code targetSize}. An RGB or gray JPEG at least twice that size decodes
     * at 1/2, 1/4 or 1/8 in the DCT domain ({@link ScaledJpegDecoder}: a 4000 x 3000 photo for 224
     * comes back 500 x 375); other images skip source pixels (ImageIO subsampling: a 1000 x 700 PNG
     * for 224 keeps every 4th column and every 3rd row and comes back 250 x 234). Use the model's input
     * size, the same for training and serving, as it changes the pixels slightly. A {@code targetSize}
     * of 0 or less decodes at full size.
     *
     * @throws RejectedImageException when the bytes are not an acceptable image
     */
    public DecodedImage decode(byte[] bytes, int targetSize) {
        return read(bytes, targetSize, true);
    }

    private DecodedImage read(byte[] bytes, int targetSize, boolean decodePixels) {
        if (bytes == null || bytes.length == 0) {
            throw new RejectedImageException(Kind.EMPTY, "zero bytes");
        }
        if (bytes.length > limits.maxBytes()) {
            throw new RejectedImageException(Kind.TOO_LARGE, bytes.length + " bytes is over the limit of "
                    + limits.maxBytes() + " (" + ImageLimits.MAX_BYTES_KEY + ")");
        }
        ImageFormat format = ImageFormat.sniff(bytes);
        ImageStructure.checkComplete(format, bytes);
        JpegColourProfile.Found profile = format == ImageFormat.JPEG ? JpegColourProfile.find(bytes) : null;
        ProfileTreatment treatment = profile == null ? null : ProfileTreatment.of(profile.profile());
        byte[] source = treatment != null && treatment.strip() ? profile.withoutProfile() : bytes;
        Pool pool = pools.get(format);
        ImageReader reader = pool.borrow();
        boolean healthy = false;
        try (ByteArrayImageInputStream input = new ByteArrayImageInputStream(source)) {
            reader.setInput(input, true, true);
            int width = reader.getWidth(0);
            int height = reader.getHeight(0);
            if (width <= 0 || height <= 0) {
                throw new RejectedImageException(Kind.CORRUPT, format.id() + " header claims " + width + " x " + height + " pixels");
            }
            long pixels = (long) width * height;
            if (pixels > limits.maxPixels()) {
                throw new RejectedImageException(Kind.TOO_MANY_PIXELS, format.id() + " header claims " + width + " x " + height
                        + " = " + pixels + " pixels, over the limit of " + limits.maxPixels() + " (" + ImageLimits.MAX_PIXELS_KEY + ")");
            }
            ImageInfo info = new ImageInfo(format, width, height, describe(reader), bytes.length);
            BufferedImage image = null;
            if (decodePixels) {
                int scale = ScaledJpegDecoder.scale(width, height, targetSize);
                if (scale > 1 && format == ImageFormat.JPEG && ScaledJpegDecoder.available()
                        && (profile == null || treatment.strip()) && ("rgb".equals(info.colorModel()) || "gray".equals(info.colorModel()))) {
                    image = ScaledJpegDecoder.decode(source, scale);
                }
            }
            if (decodePixels && image == null) {
                ImageReadParam param = reader.getDefaultReadParam();
                if (targetSize > 0) {
                    int stepX = Math.max(1, width / targetSize);
                    int stepY = Math.max(1, height / targetSize);
                    if (stepX > 1 || stepY > 1) {
                        param.setSourceSubsampling(stepX, stepY, 0, 0);
                    }
                }
                TruncationWarnings warnings = new TruncationWarnings();
                reader.addIIOReadWarningListener(warnings);
                image = reader.read(0, param);
                if (warnings.warning != null) {
                    throw new RejectedImageException(Kind.TRUNCATED, format.id() + " decoder: " + warnings.warning);
                }
            }
            if (image != null && source != bytes) {
                image = treatment.apply(image);
            }
            healthy = true;
            return new DecodedImage(info, image);
        } catch (RejectedImageException e) {
            healthy = true; // rejected by our own checks; the reader itself is fine
            throw e;
        } catch (IOException | RuntimeException e) {
            throw classify(format, e);
        } finally {
            pool.giveBack(reader, healthy);
        }
    }

    /** Short description of the source's colour model, from the header only. */
    static String describe(ImageReader reader) throws IOException {
        ImageTypeSpecifier type = reader.getRawImageType(0);
        if (type == null) {
            Iterator<ImageTypeSpecifier> types = reader.getImageTypes(0);
            type = types.hasNext() ? types.next() : null;
        }
        return type == null ? "other" : describe(type.getColorModel());
    }

    static String describe(ColorModel cm) {
        String base;
        if (cm instanceof IndexColorModel palette) {
            base = isGrayPalette(palette) ? "gray" : "palette";
            if (palette.hasAlpha()) {
                base += "-alpha";
            }
        } else {
            switch (cm.getColorSpace().getType()) {
                case ColorSpace.TYPE_GRAY -> base = cm.hasAlpha() ? "gray-alpha" : "gray";
                case ColorSpace.TYPE_RGB, ColorSpace.TYPE_YCbCr -> base = cm.hasAlpha() ? "rgba" : "rgb";
                case ColorSpace.TYPE_CMYK -> base = "cmyk";
                default -> base = "other";
            }
        }
        int bits = 0;
        for (int c = 0; c < cm.getNumComponents(); c++) {
            bits = Math.max(bits, cm.getComponentSize(c));
        }
        return bits > 8 ? base + "-" + bits + "bit" : base;
    }

    private static boolean isGrayPalette(IndexColorModel palette) {
        for (int i = 0; i < palette.getMapSize(); i++) {
            int r = palette.getRed(i);
            if (r != palette.getGreen(i) || r != palette.getBlue(i)) {
                return false;
            }
        }
        return true;
    }

    /** Maps a reader's exception to an error class. */
    static RejectedImageException classify(ImageFormat format, Throwable error) {
        Kind kind = Kind.CORRUPT;
        StringBuilder detail = new StringBuilder();
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String message = t.getMessage() == null ? "" : t.getMessage();
            if (detail.length() == 0 || !message.isEmpty()) {
                detail.append(detail.length() == 0 ? "" : "; ").append(t.getClass().getSimpleName());
                if (!message.isEmpty()) {
                    detail.append(": ").append(message);
                }
            }
            String lower = message.toLowerCase(Locale.ROOT);
            if (t instanceof EOFException || isTruncation(lower)) {
                kind = Kind.TRUNCATED;
            } else if (kind == Kind.CORRUPT && (lower.contains("unsupported") || lower.contains("not supported"))) {
                kind = Kind.UNSUPPORTED_FORMAT;
            }
        }
        return new RejectedImageException(kind, "could not decode " + format.id() + ": " + detail, error);
    }

    private static boolean isTruncation(String lowerMessage) {
        return lowerMessage.contains("premature end") || lowerMessage.contains("unexpected end")
                || lowerMessage.contains("end of stream") || lowerMessage.contains("end of file")
                || lowerMessage.contains("truncated");
    }

    /** Readers that find the input ending early warn and fill the rest with grey; we refuse such images. */
    private static final class TruncationWarnings implements IIOReadWarningListener {
        volatile String warning;

        @Override
        public void warningOccurred(ImageReader source, String message) {
            if (warning == null && message != null && isTruncation(message.toLowerCase(Locale.ROOT))) {
                warning = message;
            }
        }
    }

    /** Readers of one format, reused across calls and threads (one thread at a time per reader). */
    private static final class Pool {
        private final ImageReaderSpi provider;
        private final Queue<ImageReader> idle = new ConcurrentLinkedQueue<>();
        private final AtomicInteger size = new AtomicInteger();

        Pool(ImageReaderSpi provider) {
            this.provider = provider;
        }

        ImageReader borrow() {
            ImageReader reader = idle.poll();
            if (reader != null) {
                size.decrementAndGet();
                return reader;
            }
            try {
                return provider.createReaderInstance();
            } catch (IOException e) {
                throw new IllegalStateException("cannot create an image reader from " + provider.getClass().getName(), e);
            }
        }

        void giveBack(ImageReader reader, boolean healthy) {
            try {
                reader.reset(); // drops the input and the listeners
            } catch (RuntimeException e) {
                healthy = false;
            }
            if (healthy && size.incrementAndGet() <= MAX_POOLED_READERS) {
                idle.offer(reader);
                return;
            }
            if (healthy) {
                size.decrementAndGet();
            }
            reader.dispose(); // a reader that failed mid-read is not trusted again
        }
    }

    private static Map<ImageFormat, ImageReaderSpi> findProviders() {
        IIORegistry registry = IIORegistry.getDefaultInstance();
        // Registered by hand too: ImageIO's class-path scan misses plug-ins under some class
        // loaders (application servers, Quarkus), which would silently lose CMYK JPEG support.
        ensureRegistered(registry, com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi.class,
                new com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi());
        ensureRegistered(registry, com.twelvemonkeys.imageio.plugins.webp.WebPImageReaderSpi.class,
                new com.twelvemonkeys.imageio.plugins.webp.WebPImageReaderSpi());
        Map<ImageFormat, ImageReaderSpi> providers = new EnumMap<>(ImageFormat.class);
        providers.put(ImageFormat.JPEG, registry.getServiceProviderByClass(com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi.class));
        providers.put(ImageFormat.WEBP, registry.getServiceProviderByClass(com.twelvemonkeys.imageio.plugins.webp.WebPImageReaderSpi.class));
        for (ImageFormat format : new ImageFormat[] {ImageFormat.PNG, ImageFormat.GIF, ImageFormat.BMP}) {
            Iterator<ImageReaderSpi> candidates = registry.getServiceProviders(ImageReaderSpi.class, spi -> {
                for (String name : ((ImageReaderSpi) spi).getFormatNames()) {
                    if (name.equalsIgnoreCase(format.id())) {
                        return true;
                    }
                }
                return false;
            }, true);
            if (!candidates.hasNext()) {
                throw new IllegalStateException("no ImageIO reader for " + format.id());
            }
            providers.put(format, candidates.next());
        }
        return providers;
    }

    private static <T extends ImageReaderSpi> void ensureRegistered(IIORegistry registry, Class<T> type, T instance) {
        if (registry.getServiceProviderByClass(type) == null) {
            registry.registerServiceProvider(instance, ImageReaderSpi.class);
        }
    }
}
