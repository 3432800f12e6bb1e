package gptoss.runtime.cpu;

import gptoss.model.config.ModelConfig;
import gptoss.runtime.backend.KvCache;
import gptoss.runtime.cpu.kernel.Attention;

/**
 * fp32 keys and values of one sequence, per layer and KV head, laid out for {@link Attention}: keys in tiles of
 * {@link Attention#KEY_TILE} slots, each tile transposed ({@code [kvHead][tile][d][slot in tile]}, so a tile is one
 * contiguous block scored many slots per vector operation), values by slot ({@code [kvHead][slot][d]}).
 * Full-attention layers grow by doubling up to the context limit (capacities are multiples of the tile; unused
 * slots hold zeros). Sliding-window layers keep a ring of {@link #ring} slots (position p in slot p mod ring): twice
 * the window, so that a chunk of up to {@link #rowsAhead} rows can be written before it is attended without
 * overwriting a position any of its rows still sees. A sliding layer also moves each entry it overwrites to a ring
 * of {@link #REWIND_SLACK} older positions, so the sequence can be truncated that far back (a chat dropping the
 * previous turn's chain of thought) and continue without recomputing the prompt.
 */
final class CpuKvCache implements KvCache {
    /** Positions a sliding-window layer keeps beyond its ring, so the sequence can be truncated that far back. */
    static final int REWIND_SLACK = 1024;

    private final ModelConfig config;
    private final int maxContext;
    private final int ring;         // slots of a sliding layer
    private final float[][] keys;   // [layer][kvHead][slot / TILE][d][slot % TILE]
    private final float[][] values; // [layer][kvHead][slot][d]
    private final int[] capacity;   // [layer] slots
    private final float[][] evictedKeys;   // [layer][(position mod slack) · KV + kvHead·D + d], sliding layers only
    private final float[][] evictedValues; // [layer][(position mod slack) · KV + kvHead·D + d]
    private final int slack;
    private int length;

    CpuKvCache(ModelConfig config, int maxContext) {
        this.config = config;
        this.maxContext = maxContext;
        this.ring = ring(config);
        this.keys = new float[config.numLayers()][];
        this.values = new float[config.numLayers()][];
        this.capacity = new int[config.numLayers()];
        this.evictedKeys = new float[config.numLayers()][];
        this.evictedValues = new float[config.numLayers()][];
        this.slack = Math.max(1, Math.min(REWIND_SLACK, maxContext - config.slidingWindow()));
    }

    /** Slots of a sliding layer's ring: twice the window, in whole key tiles. */
    static int ring(ModelConfig config) {
        int tile = Attention.KEY_TILE;
        return (2 * config.slidingWindow() + tile - 1) / tile * tile;
    }

    /**
     * Rows of one sequence that may be written to {@code layer} before they are attended: a row at position p
     * overwrites p − ring, which the first row P must not see, so at most ring − window + 1; ring − window (the
     * window, 128) keeps query tiles whole.
     */
    static int rowsAhead(ModelConfig config, int layer) {
        return config.isSliding(layer) ? ring(config) - config.slidingWindow() : Integer.MAX_VALUE;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) throw new IllegalArgumentException("cannot truncate " + length + " to " + newLength);
        // Positions a sliding layer must hold again: those of its ring before newLength, [newLength - ring, newLength),
        // at least the window [newLength - window, newLength); those before length - ring were overwritten and come
        // back from the eviction ring, which holds [length - ring - slack, length - ring).
        int overwrittenBelow = length - ring, kept = overwrittenBelow - slack;
        int first = Math.max(0, newLength - ring), needed = Math.max(0, newLength - config.slidingWindow());
        if (needed < overwrittenBelow) {
            if (needed < kept) throw new IllegalStateException("a sliding-window cache cannot rewind from " + length + " to " + newLength);
            for (int l = 0; l < keys.length; l++) {
                if (!config.isSliding(l) || keys[l] == null) continue;
                for (int q = Math.max(first, kept); q < Math.min(newLength, overwrittenBelow); q++) restore(l, q);
            }
        }
        length = newLength;
    }

    /** Puts position {@code q}'s evicted key and value back into its ring slot. */
    private void restore(int layer, int q) {
        int from = (q % slack) * config.kvDim();
        copy(evictedKeys[layer], from, evictedValues[layer], from, layer, slot(layer, q));
    }

    @Override
    public long bytes() {
        long b = 0;
        for (float[] k : keys) if (k != null) b += 8L * k.length;
        for (float[] k : evictedKeys) if (k != null) b += 8L * k.length;
        return b;
    }

    /** Slot of {@code position} in layer {@code layer}'s arrays. */
    int slot(int layer, int position) {
        return config.isSliding(layer) ? position % ring : position;
    }

    /** The modulus of {@code layer}'s slots: the ring size on sliding layers, 0 (slot = position) on full ones. */
    int ring(int layer) {
        return config.isSliding(layer) ? ring : 0;
    }

    float[] keys(int layer) {
        return keys[layer];
    }

    float[] values(int layer) {
        return values[layer];
    }

    int capacity(int layer) {
        return capacity[layer];
    }

    /** Stores the key and value of {@code position} in layer {@code layer}. */
    void write(int layer, int position, float[] k, int kOffset, float[] v, int vOffset) {
        int slot = slot(layer, position);
        if (slot >= capacity[layer]) grow(layer, slot);
        int old = position - ring;
        if (config.isSliding(layer) && old >= 0) evict(layer, old, slot);
        copy(k, kOffset, v, vOffset, layer, slot);
        length = Math.max(length, position + 1);
    }

    /** Copies position {@code old}'s entry, about to be overwritten in {@code slot}, to the eviction ring. */
    private void evict(int layer, int old, int slot) {
        int kv = config.kvDim();
        if (evictedKeys[layer] == null) {
            evictedKeys[layer] = new float[slack * kv];
            evictedValues[layer] = new float[slack * kv];
        }
        float[] ek = evictedKeys[layer], ev = evictedValues[layer], kt = keys[layer], vt = values[layer];
        int D = config.headDim(), cap = capacity[layer], to = (old % slack) * kv;
        for (int h = 0; h < config.numKvHeads(); h++) {
            int head = h * cap * D;
            for (int d = 0; d < D; d++) ek[to + h * D + d] = kt[head + Attention.tileKeys(slot, d, D)];
            System.arraycopy(vt, head + slot * D, ev, to + h * D, D);
        }
    }

    /** Writes the key at {@code k[kFrom..]} and value at {@code v[vFrom..]} (kvDim wide, head by head) into a slot. */
    private void copy(float[] k, int kFrom, float[] v, int vFrom, int layer, int slot) {
        int D = config.headDim(), cap = capacity[layer];
        float[] kt = keys[layer], vt = values[layer];
        for (int h = 0; h < config.numKvHeads(); h++) {
            int head = h * cap * D;
            for (int d = 0; d < D; d++) kt[head + Attention.tileKeys(slot, d, D)] = k[kFrom + h * D + d];
            System.arraycopy(v, vFrom + h * D, vt, head + slot * D, D);
        }
    }

    private void grow(int layer, int slot) {
        int tile = Attention.KEY_TILE, D = config.headDim(), kvHeads = config.numKvHeads();
        int slots = config.isSliding(layer) ? ring : Math.min(maxContext, Math.max(tile, Integer.highestOneBit(slot) * 2));
        int newCapacity = (slots + tile - 1) / tile * tile, old = capacity[layer];
        float[] newKeys = new float[kvHeads * newCapacity * D], newValues = new float[kvHeads * newCapacity * D];
        for (int h = 0; h < kvHeads && old > 0; h++) { // a head's first old·D floats keep their layout
            System.arraycopy(keys[layer], h * old * D, newKeys, h * newCapacity * D, old * D);
            System.arraycopy(values[layer], h * old * D, newValues, h * newCapacity * D, old * D);
        }
        keys[layer] = newKeys;
        values[layer] = newValues;
        capacity[layer] = newCapacity;
    }
}
