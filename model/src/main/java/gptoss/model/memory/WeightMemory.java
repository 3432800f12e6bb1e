package gptoss.model.memory;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Locale;

/**
 * How a checkpoint file's bytes get into memory. By default the file is mapped read-only and advised for huge
 * pages ({@link HugePages#advise}): nothing is copied, but whether the weights end up in 2 MiB pages depends on the
 * page cache (parts another process read in small pages stay in them). With {@code -Dgptoss.weights=copy} (or
 * {@code GPTOSS_WEIGHTS=copy}), like llama.cpp's {@code --no-mmap}, the file is read at load into anonymous memory
 * advised for huge pages ({@link HugePages#allocate}), so every weight is in 2 MiB pages whatever the cache held;
 * each chunk read is then dropped from the page cache ({@link PageCache#evict(Path, long, long)}) so the file is not
 * held twice. Loading then takes as long as reading the file, and the weights count as the process's own memory.
 */
public final class WeightMemory {
    /** System property (and, upper-cased with {@code _}, environment variable): {@code map} (default) or {@code copy}. */
    public static final String PROPERTY = "gptoss.weights";
    private static final long CHUNK = 64L << 20;

    private WeightMemory() {
    }

    /** Whether checkpoints are copied into anonymous huge pages ({@code copy}) rather than mapped. */
    public static boolean copies() {
        String value = System.getProperty(PROPERTY);
        if (value == null) value = System.getenv("GPTOSS_WEIGHTS");
        if (value == null || value.isBlank() || value.equalsIgnoreCase("map")) return false;
        if (value.equalsIgnoreCase("copy")) return true;
        throw new IllegalArgumentException(PROPERTY + " must be 'map' or 'copy', not '" + value.toLowerCase(Locale.ROOT) + "'");
    }

    /**
     * Bytes {@code [0, size)} of the file open on {@code channel} at {@code path}, read-only, valid until
     * {@code arena} closes: mapped, or copied (see the class comment).
     */
    public static MemorySegment load(FileChannel channel, Path path, long size, Arena arena) throws IOException {
        if (!copies()) {
            MemorySegment file = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            HugePages.advise(file); // what is read from disk from now on comes in 2 MiB pages (Linux)
            return file;
        }
        MemorySegment copy = HugePages.allocate(size, arena);
        for (long at = 0; at < size; at += CHUNK) {
            long n = Math.min(CHUNK, size - at);
            ByteBuffer buffer = copy.asSlice(at, n).asByteBuffer();
            long position = at;
            while (buffer.hasRemaining()) {
                int read = channel.read(buffer, position);
                if (read < 0) throw new EOFException(path.getFileName() + ": file ended at byte " + position + " of " + size);
                position += read;
            }
            PageCache.evict(path, at, n);
        }
        return copy.asReadOnly();
    }
}
