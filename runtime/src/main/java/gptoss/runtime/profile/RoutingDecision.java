package gptoss.runtime.profile;

/**
 * The router's choice for one token in one layer.
 *
 * @param sequence     id of the engine sequence the token belongs to
 * @param position     the token's position in that sequence
 * @param experts      [k] chosen experts, descending router logit (router order)
 * @param weights      [k] their routing weights (softmax over the chosen logits)
 * @param routerLogits [E] all router logits, or null when the profiler was not asked to keep them
 */
public record RoutingDecision(int layer, int sequence, int position, int token, int[] experts, float[] weights,
                              float[] routerLogits) {
}
