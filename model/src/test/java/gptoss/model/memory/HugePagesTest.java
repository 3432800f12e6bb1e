package gptoss.model.memory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HugePagesTest {

    /** The kernel's THP mode ("always", "madvise", "never"), or null where there is none. */
    static String thpMode() throws IOException {
        Path p = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");
        if (!Files.exists(p)) return null;
        String s = Files.readString(p);
        int open = s.indexOf('['), close = s.indexOf(']');
        return open < 0 ? null : s.substring(open + 1, close);
    }

    static long anonHugeKilobytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps_rollup"))) {
            if (line.startsWith("AnonHugePages:")) return Long.parseLong(line.replaceAll("\\D", ""));
        }
        return -1;
    }

    @Test
    void bufferIsAlignedUsableZeroedAndBackedByHugePagesWhereTheKernelAllows() throws IOException {
        long bytes = 16L << 20;
        try (Arena arena = Arena.ofConfined()) {
            long before = HugePages.supported() ? anonHugeKilobytes() : 0;
            MemorySegment b = HugePages.allocate(bytes, arena);
            assertEquals(bytes, b.byteSize());
            for (long i = 0; i < bytes; i += 4096) assertEquals(0, b.get(ValueLayout.JAVA_BYTE, i), "zero-filled at " + i);
            b.fill((byte) 7);
            assertEquals(7, b.get(ValueLayout.JAVA_BYTE, bytes - 1));
            if (HugePages.supported()) {
                assertEquals(0, b.address() % HugePages.SIZE, "2 MiB aligned");
                String mode = thpMode();
                if ("always".equals(mode) || "madvise".equals(mode)) {
                    long grown = anonHugeKilobytes() - before;
                    // The kernel may fall back to small pages when memory is fragmented; most of 16 MiB is expected.
                    assertTrue(grown >= 8 << 10, "huge pages backing the buffer grew by only " + grown + " KiB (THP mode " + mode + ")");
                }
            }
        }
    }

    @Test
    void adviceOnAMappedFileIsAcceptedOnLinuxAndLeavesItsContent(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("weights.bin");
        byte[] data = new byte[(int) (5 * HugePages.SIZE)];
        for (int i = 0; i < data.length; i++) data[i] = (byte) (i * 31);
        Files.write(file, data);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            MemorySegment m = ch.map(FileChannel.MapMode.READ_ONLY, 0, data.length, arena);
            boolean advised = HugePages.advise(m);
            String mode = thpMode();
            if (HugePages.supported() && mode != null && !"never".equals(mode)) assertTrue(advised, "madvise(MADV_HUGEPAGE) refused");
            for (int i = 0; i < data.length; i += 4099) assertEquals(data[i], m.get(ValueLayout.JAVA_BYTE, i), "byte " + i);
            assertFalse(HugePages.advise(m.asSlice(0, 4096)), "a segment inside one huge page has no whole page to advise");
        }
    }

    @Test
    void sizeMustBePositive() {
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalArgumentException.class, () -> HugePages.allocate(0, arena));
        }
    }

}
