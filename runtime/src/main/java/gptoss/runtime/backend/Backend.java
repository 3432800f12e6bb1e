package gptoss.runtime.backend;

/**
 * A device that executes parts of the gpt-oss forward pass. The engine owns the residual stream on the host
 * ({@code x}, rows of H floats) and calls a backend for each part it has been placed on, so one model can be
 * spread over several backends: attention of some layers here, experts of a layer there (see
 * {@code gptoss.runtime.engine.Placement}). All methods take a batch of rows, so prefill chunks and batched
 * decoding of several sequences use the same calls. Results must follow spec §2 with fp32 activations.
 */
public interface Backend extends AutoCloseable {

    /** Short name for logs and tables, e.g. "cpu" or "tornado:0". */
    String name();

    /** A new, empty cache for one sequence, able to hold {@code maxContext} positions of the layers served here. */
    KvCache newKvCache(int maxContext);

    /**
     * Attention sub-block of {@code layer}: for each row, {@code x[t] += o_proj(attention(rmsnorm(x[t])))},
     * appending the row's key and value to its sequence's cache first (rows in order).
     *
     * @param x [batch.size(), H] residual rows, updated in place
     */
    void attention(int layer, TokenBatch batch, float[] x);

    /**
     * MoE norm and router of {@code layer}: {@code normed[t] = rmsnorm(x[t])} and
     * {@code routerLogits[t] = W_router · normed[t] + b}.
     *
     * @param x            [rows, H]
     * @param normed       [rows, H] output
     * @param routerLogits [rows, E] output
     */
    void router(int layer, int rows, float[] x, float[] normed, float[] routerLogits);

    /**
     * One expert applied to some rows: {@code out[i] = W2 · swiglu(W1 · normed[rows[i]] + b1) + b2}
     * for {@code i < count}, unweighted (the engine applies routing weights).
     *
     * @param normed [*, H] rows from {@link #router}
     * @param out    [count, H] output, row i for {@code rows[i]}
     */
    void expert(int layer, int expert, int[] rows, int count, float[] normed, float[] out);

    /**
     * Several experts of one layer at once, as {@link #expert} for each: expert {@code experts[j]} ({@code j < n})
     * gets token rows {@code rows[rowStart[j]] .. rows[rowStart[j + 1] - 1]} of {@code normed}, and
     * {@code out[i]} ([rowStart[n], H]) is its output for {@code rows[i]}, unweighted. A backend may schedule all
     * of them as one piece of work (a decode step's experts are many small products); results are the same bits as
     * one {@link #expert} call each. Returns false where it does not take them (the default): the caller then calls
     * {@link #expert} for each.
     */
    default boolean experts(int layer, int n, int[] experts, int[] rowStart, int[] rows, float[] normed, float[] out) {
        return false;
    }

    /**
     * Final norm and unembedding: {@code logits[t] = W_unembed · rmsnorm(x[t])}.
     *
     * @param x      [rows, H]
     * @param logits [rows, V] output
     */
    void head(int rows, float[] x, float[] logits);

    /** Per-kernel timings collected since the last call, if this backend records them (empty otherwise). */
    default java.util.Map<String, KernelTiming> drainKernelTimings() {
        return java.util.Map.of();
    }

    /**
     * Whole forward steps on this backend's device ({@link WholeStep}), or null when it serves only the calls
     * above (the default). Only a backend holding the whole model offers them.
     */
    default WholeStep wholeStep() {
        return null;
    }

    /** Executions and host/device copies since creation ({@link DeviceTraffic#NONE} for host backends). */
    default DeviceTraffic deviceTraffic() {
        return DeviceTraffic.NONE;
    }

    @Override
    default void close() {
    }

    /** Accumulated time of one kernel kind. */
    record KernelTiming(long calls, long nanos) {
    }
}
