package gptoss.runtime.placement;

import gptoss.model.checkpoint.ModelWeights;
import gptoss.model.config.ModelConfig;
import gptoss.runtime.backend.Backend;
import gptoss.runtime.backend.BackendProvider;
import gptoss.runtime.backend.BackendRequest;
import gptoss.runtime.backend.DeviceInfo;
import gptoss.runtime.engine.Placement;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Turns a {@link PlacementPlan} into running backends: one instance per computing device, holding its shard. */
public final class PlacementFactory {
    private PlacementFactory() {
    }

    /**
     * {@code devices} with every missing memory size ({@link DeviceSpec#ASK_BACKEND}) filled in from what the
     * device's backend reports.
     */
    public static List<DeviceSpec> withBackendMemory(List<DeviceSpec> devices, Function<String, BackendProvider> providers) {
        List<DeviceSpec> out = new ArrayList<>();
        for (DeviceSpec d : devices) {
            if (d.memoryBytes() != DeviceSpec.ASK_BACKEND) {
                out.add(d);
                continue;
            }
            BackendProvider provider;
            try {
                provider = providers.apply(d.backend());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("cannot ask " + d.id() + " for its memory (" + e.getMessage() + "); give it as " + d.id() + "=SIZE", e);
            }
            String unavailable = provider.unavailableReason();
            if (unavailable != null) throw new IllegalArgumentException("cannot ask " + d.id() + " for its memory (" + unavailable + "); give it as " + d.id() + "=SIZE");
            DeviceInfo info = provider.devices().stream().filter(i -> i.index() == d.index()).findFirst()
                    .or(() -> d.isHost() ? provider.devices().stream().findFirst() : java.util.Optional.empty())
                    .orElseThrow(() -> new IllegalArgumentException("backend " + d.backend() + " has no device " + d.index()));
            out.add(d.withMemory(info.memoryBytes()));
        }
        return out;
    }

    /** Backends from the providers found on the class path ({@link BackendProvider#named}). */
    public static Placement create(PlacementPlan plan, ModelWeights weights, int threads, boolean profileKernels) {
        return create(plan, weights, threads, profileKernels, BackendProvider::named);
    }

    /**
     * One backend per device that computes something, created by {@code providers.apply(device.backend())} with the
     * device's index and shard, labelled with the device id.
     */
    public static Placement create(PlacementPlan plan, ModelWeights weights, int threads, boolean profileKernels,
                                   Function<String, BackendProvider> providers) {
        ModelConfig c = plan.config();
        Backend[] byDevice = new Backend[plan.devices().size()];
        Map<Backend, String> labels = new IdentityHashMap<>();
        try {
            for (int d = 0; d < byDevice.length; d++) {
                if (!plan.computes(d)) continue;
                DeviceSpec device = plan.devices().get(d);
                BackendProvider provider = providers.apply(device.backend());
                String unavailable = provider.unavailableReason();
                if (unavailable != null) throw new IllegalStateException("backend " + provider.name() + " unavailable for " + device.id() + ": " + unavailable);
                byDevice[d] = provider.create(new BackendRequest(c, weights, device.index(), threads, plan.shard(d), profileKernels));
                labels.put(byDevice[d], device.id());
            }
        } catch (RuntimeException e) {
            for (Backend b : byDevice) if (b != null) b.close();
            throw e;
        }
        Backend[] attention = new Backend[c.numLayers()];
        Backend[][] experts = new Backend[c.numLayers()][c.numExperts()];
        for (int l = 0; l < c.numLayers(); l++) {
            attention[l] = byDevice[plan.attention(l)];
            for (int e = 0; e < c.numExperts(); e++) experts[l][e] = byDevice[plan.expert(l, e)];
        }
        return new Placement(attention, experts, byDevice[plan.head()], labels);
    }
}
