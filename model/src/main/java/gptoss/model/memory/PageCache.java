package gptoss.model.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The kernel's page cache for one file (Linux, best effort). A checkpoint just written (by {@code synth}) sits in
 * the cache in whatever page sizes the writes produced; dropping it lets the first load read it back through a
 * mapping advised for huge pages ({@link HugePages}), in 2 MiB pages.
 */
public final class PageCache {
    private static final int O_RDONLY = 0;
    private static final int POSIX_FADV_DONTNEED = 4;
    private static final Optional<MethodHandle> OPEN = Libc.function("open",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final Optional<MethodHandle> FADVISE = Libc.function("posix_fadvise", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    private static final Optional<MethodHandle> CLOSE = Libc.function("close",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private PageCache() {
    }

    /**
     * Asks the kernel to drop {@code file}'s clean pages from the cache (write it out first, e.g. with
     * {@code force}); returns whether it accepted. Pages mapped by a running process stay.
     */
    public static boolean evict(Path file) {
        return evict(file, 0, 0);
    }

    /**
     * As {@link #evict(Path)}, for bytes {@code [offset, offset + length)} of the file only ({@code length} 0: to
     * the end).
     */
    public static boolean evict(Path file, long offset, long length) {
        if (OPEN.isEmpty() || FADVISE.isEmpty() || CLOSE.isEmpty()) return false;
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) OPEN.get().invokeExact(arena.allocateFrom(file.toAbsolutePath().toString()), O_RDONLY);
            if (fd < 0) return false;
            try {
                return (int) FADVISE.get().invokeExact(fd, offset, length, POSIX_FADV_DONTNEED) == 0;
            } finally {
                int ignored = (int) CLOSE.get().invokeExact(fd);
            }
        } catch (Throwable t) {
            return false;
        }
    }
}
