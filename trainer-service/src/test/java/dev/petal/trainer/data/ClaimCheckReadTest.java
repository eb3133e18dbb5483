package dev.petal.trainer.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.petal.common.storage.ObjectStore;
import dev.petal.localstack.LocalStack;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The trainer's claim-check reads: the configured bucket only, and never an object over petal.image.max-bytes. */
class ClaimCheckReadTest {
    private static ObjectStore objects;

    @BeforeAll
    static void objects() {
        objects = LocalStack.shared().objectStore();
        objects.put("images/big", new byte[2000]);
        objects.put("images/small", new byte[] {1, 2, 3});
    }

    @AfterAll
    static void close() {
        objects.close();
    }

    private static RecordFetcher fetcher(long maxImageBytes) {
        return new RecordFetcher(null, "petal.train", objects, maxImageBytes);
    }

    @Test
    void anObjectOverTheImageLimitIsRefusedUnread() {
        RecordFetcher.FetchFailure failure = assertInstanceOf(RecordFetcher.FetchFailure.class,
                fetcher(1000).fromObjectStore("s3://petal/images/big"));
        assertEquals("too-large", failure.errorClass());
        assertTrue(failure.reason().contains("1000 bytes"), failure.reason());
        assertArrayEquals(new byte[2000], (byte[]) fetcher(2000).fromObjectStore("s3://petal/images/big"), "at the limit it is read");
        assertArrayEquals(new byte[] {1, 2, 3}, (byte[]) fetcher(1000).fromObjectStore("s3://petal/images/small"));
    }

    @Test
    void referencesOutsideTheBucketAreRefusedWithoutARequest() {
        for (String ref : new String[] {"s3://another-bucket/images/small", "s3://petal/../another-bucket/x", "file:///etc/passwd",
                "/etc/passwd", "s3://petal/", "s3://petal/images/small\nINFO forged"}) {
            RecordFetcher.FetchFailure failure = assertInstanceOf(RecordFetcher.FetchFailure.class, fetcher(1000).fromObjectStore(ref), ref);
            assertEquals("bad-image-ref", failure.errorClass(), ref);
            assertFalse(failure.reason().contains("\n"), "one line: " + failure.reason());
        }
    }
}
