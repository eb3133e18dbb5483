package dev.petal.common.records;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The one sanitiser for values from Kafka and requests before they reach a log line or a header. */
class UntrustedTextTest {
    @Test
    void keepsOrdinaryTextOfAnyScript() {
        assertEquals("daisy", UntrustedText.forLog("daisy"));
        assertEquals("löwenzahn タンポポ", UntrustedText.forLog("löwenzahn タンポポ"));
        assertEquals("20260101-120000-e001", UntrustedText.forLog("20260101-120000-e001"));
    }

    @Test
    void cannotForgeALineRewriteTheTerminalOrReorderText() {
        String forged = UntrustedText.forLog("rose\n12:00:00 INFO  [Fake] model approved\r\u001b[31mred\u202egnp.exe\u2028x\u200b");
        assertFalse(forged.contains("\n") || forged.contains("\r"), forged);
        assertFalse(forged.contains("\u001b"), forged);
        assertFalse(forged.contains("\u202e") || forged.contains("\u2028") || forged.contains("\u200b"), forged);
        assertTrue(forged.startsWith("rose?12:00:00"), forged);
    }

    @Test
    void cutsLongValuesAndSaysSo() {
        String cut = UntrustedText.forLog("x".repeat(1_000_000));
        assertEquals(UntrustedText.MAX_LOG_LENGTH + 3, cut.length());
        assertTrue(cut.endsWith("..."));
        String bytes = UntrustedText.forLog("y".repeat(10_000).getBytes(StandardCharsets.UTF_8));
        assertEquals(UntrustedText.MAX_LOG_LENGTH + 3, bytes.length());
    }

    @Test
    void bytesThatAreNotUtf8AndNullsAreShownSafely() {
        String shown = UntrustedText.forLog(new byte[] {'k', (byte) 0xff, (byte) 0xfe, 0, 'y'});
        assertTrue(shown.startsWith("k") && shown.endsWith("y") && !shown.contains("\u0000"), shown);
        assertEquals("(none)", UntrustedText.forLog((String) null));
        assertEquals("(none)", UntrustedText.forLog((byte[]) null));
        assertEquals(List.of("a?b", "c"), UntrustedText.forLog(List.of("a\tb", "c")));
    }

    @Test
    void cleanTextIsWhatItWouldShowUnchanged() {
        assertTrue(UntrustedText.isClean("dandelion", 128));
        assertTrue(UntrustedText.isClean("l\u00f6wenzahn \u30bf\u30f3\u30dd\u30dd", 128));
        assertFalse(UntrustedText.isClean("rose\n", 128));
        assertFalse(UntrustedText.isClean("tulip\u202e", 128));
        assertFalse(UntrustedText.isClean("x".repeat(129), 128));
        assertFalse(UntrustedText.isClean(null, 128));
    }

    @Test
    void headersGetPrintableAsciiOnlyAsBefore() {
        assertEquals("bad   bytes", UntrustedText.printableAscii("bad\n\u00e9\u001bbytes", 300));
        assertEquals(300, ErrorReason.oneLine("z".repeat(5000)).length());
        assertEquals("no detail", ErrorReason.oneLine(" \n "));
    }
}
