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
import static org.junit.jupiter.api.Assertions.assertTrue;

class PageCacheTest {
    /** Pages of {@code m} the kernel holds in memory (mincore), or -1 where unknown. */
    static long residentPages(MemorySegment m) {
        try {
            java.lang.foreign.Linker linker = java.lang.foreign.Linker.nativeLinker();
            var mincore = linker.downcallHandle(linker.defaultLookup().find("mincore").orElseThrow(),
                    java.lang.foreign.FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
            long pages = (m.byteSize() + 4095) / 4096;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment vec = arena.allocate(pages);
                if ((int) mincore.invokeExact(m, m.byteSize(), vec) != 0) return -1;
                long resident = 0;
                for (long i = 0; i < pages; i++) resident += vec.get(ValueLayout.JAVA_BYTE, i) & 1;
                return resident;
            }
        } catch (Throwable t) {
            return -1;
        }
    }

    @Test
    void evictionDropsAWrittenFileFromThePageCache(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("written.bin");
        byte[] data = new byte[4 << 20];
        java.util.Arrays.fill(data, (byte) 3);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(data));
            ch.force(true);
        }
        boolean evicted = PageCache.evict(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            MemorySegment m = ch.map(FileChannel.MapMode.READ_ONLY, 0, data.length, arena);
            long resident = residentPages(m);
            if (HugePages.supported() && resident >= 0) {
                assertTrue(evicted, "posix_fadvise refused");
                // tmpfs keeps its pages (they are the file); a disk-backed file leaves the cache
                if (!Files.getFileStore(file).type().equals("tmpfs")) assertEquals(0, resident, "pages still cached after eviction");
            }
            assertEquals(3, m.get(ValueLayout.JAVA_BYTE, data.length - 1), "the file's content is intact");
        }
        assertFalse(PageCache.evict(dir.resolve("missing.bin")), "a missing file cannot be evicted");
    }
}
