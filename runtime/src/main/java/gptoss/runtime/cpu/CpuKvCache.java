package gptoss.runtime.cpu;

import gptoss.model.config.ModelConfig;
import gptoss.runtime.backend.KvCache;
import gptoss.runtime.cpu.kernel.Lanes;

/**
 * fp32 keys and values of one sequence, per layer. Full-attention layers grow by doubling up to the context
 * limit; sliding-window layers keep a ring of exactly {@code sliding_window} positions (position p in slot
 * p mod window), which is all they can ever attend to. Keys are stored transposed per KV head
 * ({@code [kvHead][d][slot]}) so attention scores many slots per vector operation; values by slot
 * ({@code [slot][kvHead·D + d]}). Capacities are multiples of the vector width and unused slots hold zeros.
 * A sliding layer also moves each entry it overwrites to a ring of {@link #REWIND_SLACK} older positions, so the
 * sequence can be truncated that far back (a chat dropping the previous turn's chain of thought) and continue
 * without recomputing the prompt.
 */
final class CpuKvCache implements KvCache {
    /** Positions a sliding-window layer keeps beyond its window, so the sequence can be truncated that far back. */
    static final int REWIND_SLACK = 1024;

    private final ModelConfig config;
    private final int maxContext;
    private final float[][] keys;   // [layer][(kvHead·D + d) · capacity + slot]
    private final float[][] values; // [layer][slot · KV + kvHead·D + d]
    private final int[] capacity;   // [layer] slots
    private final float[][] evictedKeys;   // [layer][(position mod slack) · KV + kvHead·D + d], sliding layers only
    private final float[][] evictedValues; // [layer][(position mod slack) · KV + kvHead·D + d]
    private final int slack;
    private int length;

    CpuKvCache(ModelConfig config, int maxContext) {
        this.config = config;
        this.maxContext = maxContext;
        this.keys = new float[config.numLayers()][];
        this.values = new float[config.numLayers()][];
        this.capacity = new int[config.numLayers()];
        this.evictedKeys = new float[config.numLayers()][];
        this.evictedValues = new float[config.numLayers()][];
        this.slack = Math.max(1, Math.min(REWIND_SLACK, maxContext - config.slidingWindow()));
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) throw new IllegalArgumentException("cannot truncate " + length + " to " + newLength);
        int window = config.slidingWindow();
        // Positions a sliding layer must hold again: [newLength - window, newLength); those before length - window
        // were overwritten and come back from the eviction ring, which holds [length - window - slack, length - window).
        int first = Math.max(0, newLength - window), overwrittenBelow = length - window;
        if (first < overwrittenBelow) {
            if (first < overwrittenBelow - slack) {
                throw new IllegalStateException("a sliding-window cache cannot rewind from " + length + " to " + newLength);
            }
            for (int l = 0; l < keys.length; l++) {
                if (!config.isSliding(l) || keys[l] == null) continue;
                for (int q = first; q < Math.min(newLength, overwrittenBelow); q++) restore(l, q);
            }
        }
        length = newLength;
    }

    /** Puts position {@code q}'s evicted key and value back into its ring slot. */
    private void restore(int layer, int q) {
        int kv = config.kvDim(), cap = capacity[layer], slot = slot(layer, q), from = (q % slack) * kv;
        float[] kt = keys[layer], ek = evictedKeys[layer];
        for (int i = 0; i < kv; i++) kt[i * cap + slot] = ek[from + i];
        System.arraycopy(evictedValues[layer], from, values[layer], slot * kv, kv);
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
        return config.isSliding(layer) ? position % config.slidingWindow() : position;
    }

    /** Slots visible to a query at {@code position}: always slots {@code [0, count)}, in some order. */
    int visibleSlots(int layer, int position) {
        return config.isSliding(layer) ? Math.min(position + 1, config.slidingWindow()) : position + 1;
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

    /** Bytes a query at {@code position} reads from this cache in {@code layer}. */
    long bytesRead(int layer, int position) {
        return 8L * visibleSlots(layer, position) * config.kvDim();
    }

    /** Stores the key and value of {@code position} in layer {@code layer}. */
    void write(int layer, int position, float[] k, int kOffset, float[] v, int vOffset) {
        int kv = config.kvDim();
        int slot = slot(layer, position);
        if (slot >= capacity[layer]) grow(layer, slot);
        int cap = capacity[layer];
        float[] kt = keys[layer];
        int old = position - config.slidingWindow();
        if (config.isSliding(layer) && old >= 0) evict(layer, old, slot);
        for (int i = 0; i < kv; i++) kt[i * cap + slot] = k[kOffset + i];
        System.arraycopy(v, vOffset, values[layer], slot * kv, kv);
        length = Math.max(length, position + 1);
    }

    /** Copies position {@code old}'s entry, about to be overwritten in {@code slot}, to the eviction ring. */
    private void evict(int layer, int old, int slot) {
        int kv = config.kvDim(), cap = capacity[layer], to = (old % slack) * kv;
        if (evictedKeys[layer] == null) {
            evictedKeys[layer] = new float[slack * kv];
            evictedValues[layer] = new float[slack * kv];
        }
        float[] kt = keys[layer], ek = evictedKeys[layer];
        for (int i = 0; i < kv; i++) ek[to + i] = kt[i * cap + slot];
        System.arraycopy(values[layer], slot * kv, evictedValues[layer], to, kv);
    }

    private void grow(int layer, int slot) {
        int kv = config.kvDim();
        int slots = config.isSliding(layer) ? Math.min(config.slidingWindow(), maxContext)
                : Math.min(maxContext, Math.max(16, Integer.highestOneBit(slot) * 2));
        int newCapacity = (slots + Lanes.L - 1) / Lanes.L * Lanes.L;
        int old = capacity[layer];
        float[] newKeys = new float[kv * newCapacity];
        if (keys[layer] != null) {
            for (int i = 0; i < kv; i++) System.arraycopy(keys[layer], i * old, newKeys, i * newCapacity, old);
        }
        float[] newValues = new float[newCapacity * kv];
        if (values[layer] != null) System.arraycopy(values[layer], 0, newValues, 0, old * kv);
        keys[layer] = newKeys;
        values[layer] = newValues;
        capacity[layer] = newCapacity;
    }
}
