package gptoss.runtime.profile;

import gptoss.runtime.engine.Engine;
import gptoss.runtime.engine.ForwardListener;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Records the routing decisions of an engine into a {@link RoutingProfile} and hands them to any
 * {@link RoutingSink}s. It is an engine {@link ForwardListener}, so it works whatever backends run the model,
 * and an engine with no profiler attached pays nothing.
 *
 * <pre>{@code
 * try (RoutingProfiler profiler = RoutingProfiler.attach(engine)) {
 *     engine.forward(engine.newSequence(), prompt, false);
 *     LayerStatistics s = profiler.profile().statistics(0);
 * }
 * }</pre>
 */
public final class RoutingProfiler implements ForwardListener, AutoCloseable {
    private final Engine engine;
    private final RoutingProfile profile;
    private final boolean keepRouterLogits;
    private final List<RoutingSink> sinks = new CopyOnWriteArrayList<>();
    private volatile boolean paused;

    private RoutingProfiler(Engine engine, RoutingProfile profile, boolean keepRouterLogits) {
        this.engine = engine;
        this.profile = profile;
        this.keepRouterLogits = keepRouterLogits;
    }

    /** Starts profiling {@code engine} into a fresh profile; sinks see no router logits. */
    public static RoutingProfiler attach(Engine engine) {
        return attach(engine, RoutingProfile.forModel(engine.config()), false);
    }

    /**
     * Starts profiling {@code engine} into {@code profile} (which may already hold earlier runs);
     * {@code keepRouterLogits} passes all E router logits on to the sinks.
     */
    public static RoutingProfiler attach(Engine engine, RoutingProfile profile, boolean keepRouterLogits) {
        var c = engine.config();
        if (profile.layers() != c.numLayers() || profile.experts() != c.numExperts() || profile.expertsPerToken() != c.expertsPerToken()) {
            throw new IllegalArgumentException("profile shape L=" + profile.layers() + " E=" + profile.experts() + " k="
                    + profile.expertsPerToken() + " does not match the model (L=" + c.numLayers() + " E=" + c.numExperts()
                    + " k=" + c.expertsPerToken() + ")");
        }
        RoutingProfiler profiler = new RoutingProfiler(engine, profile, keepRouterLogits);
        engine.addListener(profiler);
        return profiler;
    }

    public RoutingProfile profile() {
        return profile;
    }

    /** Also sends every decision to {@code sink}. */
    public RoutingProfiler addSink(RoutingSink sink) {
        sinks.add(sink);
        return this;
    }

    public void removeSink(RoutingSink sink) {
        sinks.remove(sink);
    }

    /** Ignores decisions until {@link #resume()} (e.g. to profile generated tokens only). */
    public void pause() {
        paused = true;
    }

    public void resume() {
        paused = false;
    }

    @Override
    public void onRouting(int layer, int sequence, int position, int token, int[] experts, float[] weights, float[] routerLogits) {
        if (paused) return;
        profile.record(layer, token, experts, weights, routerLogits);
        if (sinks.isEmpty()) return;
        RoutingDecision d = new RoutingDecision(layer, sequence, position, token, experts, weights, keepRouterLogits ? routerLogits : null);
        for (RoutingSink s : sinks) s.accept(d);
    }

    /** Detaches from the engine; the profile stays readable. */
    @Override
    public void close() {
        engine.removeListener(this);
    }
}
