package gptoss.runtime.engine;

/**
 * Hooks into the forward pass, for profilers, tracers and tests. The engine calls them only when a listener is
 * registered, so they cost nothing when off. Arrays passed in are the listener's to keep.
 */
public interface ForwardListener {

    /**
     * The router's decision for one token in one layer.
     *
     * @param sequence     id of the sequence (see {@link Sequence#id()})
     * @param experts      chosen experts, descending router logit
     * @param weights      their routing weights (softmax over the chosen logits)
     * @param routerLogits all E router logits
     */
    default void onRouting(int layer, int sequence, int position, int token, int[] experts, float[] weights,
                           float[] routerLogits) {
    }

    /**
     * The residual stream of one token: {@code stage} 0 is the embedding, {@code l + 1} the output of layer l
     * (before the final norm).
     */
    default void onResidual(int stage, int sequence, int position, float[] hidden) {
    }

    /** Whether {@link #onResidual} is wanted (copying residual rows is skipped otherwise). */
    default boolean wantsResiduals() {
        return false;
    }
}
