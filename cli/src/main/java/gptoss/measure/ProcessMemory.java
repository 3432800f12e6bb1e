package gptoss.measure;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/** Memory of this process: resident set (Linux {@code /proc/self/status}) and Java heap in use. */
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

    private static long statusKilobytes(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key)) return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
