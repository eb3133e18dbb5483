package dev.petal.common.image;

import com.twelvemonkeys.imageio.color.ColorProfiles;
import com.twelvemonkeys.imageio.color.ColorSpaces;
import java.awt.color.ColorSpace;
import java.awt.color.ICC_Profile;
import java.awt.image.BufferedImage;
import java.awt.image.ColorConvertOp;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the decoder does with a JPEG's embedded RGB profile ({@link JpegColourProfile}), decided once
 * per profile and thread: take it out and read the pixels as they are (an sRGB profile), take it out
 * and convert the pixels to sRGB with a transform kept for the next image with the same profile, or
 * leave the JPEG as it is for TwelveMonkeys (a profile it would not use either).
 *
 * <p>The conversion is TwelveMonkeys' own: its colour space for the profile, and the JDK's
 * {@link ColorConvertOp} to sRGB. Only the transform is kept, so the pixels are the same (on the 481
 * flower photos with such a profile: every pixel equal). A {@link ColorConvertOp} keeps the transform
 * it made, but is not safe to share between threads, hence a small cache per thread.
 */
record ProfileTreatment(boolean strip, ColorConvertOp toSrgb) {
    private static final ProfileTreatment ALREADY_SRGB = new ProfileTreatment(true, null);
    private static final ProfileTreatment LEAVE_TO_READER = new ProfileTreatment(false, null);
    private static final int PROFILES_PER_THREAD = 32;
    private static final ThreadLocal<Map<ByteBuffer, ProfileTreatment>> CACHE = ThreadLocal.withInitial(() ->
            new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<ByteBuffer, ProfileTreatment> eldest) {
                    return size() > PROFILES_PER_THREAD;
                }
            });

    /** The treatment of {@code iccProfile}, made on this thread's first sight of the profile. */
    static ProfileTreatment of(byte[] iccProfile) {
        return CACHE.get().computeIfAbsent(ByteBuffer.wrap(iccProfile), key -> decide(iccProfile));
    }

    private static ProfileTreatment decide(byte[] iccProfile) {
        if (JpegColourProfile.isSrgb(iccProfile)) {
            return ALREADY_SRGB;
        }
        ICC_Profile profile;
        try {
            profile = asDisplayProfile(ColorProfiles.readProfile(new ByteArrayInputStream(iccProfile)));
        } catch (IOException | RuntimeException e) {
            return LEAVE_TO_READER; // TwelveMonkeys ignores a profile it cannot read, with a warning
        }
        if (profile.getColorSpaceType() != ColorSpace.TYPE_RGB || profile.getNumComponents() != 3) {
            return LEAVE_TO_READER;
        }
        return new ProfileTreatment(true, new ColorConvertOp(ColorSpaces.createColorSpace(profile),
                ColorSpace.getInstance(ColorSpace.CS_sRGB), null));
    }

    /**
     * As TwelveMonkeys' JPEG reader reads a profile: one of another class is taken as a display profile,
     * because {@link ColorConvertOp} would otherwise use relative colorimetric intent. It tests the
     * first byte of the rendering intent only, and so does this, to give the same pixels.
     */
    private static ICC_Profile asDisplayProfile(ICC_Profile profile) {
        if (profile.getProfileClass() == ICC_Profile.CLASS_DISPLAY) {
            return profile;
        }
        byte[] data = profile.getData();
        if (data[ICC_Profile.icHdrRenderingIntent] != ICC_Profile.icPerceptual) {
            return profile;
        }
        ByteBuffer.wrap(data).putInt(ICC_Profile.icHdrDeviceClass, ICC_Profile.icSigDisplayClass);
        return ColorProfiles.createProfile(data);
    }

    /** {@code decoded} (the pixels as stored, read without the profile) converted to sRGB. */
    BufferedImage apply(BufferedImage decoded) {
        if (toSrgb == null) {
            return decoded;
        }
        BufferedImage srgb = new BufferedImage(decoded.getWidth(), decoded.getHeight(), BufferedImage.TYPE_3BYTE_BGR);
        toSrgb.filter(decoded.getRaster(), srgb.getRaster());
        return srgb;
    }
}
