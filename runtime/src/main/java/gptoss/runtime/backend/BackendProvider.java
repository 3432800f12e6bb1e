package gptoss.runtime.backend;

import java.util.List;
import java.util.ServiceLoader;

/**
 * A kind of backend, found through {@link ServiceLoader} so optional ones (TornadoVM) plug in when their module
 * is on the class path. The CPU provider is always there.
 */
public interface BackendProvider {

    /** The name used on the command line ({@code --backend NAME}, {@code --devices NAME:i=...}). */
    String name();

    /** Whether the provider can run here (e.g. its runtime is installed), and if not, why. */
    default String unavailableReason() {
        return null;
    }

    /** Devices this provider can use. */
    List<DeviceInfo> devices();

    /** A backend instance on {@code request.device()} holding {@code request.shard()}. */
    Backend create(BackendRequest request);

    /** All providers on the class path. */
    static List<BackendProvider> all() {
        return ServiceLoader.load(BackendProvider.class).stream().map(ServiceLoader.Provider::get).toList();
    }

    /** The provider named {@code name}, or an error listing those available. */
    static BackendProvider named(String name) {
        List<BackendProvider> all = all();
        for (BackendProvider p : all) if (p.name().equals(name)) return p;
        throw new IllegalArgumentException("unknown backend '" + name + "' (available: "
                + String.join(", ", all.stream().map(BackendProvider::name).toList())
                + (name.equals("tornado") ? "; the TornadoVM backend needs TORNADOVM_HOME set and a -Ptornado build" : "") + ")");
    }
}
