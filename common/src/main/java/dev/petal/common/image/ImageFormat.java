package dev.petal.common.image;

import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The encoded formats Petal decodes, recognised by their magic bytes only: never by a file
 * name, an extension or a {@code content-type} header someone else wrote.
 */
public enum ImageFormat {
    JPEG("jpeg", "image/jpeg"),
    PNG("png", "image/png"),
    GIF("gif", "image/gif"),
    BMP("bmp", "image/bmp"),
    WEBP("webp", "image/webp");

    private final String id;
    private final String contentType;

    ImageFormat(String id, String contentType) {
        this.id = id;
        this.contentType = contentType;
    }

    /** Short lower-case name: jpeg, png, gif, bmp, webp. */
    public String id() {
        return id;
    }

    /** The MIME type, for a {@code content-type} header. */
    public String contentType() {
        return contentType;
    }

    public static ImageFormat parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        for (ImageFormat f : values()) {
            if (f.id.equals(t) || f.contentType.equals(t) || (f == JPEG && t.equals("jpg"))) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown image format '" + text + "'");
    }

    /**
     * The format the bytes start with.
     *
     * @throws RejectedImageException {@code empty}, {@code unsupported-format} for an image format
     *         Petal does not decode (TIFF, HEIF/AVIF, JPEG 2000, JPEG XL, PSD, ICO, SVG, ...), or
     *         {@code not-an-image} for anything else
     */
    public static ImageFormat sniff(byte[] b) {
        if (b == null || b.length == 0) {
            throw new RejectedImageException(RejectedImageException.Kind.EMPTY, "zero bytes");
        }
        if (startsWith(b, 0, 0xFF, 0xD8, 0xFF)) {
            return JPEG;
        }
        if (startsWith(b, 0, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) {
            return PNG;
        }
        if (startsWith(b, 0, 'G', 'I', 'F', '8') && b.length > 5 && (b[4] == '7' || b[4] == '9') && b[5] == 'a') {
            return GIF;
        }
        if (startsWith(b, 0, 'R', 'I', 'F', 'F') && startsWith(b, 8, 'W', 'E', 'B', 'P')) {
            return WEBP;
        }
        if (startsWith(b, 0, 'B', 'M') && b.length >= 18) {
            int dibHeader = (b[14] & 0xFF) | (b[15] & 0xFF) << 8 | (b[16] & 0xFF) << 16 | (b[17] & 0xFF) << 24;
            if (dibHeader == 12 || dibHeader == 16 || dibHeader == 40 || dibHeader == 52 || dibHeader == 56
                    || dibHeader == 64 || dibHeader == 108 || dibHeader == 124) {
                return BMP;
            }
        }
        String other = unsupported(b);
        if (other != null) {
            throw new RejectedImageException(RejectedImageException.Kind.UNSUPPORTED_FORMAT,
                    other + " images are not supported; send JPEG, PNG, GIF, BMP or WebP");
        }
        throw new RejectedImageException(RejectedImageException.Kind.NOT_AN_IMAGE,
                "the bytes do not start like a JPEG, PNG, GIF, BMP or WebP image (" + describeStart(b) + ")");
    }

    /** Names a known image format Petal does not decode, or null. */
    private static String unsupported(byte[] b) {
        if (startsWith(b, 0, 'I', 'I', 0x2A, 0x00) || startsWith(b, 0, 'M', 'M', 0x00, 0x2A)
                || startsWith(b, 0, 'I', 'I', 0x2B, 0x00) || startsWith(b, 0, 'M', 'M', 0x00, 0x2B)) {
            return "TIFF";
        }
        if (startsWith(b, 4, 'f', 't', 'y', 'p') && b.length >= 12) {
            String brand = new String(b, 8, 4, StandardCharsets.US_ASCII);
            switch (brand) {
                case "avif", "avis" -> {
                    return "AVIF";
                }
                case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1" -> {
                    return "HEIF";
                }
                case "jp2 ", "jpx ", "jpm " -> {
                    return "JPEG 2000";
                }
                case "jxl " -> {
                    return "JPEG XL";
                }
                default -> {
                    return null;
                }
            }
        }
        if (startsWith(b, 0, 0x00, 0x00, 0x00, 0x0C, 'j', 'P', ' ', ' ') || startsWith(b, 0, 0xFF, 0x4F, 0xFF, 0x51)) {
            return "JPEG 2000";
        }
        if (startsWith(b, 0, 0xFF, 0x0A) || startsWith(b, 0, 0x00, 0x00, 0x00, 0x0C, 'J', 'X', 'L', ' ')) {
            return "JPEG XL";
        }
        if (startsWith(b, 0, '8', 'B', 'P', 'S')) {
            return "PSD";
        }
        if (startsWith(b, 0, 'q', 'o', 'i', 'f')) {
            return "QOI";
        }
        if (startsWith(b, 0, 0x76, 0x2F, 0x31, 0x01)) {
            return "OpenEXR";
        }
        if ((startsWith(b, 0, 0x00, 0x00, 0x01, 0x00) || startsWith(b, 0, 0x00, 0x00, 0x02, 0x00))
                && b.length >= 22 && (b[4] != 0 || b[5] != 0) && b[9] == 0) {
            return "ICO";
        }
        if (looksLikeSvg(b)) {
            return "SVG";
        }
        return null;
    }

    private static boolean looksLikeSvg(byte[] b) {
        String head = new String(b, 0, Math.min(b.length, 1024), StandardCharsets.ISO_8859_1)
                .stripLeading().toLowerCase(Locale.ROOT);
        if (head.startsWith("\u00ef\u00bb\u00bf")) {
            head = head.substring(3).stripLeading();
        }
        return head.startsWith("<svg") || ((head.startsWith("<?xml") || head.startsWith("<!doctype svg")) && head.contains("<svg"));
    }

    private static String describeStart(byte[] b) {
        StringBuilder hex = new StringBuilder("first bytes");
        for (int i = 0; i < Math.min(8, b.length); i++) {
            hex.append(String.format(" %02x", b[i] & 0xFF));
        }
        return hex.toString();
    }

    static boolean startsWith(byte[] b, int offset, int... magic) {
        if (b.length < offset + magic.length) {
            return false;
        }
        for (int i = 0; i < magic.length; i++) {
            if ((b[offset + i] & 0xFF) != magic[i]) {
                return false;
            }
        }
        return true;
    }
}
