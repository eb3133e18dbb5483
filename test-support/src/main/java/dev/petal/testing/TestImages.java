package dev.petal.testing;

import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.color.ICC_Profile;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.RenderedImage;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Consumer;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/**
 * Forges the test images of every module in memory, good and bad (bombs, truncations, odd colour spaces); no
 * binary file is committed.
 */
public final class TestImages {
    private TestImages() {
    }

    public static byte[] encode(RenderedImage image, String format) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            if (!ImageIO.write(image, format, out)) {
                throw new IllegalStateException("no ImageIO writer for " + format + " / " + image);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void fill(WritableRaster raster, int... pixel) {
        for (int y = 0; y < raster.getHeight(); y++) {
            for (int x = 0; x < raster.getWidth(); x++) {
                raster.setPixel(x, y, pixel);
            }
        }
    }

    public static BufferedImage filled(int type, int width, int height, int... pixel) {
        BufferedImage image = new BufferedImage(width, height, type);
        fill(image.getRaster(), pixel);
        return image;
    }

    public static BufferedImage custom(ColorSpace space, boolean alpha, int dataType, int width, int height, int... pixel) {
        ComponentColorModel cm = new ComponentColorModel(space, alpha, false,
                alpha ? Transparency.TRANSLUCENT : Transparency.OPAQUE, dataType);
        BufferedImage image = new BufferedImage(cm, cm.createCompatibleWritableRaster(width, height), false, null);
        fill(image.getRaster(), pixel);
        return image;
    }

    public static BufferedImage gray16(int width, int height, int value) {
        return filled(BufferedImage.TYPE_USHORT_GRAY, width, height, value);
    }

    public static BufferedImage grayAlpha(int width, int height, int gray, int alpha) {
        return custom(ColorSpace.getInstance(ColorSpace.CS_GRAY), true, DataBuffer.TYPE_BYTE, width, height, gray, alpha);
    }

    public static BufferedImage rgb16(int width, int height, int... rgb) {
        return custom(ColorSpace.getInstance(ColorSpace.CS_sRGB), rgb.length == 4, DataBuffer.TYPE_USHORT, width, height, rgb);
    }

    /** A palette of black, red, green, blue; every pixel is index {@code index}. */
    public static BufferedImage palette(int width, int height, int index) {
        IndexColorModel colours = new IndexColorModel(8, 4,
                new byte[] {0, (byte) 255, 0, 0}, new byte[] {0, 0, (byte) 255, 0}, new byte[] {0, 0, 0, (byte) 255});
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_INDEXED, colours);
        fill(image.getRaster(), index);
        return image;
    }

    /** A photo-like RGB image (smooth gradients plus noise), so JPEG data is not trivial. */
    public static BufferedImage photo(int width, int height, long seed) {
        Random random = new Random(seed);
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        WritableRaster raster = image.getRaster();
        int[] px = new int[3];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                px[0] = clamp(255 * x / width + random.nextInt(40) - 20);
                px[1] = clamp(255 * y / height + random.nextInt(40) - 20);
                px[2] = clamp(128 + random.nextInt(80) - 40);
                raster.setPixel(x, y, px);
            }
        }
        return image;
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }

    public static byte[] jpeg(BufferedImage image, boolean progressive) {
        return write("jpeg", image, param -> {
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(0.9f);
            if (progressive) {
                param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
            }
        });
    }

    /** A PNG written interlaced (Adam7). */
    public static byte[] interlacedPng(RenderedImage image) {
        return write("png", image, param -> param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT));
    }

    private static byte[] write(String format, RenderedImage image, Consumer<ImageWriteParam> settings) {
        try {
            ImageWriter writer = ImageIO.getImageWritersByFormatName(format).next();
            ImageWriteParam param = writer.getDefaultWriteParam();
            settings.accept(param);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
                writer.setOutput(out);
                writer.write(null, new IIOImage(image, null, null), param);
            } finally {
                writer.dispose();
            }
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An APP2 ICC_PROFILE segment holding the JDK's profile of {@code space}, right after SOI. */
    public static byte[] withIccProfile(byte[] jpeg, int space) {
        return withIccProfile(jpeg, ICC_Profile.getInstance(space).getData());
    }

    /** An APP2 ICC_PROFILE segment holding {@code profile}, right after SOI. */
    public static byte[] withIccProfile(byte[] jpeg, byte[] profile) {
        ByteBuffer app2 = ByteBuffer.allocate(4 + 14 + profile.length);
        app2.put((byte) 0xFF).put((byte) 0xE2).putShort((short) (2 + 14 + profile.length))
                .put("ICC_PROFILE".getBytes(StandardCharsets.US_ASCII)).put((byte) 0).put((byte) 1).put((byte) 1)
                .put(profile);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(jpeg, 0, 2);
        out.writeBytes(app2.array());
        out.write(jpeg, 2, jpeg.length - 2);
        return out.toByteArray();
    }

    /**
     * A CMYK JPEG as Photoshop writes them: four components, no colour transform, an Adobe APP14
     * segment (transform 0), and inverted samples (255 = no ink). The JDK writer encodes a
     * 4-band raster as is; the APP14 segment is spliced in after SOI by hand.
     */
    public static byte[] cmykJpeg(int width, int height, int c, int m, int y, int k) {
        WritableRaster raster = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, width, height, 4, null);
        fill(raster, 255 - c, 255 - m, 255 - y, 255 - k);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
            try (ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
                writer.setOutput(out);
                writer.write(null, new IIOImage(raster, null, null), null);
            } finally {
                writer.dispose();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byte[] plain = bytes.toByteArray();
        byte[] app14 = {(byte) 0xFF, (byte) 0xEE, 0, 14, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0};
        ByteBuffer out = ByteBuffer.allocate(plain.length + app14.length);
        out.put(plain, 0, 2).put(app14).put(plain, 2, plain.length - 2);
        return out.array();
    }

    /** A PNG written chunk by chunk: any IHDR we like, IDAT from {@code rows} raw scanline bytes. */
    public static byte[] png(int width, int height, int bitDepth, int colourType, byte[] idat) {
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height)
                .put((byte) bitDepth).put((byte) colourType).put((byte) 0).put((byte) 0).put((byte) 0);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
        chunk(out, "IHDR", ihdr.array());
        chunk(out, "IDAT", idat);
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] name = type.getBytes(StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(name);
        crc.update(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(name);
        out.writeBytes(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    /** zlib stream of {@code rows} scanlines, each a filter byte 0 and {@code rowBytes} zeros, made without holding them all. */
    public static byte[] zeroScanlines(int rowBytes, int rows) {
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION);
        byte[] row = new byte[rowBytes + 1];
        byte[] buffer = new byte[64 * 1024];
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int r = 0; r < rows; r++) {
            deflater.setInput(row);
            while (!deflater.needsInput()) {
                out.write(buffer, 0, deflater.deflate(buffer));
            }
        }
        deflater.finish();
        while (!deflater.finished()) {
            out.write(buffer, 0, deflater.deflate(buffer));
        }
        deflater.end();
        return out.toByteArray();
    }

    /**
     * A lossless WebP (VP8L) of one colour, written bit by bit: no transforms, no colour cache,
     * and five one-symbol prefix codes, so every pixel costs zero bits.
     */
    public static byte[] webpLossless(int width, int height, int a, int r, int g, int b) {
        Bits bits = new Bits();
        bits.write(0x2F, 8);
        bits.write(width - 1, 14);
        bits.write(height - 1, 14);
        bits.write(a == 255 ? 0 : 1, 1);
        bits.write(0, 3); // version
        bits.write(0, 1); // no transform
        bits.write(0, 1); // no colour cache
        bits.write(0, 1); // no meta prefix codes
        for (int symbol : new int[] {g, r, b, a, 0}) { // green, red, blue, alpha, distance
            bits.write(1, 1); // simple code
            bits.write(0, 1); // one symbol
            if (symbol < 2) {
                bits.write(0, 1);
                bits.write(symbol, 1);
            } else {
                bits.write(1, 1);
                bits.write(symbol, 8);
            }
        }
        // Eight zero bytes of slack after the stream, which decoders ignore: TwelveMonkeys' bit
        // reader refills eight bytes at a time and fails on a chunk shorter than that.
        byte[] vp8l = java.util.Arrays.copyOf(bits.toByteArray(), bits.toByteArray().length + 8);
        int padded = vp8l.length + (vp8l.length & 1);
        ByteBuffer out = ByteBuffer.allocate(20 + padded).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        out.put("RIFF".getBytes(StandardCharsets.US_ASCII)).putInt(12 + padded)
                .put("WEBP".getBytes(StandardCharsets.US_ASCII))
                .put("VP8L".getBytes(StandardCharsets.US_ASCII)).putInt(vp8l.length).put(vp8l);
        return out.array();
    }

    private static final class Bits {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private int current;
        private int used;

        void write(int value, int count) {
            for (int i = 0; i < count; i++) {
                current |= ((value >> i) & 1) << used;
                if (++used == 8) {
                    out.write(current);
                    current = 0;
                    used = 0;
                }
            }
        }

        byte[] toByteArray() {
            if (used > 0) {
                out.write(current);
                current = 0;
                used = 0;
            }
            return out.toByteArray();
        }
    }

    public static byte[] cut(byte[] bytes, int length) {
        return Arrays.copyOf(bytes, length);
    }

    /** A small RGB JPEG of noise; different seeds give different bytes. */
    public static byte[] noiseJpeg(int size, long seed) {
        Random random = new Random(seed);
        BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                image.setRGB(x, y, random.nextInt(0x1000000));
            }
        }
        return encode(image, "jpeg");
    }

    /** The first half of a noise JPEG: its end-of-image marker is missing. */
    public static byte[] truncatedJpeg(long seed) {
        byte[] whole = noiseJpeg(48, seed);
        return cut(whole, whole.length / 2);
    }

    /** A 16-bit grayscale PNG of a gradient. */
    public static byte[] png16(int size) {
        BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_USHORT_GRAY);
        WritableRaster raster = image.getRaster();
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                raster.setSample(x, y, 0, (x * 1000 + y * 7) & 0xFFFF);
            }
        }
        return encode(image, "png");
    }

    /**
     * A real decompression bomb: a 30000 x 30000 1-bit grayscale PNG whose IDAT inflates to 112 MB of zeros
     * (about 110 KB encoded). Its header must get it refused before decoding.
     */
    public static byte[] pngBomb() {
        int side = 30_000;
        return png(side, side, 1, 0, zeroScanlines(side / 8, side));
    }

    /** Writes {@code bytes} to {@code file}, creating its folder. */
    public static Path write(Path file, byte[] bytes) {
        try {
            Files.createDirectories(file.getParent());
            return Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Path write(Path file, String text) {
        return write(file, text.getBytes(StandardCharsets.UTF_8));
    }
}
