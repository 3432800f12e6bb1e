package gptoss.api;

import gptoss.runtime.engine.ForwardListener;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Tokens routed to each expert of each layer, counted as the engine runs (a constant-memory profiler for
 * long-running servers; {@link GptOss#attachProfiler()} keeps the full per-token statistics).
 */
public final class ExpertLoad implements ForwardListener {
    private final int layers, experts;
    private final AtomicLongArray counts;

    ExpertLoad(int layers, int experts) {
        this.layers = layers;
        this.experts = experts;
        this.counts = new AtomicLongArray(layers * experts);
    }

    @Override
    public void onRouting(int layer, int sequence, int position, int token, int[] chosen, float[] weights, float[] routerLogits) {
        for (int e : chosen) counts.incrementAndGet(layer * experts + e);
    }

    public int layers() {
        return layers;
    }

    public int experts() {
        return experts;
    }

    /** Token-expert assignments of {@code expert} in {@code layer} so far. */
    public long count(int layer, int expert) {
        return counts.get(layer * experts + expert);
    }
}
