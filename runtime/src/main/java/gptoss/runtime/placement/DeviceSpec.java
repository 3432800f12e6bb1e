package gptoss.runtime.placement;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One device a plan may use: a backend kind ("cpu", "tornado", ...), its device index within that backend and the
 * memory the plan may fill there. Several CPU instances are allowed ({@code cpu:0}, {@code cpu:1}), each with its
 * own budget. CPU devices are the host: they hold the engine and the experts that do not fit elsewhere.
 *
 * @param backend     provider name
 * @param index       device index within the provider
 * @param memoryBytes budget in bytes, or {@link #ASK_BACKEND} when the backend should report it
 */
public record DeviceSpec(String backend, int index, long memoryBytes) {
    public static final long ASK_BACKEND = -1;
    public static final String HOST_BACKEND = "cpu";

    private static final Pattern ENTRY = Pattern.compile("([A-Za-z][A-Za-z0-9_-]*)(?::(\\d+))?(?:=(.+))?");

    public DeviceSpec {
        if (backend == null || backend.isBlank()) throw new IllegalArgumentException("device without a backend name");
        if (index < 0) throw new IllegalArgumentException("device index must be >= 0, got " + index);
        if (memoryBytes < 0 && memoryBytes != ASK_BACKEND) throw new IllegalArgumentException("negative memory for " + backend + ":" + index);
    }

    /** {@code backend:index}, the name used in tables and plan files. */
    public String id() {
        return backend + ":" + index;
    }

    /** Whether this is a CPU instance (host memory). */
    public boolean isHost() {
        return backend.equals(HOST_BACKEND);
    }

    public DeviceSpec withMemory(long bytes) {
        return new DeviceSpec(backend, index, bytes);
    }

    /**
     * Parses {@code "tornado:0=24GiB,tornado:1=24GiB,cpu=64GiB"}: comma-separated {@code kind[:index][=size]}.
     * A missing index takes the lowest one not yet used by that kind; a missing size is asked from the backend.
     */
    public static List<DeviceSpec> parseList(String text) {
        if (text == null || text.isBlank()) throw new IllegalArgumentException("empty device list");
        record Entry(String backend, Integer index, long memory, String text) {}
        List<Entry> entries = new ArrayList<>();
        for (String part : text.split(",")) {
            String p = part.trim();
            Matcher m = ENTRY.matcher(p);
            if (!m.matches()) {
                throw new IllegalArgumentException("bad device '" + p + "' in --devices (expected kind[:index][=size], e.g. tornado:0=24GiB or cpu=64GiB)");
            }
            long memory = m.group(3) == null ? ASK_BACKEND : MemorySize.parse(m.group(3));
            entries.add(new Entry(m.group(1), m.group(2) == null ? null : Integer.parseInt(m.group(2)), memory, p));
        }
        Set<String> taken = new HashSet<>();
        for (Entry e : entries) {
            if (e.index() != null && !taken.add(e.backend() + ":" + e.index())) {
                throw new IllegalArgumentException("device " + e.backend() + ":" + e.index() + " is listed twice in --devices");
            }
        }
        List<DeviceSpec> devices = new ArrayList<>();
        for (Entry e : entries) {
            int index = e.index() != null ? e.index() : 0;
            if (e.index() == null) {
                while (taken.contains(e.backend() + ":" + index)) index++;
                taken.add(e.backend() + ":" + index);
            }
            devices.add(new DeviceSpec(e.backend(), index, e.memory()));
        }
        return devices;
    }
}
