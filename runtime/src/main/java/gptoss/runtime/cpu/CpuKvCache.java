package gptoss.runtime.cpu;

import gptoss.model.config.ModelConfig;
import gptoss.runtime.backend.KvCache;

/**
 * fp32 keys and values of one sequence, per layer. Full-attention layers grow by doubling up to the context
 * limit; sliding-window layers keep a ring of {@code sliding_window + REWIND_SLACK} positions (position p in slot
 * p mod ring): the window is all they attend to, and the slack lets a chat rewind to an earlier turn (dropping
 * its chain of thought) without recomputing the prompt.
 */
final class CpuKvCache implements KvCache {
    /** Positions a sliding-window layer keeps beyond its window, so the sequence can be truncated that far back. */
    static final int REWIND_SLACK = 1024;

    private final ModelConfig config;
    private final int maxContext;
    private final float[][] keys;   // [layer][slots * KV]
    private final float[][] values; // [layer][slots * KV]
    private final int ring;         // slots of a sliding-window layer
    private int length;

    CpuKvCache(ModelConfig config, int maxContext) {
        this.config = config;
        this.maxContext = maxContext;
        this.keys = new float[config.numLayers()][];
        this.values = new float[config.numLayers()][];
        this.ring = Math.min(maxContext, config.slidingWindow() + REWIND_SLACK);
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) throw new IllegalArgumentException("cannot truncate " + length + " to " + newLength);
        // A ring cannot give back positions it has overwritten: the oldest one still needed must be intact.
        if (Math.max(0, newLength - config.slidingWindow() + 1) + ring < length) {
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
        return config.isSliding(layer) ? position % ring : position;
    }

    float[] keys(int layer) {
        return keys[layer];
    }

    float[] values(int layer) {
        return values[layer];
    }

    /** Stores the key and value of {@code position} in layer {@code layer}. */
    void write(int layer, int position, float[] k, int kOffset, float[] v, int vOffset) {
        int kv = config.kvDim();
        int slot = slot(layer, position);
        if (keys[layer] == null || keys[layer].length < (slot + 1) * kv) {
            int grown = Math.min(maxContext, Math.max(16, Integer.highestOneBit(slot) * 2));
            int slots = config.isSliding(layer) ? Math.min(ring, grown) : grown;
            keys[layer] = grow(keys[layer], slots * kv);
            values[layer] = grow(values[layer], slots * kv);
        }
        System.arraycopy(k, kOffset, keys[layer], slot * kv, kv);
        System.arraycopy(v, vOffset, values[layer], slot * kv, kv);
        length = Math.max(length, position + 1);
    }

    private static float[] grow(float[] old, int size) {
        float[] a = new float[size];
        if (old != null) System.arraycopy(old, 0, a, 0, Math.min(old.length, size));
        return a;
    }
}
