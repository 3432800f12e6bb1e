package gptoss.tornado;

import gptoss.runtime.backend.DeviceInfo;
import uk.ac.manchester.tornado.api.TornadoBackend;
import uk.ac.manchester.tornado.api.TornadoDeviceMap;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.TornadoTargetDevice;
import uk.ac.manchester.tornado.api.common.TornadoDevice;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Whether TornadoVM is usable in this JVM, and its devices, numbered across its backends (OpenCL, PTX, SPIR-V)
 * in TornadoVM's order. Only {@link #unavailableReason} may be called without TornadoVM present.
 */
final class TornadoInstallation {
    private static volatile String reason;
    private static volatile boolean checked;

    private TornadoInstallation() {
    }

    /** Null when TornadoVM can run here, else why not (one line). */
    static String unavailableReason() {
        if (!checked) {
            synchronized (TornadoInstallation.class) {
                if (!checked) {
                    reason = check();
                    checked = true;
                }
            }
        }
        return reason;
    }

    private static String check() {
        if (System.getProperty("tornado.load.runtime.implementation") == null) {
            return "the JVM was not started with TornadoVM's argfile (set TORNADOVM_HOME to a TornadoVM installation; "
                    + "./gptoss then adds @$TORNADOVM_HOME/tornado-argfile)";
        }
        // Before TornadoVM reads them (static options): the whole-step graph holds ~12 tasks per layer, past the
        // default 4 KiB of TornadoVM bytecode per graph; and TornadoVM's own device-memory budget (default 4GB, a
        // bookkeeping cap below the driver's) would refuse a model of more than 4 GB. Either can still be given.
        if (System.getProperty("tornado.tvm.maxbytecodesize") == null) System.setProperty("tornado.tvm.maxbytecodesize", "1048576");
        if (System.getProperty("tornado.device.memory") == null) System.setProperty("tornado.device.memory", "1024GB");
        try {
            Class.forName("uk.ac.manchester.tornado.api.TornadoExecutionPlan");
        } catch (ClassNotFoundException | LinkageError e) {
            return "TornadoVM's API is not on the module path (" + e + ")";
        }
        try {
            int devices = 0;
            for (TornadoBackend b : new TornadoDeviceMap().getAllBackends()) devices += b.getNumDevices();
            return devices == 0 ? "TornadoVM found no device (check its drivers: tornado --devices)" : null;
        } catch (Throwable e) {
            return "TornadoVM failed to start: " + e;
        }
    }

    /** TornadoVM's devices: flat index, name, global memory, backend and limits. */
    static List<DeviceInfo> devices() {
        List<DeviceInfo> out = new ArrayList<>();
        List<TornadoBackend> backends = new TornadoDeviceMap().getAllBackends();
        for (int b = 0; b < backends.size(); b++) {
            TornadoBackend backend = backends.get(b);
            for (int d = 0; d < backend.getNumDevices(); d++) {
                TornadoDevice device = backend.getDevice(d);
                TornadoTargetDevice physical = device.getPhysicalDevice();
                String details = String.format(Locale.ROOT, "%s %d:%d, %s, %d compute units, max buffer %.2f GiB, local memory %d KiB, TornadoVM limit %s",
                        backend.getBackendType(), b, d, device.getPlatformName(), physical.getDeviceMaxComputeUnits(),
                        physical.getDeviceMaxAllocationSize() / (double) (1L << 30), physical.getDeviceLocalMemorySize() / 1024,
                        System.getProperty("tornado.device.memory", "4GB"));
                out.add(new DeviceInfo("tornado", out.size(), physical.getDeviceName(), physical.getDeviceGlobalMemorySize(), details));
            }
        }
        return out;
    }

    /** The device with flat index {@code index}. */
    static TornadoDevice device(int index) {
        List<TornadoBackend> backends = new TornadoDeviceMap().getAllBackends();
        int seen = 0;
        for (int b = 0; b < backends.size(); b++) {
            int n = backends.get(b).getNumDevices();
            if (index >= seen && index < seen + n) return TornadoExecutionPlan.getDevice(b, index - seen);
            seen += n;
        }
        throw new IllegalArgumentException("--device " + index + ": TornadoVM has " + seen + " device(s) (see ./gptoss devices)");
    }
}
