package gptoss.runtime.placement;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gptoss.model.config.ModelConfig;
import gptoss.runtime.backend.Shard;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Where every part of a model lives: attention (with router) of each layer, each expert of each layer and the
 * head, each on one of the plan's devices; plus the host device that runs the engine (embedding, residual
 * stream). Made by {@link MemoryPlanner} or read from the JSON that {@link #toJson} writes ({@code plan --json}).
 * Devices are referred to by their position in {@link #devices()}.
 */
public final class PlacementPlan {
    public static final String FORMAT = "gptoss-placement";
    public static final int VERSION = 1;

    private final MemoryModel memory;
    private final List<DeviceSpec> devices;
    private final int host;           // device running the engine, -1 when no CPU device is listed
    private final int[] attention;    // [L] device index
    private final int[][] experts;    // [L][E] device index
    private final int head;

    public PlacementPlan(MemoryModel memory, List<DeviceSpec> devices, int host, int[] attention, int[][] experts, int head) {
        ModelConfig c = memory.config();
        this.memory = memory;
        this.devices = List.copyOf(devices);
        if (attention.length != c.numLayers() || experts.length != c.numLayers()) {
            throw new IllegalArgumentException("placement has " + attention.length + " layers, the model " + c.numLayers());
        }
        this.attention = attention.clone();
        this.experts = new int[experts.length][];
        for (int l = 0; l < experts.length; l++) {
            if (experts[l].length != c.numExperts()) {
                throw new IllegalArgumentException("placement layer " + l + " has " + experts[l].length + " experts, the model " + c.numExperts());
            }
            this.experts[l] = experts[l].clone();
            checkDevice(attention[l], "attention of layer " + l);
            for (int e = 0; e < c.numExperts(); e++) checkDevice(experts[l][e], "expert " + e + " of layer " + l);
        }
        checkDevice(head, "head");
        if (host != -1) {
            checkDevice(host, "host");
            if (!devices.get(host).isHost()) throw new IllegalArgumentException("the engine host must be a cpu device, not " + devices.get(host).id());
        }
        this.host = host;
        this.head = head;
    }

    private void checkDevice(int index, String what) {
        if (index < 0 || index >= devices.size()) throw new IllegalArgumentException(what + " placed on device #" + index + " of " + devices.size());
    }

    public MemoryModel memory() {
        return memory;
    }

    public ModelConfig config() {
        return memory.config();
    }

    public PlanSettings settings() {
        return memory.settings();
    }

    public List<DeviceSpec> devices() {
        return devices;
    }

    /** Index of the device that runs the engine, or -1 when the plan lists no CPU device. */
    public int host() {
        return host;
    }

    public int attention(int layer) {
        return attention[layer];
    }

    public int expert(int layer, int expert) {
        return experts[layer][expert];
    }

    public int head() {
        return head;
    }

    /** Whether device {@code d} computes anything (attention, experts or head). */
    public boolean computes(int d) {
        if (head == d) return true;
        for (int l = 0; l < attention.length; l++) {
            if (attention[l] == d) return true;
            for (int x : experts[l]) if (x == d) return true;
        }
        return false;
    }

    /** What device {@code d} holds, as the backend SPI describes it. */
    public Shard shard(int d) {
        ModelConfig c = config();
        boolean[] att = new boolean[c.numLayers()];
        boolean[][] exp = new boolean[c.numLayers()][c.numExperts()];
        for (int l = 0; l < c.numLayers(); l++) {
            att[l] = attention[l] == d;
            for (int e = 0; e < c.numExperts(); e++) exp[l][e] = experts[l][e] == d;
        }
        return new Shard(att, exp, head == d);
    }

    /** Layers whose attention runs on {@code d}. */
    public List<Integer> attentionLayers(int d) {
        List<Integer> layers = new ArrayList<>();
        for (int l = 0; l < attention.length; l++) if (attention[l] == d) layers.add(l);
        return layers;
    }

    /** Experts of {@code layer} held by {@code d}. */
    public int expertCount(int d, int layer) {
        int n = 0;
        for (int x : experts[layer]) if (x == d) n++;
        return n;
    }

    /** Experts of all layers held by {@code d}. */
    public int expertCount(int d) {
        int n = 0;
        for (int l = 0; l < experts.length; l++) n += expertCount(d, l);
        return n;
    }

    /** Memory used on device {@code d}. */
    public DeviceUsage usage(int d) {
        ModelFootprint f = memory.footprint();
        long weights = 0, kv = 0, activations = 0;
        boolean anyAttention = false, anyExpert = false;
        for (int l = 0; l < attention.length; l++) {
            if (attention[l] == d) {
                anyAttention = true;
                weights += f.layerDenseBytes(l);
                kv += memory.kvCacheBytes(l);
            }
            int n = expertCount(d, l);
            if (n > 0) {
                anyExpert = true;
                weights += n * f.expertBytes(l);
            }
        }
        if (anyAttention) activations += memory.attentionWorkspaceBytes();
        if (anyExpert) activations += memory.expertWorkspaceBytes();
        if (head == d) {
            weights += f.headBytes();
            activations += memory.headWorkspaceBytes();
        }
        if (host == d) {
            weights += f.embeddingBytes();
            activations += memory.engineBufferBytes();
        }
        return new DeviceUsage(devices.get(d), weights, kv, activations, settings().reserveOn(devices.get(d)));
    }

    public List<DeviceUsage> usages() {
        List<DeviceUsage> all = new ArrayList<>();
        for (int d = 0; d < devices.size(); d++) all.add(usage(d));
        return all;
    }

    /** Fails, naming every device over its budget, unless the plan fits. */
    public PlacementPlan requireFits() {
        List<String> over = new ArrayList<>();
        for (DeviceUsage u : usages()) {
            if (!u.fits()) {
                over.add(u.device().id() + " needs " + MemorySize.format(u.totalBytes()) + " (weights "
                        + MemorySize.format(u.weightBytes()) + ", KV cache " + MemorySize.format(u.kvCacheBytes())
                        + ", activations " + MemorySize.format(u.activationBytes())
                        + (u.reserveBytes() > 0 ? ", reserve " + MemorySize.format(u.reserveBytes()) : "") + ") but has "
                        + MemorySize.format(u.device().memoryBytes()));
            }
        }
        if (!over.isEmpty()) throw new PlacementException("placement does not fit: " + String.join("; ", over));
        return this;
    }

    /** Expected share of all expert work done on {@code d} under {@code profile}. */
    public double expertWorkShare(int d, ExpertProfile profile) {
        double share = 0;
        for (int l = 0; l < experts.length; l++) {
            for (int e = 0; e < experts[l].length; e++) if (experts[l][e] == d) share += profile.share(l, e);
        }
        return share;
    }

    /** Expected expert evaluations per token that run on another device than their layer's attention. */
    public double remoteExpertRowsPerToken(ExpertProfile profile) {
        double rows = 0;
        for (int l = 0; l < experts.length; l++) {
            for (int e = 0; e < experts[l].length; e++) if (experts[l][e] != attention[l]) rows += profile.perToken(l, e);
        }
        return rows;
    }

    /** Times per token the residual stream moves between devices: between layers and to the head. */
    public int pipelineHops() {
        int hops = 0;
        for (int l = 1; l < attention.length; l++) if (attention[l] != attention[l - 1]) hops++;
        if (head != attention[attention.length - 1]) hops++;
        return hops;
    }

    // ------------------------------------------------------------------------------------------------ JSON

    /** The plan as JSON ({@code plan --json}); {@link #read} accepts it. */
    public String toJson() {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        ModelConfig c = config();
        root.put("format", FORMAT);
        root.put("version", VERSION);
        ObjectNode model = root.putObject("model");
        model.put("num_layers", c.numLayers());
        model.put("num_experts", c.numExperts());
        model.put("hidden_size", c.hiddenSize());
        model.put("vocab_size", c.vocabSize());
        model.put("tensor_bytes", memory.footprint().totalBytes());
        PlanSettings s = settings();
        ObjectNode settings = root.putObject("settings");
        settings.put("context", s.context());
        settings.put("sequences", s.sequences());
        settings.put("prefill_chunk", s.prefillChunk());
        settings.put("kv_precision", s.kvPrecision().cliName());
        settings.put("split", s.split().cliName());
        settings.put("reserve_bytes", s.reserveBytes());
        ArrayNode devs = root.putArray("devices");
        for (DeviceSpec d : devices) {
            ObjectNode n = devs.addObject();
            n.put("id", d.id());
            n.put("backend", d.backend());
            n.put("index", d.index());
            n.put("memory_bytes", d.memoryBytes());
        }
        root.put("host", host);
        root.put("head", head);
        ArrayNode att = root.putArray("attention");
        for (int a : attention) att.add(a);
        ArrayNode exp = root.putArray("experts");
        for (int[] layer : experts) {
            ArrayNode row = exp.addArray();
            for (int x : layer) row.add(x);
        }
        ArrayNode mem = root.putArray("memory");
        for (DeviceUsage u : usages()) {
            ObjectNode n = mem.addObject();
            n.put("device", u.device().id());
            n.put("weight_bytes", u.weightBytes());
            n.put("kv_cache_bytes", u.kvCacheBytes());
            n.put("activation_bytes", u.activationBytes());
            n.put("reserve_bytes", u.reserveBytes());
            n.put("total_bytes", u.totalBytes());
            n.put("budget_bytes", u.device().memoryBytes());
        }
        try {
            DefaultPrettyPrinter printer = new DefaultPrettyPrinter().withArrayIndenter(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE);
            return compactRows(mapper.writer(printer).writeValueAsString(root)) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Pretty JSON, but each list of numbers on one line (the expert table would otherwise take thousands). */
    private static String compactRows(String json) {
        return json.replaceAll("\\[\\s*((?:-?\\d+\\s*,\\s*)*-?\\d+)\\s*]", "[$1]").replaceAll("(?<=\\d)\\s*,\\s*(?=-?\\d)", ", ");
    }

    /**
     * Reads a plan written by {@link #toJson} for the model {@code config} with tensor sizes {@code footprint};
     * {@code context} overrides the plan's when positive. The memory it needs is recomputed (not trusted from the
     * file) and must fit the budgets listed in it.
     */
    public static PlacementPlan read(Path file, ModelConfig config, ModelFootprint footprint, int context) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(file));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read placement " + file + ": " + e.getMessage(), e);
        }
        String where = "placement " + file;
        if (root == null || !root.isObject() || !FORMAT.equals(root.path("format").asText())) {
            throw new IllegalArgumentException(where + ": not a plan written by 'gptoss plan --json'");
        }
        if (root.path("version").asInt() != VERSION) throw new IllegalArgumentException(where + ": unsupported version " + root.path("version"));
        JsonNode model = root.path("model");
        int L = model.path("num_layers").asInt(-1), E = model.path("num_experts").asInt(-1);
        if (L != config.numLayers() || E != config.numExperts() || model.path("hidden_size").asInt(-1) != config.hiddenSize()) {
            throw new IllegalArgumentException(where + " was made for " + L + " layers x " + E + " experts (hidden "
                    + model.path("hidden_size").asInt(-1) + "), the model has " + config.numLayers() + " x "
                    + config.numExperts() + " (hidden " + config.hiddenSize() + ")");
        }
        JsonNode s = root.path("settings");
        int planned = s.path("context").asInt(config.maxContext());
        if (context > planned) {
            throw new IllegalArgumentException(where + " was made for context " + planned + "; --context " + context + " needs a new plan");
        }
        PlanSettings settings = new PlanSettings(context > 0 ? context : planned, s.path("sequences").asInt(1),
                s.path("prefill_chunk").asInt(128), PlanSettings.KvPrecision.parse(s.path("kv_precision").asText("fp32")),
                PlanSettings.Split.parse(s.path("split").asText("layer")), s.path("reserve_bytes").asLong(PlanSettings.DEFAULT_RESERVE));
        List<DeviceSpec> devices = new ArrayList<>();
        for (JsonNode d : root.path("devices")) {
            if (!d.path("backend").isTextual() || !d.path("index").canConvertToInt() || !d.path("memory_bytes").canConvertToLong()) {
                throw new IllegalArgumentException(where + ": a device needs 'backend', 'index' and 'memory_bytes'");
            }
            devices.add(new DeviceSpec(d.get("backend").asText(), d.get("index").asInt(), d.get("memory_bytes").asLong()));
        }
        if (devices.isEmpty()) throw new IllegalArgumentException(where + ": no devices");
        int[] attention = ints(root.path("attention"), L, where + ": 'attention'");
        int[][] experts = new int[L][];
        JsonNode exp = root.path("experts");
        if (!exp.isArray() || exp.size() != L) throw new IllegalArgumentException(where + ": 'experts' needs " + L + " rows");
        for (int l = 0; l < L; l++) experts[l] = ints(exp.get(l), E, where + ": 'experts' row " + l);
        try {
            return new PlacementPlan(new MemoryModel(config, footprint, settings), devices, root.path("host").asInt(-1),
                    attention, experts, root.path("head").asInt(-1)).requireFits();
        } catch (PlacementException e) {
            throw new PlacementException(where + ": " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }

    private static int[] ints(JsonNode node, int n, String what) {
        if (!node.isArray() || node.size() != n) throw new IllegalArgumentException(what + " needs " + n + " device numbers");
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            if (!node.get(i).canConvertToInt()) throw new IllegalArgumentException(what + ": entry " + i + " is not a device number");
            out[i] = node.get(i).asInt();
        }
        return out;
    }

    /** Same devices, settings and assignment. */
    public boolean sameAs(PlacementPlan o) {
        return devices.equals(o.devices) && host == o.host && head == o.head && Arrays.equals(attention, o.attention)
                && Arrays.deepEquals(experts, o.experts) && settings().equals(o.settings());
    }
}
