package gptoss.runtime.placement;

import gptoss.model.config.ModelConfig;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Makes a {@link PlacementPlan} that fits the devices' memory.
 * <ol>
 *   <li>Devices are ranked: accelerators (every backend but "cpu") in the order listed, then CPU instances. The
 *       first CPU instance is the host: it runs the engine (embedding, residual stream, buffers).</li>
 *   <li>Layers are pipelined: contiguous runs of layers (attention, router, KV cache) go to the compute devices
 *       (the accelerators, or the CPU instances when there are none) in proportion to their free memory,
 *       weighing whole layers with their experts when everything fits, only the dense parts otherwise. The head
 *       goes with the last run. If even the dense parts do not fit on the accelerators, the last layers go to
 *       CPU instances as a whole.</li>
 *   <li>Experts are placed hottest first (by the routing profile; without one all are equally hot): each on its
 *       home device if it has room (with {@link PlanSettings.Split#LAYER} the device running its layer's
 *       attention, with {@link PlanSettings.Split#EXPERT} a device dealt per layer in proportion to free memory),
 *       else on the next compute device with room (expert parallel), else on the CPU instance with the most room
 *       (hybrid: computed on the host).</li>
 * </ol>
 * An impossible request fails with a {@link PlacementException} naming what does not fit.
 */
public final class MemoryPlanner {
    private final MemoryModel memory;
    private final ModelConfig c;
    private final List<DeviceSpec> devices;
    private final ExpertProfile profile;

    private MemoryPlanner(MemoryModel memory, List<DeviceSpec> devices, ExpertProfile profile) {
        this.memory = memory;
        this.c = memory.config();
        this.devices = List.copyOf(devices);
        this.profile = profile != null ? profile : ExpertProfile.uniform(c);
    }

    /** A plan of the model in {@code memory} over {@code devices}; {@code profile} may be null (uniform routing). */
    public static PlacementPlan plan(MemoryModel memory, List<DeviceSpec> devices, ExpertProfile profile) {
        return new MemoryPlanner(memory, devices, profile).plan();
    }

    private PlacementPlan plan() {
        if (devices.isEmpty()) throw new IllegalArgumentException("no devices to place the model on");
        Set<String> ids = new HashSet<>();
        for (DeviceSpec d : devices) {
            if (d.memoryBytes() == DeviceSpec.ASK_BACKEND) throw new IllegalArgumentException("device " + d.id() + " has no memory size (write " + d.id() + "=SIZE)");
            if (!ids.add(d.id())) throw new IllegalArgumentException("device " + d.id() + " is listed twice");
        }
        List<Integer> accelerators = new ArrayList<>(), hosts = new ArrayList<>();
        for (int d = 0; d < devices.size(); d++) (devices.get(d).isHost() ? hosts : accelerators).add(d);
        List<Integer> stage = accelerators.isEmpty() ? hosts : accelerators;
        int host = hosts.isEmpty() ? -1 : hosts.get(0);

        Ledger ledger = new Ledger();
        if (host >= 0 && !ledger.take(host, memory.engineBytes(), Role.NONE)) {
            throw new PlacementException("the engine needs " + MemorySize.format(memory.engineBytes()) + " on " + devices.get(host).id()
                    + " (embedding " + MemorySize.format(memory.footprint().embeddingBytes()) + " and buffers) but it has "
                    + MemorySize.format(devices.get(host).memoryBytes()) + "; " + needsVersusOffers());
        }

        int L = c.numLayers(), E = c.numExperts();
        int[] attention = splitLayers(stage, accelerators.isEmpty() ? List.of() : hosts, ledger);
        int head = attention[L];
        attention = java.util.Arrays.copyOf(attention, L);
        for (int l = 0; l < L; l++) {
            if (!ledger.take(attention[l], memory.layerDenseWithCache(l), Role.ATTENTION)) throw new IllegalStateException("layer split overbooked " + devices.get(attention[l]).id());
        }
        if (!ledger.take(head, memory.footprint().headBytes(), Role.HEAD)) throw new IllegalStateException("layer split overbooked the head device");

        int[][] home = homes(attention, stage, ledger);
        int[][] experts = new int[L][E];
        List<int[]> order = new ArrayList<>();
        for (int l = 0; l < L; l++) for (int e = 0; e < E; e++) order.add(new int[]{l, e});
        order.sort(Comparator.<int[]>comparingDouble(x -> -profile.perToken(x[0], x[1])).thenComparingInt(x -> x[1]).thenComparingInt(x -> x[0]));
        List<Integer> spill = new ArrayList<>(stage);
        long unplacedBytes = 0;
        int unplaced = 0;
        for (int[] x : order) {
            int l = x[0], e = x[1];
            long bytes = memory.footprint().expertBytes(l);
            int chosen = -1;
            if (ledger.take(home[l][e], bytes, Role.EXPERT)) chosen = home[l][e];
            for (int i = 0; chosen < 0 && i < spill.size(); i++) {
                if (ledger.take(spill.get(i), bytes, Role.EXPERT)) chosen = spill.get(i);
            }
            if (chosen < 0 && !accelerators.isEmpty()) {
                Integer roomiest = hosts.stream().max(Comparator.comparingLong(ledger::expertRoom)).orElse(null);
                if (roomiest != null && ledger.take(roomiest, bytes, Role.EXPERT)) chosen = roomiest;
            }
            if (chosen < 0) {
                unplaced++;
                unplacedBytes += bytes;
            }
            experts[l][e] = chosen < 0 ? attention[l] : chosen;
        }
        if (unplaced > 0) {
            throw new PlacementException(unplaced + " of " + L * E + " experts (" + MemorySize.format(unplacedBytes)
                    + ") find no room after the rest is placed: " + ledger.freeReport() + "; " + needsVersusOffers());
        }
        PlacementPlan plan = new PlacementPlan(memory, devices, host, attention, experts, head);
        for (int d = 0; d < devices.size(); d++) {
            long planned = devices.get(d).memoryBytes() - ledger.free[d];
            if (planned != plan.usage(d).totalBytes()) {
                throw new IllegalStateException("planner booked " + planned + " B on " + devices.get(d).id() + ", the plan counts " + plan.usage(d).totalBytes());
            }
        }
        return plan.requireFits();
    }

    /**
     * Device of each layer's attention, and at index L of the head: contiguous runs over {@code stage} in
     * proportion to free memory; if the dense parts do not fit that way, greedily in order over
     * {@code stage} then {@code overflow} (CPU instances behind accelerators).
     */
    private int[] splitLayers(List<Integer> stage, List<Integer> overflow, Ledger ledger) {
        int L = c.numLayers(), E = c.numExperts();
        long attentionWs = memory.attentionWorkspaceBytes(), expertWs = memory.expertWorkspaceBytes();
        long headCost = memory.footprint().headBytes() + memory.headWorkspaceBytes();
        long[] cap = new long[stage.size()];
        long capSum = 0;
        for (int i = 0; i < cap.length; i++) {
            cap[i] = Math.max(0, ledger.free[stage.get(i)] - attentionWs - expertWs);
            capSum += cap[i];
        }
        long[] dense = new long[L + 1], full = new long[L + 1];
        long fullSum = 0;
        for (int l = 0; l < L; l++) {
            dense[l] = memory.layerDenseWithCache(l);
            full[l] = dense[l] + E * memory.footprint().expertBytes(l);
            fullSum += full[l];
        }
        dense[L] = full[L] = headCost;
        fullSum += headCost;
        int[] split = proportional(fullSum <= capSum ? full : dense, cap);
        long[] load = new long[cap.length];
        boolean[] hasLayer = new boolean[cap.length];
        for (int l = 0; l <= L; l++) {
            load[split[l]] += dense[l];
            if (l < L) hasLayer[split[l]] = true;
        }
        boolean fits = capSum > 0;
        for (int i = 0; i < cap.length; i++) {
            fits &= load[i] + (hasLayer[i] ? attentionWs : 0) <= ledger.free[stage.get(i)] - expertWs;
        }
        int[] placed = new int[L + 1];
        if (fits) {
            for (int l = 0; l <= L; l++) placed[l] = stage.get(split[l]);
            return placed;
        }
        // Greedy: fill devices in rank order with whole dense layers (the first layer on a device also books its
        // attention buffers); the head takes the device of the last layer if there is room, else the next one.
        List<Integer> order = new ArrayList<>(stage);
        order.addAll(overflow);
        long[] room = new long[devices.size()];
        boolean[] attends = new boolean[devices.size()];
        for (int d : order) room[d] = ledger.free[d] - expertWs;
        int at = 0;
        for (int l = 0; l <= L; l++) {
            while (at < order.size() && dense[l] + (l < L && !attends[order.get(at)] ? attentionWs : 0) > room[order.get(at)]) at++;
            if (at == order.size() && l == L) {
                // The head need not follow the pipeline: any device with room will do.
                for (int i = 0; i < order.size() && at == order.size(); i++) if (dense[L] <= room[order.get(i)]) at = i;
            }
            if (at == order.size()) {
                String what = l == L ? "the head (" + MemorySize.format(headCost) + " with its buffers)"
                        : "attention of layer " + l + " (" + MemorySize.format(memory.footprint().layerDenseBytes(l)) + " weights, "
                        + MemorySize.format(memory.kvCacheBytes(l)) + " KV cache at context " + memory.settings().context() + ")";
                throw new PlacementException(what + " fits on no device" + (l == L ? "" : " after layers 0.." + (l - 1)) + "; " + needsVersusOffers());
            }
            int d = order.get(at);
            room[d] -= dense[l] + (l < L && !attends[d] ? attentionWs : 0);
            if (l < L) attends[d] = true;
            placed[l] = d;
        }
        return placed;
    }

    /** Contiguous split of items with {@code cost} over bins with {@code cap}: item i goes to the bin holding its midpoint. */
    static int[] proportional(long[] cost, long[] cap) {
        double total = 0, capSum = 0;
        for (long x : cost) total += x;
        for (long x : cap) capSum += x;
        double[] bound = new double[cap.length];
        double acc = 0;
        for (int i = 0; i < cap.length; i++) {
            acc += cap[i];
            bound[i] = capSum == 0 ? total : acc / capSum * total;
        }
        int[] split = new int[cost.length];
        double prefix = 0;
        int bin = 0;
        for (int l = 0; l < cost.length; l++) {
            double mid = prefix + cost[l] / 2.0;
            while (bin < cap.length - 1 && mid > bound[bin]) bin++;
            split[l] = bin;
            prefix += cost[l];
        }
        return split;
    }

    /** The device each expert would ideally live on. */
    private int[][] homes(int[] attention, List<Integer> stage, Ledger ledger) {
        int L = c.numLayers(), E = c.numExperts();
        int[][] home = new int[L][E];
        for (int l = 0; l < L; l++) java.util.Arrays.fill(home[l], attention[l]);
        if (memory.settings().split() != PlanSettings.Split.EXPERT || stage.size() < 2) return home;
        double[] weight = new double[stage.size()];
        double weightSum = 0;
        for (int i = 0; i < weight.length; i++) weightSum += weight[i] = Math.max(0, ledger.expertRoom(stage.get(i)));
        if (weightSum == 0) return home;
        for (int l = 0; l < L; l++) {
            final int layer = l;
            List<Integer> byHeat = new ArrayList<>();
            for (int e = 0; e < E; e++) byHeat.add(e);
            byHeat.sort(Comparator.<Integer>comparingDouble(e -> -profile.perToken(layer, e)).thenComparingInt(e -> e));
            double[] load = new double[weight.length];
            for (int e : byHeat) {
                double h = Math.max(profile.perToken(l, e), 1e-12);
                int best = -1;
                double bestLoad = Double.POSITIVE_INFINITY;
                for (int i = 0; i < weight.length; i++) {
                    if (weight[i] == 0) continue;
                    double after = (load[i] + h) / weight[i];
                    if (after < bestLoad) {
                        bestLoad = after;
                        best = i;
                    }
                }
                load[best] += h;
                home[l][e] = stage.get(best);
            }
        }
        return home;
    }

    /** Total needs versus total budgets, for error messages. */
    private String needsVersusOffers() {
        ModelFootprint f = memory.footprint();
        long kv = memory.totalKvCacheBytes();
        long activations = memory.attentionWorkspaceBytes() + memory.expertWorkspaceBytes() + memory.headWorkspaceBytes() + memory.engineBufferBytes();
        long needs = f.totalBytes() + kv + activations;
        long offers = 0;
        List<String> each = new ArrayList<>();
        for (DeviceSpec d : devices) {
            long usable = d.memoryBytes() - memory.settings().reserveOn(d);
            offers += usable;
            each.add(d.id() + " " + MemorySize.format(usable));
        }
        PlanSettings s = memory.settings();
        return "the model needs at least " + MemorySize.format(needs) + " (weights " + MemorySize.format(f.totalBytes())
                + ", KV cache " + MemorySize.format(kv) + " " + s.kvPrecision().cliName() + " for " + s.sequences() + " x "
                + s.context() + " tokens, activations " + MemorySize.format(activations) + ") and the devices offer "
                + MemorySize.format(offers) + " (" + String.join(", ", each) + (memory.settings().reserveBytes() > 0 && devices.stream().anyMatch(d -> !d.isHost()) ? ", after keeping "
                + MemorySize.format(memory.settings().reserveBytes()) + " free per accelerator" : "") + ")"
                + (needs > offers ? ": short by " + MemorySize.format(needs - offers) : "");
    }

    private enum Role { NONE, ATTENTION, EXPERT, HEAD }

    /** Free memory per device as parts are booked; the first part of a kind also books its work buffers. */
    private final class Ledger {
        final long[] free = new long[devices.size()];
        final boolean[] attention = new boolean[devices.size()], expert = new boolean[devices.size()], head = new boolean[devices.size()];

        Ledger() {
            for (int d = 0; d < free.length; d++) free[d] = devices.get(d).memoryBytes() - memory.settings().reserveOn(devices.get(d));
        }

        long workspace(int d, Role role) {
            return switch (role) {
                case NONE -> 0;
                case ATTENTION -> attention[d] ? 0 : memory.attentionWorkspaceBytes();
                case EXPERT -> expert[d] ? 0 : memory.expertWorkspaceBytes();
                case HEAD -> head[d] ? 0 : memory.headWorkspaceBytes();
            };
        }

        boolean take(int d, long bytes, Role role) {
            long need = bytes + workspace(d, role);
            if (need > free[d]) return false;
            free[d] -= need;
            switch (role) {
                case ATTENTION -> attention[d] = true;
                case EXPERT -> expert[d] = true;
                case HEAD -> head[d] = true;
                case NONE -> { }
            }
            return true;
        }

        /** Memory left for experts on {@code d}. */
        long expertRoom(int d) {
            return free[d] - workspace(d, Role.EXPERT);
        }

        String freeReport() {
            List<String> parts = new ArrayList<>();
            for (int d = 0; d < free.length; d++) parts.add(devices.get(d).id() + " " + MemorySize.format(free[d]));
            return "free memory left: " + String.join(", ", parts);
        }
    }
}
