package gptoss.runtime.placement;

import gptoss.model.config.ModelConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** A plan as text: what is where and the memory table per device. */
public final class PlanReport {
    private PlanReport() {
    }

    /** The full report ({@code gptoss plan}); {@code profile} may be null (uniform routing assumed). */
    public static String text(PlacementPlan plan, ExpertProfile profile) {
        ModelConfig c = plan.config();
        ExpertProfile p = profile != null ? profile : ExpertProfile.uniform(c);
        ModelFootprint f = plan.memory().footprint();
        PlanSettings s = plan.settings();
        MemoryModel m = plan.memory();
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "model: %d layers x %d experts (top-%d), tensors %s (dense %s, MXFP4 %s)%n",
                c.numLayers(), c.numExperts(), c.expertsPerToken(), MemorySize.format(f.totalBytes()),
                MemorySize.format(f.denseBytes()), MemorySize.format(f.mxfp4Bytes())));
        out.append(String.format(Locale.ROOT, "context %d x %d sequence%s: KV cache %s %s (sliding layers keep %d positions); %d-row steps; split: %s%n",
                s.context(), s.sequences(), s.sequences() == 1 ? "" : "s", s.kvPrecision().cliName(),
                MemorySize.format(m.totalKvCacheBytes()), Math.min(c.slidingWindow(), s.context()), s.rowsPerStep(), s.split().cliName()));
        out.append(profile != null && profile.measured()
                ? String.format(Locale.ROOT, "routing: measured profile over %d tokens%n", profile.tokens())
                : "routing: uniform (no profile given)\n");
        out.append('\n');
        out.append(String.format(Locale.ROOT, "%-11s %10s %10s %10s %11s %10s %10s %10s  %-20s %-30s %s%n",
                "device", "budget", "weights", "KV cache", "activations", "reserve", "total", "free", "holds", "experts", "expert work"));
        for (int d = 0; d < plan.devices().size(); d++) {
            DeviceUsage u = plan.usage(d);
            out.append(String.format(Locale.ROOT, "%-11s %10s %10s %10s %11s %10s %10s %10s  %-20s %-30s %5.1f%%%n",
                    u.device().id(), MemorySize.format(u.device().memoryBytes()), MemorySize.format(u.weightBytes()),
                    MemorySize.format(u.kvCacheBytes()), MemorySize.format(u.activationBytes()), MemorySize.format(u.reserveBytes()),
                    MemorySize.format(u.totalBytes()),
                    MemorySize.format(u.freeBytes()), roles(plan, d), experts(plan, d), 100 * plan.expertWorkShare(d, p)));
        }
        if (plan.host() < 0) {
            out.append(String.format(Locale.ROOT, "host        not budgeted (no cpu device listed): the engine needs %s (embedding %s, memory-mapped; buffers %s)%n",
                    MemorySize.format(m.engineBytes()), MemorySize.format(f.embeddingBytes()), MemorySize.format(m.engineBufferBytes())));
        }
        out.append('\n');
        double remote = plan.remoteExpertRowsPerToken(p);
        out.append(String.format(Locale.ROOT, "per token: %.2f of %d expert evaluations run off their layer's attention device (%s each way), %d pipeline hop%s (%s each)%n",
                remote, c.numLayers() * c.expertsPerToken(), MemorySize.format(Math.round(remote * c.hiddenSize() * Float.BYTES)),
                plan.pipelineHops(), plan.pipelineHops() == 1 ? "" : "s", MemorySize.format((long) c.hiddenSize() * Float.BYTES)));
        return out.toString();
    }

    /** One line per computing device, for the log of a run. */
    public static String brief(PlacementPlan plan) {
        StringBuilder out = new StringBuilder();
        for (int d = 0; d < plan.devices().size(); d++) {
            if (!plan.computes(d) && plan.host() != d) continue;
            DeviceUsage u = plan.usage(d);
            out.append(String.format(Locale.ROOT, "  %-11s %s of %s: holds %s, experts %s%n", u.device().id(),
                    MemorySize.format(u.totalBytes()), MemorySize.format(u.device().memoryBytes()), roles(plan, d), experts(plan, d)));
        }
        return out.toString();
    }

    /** Attention layers as ranges, "+ head", "engine". */
    static String roles(PlacementPlan plan, int d) {
        List<String> parts = new ArrayList<>();
        String layers = ranges(plan.attentionLayers(d));
        if (!layers.isEmpty()) parts.add(layers);
        if (plan.head() == d) parts.add("head");
        if (plan.host() == d) parts.add("engine");
        return parts.isEmpty() ? "-" : String.join(" + ", parts);
    }

    /** Number of experts and the per-layer range, e.g. "944 (26-27/layer)". */
    static String experts(PlacementPlan plan, int d) {
        int total = plan.expertCount(d);
        if (total == 0) return "0";
        int min = Integer.MAX_VALUE, max = 0, layers = 0;
        for (int l = 0; l < plan.config().numLayers(); l++) {
            int n = plan.expertCount(d, l);
            if (n == 0) continue;
            layers++;
            min = Math.min(min, n);
            max = Math.max(max, n);
        }
        String perLayer = (min == max ? String.valueOf(min) : min + "-" + max) + "/layer";
        return total + " (" + perLayer + (layers < plan.config().numLayers() ? " in " + layers + " layers" : "") + ")";
    }

    /** "0-17, 20" for [0..17, 20]. */
    static String ranges(List<Integer> values) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < values.size(); ) {
            int j = i;
            while (j + 1 < values.size() && values.get(j + 1) == values.get(j) + 1) j++;
            parts.add(i == j ? String.valueOf(values.get(i)) : values.get(i) + "-" + values.get(j));
            i = j + 1;
        }
        return parts.isEmpty() ? "" : "layers " + String.join(", ", parts);
    }
}
