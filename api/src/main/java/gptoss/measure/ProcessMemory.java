package gptoss.measure;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/** Memory of this process: resident set and huge pages (Linux {@code /proc/self}) and Java heap in use. */
public final class ProcessMemory {
    private ProcessMemory() {
    }

    /** Resident set size in bytes, or -1 where /proc is not available. */
    public static long residentBytes() {
        long kilobytes = statusKilobytes("VmRSS:");
        return kilobytes < 0 ? -1 : kilobytes * 1024;
    }

    /** Java heap in use (live objects and not yet collected garbage). */
    public static long heapUsedBytes() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** The 1-minute load average, or -1 where unknown. */
    public static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    /**
     * Bytes this process holds in 2 MiB pages, mapped files (the checkpoint, mapped) and anonymous memory (the
     * checkpoint copied with {@code gptoss.weights=copy}, or other buffers advised for huge pages), or -1 where unknown.
     */
    public static long fileHugePageBytes() {
        Path rollup = Path.of("/proc/self/smaps_rollup");
        long file = kilobytes(rollup, "FilePmdMapped:"), anonymous = kilobytes(rollup, "AnonHugePages:");
        return file < 0 ? -1 : (file + Math.max(0, anonymous)) * 1024;
    }

    private static long statusKilobytes(String key) {
        return kilobytes(Path.of("/proc/self/status"), key);
    }

    private static long kilobytes(Path file, String key) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(key)) return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
