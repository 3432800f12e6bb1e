package gptoss.tornado;

import gptoss.runtime.backend.Backend;
import gptoss.runtime.backend.BackendProvider;
import gptoss.runtime.backend.BackendRequest;
import gptoss.runtime.backend.DeviceInfo;

import java.util.List;

/**
 * The TornadoVM backend ({@code --backend tornado --device N}): the forward pass as TornadoVM task graphs,
 * JIT-compiled to OpenCL, PTX or SPIR-V for the chosen device. Needs the JVM started with TornadoVM's argfile.
 */
public final class TornadoBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return "tornado";
    }

    @Override
    public String unavailableReason() {
        return TornadoInstallation.unavailableReason();
    }

    @Override
    public List<DeviceInfo> devices() {
        return unavailableReason() != null ? List.of() : TornadoInstallation.devices();
    }

    @Override
    public Backend create(BackendRequest request) {
        String reason = unavailableReason();
        if (reason != null) throw new IllegalStateException("the tornado backend is unavailable: " + reason);
        if (!"false".equalsIgnoreCase(System.getProperty("tornado.recover.bailout"))) {
            System.err.println("warning: -Dtornado.recover.bailout=False is not set: a kernel that fails on the device "
                    + "would silently run as plain Java");
        }
        var device = TornadoInstallation.device(request.device());
        String preload = System.getenv("LD_PRELOAD");
        if (device.getPlatformName().contains("Portable Computing Language") && (preload == null || !preload.contains("libjsig"))) {
            System.err.println("warning: PoCL replaces the JVM's signal handlers and the JVM may die at random "
                    + "(\"Segmentation fault\"); run with LD_PRELOAD=$JAVA_HOME/lib/libjsig.so (./gptoss does)");
        }
        return new TornadoBackend(request, device, request.device(), TornadoSettings.fromSystemProperties());
    }
}
