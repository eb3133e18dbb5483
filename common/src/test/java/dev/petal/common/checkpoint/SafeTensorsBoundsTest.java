package dev.petal.common.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A safetensors header is input: sizes that overflow, and parse errors, are refused without trusting or quoting it. */
class SafeTensorsBoundsTest {
    /** A file of {@code header} (JSON) followed by {@code dataBytes} zero bytes. */
    static byte[] file(String header, int dataBytes) {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(json.length).put(json);
        return out.array();
    }

    @Test
    void aWellFormedTensorReads() {
        SafeTensors read = SafeTensors.read(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16));
        assertEquals(4, read.get("w").values().length);
    }

    @Test
    void aShapeWhoseByteSizeWrapsAroundToTheDataLengthIsRefused() {
        // 2^62 elements of 4 bytes: 2^64 bytes, which is 0 in a long; the data range is empty, so an
        // inexact product would accept it and allocate an array of (int) 2^62 = 0 elements.
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,0]}}";
        CheckpointIntegrityException e = assertThrows(CheckpointIntegrityException.class, () -> SafeTensors.read(file(header, 0)));
        assertTrue(e.getMessage().contains("overflows"), e.getMessage());
    }

    @Test
    void aShapeWhoseElementCountOverflowsIsRefused() {
        String header = "{\"w\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}";
        CheckpointIntegrityException e = assertThrows(CheckpointIntegrityException.class, () -> SafeTensors.read(file(header, 0)));
        assertTrue(e.getMessage().contains("overflows"), e.getMessage());
    }

    @Test
    void offsetsThatAreNotNumbersAreRefused() {
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[\"0\",4]}}";
        assertThrows(CheckpointIntegrityException.class, () -> SafeTensors.read(file(header, 4)));
    }

    @Test
    void aHeaderThatIsNotJsonIsRefusedWithoutQuotingIt() {
        CheckpointIntegrityException e = assertThrows(CheckpointIntegrityException.class,
                () -> SafeTensors.read(file("{\"w\": SECRET-MARKER-7f3a}", 0)));
        assertFalse(e.getMessage().contains("SECRET"), e.getMessage());
        assertTrue(e.getMessage().contains("line 1"), e.getMessage());
    }
}
