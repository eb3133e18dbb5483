package dev.petal.common.image;

import dev.petal.common.image.RejectedImageException.Kind;

/**
 * Walks the container structure of an encoded image (JPEG markers, PNG chunks, GIF blocks, the
 * BMP pixel array, the WebP RIFF size) without decoding pixels, to catch truncated inputs that
 * ImageIO would otherwise decode silently into a partly grey picture. Bytes after the end of the
 * image (EOI, IEND, the GIF trailer) are tolerated: phones append motion-photo videos and vendor
 * trailers there.
 */
final class ImageStructure {
    private ImageStructure() {
    }

    static void checkComplete(ImageFormat format, byte[] b) {
        switch (format) {
            case JPEG -> checkJpeg(b);
            case PNG -> checkPng(b);
            case GIF -> checkGif(b);
            case BMP -> checkBmp(b);
            case WEBP -> checkWebp(b);
            default -> throw new IllegalStateException("no structure check for " + format);
        }
    }

    private static RejectedImageException truncated(ImageFormat format, String what, int length) {
        return new RejectedImageException(Kind.TRUNCATED,
                format.id() + " ends after " + length + " bytes, " + what);
    }

    /** Segment by segment, then through entropy-coded data (where 0xFF is always stuffed) to the EOI marker. */
    static void checkJpeg(byte[] b) {
        int n = b.length;
        int i = 2;
        while (true) {
            i = jpegMarkerCode(b, i);
            if (i >= n) {
                throw truncated(ImageFormat.JPEG, "before its end-of-image marker (FFD9)", n);
            }
            int marker = b[i++] & 0xFF;
            if (marker == 0xD9) {
                return;
            }
            if (jpegMarkerWithoutLength(marker)) {
                continue;
            }
            if (i + 2 > n) {
                throw truncated(ImageFormat.JPEG, "inside the header of marker FF" + hex(marker), n);
            }
            int length = (b[i] & 0xFF) << 8 | (b[i + 1] & 0xFF);
            if (length < 2) {
                throw new RejectedImageException(Kind.CORRUPT, "jpeg marker FF" + hex(marker) + " has length " + length);
            }
            i += length;
            if (i > n) {
                throw truncated(ImageFormat.JPEG, "inside segment FF" + hex(marker), n);
            }
            if (marker == 0xDA) {
                i = skipEntropyCodedData(b, i);
            }
        }
    }

    /**
     * The index of the next marker's code byte from {@code i} on, past stray bytes between
     * segments (libjpeg skips them with a warning, so do we) and 0xFF fill bytes; {@code b.length}
     * when there is none.
     */
    static int jpegMarkerCode(byte[] b, int i) {
        int n = b.length;
        while (i < n && b[i] != (byte) 0xFF) {
            i++;
        }
        while (i < n && b[i] == (byte) 0xFF) {
            i++;
        }
        return i;
    }

    /** Markers that stand alone, without a length and a segment after them. */
    static boolean jpegMarkerWithoutLength(int marker) {
        return marker == 0x00 || marker == 0x01 || marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7);
    }

    /** Returns the index of the 0xFF that starts the next real marker after a scan. */
    private static int skipEntropyCodedData(byte[] b, int i) {
        int n = b.length;
        while (true) {
            while (i < n && b[i] != (byte) 0xFF) {
                i++;
            }
            int j = i + 1;
            while (j < n && b[j] == (byte) 0xFF) {
                j++;
            }
            if (j >= n) {
                throw truncated(ImageFormat.JPEG, "inside compressed image data, before its end-of-image marker (FFD9)", n);
            }
            int next = b[j] & 0xFF;
            if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
                i = j + 1; // stuffed 0xFF or a restart marker: still image data
                continue;
            }
            return j - 1;
        }
    }

    /** Chunk by chunk to IEND. */
    static void checkPng(byte[] b) {
        int n = b.length;
        long i = 8;
        while (true) {
            if (i + 8 > n) {
                throw truncated(ImageFormat.PNG, "before its IEND chunk", n);
            }
            int at = (int) i;
            long length = (b[at] & 0xFFL) << 24 | (b[at + 1] & 0xFF) << 16 | (b[at + 2] & 0xFF) << 8 | (b[at + 3] & 0xFF);
            if (length > Integer.MAX_VALUE) {
                throw new RejectedImageException(Kind.CORRUPT, "png chunk at byte " + at + " claims " + length + " bytes");
            }
            boolean iend = b[at + 4] == 'I' && b[at + 5] == 'E' && b[at + 6] == 'N' && b[at + 7] == 'D';
            i += 12 + length;
            if (i > n) {
                throw truncated(ImageFormat.PNG, "inside the chunk at byte " + at, n);
            }
            if (iend) {
                return;
            }
        }
    }

    /** Block by block to the trailer (0x3B); data that merely ends after a complete frame is accepted. */
    static void checkGif(byte[] b) {
        int n = b.length;
        if (n < 13) {
            throw truncated(ImageFormat.GIF, "inside its header", n);
        }
        int i = 13 + colourTableBytes(b[10]);
        int frames = 0;
        while (true) {
            if (i >= n) {
                if (frames > 0) {
                    return;
                }
                throw truncated(ImageFormat.GIF, "before its first image", n);
            }
            int block = b[i++] & 0xFF;
            if (block == 0x3B) {
                return;
            } else if (block == 0x21) {
                i = skipSubBlocks(b, i + 1);
            } else if (block == 0x2C) {
                if (i + 9 > n) {
                    throw truncated(ImageFormat.GIF, "inside an image descriptor", n);
                }
                i += 9 + colourTableBytes(b[i + 8]) + 1; // descriptor, local colour table, LZW code size
                i = skipSubBlocks(b, i);
                frames++;
            } else if (frames > 0) {
                return; // trailing junk after a complete frame
            } else {
                throw new RejectedImageException(Kind.CORRUPT, "gif has an unknown block 0x" + hex(block) + " at byte " + (i - 1));
            }
        }
    }

    private static int colourTableBytes(byte flags) {
        return (flags & 0x80) != 0 ? 3 * (2 << (flags & 7)) : 0;
    }

    private static int skipSubBlocks(byte[] b, int i) {
        int n = b.length;
        while (true) {
            if (i >= n) {
                throw truncated(ImageFormat.GIF, "inside a data block", n);
            }
            int size = b[i++] & 0xFF;
            if (size == 0) {
                return i;
            }
            i += size;
        }
    }

    /** Uncompressed (and bit-field) BMPs must hold their whole pixel array; RLE ones are left to the reader. */
    static void checkBmp(byte[] b) {
        int n = b.length;
        if (n < 26) {
            throw truncated(ImageFormat.BMP, "inside its header", n);
        }
        long pixelOffset = u32le(b, 10);
        int headerSize = (int) u32le(b, 14);
        long width;
        long height;
        int bitsPerPixel;
        long compression;
        if (headerSize == 12) {
            width = u16le(b, 18);
            height = u16le(b, 20);
            bitsPerPixel = u16le(b, 24);
            compression = 0;
        } else {
            if (n < 14 + Math.min(headerSize, 40)) {
                throw truncated(ImageFormat.BMP, "inside its header", n);
            }
            width = (int) u32le(b, 18);
            height = Math.abs((long) (int) u32le(b, 22));
            bitsPerPixel = u16le(b, 28);
            compression = headerSize >= 20 ? u32le(b, 30) : 0;
        }
        boolean uncompressed = compression == 0 || compression == 3 || compression == 6;
        if (!uncompressed || width <= 0 || bitsPerPixel <= 0 || bitsPerPixel > 64) {
            return;
        }
        long stride = (width * bitsPerPixel + 31) / 32 * 4;
        long needed = pixelOffset + stride * height;
        if (needed > n) {
            throw truncated(ImageFormat.BMP, "before the end of its pixel array (" + needed + " bytes)", n);
        }
    }

    /** The RIFF header states the file size. */
    static void checkWebp(byte[] b) {
        int n = b.length;
        if (n < 12) {
            throw truncated(ImageFormat.WEBP, "inside its header", n);
        }
        long needed = 8 + u32le(b, 4);
        if (needed > n + 1L) { // one byte of slack: some writers omit the final pad byte
            throw truncated(ImageFormat.WEBP, "but its RIFF header promises " + needed, n);
        }
    }

    private static long u32le(byte[] b, int i) {
        return (b[i] & 0xFFL) | (b[i + 1] & 0xFFL) << 8 | (b[i + 2] & 0xFFL) << 16 | (b[i + 3] & 0xFFL) << 24;
    }

    private static int u16le(byte[] b, int i) {
        return (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8;
    }

    private static String hex(int value) {
        return String.format("%02X", value);
    }
}
