package gptoss.runtime.engine;

import gptoss.model.config.ModelConfig;
import gptoss.runtime.backend.Backend;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where each part of the model runs: attention and router of every layer, every expert of every layer, and the
 * head. The engine dispatches by it; results do not depend on it (partial results are combined in one order).
 */
public final class Placement {
    private final Backend[] attention;   // [L]
    private final Backend[][] experts;   // [L][E]
    private final Backend head;
    private final Map<Backend, String> labels = new IdentityHashMap<>();

    public Placement(Backend[] attention, Backend[][] experts, Backend head) {
        this(attention, experts, head, Map.of());
    }

    /** With a label per backend (e.g. the device id "cpu:1") for reports; unlabelled backends use their name. */
    public Placement(Backend[] attention, Backend[][] experts, Backend head, Map<Backend, String> labels) {
        this.attention = attention.clone();
        this.experts = new Backend[experts.length][];
        for (int l = 0; l < experts.length; l++) this.experts[l] = experts[l].clone();
        this.head = head;
        this.labels.putAll(labels);
    }

    /** Everything on one backend. */
    public static Placement single(Backend backend, ModelConfig config) {
        Backend[] attention = new Backend[config.numLayers()];
        Backend[][] experts = new Backend[config.numLayers()][config.numExperts()];
        for (int l = 0; l < config.numLayers(); l++) {
            attention[l] = backend;
            java.util.Arrays.fill(experts[l], backend);
        }
        return new Placement(attention, experts, backend);
    }

    /** Backend running attention, MoE norm and router of {@code layer}. */
    public Backend attention(int layer) {
        return attention[layer];
    }

    public Backend expert(int layer, int expert) {
        return experts[layer][expert];
    }

    public Backend head() {
        return head;
    }

    /** Distinct backends, in first-use order. */
    public List<Backend> backends() {
        Set<Backend> all = new LinkedHashSet<>(List.of(attention));
        for (Backend[] layer : experts) all.addAll(List.of(layer));
        all.add(head);
        return new ArrayList<>(all);
    }

    /** The label of {@code backend} in reports: the one given at construction, else its name. */
    public String label(Backend backend) {
        return labels.getOrDefault(backend, backend.name());
    }

    /** Distinct backends that hold attention of some layer (and so a KV cache per sequence). */
    public List<Backend> attentionBackends() {
        return new ArrayList<>(new LinkedHashSet<>(List.of(attention)));
    }
}
