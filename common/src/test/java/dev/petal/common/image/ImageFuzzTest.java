package dev.petal.common.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.petal.testing.TestImages;
import java.awt.color.ColorSpace;
import java.awt.color.ICC_Profile;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

/**
 * Feeds mutated JPEG and PNG bytes (bit flips, truncation, marker and chunk splices, edited size
 * and length fields) through the path every scored image takes, {@link ImageDecoder#decode(byte[], int)}
 * then {@link Preprocessor#toTensor}: {@value #INPUTS} inputs from a fixed seed, every mutation operator and
 * seed input among them. Every input must end in
 * a tensor of the right shape with finite values, or a {@link RejectedImageException} with a known
 * error class: never another exception, an error, or a decode that outlives its timeout.
 *
 * <p>{@code -Dpetal.fuzz.seconds=600} fuzzes for that long instead, {@code -Dpetal.fuzz.seed=N} elsewhere.
 * Failures print the input as base64: fix the decoder and keep the input as a regular test case.
 */
class ImageFuzzTest {
    private static final int SIZE = 224;
    /** Inputs of a default run: the same mutants every time, so a run is reproducible and bounded in work, not time. */
    static final int INPUTS = 2000;
    private static final Set<String> OPERATORS = Set.of("bitflip", "byteset", "truncate", "insert", "delete", "repeat",
            "jpeg-splice", "png-splice", "jpeg-length", "png-length", "jpeg-sof", "png-ihdr", "png-chunk-data");
    private static final long PER_INPUT_TIMEOUT_MS = 15_000;
    private static final Set<String> KNOWN_CLASSES = EnumSet.allOf(RejectedImageException.Kind.class).stream()
            .map(RejectedImageException.Kind::code).collect(Collectors.toSet());

    @Test
    void mutatedJpegAndPngEitherDecodeToATensorOrAreRejectedWithAKnownClass() throws Exception {
        String forSeconds = System.getProperty("petal.fuzz.seconds");
        int limit = forSeconds == null ? INPUTS : Integer.MAX_VALUE;
        long seed = Long.parseLong(System.getProperty("petal.fuzz.seed", "20240508"));
        List<byte[]> jpegs = seedJpegs();
        List<byte[]> pngs = seedPngs();
        ImageDecoder decoder = new ImageDecoder();
        Preprocessor preprocessor = new Preprocessor(SIZE, Normalization.IMAGENET);
        Mutator mutator = new Mutator(new Random(seed), jpegs, pngs);

        Map<String, Integer> outcomes = new TreeMap<>();
        Map<String, Integer> operators = new TreeMap<>();
        Set<String> seedsMutated = new java.util.TreeSet<>();
        List<String> failures = new ArrayList<>();
        long slowestNanos = 0;
        int inputs = 0;
        ExecutorService worker = newWorker();
        long started = System.nanoTime();
        long deadline = forSeconds == null ? 0 : started + (long) (Double.parseDouble(forSeconds) * 1e9);
        try {
            while (inputs < limit && (forSeconds == null || System.nanoTime() < deadline) && failures.size() < 10) {
                Mutator.Mutant mutant = mutator.next();
                inputs++;
                seedsMutated.add(mutant.operators().substring(0, mutant.operators().indexOf(':')) + mutant.seedIndex());
                for (String op : mutant.operators().split("[:+]")) {
                    operators.merge(op, 1, Integer::sum);
                }
                long start = System.nanoTime();
                Future<String> result = worker.submit(() -> decodeAndCheck(decoder, preprocessor, mutant.bytes()));
                String outcome;
                try {
                    outcome = result.get(PER_INPUT_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    result.cancel(true);
                    worker.shutdownNow(); // the stuck thread is abandoned; a fresh one carries on
                    worker = newWorker();
                    outcome = "FAIL hang over " + PER_INPUT_TIMEOUT_MS + " ms";
                } catch (ExecutionException e) {
                    outcome = "FAIL " + e.getCause();
                }
                slowestNanos = Math.max(slowestNanos, System.nanoTime() - start);
                if (outcome.startsWith("FAIL")) {
                    failures.add(outcome + " after " + mutant.operators() + " on seed input " + mutant.seedIndex()
                            + ": " + Base64.getEncoder().encodeToString(mutant.bytes()));
                    outcomes.merge("FAIL", 1, Integer::sum);
                } else {
                    outcomes.merge(outcome, 1, Integer::sum);
                }
            }
        } finally {
            worker.shutdownNow();
        }
        System.out.printf("image fuzz: %d inputs in %.1f s (seed %d, slowest %.0f ms)%n  outcomes: %s%n  operators: %s%n",
                inputs, (System.nanoTime() - started) / 1e9, seed, slowestNanos / 1e6, outcomes, operators);
        failures.forEach(f -> System.out.println("  " + f));
        if (!failures.isEmpty()) {
            fail(failures.size() + " of " + inputs + " fuzzed inputs broke the decode path; first: " + failures.get(0));
        }
        assertTrue(inputs >= 100, "only " + inputs + " inputs");
        assertTrue(operators.keySet().containsAll(OPERATORS), "operators applied: " + operators.keySet());
        assertEquals(seedJpegs().size() + seedPngs().size(), seedsMutated.size(), "seed inputs mutated: " + seedsMutated);
        assertTrue(outcomes.getOrDefault("ok", 0) > 0, "no mutant decoded at all: the mutations are too coarse " + outcomes);
        assertTrue(outcomes.size() > 3, "too few kinds of outcome: " + outcomes);
    }

    /** "ok", or the rejection's error class; "FAIL ..." for anything the scorer would not expect. */
    static String decodeAndCheck(ImageDecoder decoder, Preprocessor preprocessor, byte[] bytes) {
        try {
            DecodedImage image = decoder.decode(bytes, preprocessor.size());
            float[] tensor = new float[preprocessor.tensorLength()];
            preprocessor.toTensor(image.image(), tensor, 0);
            if (tensor.length != 3 * SIZE * SIZE) {
                return "FAIL tensor of " + tensor.length + " floats";
            }
            for (float v : tensor) {
                if (!Float.isFinite(v)) {
                    return "FAIL non-finite value in the tensor";
                }
            }
            return "ok";
        } catch (RejectedImageException e) {
            if (!KNOWN_CLASSES.contains(e.errorClass())) {
                return "FAIL unknown error class " + e.errorClass();
            }
            if (e.reason().isBlank() || e.reason().length() > 300) {
                return "FAIL reason not one short line: " + e.reason();
            }
            return e.errorClass();
        } catch (Throwable t) { // anything else, OutOfMemoryError included, would reach the scorer unclassified
            StringBuilder trace = new StringBuilder("FAIL ").append(t);
            StackTraceElement[] frames = t.getStackTrace();
            for (int i = 0; i < Math.min(6, frames.length); i++) {
                trace.append(" at ").append(frames[i]);
            }
            return trace.toString();
        }
    }

    @Test
    void theSeedInputsThemselvesDecode() {
        ImageDecoder decoder = new ImageDecoder();
        Preprocessor preprocessor = new Preprocessor(SIZE, Normalization.IMAGENET);
        for (byte[] seedInput : seedJpegs()) {
            assertEquals("ok", decodeAndCheck(decoder, preprocessor, seedInput));
        }
        for (byte[] seedInput : seedPngs()) {
            assertEquals("ok", decodeAndCheck(decoder, preprocessor, seedInput));
        }
    }

    private static ExecutorService newWorker() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-decode");
            t.setDaemon(true);
            return t;
        });
    }

    // ---- seed inputs: small, of every colour model and coding mode we meet in practice

    static List<byte[]> seedJpegs() {
        List<byte[]> seeds = new ArrayList<>();
        seeds.add(TestImages.jpeg(TestImages.photo(48, 40, 1), false));
        seeds.add(TestImages.jpeg(TestImages.photo(33, 17, 2), true));
        BufferedImage gray = new BufferedImage(24, 40, BufferedImage.TYPE_BYTE_GRAY);
        gray.getGraphics().drawImage(TestImages.photo(24, 40, 3), 0, 0, null);
        seeds.add(TestImages.jpeg(gray, false));
        seeds.add(TestImages.cmykJpeg(16, 24, 10, 200, 30, 0));
        // Embedded ICC profiles: TwelveMonkeys reads them whatever the metadata setting, and a
        // damaged profile goes to the colour management module (LCMS).
        seeds.add(TestImages.withIccProfile(TestImages.jpeg(TestImages.photo(20, 20, 8), false), ColorSpace.CS_sRGB));
        seeds.add(TestImages.withIccProfile(TestImages.jpeg(gray, false), ColorSpace.CS_GRAY));
        seeds.add(TestImages.withIccProfile(TestImages.cmykJpeg(8, 8, 0, 0, 0, 255), ColorSpace.CS_LINEAR_RGB));
        return seeds;
    }

    static List<byte[]> seedPngs() {
        List<byte[]> seeds = new ArrayList<>();
        seeds.add(TestImages.encode(TestImages.photo(40, 32, 4), "png"));
        seeds.add(TestImages.encode(TestImages.palette(20, 12, 2), "png"));
        seeds.add(TestImages.encode(TestImages.gray16(18, 10, 40_000), "png"));
        seeds.add(TestImages.encode(TestImages.grayAlpha(12, 12, 100, 50), "png"));
        BufferedImage argb = new BufferedImage(16, 16, BufferedImage.TYPE_INT_ARGB);
        argb.getGraphics().drawImage(TestImages.photo(16, 16, 5), 0, 0, null);
        seeds.add(TestImages.encode(argb, "png"));
        seeds.add(TestImages.interlacedPng(TestImages.photo(30, 22, 6)));
        seeds.add(splitIdat(TestImages.encode(TestImages.photo(24, 24, 7), "png"), 3));
        seeds.add(TestImages.encode(TestImages.rgb16(10, 6, 1000, 30_000, 65_535, 20_000), "png"));
        seeds.add(TestImages.encode(new BufferedImage(19, 7, BufferedImage.TYPE_BYTE_BINARY), "png"));
        seeds.add(withIccp(TestImages.encode(TestImages.photo(12, 12, 9), "png")));
        return seeds;
    }

    /** An iCCP chunk (the sRGB profile, deflated) after IHDR. */
    private static byte[] withIccp(byte[] png) {
        byte[] profile = ICC_Profile.getInstance(ColorSpace.CS_sRGB).getData();
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        data.writeBytes("sRGB".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        data.write(0); // name terminator
        data.write(0); // compression method
        try (java.util.zip.DeflaterOutputStream z = new java.util.zip.DeflaterOutputStream(data)) {
            z.write(profile);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(png, 0, 33); // signature and IHDR
        out.writeBytes(Mutator.pngChunk("iCCP", data.toByteArray()));
        out.write(png, 33, png.length - 33);
        return out.toByteArray();
    }

    /** The same PNG with its image data spread over several IDAT chunks. */
    private static byte[] splitIdat(byte[] png, int pieces) {
        List<Mutator.Range> chunks = Mutator.pngChunks(png);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(png, 0, 8);
        for (Mutator.Range c : chunks) {
            if (Mutator.pngType(png, c).equals("IDAT")) {
                int length = c.length() - 12;
                int step = Math.max(1, length / pieces);
                for (int at = 0; at < length; at += step) {
                    int n = Math.min(step, length - at);
                    out.writeBytes(Mutator.pngChunk("IDAT", Arrays.copyOfRange(png, c.start() + 8 + at, c.start() + 8 + at + n)));
                }
            } else {
                out.write(png, c.start(), c.length());
            }
        }
        return out.toByteArray();
    }

    /** Structure-aware mutations of JPEG and PNG seeds; one to three per input. */
    static final class Mutator {
        record Range(int start, int length) {
            int end() {
                return start + length;
            }
        }

        record Mutant(byte[] bytes, int seedIndex, String operators) {}

        private static final int[] INTERESTING_16 = {0, 1, 2, 3, 7, 8, 15, 16, 255, 256, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF};
        private static final long[] INTERESTING_32 = {0, 1, 2, 16, 255, 6000, 65_535, 65_536, 0x7FFF_FFFFL,
                0x8000_0000L, 0xFFFF_FFFFL, 100_000, 1 << 20};

        private final Random random;
        private final List<byte[]> jpegs;
        private final List<byte[]> pngs;

        Mutator(Random random, List<byte[]> jpegs, List<byte[]> pngs) {
            this.random = random;
            this.jpegs = jpegs;
            this.pngs = pngs;
        }

        Mutant next() {
            boolean jpeg = random.nextBoolean();
            List<byte[]> pool = jpeg ? jpegs : pngs;
            int index = random.nextInt(pool.size());
            byte[] b = pool.get(index).clone();
            int count = 1 + (random.nextInt(4) == 0 ? random.nextInt(3) : 0);
            List<String> applied = new ArrayList<>();
            for (int i = 0; i < count && b.length > 0; i++) {
                int op = random.nextInt(jpeg ? 9 : 10);
                String name;
                switch (op) {
                    case 0 -> { name = "bitflip"; b = bitFlips(b); }
                    case 1 -> { name = "byteset"; b = byteSets(b); }
                    case 2 -> { name = "truncate"; b = Arrays.copyOf(b, random.nextInt(b.length)); }
                    case 3 -> { name = "insert"; b = insertRandom(b); }
                    case 4 -> { name = "delete"; b = deleteRange(b); }
                    case 5 -> { name = "repeat"; b = repeatRange(b); }
                    case 6 -> { name = jpeg ? "jpeg-splice" : "png-splice"; b = jpeg ? jpegSplice(b) : pngSplice(b); }
                    case 7 -> { name = jpeg ? "jpeg-length" : "png-length"; b = jpeg ? jpegLength(b) : pngLength(b); }
                    case 8 -> { name = jpeg ? "jpeg-sof" : "png-ihdr"; b = jpeg ? jpegSof(b) : pngIhdr(b); }
                    default -> { name = "png-chunk-data"; b = pngChunkData(b); }
                }
                applied.add(name);
            }
            return new Mutant(b, index, (jpeg ? "jpeg:" : "png:") + String.join("+", applied));
        }

        // ---- byte-level

        private byte[] bitFlips(byte[] b) {
            int flips = 1 + random.nextInt(8);
            for (int i = 0; i < flips; i++) {
                int at = random.nextInt(b.length);
                b[at] ^= (byte) (1 << random.nextInt(8));
            }
            return b;
        }

        private byte[] byteSets(byte[] b) {
            int sets = 1 + random.nextInt(4);
            int[] values = {0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE, 0xD9, 0xDA, 0xD8};
            for (int i = 0; i < sets; i++) {
                b[random.nextInt(b.length)] = (byte) (random.nextBoolean() ? values[random.nextInt(values.length)] : random.nextInt(256));
            }
            return b;
        }

        private byte[] insertRandom(byte[] b) {
            byte[] extra = new byte[1 + random.nextInt(64)];
            random.nextBytes(extra);
            return splice(b, random.nextInt(b.length + 1), 0, extra);
        }

        private byte[] deleteRange(byte[] b) {
            int at = random.nextInt(b.length);
            int n = 1 + random.nextInt(Math.min(256, b.length - at));
            return splice(b, at, n, new byte[0]);
        }

        private byte[] repeatRange(byte[] b) {
            int at = random.nextInt(b.length);
            int n = 1 + random.nextInt(Math.min(512, b.length - at));
            byte[] copy = Arrays.copyOfRange(b, at, at + n);
            int times = 1 + random.nextInt(4);
            for (int i = 0; i < times; i++) {
                b = splice(b, at, 0, copy);
            }
            return b;
        }

        // ---- JPEG: segments (SOI, marker segments, SOS with its entropy-coded data, EOI)

        static List<Range> jpegSegments(byte[] b) {
            List<Range> segments = new ArrayList<>();
            int n = b.length;
            int i = 2;
            while (i + 4 <= n) {
                if (b[i] != (byte) 0xFF) {
                    break;
                }
                int marker = b[i + 1] & 0xFF;
                if (marker == 0xD9) {
                    break;
                }
                int length = (b[i + 2] & 0xFF) << 8 | (b[i + 3] & 0xFF);
                int end = i + 2 + length;
                if (length < 2 || end > n) {
                    break;
                }
                if (marker == 0xDA) { // scan data runs to the next marker that is not RSTn or stuffing
                    while (end + 1 < n && !(b[end] == (byte) 0xFF && b[end + 1] != 0 && ((b[end + 1] & 0xF8) != 0xD0))) {
                        end++;
                    }
                }
                segments.add(new Range(i, end - i));
                i = end;
            }
            return segments;
        }

        private byte[] jpegSplice(byte[] b) {
            List<Range> segs = jpegSegments(b);
            if (segs.isEmpty()) {
                return bitFlips(b);
            }
            Range s = segs.get(random.nextInt(segs.size()));
            switch (random.nextInt(4)) {
                case 0 -> { return splice(b, s.start(), s.length(), new byte[0]); } // drop a segment
                case 1 -> { return splice(b, s.start(), 0, Arrays.copyOfRange(b, s.start(), s.end())); } // repeat it
                case 2 -> { // move it elsewhere among the segments
                    Range t = segs.get(random.nextInt(segs.size()));
                    byte[] moved = Arrays.copyOfRange(b, s.start(), s.end());
                    byte[] without = splice(b, s.start(), s.length(), new byte[0]);
                    int at = t.start() > s.start() ? t.start() - s.length() : t.start();
                    return splice(without, Math.max(2, Math.min(at, without.length)), 0, moved);
                }
                default -> { // a segment from another JPEG (tables, frame header or scan of another image)
                    byte[] other = jpegs.get(random.nextInt(jpegs.size()));
                    List<Range> theirs = jpegSegments(other);
                    Range o = theirs.get(random.nextInt(theirs.size()));
                    return splice(b, s.start(), random.nextBoolean() ? s.length() : 0, Arrays.copyOfRange(other, o.start(), o.end()));
                }
            }
        }

        private byte[] jpegLength(byte[] b) {
            List<Range> segs = jpegSegments(b);
            if (segs.isEmpty()) {
                return bitFlips(b);
            }
            Range s = segs.get(random.nextInt(segs.size()));
            int old = (b[s.start() + 2] & 0xFF) << 8 | (b[s.start() + 3] & 0xFF);
            int value = switch (random.nextInt(3)) {
                case 0 -> INTERESTING_16[random.nextInt(INTERESTING_16.length)];
                case 1 -> old + random.nextInt(17) - 8;
                default -> random.nextInt(65_536);
            };
            put16(b, s.start() + 2, value);
            return b;
        }

        /** Frame header: precision, height, width, component count, sampling factors, table numbers. */
        private byte[] jpegSof(byte[] b) {
            for (Range s : jpegSegments(b)) {
                int marker = b[s.start() + 1] & 0xFF;
                boolean sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
                if (!sof || s.length() < 10) {
                    continue;
                }
                int p = s.start() + 4; // precision byte
                switch (random.nextInt(6)) {
                    case 0 -> put16(b, p + 1, INTERESTING_16[random.nextInt(INTERESTING_16.length)]); // height
                    case 1 -> put16(b, p + 3, INTERESTING_16[random.nextInt(INTERESTING_16.length)]); // width
                    case 2 -> { // both, so the claim stays under the pixel limit but far above the data
                        put16(b, p + 1, 1 + random.nextInt(6000));
                        put16(b, p + 3, 1 + random.nextInt(6000));
                    }
                    case 3 -> b[p + 5] = (byte) random.nextInt(6); // component count
                    case 4 -> { // sampling factors or quantisation table of one component
                        int components = Math.min(b[p + 5] & 0xFF, (s.end() - p - 6) / 3);
                        if (components > 0) {
                            int c = p + 6 + 3 * random.nextInt(components);
                            b[c + 1 + random.nextInt(2)] = (byte) random.nextInt(256);
                        }
                    }
                    default -> { // precision, or the SOF type itself (baseline, extended, progressive, lossless, arithmetic)
                        if (random.nextBoolean()) {
                            b[p] = (byte) new int[] {8, 12, 16, 0, 255}[random.nextInt(5)];
                        } else {
                            b[s.start() + 1] = (byte) new int[] {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC7, 0xC9, 0xCA, 0xCB, 0xCF}[random.nextInt(10)];
                        }
                    }
                }
                return b;
            }
            return bitFlips(b);
        }

        // ---- PNG: chunks (length, type, data, CRC)

        static List<Range> pngChunks(byte[] b) {
            List<Range> chunks = new ArrayList<>();
            int i = 8;
            while (i + 12 <= b.length) {
                long length = get32(b, i);
                if (length > b.length - i - 12) {
                    break;
                }
                chunks.add(new Range(i, (int) length + 12));
                i += (int) length + 12;
            }
            return chunks;
        }

        static String pngType(byte[] b, Range c) {
            return new String(b, c.start() + 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
        }

        static byte[] pngChunk(String type, byte[] data) {
            ByteBuffer out = ByteBuffer.allocate(12 + data.length);
            out.putInt(data.length).put(type.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)).put(data);
            CRC32 crc = new CRC32();
            crc.update(out.array(), 4, 4 + data.length);
            out.putInt((int) crc.getValue());
            return out.array();
        }

        private byte[] pngSplice(byte[] b) {
            List<Range> chunks = pngChunks(b);
            if (chunks.isEmpty()) {
                return bitFlips(b);
            }
            Range c = chunks.get(random.nextInt(chunks.size()));
            switch (random.nextInt(5)) {
                case 0 -> { return splice(b, c.start(), c.length(), new byte[0]); }
                case 1 -> { return splice(b, c.start(), 0, Arrays.copyOfRange(b, c.start(), c.end())); }
                case 2 -> { // a chunk from another PNG (another IHDR, PLTE, IDAT, ...)
                    byte[] other = pngs.get(random.nextInt(pngs.size()));
                    List<Range> theirs = pngChunks(other);
                    Range o = theirs.get(random.nextInt(theirs.size()));
                    return splice(b, c.start(), random.nextBoolean() ? c.length() : 0, Arrays.copyOfRange(other, o.start(), o.end()));
                }
                case 3 -> { // a chunk the decoder must cope with: tRNS, PLTE, sBIT, gAMA, iCCP, or an unknown critical one
                    String[] types = {"tRNS", "PLTE", "sBIT", "gAMA", "iCCP", "zTXt", "sPLT", "hIST", "XXXX", "IEND"};
                    byte[] data = new byte[random.nextInt(800)];
                    random.nextBytes(data);
                    return splice(b, c.start(), 0, pngChunk(types[random.nextInt(types.length)], data));
                }
                default -> { // chunks swapped
                    Range d = chunks.get(random.nextInt(chunks.size()));
                    if (d.equals(c)) {
                        return b;
                    }
                    Range first = c.start() < d.start() ? c : d;
                    Range second = c.start() < d.start() ? d : c;
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    out.write(b, 0, first.start());
                    out.write(b, second.start(), second.length());
                    out.write(b, first.end(), second.start() - first.end());
                    out.write(b, first.start(), first.length());
                    out.write(b, second.end(), b.length - second.end());
                    return out.toByteArray();
                }
            }
        }

        private byte[] pngLength(byte[] b) {
            List<Range> chunks = pngChunks(b);
            if (chunks.isEmpty()) {
                return bitFlips(b);
            }
            Range c = chunks.get(random.nextInt(chunks.size()));
            long old = get32(b, c.start());
            long value = random.nextBoolean() ? INTERESTING_32[random.nextInt(INTERESTING_32.length)] : old + random.nextInt(33) - 16;
            put32(b, c.start(), value);
            return b;
        }

        /** IHDR: width, height, bit depth, colour type, compression, filter, interlace; the CRC mostly kept valid. */
        private byte[] pngIhdr(byte[] b) {
            if (b.length < 33) {
                return bitFlips(b);
            }
            int d = 16; // IHDR data
            switch (random.nextInt(5)) {
                case 0 -> put32(b, d, INTERESTING_32[random.nextInt(INTERESTING_32.length)]);
                case 1 -> put32(b, d + 4, INTERESTING_32[random.nextInt(INTERESTING_32.length)]);
                case 2 -> { // under the pixel limit, far over the data
                    put32(b, d, 1 + random.nextInt(6000));
                    put32(b, d + 4, 1 + random.nextInt(6000));
                }
                case 3 -> {
                    b[d + 8] = (byte) new int[] {0, 1, 2, 4, 8, 16, 3, 32}[random.nextInt(8)];
                    if (random.nextBoolean()) {
                        b[d + 9] = (byte) new int[] {0, 2, 3, 4, 6, 1, 5, 7}[random.nextInt(8)];
                    }
                }
                default -> b[d + 10 + random.nextInt(3)] = (byte) random.nextInt(3);
            }
            if (random.nextInt(5) != 0) {
                CRC32 crc = new CRC32();
                crc.update(b, 12, 17);
                put32(b, 29, crc.getValue());
            }
            return b;
        }

        /** Flips bytes inside one chunk's data and fixes its CRC, so a CRC check cannot hide the damage. */
        private byte[] pngChunkData(byte[] b) {
            List<Range> chunks = pngChunks(b);
            if (chunks.isEmpty()) {
                return bitFlips(b);
            }
            Range c = chunks.get(random.nextInt(chunks.size()));
            int dataLength = c.length() - 12;
            if (dataLength == 0) {
                return b;
            }
            int flips = 1 + random.nextInt(4);
            for (int i = 0; i < flips; i++) {
                int at = c.start() + 8 + random.nextInt(dataLength);
                b[at] = random.nextBoolean() ? (byte) random.nextInt(256) : (byte) (b[at] ^ (1 << random.nextInt(8)));
            }
            CRC32 crc = new CRC32();
            crc.update(b, c.start() + 4, 4 + dataLength);
            put32(b, c.end() - 4, crc.getValue());
            return b;
        }

        // ---- helpers

        private static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
            byte[] out = new byte[b.length - remove + insert.length];
            System.arraycopy(b, 0, out, 0, at);
            System.arraycopy(insert, 0, out, at, insert.length);
            System.arraycopy(b, at + remove, out, at + insert.length, b.length - at - remove);
            return out;
        }

        private static void put16(byte[] b, int at, int value) {
            b[at] = (byte) (value >>> 8);
            b[at + 1] = (byte) value;
        }

        private static void put32(byte[] b, int at, long value) {
            b[at] = (byte) (value >>> 24);
            b[at + 1] = (byte) (value >>> 16);
            b[at + 2] = (byte) (value >>> 8);
            b[at + 3] = (byte) value;
        }

        static long get32(byte[] b, int at) {
            return (b[at] & 0xFFL) << 24 | (b[at + 1] & 0xFFL) << 16 | (b[at + 2] & 0xFFL) << 8 | (b[at + 3] & 0xFFL);
        }
    }
}
