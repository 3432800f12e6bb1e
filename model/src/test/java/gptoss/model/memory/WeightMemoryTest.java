package gptoss.model.memory;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WeightMemoryTest {
    @TempDir
    Path dir;

    @AfterEach
    void clearProperty() {
        System.clearProperty(WeightMemory.PROPERTY);
    }

    /** Both ways give the file's bytes, read-only; the copy spans several read chunks and an odd tail. */
    @Test
    void mappedAndCopiedBytesAreTheFile() throws Exception {
        byte[] bytes = new byte[(64 << 20) * 2 + 12345];
        new Random(7).nextBytes(bytes);
        Path file = dir.resolve("weights.bin");
        Files.write(file, bytes);
        for (String mode : new String[] {"map", "copy"}) {
            System.setProperty(WeightMemory.PROPERTY, mode);
            assertTrue(WeightMemory.copies() == mode.equals("copy"));
            try (Arena arena = Arena.ofShared(); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                MemorySegment s = WeightMemory.load(ch, file, bytes.length, arena);
                assertArrayEquals(bytes, s.toArray(ValueLayout.JAVA_BYTE), mode);
                assertTrue(s.isReadOnly(), mode);
                assertThrows(IllegalArgumentException.class, () -> s.set(ValueLayout.JAVA_BYTE, 0, (byte) 1), mode);
            }
        }
    }

    @Test
    void unknownModeIsRefusedByName() {
        System.setProperty(WeightMemory.PROPERTY, "lazy");
        var e = assertThrows(IllegalArgumentException.class, WeightMemory::copies);
        assertTrue(e.getMessage().contains("gptoss.weights") && e.getMessage().contains("lazy"), e.getMessage());
        System.setProperty(WeightMemory.PROPERTY, "map");
        assertFalse(WeightMemory.copies());
    }
}
