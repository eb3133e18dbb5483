package dev.petal.common.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.color.ColorSpace;
import java.awt.color.ICC_Profile;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class SrgbJpegProfileTest {
    private static final ImageDecoder DECODER = new ImageDecoder();
    private static final byte[] PLAIN = TestImages.jpeg(TestImages.photo(64, 48, 5), false);

    @Test
    void anSrgbProfileOtherThanTheJdksOwnIsDropped() {
        // The JDK's sRGB profile with another creation date and description: what cameras embed
        // is sRGB by its primaries and curves, not by its bytes.
        ICC_Profile copy = ICC_Profile.getInstance(ICC_Profile.getInstance(ColorSpace.CS_sRGB).getData());
        byte[] header = copy.getData(ICC_Profile.icSigHead);
        header[24] = 0x07; // year 0x07xx
        header[25] = (byte) 0xE9;
        copy.setData(ICC_Profile.icSigHead, header);
        byte[] withProfile = TestImages.withIccProfile(PLAIN, copy.getData());
        assertTrue(SrgbJpegProfile.isSrgb(copy.getData()));
        assertArrayEquals(PLAIN, SrgbJpegProfile.withoutSrgbProfile(withProfile));
        assertArrayEquals(pixels(PLAIN), pixels(withProfile));
    }

    @Test
    void otherProfilesAreKeptAndStillConverted() {
        byte[] linear = TestImages.withIccProfile(PLAIN, ICC_Profile.getInstance(ColorSpace.CS_LINEAR_RGB).getData());
        assertSame(linear, SrgbJpegProfile.withoutSrgbProfile(linear), "sRGB primaries, linear curves");
        assertNotEquals(0, difference(pixels(PLAIN), pixels(linear)), "the linear profile is applied");

        ICC_Profile widerRed = ICC_Profile.getInstance(ICC_Profile.getInstance(ColorSpace.CS_sRGB).getData());
        byte[] red = widerRed.getData(ICC_Profile.icSigRedColorantTag);
        ByteBuffer xyz = ByteBuffer.wrap(red);
        xyz.putInt(8, xyz.getInt(8) + 0x0200); // X of red, s15Fixed16, + 0.0078
        widerRed.setData(ICC_Profile.icSigRedColorantTag, red);
        assertFalse(SrgbJpegProfile.isSrgb(widerRed.getData()), "other primaries");

        byte[] pycc = TestImages.withIccProfile(PLAIN, ICC_Profile.getInstance(ColorSpace.CS_PYCC).getData());
        assertSame(pycc, SrgbJpegProfile.withoutSrgbProfile(pycc));
        BufferedImage grayImage = new BufferedImage(32, 32, BufferedImage.TYPE_BYTE_GRAY);
        byte[] gray = TestImages.withIccProfile(TestImages.jpeg(grayImage, false), ICC_Profile.getInstance(ColorSpace.CS_sRGB).getData());
        assertSame(gray, SrgbJpegProfile.withoutSrgbProfile(gray), "one component with an RGB profile");
        byte[] broken = TestImages.withIccProfile(PLAIN, new byte[200]);
        assertSame(broken, SrgbJpegProfile.withoutSrgbProfile(broken), "a profile that does not parse");
        assertEquals(64, DECODER.decode(broken).width());
        assertSame(PLAIN, SrgbJpegProfile.withoutSrgbProfile(PLAIN), "no profile");
    }

    private static byte[] pixels(byte[] jpeg) {
        return ((DataBufferByte) DECODER.decode(jpeg).image().getRaster().getDataBuffer()).getData();
    }

    private static long difference(byte[] a, byte[] b) {
        long sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += Math.abs((a[i] & 0xFF) - (b[i] & 0xFF));
        }
        return sum;
    }
}
