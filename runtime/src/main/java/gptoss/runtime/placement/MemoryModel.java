package gptoss.runtime.placement;

import gptoss.model.config.ModelConfig;

/**
 * Bytes each part of a placement needs on its device: exact tensor bytes (from {@link ModelFootprint}), the KV
 * cache at the planned context (sliding-window layers keep only their window), and activation buffers sized
 * like the CPU backend's and the engine's work arrays for {@link PlanSettings#rowsPerStep()} rows.
 */
public final class MemoryModel {
    private static final int F32 = Float.BYTES;

    private final ModelConfig c;
    private final ModelFootprint footprint;
    private final PlanSettings settings;

    public MemoryModel(ModelConfig config, ModelFootprint footprint, PlanSettings settings) {
        if (footprint.numLayers() != config.numLayers() || footprint.numExperts() != config.numExperts()) {
            throw new IllegalArgumentException("footprint does not match the config");
        }
        this.c = config;
        this.footprint = footprint;
        this.settings = settings;
    }

    public ModelConfig config() {
        return c;
    }

    public ModelFootprint footprint() {
        return footprint;
    }

    public PlanSettings settings() {
        return settings;
    }

    /** Positions of {@code layer} a cache holds: the window on sliding layers, the whole context otherwise. */
    public long kvPositions(int layer) {
        return c.isSliding(layer) ? Math.min(c.slidingWindow(), settings.context()) : settings.context();
    }

    /** Keys and values of {@code layer} for all planned sequences. */
    public long kvCacheBytes(int layer) {
        return settings.sequences() * kvPositions(layer) * 2L * c.kvDim() * settings.kvPrecision().bytes();
    }

    /** Everything that comes with attention of {@code layer}: its dense weights and its KV cache. */
    public long layerDenseWithCache(int layer) {
        return footprint.layerDenseBytes(layer) + kvCacheBytes(layer);
    }

    /**
     * Work buffers of a device running attention: normed input, q, k, v, attention output and projection for
     * the rows of a step, plus one row of attention scores per head over the whole context.
     */
    public long attentionWorkspaceBytes() {
        long T = settings.rowsPerStep(), H = c.hiddenSize(), Q = c.qDim(), KV = c.kvDim();
        return F32 * (2 * T * H + 2 * T * Q + 2 * T * KV + (long) c.numHeads() * settings.context());
    }

    /** Work buffers of a device running experts: gathered input, MLP1 output, SwiGLU output and result rows. */
    public long expertWorkspaceBytes() {
        long T = settings.rowsPerStep(), H = c.hiddenSize(), I = c.intermediateSize();
        return F32 * T * (2 * H + 3 * I);
    }

    /** Work buffers of the device running the head: normed rows and their logits. */
    public long headWorkspaceBytes() {
        long T = settings.rowsPerStep();
        return F32 * T * ((long) c.hiddenSize() + c.vocabSize());
    }

    /**
     * The engine on the host: residual rows, normed rows, router logits, expert outputs per slot and the logits
     * of one step (the {@code logits} command additionally keeps [T, V] for the whole prompt).
     */
    public long engineBufferBytes() {
        long T = settings.rowsPerStep(), H = c.hiddenSize(), k = c.expertsPerToken();
        return F32 * (2 * T * H + 2 * T * k * H + T * c.numExperts() + T * (long) c.vocabSize());
    }

    /** What the host holds for the engine: the embedding table (memory-mapped, counted in full) and its buffers. */
    public long engineBytes() {
        return footprint.embeddingBytes() + engineBufferBytes();
    }

    /** KV cache of all layers (for the summary line). */
    public long totalKvCacheBytes() {
        long n = 0;
        for (int l = 0; l < c.numLayers(); l++) n += kvCacheBytes(l);
        return n;
    }
}
