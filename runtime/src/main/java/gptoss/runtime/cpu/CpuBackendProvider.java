package gptoss.runtime.cpu;

import gptoss.runtime.backend.Backend;
import gptoss.runtime.backend.BackendProvider;
import gptoss.runtime.backend.BackendRequest;
import gptoss.runtime.backend.DeviceInfo;

import java.util.List;

/** The CPU: one device, the host, with its memory. Each instance gets its own worker pool. */
public final class CpuBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public List<DeviceInfo> devices() {
        long memory = hostMemoryBytes();
        return List.of(new DeviceInfo("cpu", 0, "host CPU", memory,
                Runtime.getRuntime().availableProcessors() + " cores, Java Vector API"));
    }

    @Override
    public Backend create(BackendRequest request) {
        WorkerPool pool = new WorkerPool(request.threads());
        CpuBackend backend = new CpuBackend(request.config(), request.weights(), pool, request.profileKernels());
        return backend.closingPool();
    }

    static long hostMemoryBytes() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize();
        }
        return Runtime.getRuntime().maxMemory();
    }
}
