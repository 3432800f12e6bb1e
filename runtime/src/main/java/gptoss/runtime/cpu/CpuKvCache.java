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
 */
final class CpuKvCache implements KvCache {
    private final ModelConfig config;
    private final int maxContext;
    private final float[][] keys;   // [layer][(kvHead·D + d) · capacity + slot]
    private final float[][] values; // [layer][slot · KV + kvHead·D + d]
    private final int[] capacity;   // [layer] slots
    private int length;

    CpuKvCache(ModelConfig config, int maxContext) {
        this.config = config;
        this.maxContext = maxContext;
        this.keys = new float[config.numLayers()][];
        this.values = new float[config.numLayers()][];
        this.capacity = new int[config.numLayers()];
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) throw new IllegalArgumentException("cannot truncate " + length + " to " + newLength);
        // A ring cannot give back positions it has overwritten: the oldest one still needed must be intact.
        int window = config.slidingWindow();
        if (Math.max(0, newLength - window + 1) + window < length) {
            for (int l = 0; l < keys.length; l++) {
                if (config.isSliding(l) && keys[l] != null) {
                    throw new IllegalStateException("a sliding-window cache cannot rewind from " + length + " to " + newLength);
                }
            }
        }
        length = newLength;
    }

    @Override
    public long bytes() {
        long b = 0;
        for (float[] k : keys) if (k != null) b += 8L * k.length;
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
        for (int i = 0; i < kv; i++) kt[i * cap + slot] = k[kOffset + i];
        System.arraycopy(v, vOffset, values[layer], slot * kv, kv);
        length = Math.max(length, position + 1);
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
