package dev.petal.common.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.testing.TestImages;
import com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi;
import java.awt.color.ColorSpace;
import java.awt.color.ICC_Profile;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.IOException;
import java.nio.ByteBuffer;
import javax.imageio.ImageReader;
import javax.imageio.spi.IIORegistry;
import javax.imageio.stream.MemoryCacheImageInputStream;
import org.junit.jupiter.api.Test;

class JpegColourProfileTest {
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
        assertTrue(JpegColourProfile.isSrgb(copy.getData()));
        JpegColourProfile.Found found = JpegColourProfile.find(withProfile);
        assertArrayEquals(PLAIN, found.withoutProfile());
        ProfileTreatment treatment = ProfileTreatment.of(found.profile());
        assertTrue(treatment.strip());
        assertNull(treatment.toSrgb(), "sRGB needs no conversion");
        assertArrayEquals(pixels(PLAIN), pixels(withProfile));
    }

    @Test
    void otherRgbProfilesAreAppliedAsTwelveMonkeysAppliesThem() throws IOException {
        byte[] linear = TestImages.withIccProfile(PLAIN, ICC_Profile.getInstance(ColorSpace.CS_LINEAR_RGB).getData());
        ProfileTreatment treatment = ProfileTreatment.of(JpegColourProfile.find(linear).profile());
        assertNotNull(treatment.toSrgb(), "sRGB primaries but linear curves: converted");
        assertNotEquals(0, difference(pixels(PLAIN), pixels(linear)), "the linear profile is applied");
        assertArrayEquals(twelveMonkeysPixels(linear), pixels(linear), "the same pixels as the reader's own conversion");
        assertArrayEquals(twelveMonkeysPixels(linear), pixels(linear), "and again, with the kept transform");
        assertSame(treatment, ProfileTreatment.of(JpegColourProfile.find(linear).profile()), "decided once per profile");

        ICC_Profile widerRed = ICC_Profile.getInstance(ICC_Profile.getInstance(ColorSpace.CS_sRGB).getData());
        byte[] red = widerRed.getData(ICC_Profile.icSigRedColorantTag);
        ByteBuffer xyz = ByteBuffer.wrap(red);
        xyz.putInt(8, xyz.getInt(8) + 0x0200); // X of red, s15Fixed16, + 0.0078
        widerRed.setData(ICC_Profile.icSigRedColorantTag, red);
        assertFalse(JpegColourProfile.isSrgb(widerRed.getData()), "other primaries");
        byte[] wider = TestImages.withIccProfile(PLAIN, widerRed.getData());
        assertArrayEquals(twelveMonkeysPixels(wider), pixels(wider));
    }

    @Test
    void profilesTheReaderWouldNotApplyAreLeftToIt() throws IOException {
        byte[] xyz = TestImages.withIccProfile(PLAIN, ICC_Profile.getInstance(ColorSpace.CS_CIEXYZ).getData());
        assertFalse(ProfileTreatment.of(JpegColourProfile.find(xyz).profile()).strip(), "three components, but not RGB");
        assertArrayEquals(twelveMonkeysPixels(xyz), pixels(xyz));
        byte[] broken = TestImages.withIccProfile(PLAIN, new byte[200]);
        assertFalse(ProfileTreatment.of(JpegColourProfile.find(broken).profile()).strip(), "a profile that does not parse");
        assertEquals(64, DECODER.decode(broken).width());
        BufferedImage grayImage = new BufferedImage(32, 32, BufferedImage.TYPE_BYTE_GRAY);
        byte[] gray = TestImages.withIccProfile(TestImages.jpeg(grayImage, false), ICC_Profile.getInstance(ColorSpace.CS_sRGB).getData());
        assertNull(JpegColourProfile.find(gray), "one component with an RGB profile");
        assertNull(JpegColourProfile.find(PLAIN), "no profile");
    }

    private static byte[] pixels(byte[] jpeg) {
        return ((DataBufferByte) DECODER.decode(jpeg).image().getRaster().getDataBuffer()).getData();
    }

    /** The image as TwelveMonkeys' JPEG reader decodes it alone, profile and all. */
    private static byte[] twelveMonkeysPixels(byte[] jpeg) throws IOException {
        DECODER.inspect(jpeg); // registers TwelveMonkeys' reader with ImageIO
        ImageReader reader = IIORegistry.getDefaultInstance().getServiceProviderByClass(JPEGImageReaderSpi.class).createReaderInstance(null);
        try (MemoryCacheImageInputStream input = new MemoryCacheImageInputStream(new java.io.ByteArrayInputStream(jpeg))) {
            reader.setInput(input);
            return ((DataBufferByte) reader.read(0).getRaster().getDataBuffer()).getData();
        } finally {
            reader.dispose();
        }
    }

    private static long difference(byte[] a, byte[] b) {
        long sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += Math.abs((a[i] & 0xFF) - (b[i] & 0xFF));
        }
        return sum;
    }
}
