package gptoss.runtime.engine;

import gptoss.model.config.ModelConfig;
import gptoss.runtime.backend.Backend;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Where each part of the model runs: attention and router of every layer, every expert of every layer, and the
 * head. The engine dispatches by it; results do not depend on it (partial results are combined in one order).
 */
public final class Placement {
    private final Backend[] attention;   // [L]
    private final Backend[][] experts;   // [L][E]
    private final Backend head;

    public Placement(Backend[] attention, Backend[][] experts, Backend head) {
        this.attention = attention.clone();
        this.experts = new Backend[experts.length][];
        for (int l = 0; l < experts.length; l++) this.experts[l] = experts[l].clone();
        this.head = head;
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

    /** Distinct backends that hold attention of some layer (and so a KV cache per sequence). */
    public List<Backend> attentionBackends() {
        return new ArrayList<>(new LinkedHashSet<>(List.of(attention)));
    }
}
