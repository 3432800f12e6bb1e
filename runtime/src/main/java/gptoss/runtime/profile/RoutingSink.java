package gptoss.runtime.profile;

/**
 * Receives every routing decision a {@link RoutingProfiler} sees, in the order the engine makes them: for each
 * forward step, layer by layer, the tokens of the step in batch order. Called on the engine's thread; a sink
 * that is slow slows decoding.
 */
@FunctionalInterface
public interface RoutingSink {
    void accept(RoutingDecision decision);
}
