package dev.petal.ingest;

import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/** Generated test images, good and bad; nothing binary is committed. */
final class TestFiles {
    private TestFiles() {}

    /** A small noisy RGB JPEG; different seeds give different bytes. */
    static byte[] jpeg(int size, long seed) {
        Random random = new Random(seed);
        BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                image.setRGB(x, y, random.nextInt(0x1000000));
            }
        }
        return encode(image, "jpeg");
    }

    static byte[] encode(BufferedImage image, String format) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(image, format, out)) {
                throw new IllegalStateException("no writer for " + format);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** The first half of a JPEG: its end-of-image marker is missing. */
    static byte[] truncatedJpeg(long seed) {
        byte[] whole = jpeg(48, seed);
        return Arrays.copyOf(whole, whole.length / 2);
    }

    /** A 16-bit grayscale PNG. */
    static byte[] png16(int size) {
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
     * A CMYK JPEG as Photoshop writes them: the JDK writer encodes a 4-band raster as is, and an
     * Adobe APP14 segment (no colour transform) is spliced in after SOI.
     */
    static byte[] cmykJpeg(int size) {
        WritableRaster raster = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, size, size, 4, null);
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                raster.setPixel(x, y, new int[] {255 - x, 255 - y, 200, 230});
            }
        }
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
        return ByteBuffer.allocate(plain.length + app14.length).put(plain, 0, 2).put(app14).put(plain, 2, plain.length - 2).array();
    }

    /**
     * A real decompression bomb: a 30000 x 30000 1-bit grayscale PNG whose IDAT inflates to
     * 112 MB of zeros (about 110 KB on disk). Its header must get it rejected before decoding.
     */
    static byte[] pngBomb() {
        int side = 30_000;
        Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION);
        byte[] row = new byte[1 + side / 8];
        byte[] buffer = new byte[64 * 1024];
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        for (int r = 0; r < side; r++) {
            deflater.setInput(row);
            while (!deflater.needsInput()) {
                idat.write(buffer, 0, deflater.deflate(buffer));
            }
        }
        deflater.finish();
        while (!deflater.finished()) {
            idat.write(buffer, 0, deflater.deflate(buffer));
        }
        deflater.end();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
        chunk(out, "IHDR", ByteBuffer.allocate(13).putInt(side).putInt(side).put((byte) 1).put((byte) 0)
                .put((byte) 0).put((byte) 0).put((byte) 0).array());
        chunk(out, "IDAT", idat.toByteArray());
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

    static Path write(Path file, byte[] bytes) {
        try {
            Files.createDirectories(file.getParent());
            return Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path write(Path file, String text) {
        return write(file, text.getBytes(StandardCharsets.UTF_8));
    }
}
