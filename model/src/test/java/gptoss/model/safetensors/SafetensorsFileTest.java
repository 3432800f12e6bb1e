package gptoss.model.safetensors;

import gptoss.model.InvalidModelException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading safetensors files, and a clear error for each way a file can be broken. */
class SafetensorsFileTest {
    @TempDir
    Path dir;

    /** A file with the given JSON header and data bytes. */
    Path file(String name, String header, byte[] data) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json).put(data);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    static byte[] bytes(int n) {
        byte[] d = new byte[n];
        for (int i = 0; i < n; i++) d[i] = (byte) i;
        return d;
    }

    @Test
    void readsTensorsAndTheirBytesWithoutCopying() throws IOException {
        Path p = file("ok.safetensors", """
                {"__metadata__":{"format":"pt"},
                 "a":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]},
                 "b":{"dtype":"U8","shape":[4],"data_offsets":[12,16]}}""", bytes(16));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            TensorEntry a = f.tensors().get("a");
            assertEquals(DType.BF16, a.dtype());
            assertArrayEquals(new long[]{2, 3}, a.shape());
            assertEquals(12, a.data().byteSize());
            assertEquals((byte) 12, f.tensors().get("b").data().get(ValueLayout.JAVA_BYTE, 0));
            assertEquals("pt", f.metadata().get("format"));
            assertTrue(a.data().isMapped(), "tensor bytes are a view of the mapped file");
        }
    }

    @Test
    void truncatedFileIsReported() throws IOException {
        Path p = dir.resolve("short.safetensors");
        Files.write(p, new byte[]{1, 2, 3});
        var e = assertThrows(InvalidModelException.class, () -> SafetensorsFile.open(p));
        assertTrue(e.getMessage().contains("short.safetensors") && e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void headerLengthBeyondTheFileIsReported() throws IOException {
        Path p = dir.resolve("header.safetensors");
        ByteBuffer b = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putLong(1000);
        Files.write(p, b.array());
        var e = assertThrows(InvalidModelException.class, () -> SafetensorsFile.open(p));
        assertTrue(e.getMessage().contains("header length 1000") && e.getMessage().contains("beyond"), e.getMessage());
    }

    @Test
    void dataCutShortIsReportedWithTheTensorName() throws IOException {
        Path p = file("cut.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", bytes(10));
        var e = assertThrows(InvalidModelException.class, () -> SafetensorsFile.open(p));
        assertTrue(e.getMessage().contains("cut.safetensors: tensor 'w'") && e.getMessage().contains("out of range"), e.getMessage());
    }

    @Test
    void overlappingTensorsAreReported() throws IOException {
        Path p = file("overlap.safetensors", """
                {"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},
                 "b":{"dtype":"U8","shape":[8],"data_offsets":[4,12]}}""", bytes(12));
        var e = assertThrows(InvalidModelException.class, () -> SafetensorsFile.open(p));
        assertTrue(e.getMessage().contains("'a'") && e.getMessage().contains("'b'") && e.getMessage().contains("overlap"), e.getMessage());
    }

    @Test
    void sizeThatDisagreesWithShapeIsReported() throws IOException {
        Path p = file("size.safetensors", "{\"w\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,4]}}", bytes(4));
        var e = assertThrows(InvalidModelException.class, () -> SafetensorsFile.open(p));
        assertTrue(e.getMessage().contains("tensor 'w'") && e.getMessage().contains("needs 8"), e.getMessage());
    }

    @Test
    void unknownDtypeIsReported() throws IOException {
        Path p = file("dtype.safetensors", "{\"w\":{\"dtype\":\"Q4_K\",\"shape\":[4],\"data_offsets\":[0,4]}}", bytes(4));
        var e = assertThrows(InvalidModelException.class, () -> SafetensorsFile.open(p));
        assertTrue(e.getMessage().contains("tensor 'w'") && e.getMessage().contains("unknown dtype 'Q4_K'"), e.getMessage());
    }

    @Test
    void headerThatIsNotJsonIsReported() throws IOException {
        Path p = file("json.safetensors", "{not json", bytes(0));
        var e = assertThrows(InvalidModelException.class, () -> SafetensorsFile.open(p));
        assertTrue(e.getMessage().contains("json.safetensors") && e.getMessage().contains("not valid JSON"), e.getMessage());
    }
}
