package dev.petal.common.image;

import java.awt.color.ColorSpace;
import java.awt.color.ICC_Profile;
import java.awt.color.ICC_ProfileRGB;
import java.awt.color.ProfileDataException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A JPEG's embedded RGB colour profile, and the same JPEG without it, so that the profile can be
 * applied by a transform made once per profile ({@link ProfileTreatment}) instead of once per image.
 *
 * <p>Why: TwelveMonkeys converts a JPEG with a profile through a new colour transform for every
 * image, and making the transform is most of the cost (docs/performance.md, the levers).
 * TwelveMonkeys also treats only the JDK's own sRGB profile as sRGB: any other copy of it (the
 * "sRGB IEC61966-2.1" that cameras and editors embed) went through a conversion from sRGB to sRGB,
 * which changed nothing (on the 1,742 flower photos with such a profile: the same pixels for 1,722,
 * at most one level apart on a few pixels for the other 20).
 *
 * <p>A profile counts as sRGB when it is a display profile whose primaries and tone curves are
 * sRGB's (within 0.001) and that has no lookup tables, which would take precedence over them.
 * Grey or CMYK frames and files with an Adobe marker keep their profile, and TwelveMonkeys its
 * handling of them.
 */
final class JpegColourProfile {
    private static final ICC_ProfileRGB SRGB = (ICC_ProfileRGB) ICC_Profile.getInstance(ColorSpace.CS_sRGB);
    private static final double TOLERANCE = 0.001;
    private static final int CURVE_SAMPLES = 256;
    private static final int[] LOOKUP_TABLE_TAGS = {
        ICC_Profile.icSigAToB0Tag, ICC_Profile.icSigAToB1Tag, ICC_Profile.icSigAToB2Tag,
    };
    private static final double[][] SRGB_CURVES = {toneCurve(SRGB, 0), toneCurve(SRGB, 1), toneCurve(SRGB, 2)};
    private static final byte[] ICC_SIGNATURE = "ICC_PROFILE\0".getBytes(StandardCharsets.US_ASCII);

    /** The embedded profile (its chunks joined) and the JPEG without its APP2 ICC_PROFILE segments. */
    record Found(byte[] profile, byte[] withoutProfile) {}

    private JpegColourProfile() {
    }

    /**
     * The profile of a three-component JPEG without an Adobe marker, or null when it has none
     * (or is another kind of JPEG, or its ICC segments repeat a chunk number). Expects a
     * structurally complete JPEG ({@link ImageStructure#checkComplete}); reads only the header segments.
     */
    static Found find(byte[] jpeg) {
        List<int[]> iccSegments = new ArrayList<>(); // {start of the 0xFF, end}
        Map<Integer, byte[]> chunks = new TreeMap<>();
        boolean threeComponents = false;
        int n = jpeg.length;
        int i = 2;
        while (true) {
            int start = i;
            i = ImageStructure.jpegMarkerCode(jpeg, i);
            if (i + 2 >= n) {
                return null;
            }
            int marker = jpeg[i++] & 0xFF;
            if (ImageStructure.jpegMarkerWithoutLength(marker)) {
                continue;
            }
            if (marker == 0xDA || marker == 0xD9) {
                break;
            }
            int end = i + ((jpeg[i] & 0xFF) << 8 | (jpeg[i + 1] & 0xFF));
            int payload = i + 2;
            if (end > n || end < payload) {
                return null;
            }
            if (marker == 0xEE) {
                return null; // an Adobe marker: colour transforms are TwelveMonkeys' business
            }
            if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
                threeComponents = end - payload > 5 && jpeg[payload + 5] == 3;
            }
            if (marker == 0xE2 && end - payload > ICC_SIGNATURE.length + 2 && startsWith(jpeg, payload, ICC_SIGNATURE)) {
                int sequence = jpeg[payload + ICC_SIGNATURE.length] & 0xFF;
                byte[] chunk = Arrays.copyOfRange(jpeg, payload + ICC_SIGNATURE.length + 2, end);
                if (chunks.put(sequence, chunk) != null) {
                    return null;
                }
                iccSegments.add(new int[] {start, end});
            }
            i = end;
        }
        if (chunks.isEmpty() || !threeComponents) {
            return null;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(jpeg.length);
        int from = 0;
        for (int[] segment : iccSegments) {
            out.write(jpeg, from, segment[0] - from);
            from = segment[1];
        }
        out.write(jpeg, from, n - from);
        return new Found(join(chunks), out.toByteArray());
    }

    static boolean isSrgb(byte[] iccProfile) {
        try {
            return ICC_Profile.getInstance(iccProfile) instanceof ICC_ProfileRGB rgb && isSrgb(rgb);
        } catch (RuntimeException e) {
            return false; // a profile that does not parse: TwelveMonkeys decides what it means
        }
    }

    private static boolean isSrgb(ICC_ProfileRGB profile) {
        if (profile.getProfileClass() != ICC_Profile.CLASS_DISPLAY) {
            return false;
        }
        for (int tag : LOOKUP_TABLE_TAGS) {
            if (profile.getData(tag) != null) {
                return false;
            }
        }
        float[][] matrix = profile.getMatrix();
        float[][] srgbMatrix = SRGB.getMatrix();
        for (int row = 0; row < 3; row++) {
            for (int column = 0; column < 3; column++) {
                if (Math.abs(matrix[row][column] - srgbMatrix[row][column]) > TOLERANCE) {
                    return false;
                }
            }
        }
        for (int component = 0; component < 3; component++) {
            double[] curve = toneCurve(profile, component);
            for (int k = 0; k < CURVE_SAMPLES; k++) {
                if (Math.abs(curve[k] - SRGB_CURVES[component][k]) > TOLERANCE) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The component's tone curve at 256 evenly spaced inputs: a plain gamma or a sampled table. */
    private static double[] toneCurve(ICC_ProfileRGB profile, int component) {
        double[] curve = new double[CURVE_SAMPLES];
        try {
            float gamma = profile.getGamma(component);
            for (int k = 0; k < CURVE_SAMPLES; k++) {
                curve[k] = Math.pow(k / (CURVE_SAMPLES - 1.0), gamma);
            }
        } catch (ProfileDataException tableNotGamma) {
            short[] table = profile.getTRC(component);
            for (int k = 0; k < CURVE_SAMPLES; k++) {
                double x = k / (CURVE_SAMPLES - 1.0) * (table.length - 1);
                int below = (int) x;
                int above = Math.min(below + 1, table.length - 1);
                double f = x - below;
                curve[k] = ((table[below] & 0xFFFF) * (1 - f) + (table[above] & 0xFFFF) * f) / 65535.0;
            }
        }
        return curve;
    }

    private static byte[] join(Map<Integer, byte[]> chunks) {
        ByteArrayOutputStream profile = new ByteArrayOutputStream();
        chunks.values().forEach(profile::writeBytes);
        return profile.toByteArray();
    }

    private static boolean startsWith(byte[] b, int at, byte[] prefix) {
        for (int k = 0; k < prefix.length; k++) {
            if (b[at + k] != prefix[k]) {
                return false;
            }
        }
        return true;
    }
}
