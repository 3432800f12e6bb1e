package gptoss.runtime.backend;

import gptoss.model.config.ModelConfig;

import java.util.Arrays;

/**
 * The part of a model one backend instance holds: attention (with router) of some layers, some experts of some
 * layers, and maybe the head. A backend only needs the weights of its shard resident.
 */
public final class Shard {
    private final boolean[] attention;  // [L]
    private final boolean[][] experts;  // [L][E]
    private final boolean head;

    public Shard(boolean[] attention, boolean[][] experts, boolean head) {
        this.attention = attention.clone();
        this.experts = new boolean[experts.length][];
        for (int l = 0; l < experts.length; l++) this.experts[l] = experts[l].clone();
        this.head = head;
    }

    /** The whole model. */
    public static Shard all(ModelConfig c) {
        boolean[] attention = new boolean[c.numLayers()];
        boolean[][] experts = new boolean[c.numLayers()][c.numExperts()];
        Arrays.fill(attention, true);
        for (boolean[] layer : experts) Arrays.fill(layer, true);
        return new Shard(attention, experts, true);
    }

    /** Nothing yet (to be filled with {@link #withAttention} etc.). */
    public static Shard none(ModelConfig c) {
        return new Shard(new boolean[c.numLayers()], new boolean[c.numLayers()][c.numExperts()], false);
    }

    public boolean hasAttention(int layer) {
        return attention[layer];
    }

    public boolean hasExpert(int layer, int expert) {
        return experts[layer][expert];
    }

    public boolean hasHead() {
        return head;
    }

    public Shard withAttention(int layer) {
        Shard s = new Shard(attention, experts, head);
        s.attention[layer] = true;
        return s;
    }

    public Shard withExpert(int layer, int expert) {
        Shard s = new Shard(attention, experts, head);
        s.experts[layer][expert] = true;
        return s;
    }

    public Shard withHead() {
        return new Shard(attention, experts, true);
    }

    public int layers() {
        return attention.length;
    }

    public int expertCount(int layer) {
        int n = 0;
        for (boolean b : experts[layer]) if (b) n++;
        return n;
    }
}
