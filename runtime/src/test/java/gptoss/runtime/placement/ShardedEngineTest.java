package gptoss.runtime.placement;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.config.ModelConfig;
import gptoss.model.synth.SyntheticCheckpoint;
import gptoss.model.testing.GoldenCase;
import gptoss.runtime.backend.BackendProvider;
import gptoss.runtime.cpu.CpuBackendProvider;
import gptoss.runtime.engine.Engine;
import gptoss.runtime.engine.ForwardListener;
import gptoss.runtime.engine.Placement;
import gptoss.runtime.engine.Sequence;
import gptoss.runtime.engine.TransferStats;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every placement of a model over several backend instances gives the single-backend logits (within 1e-5) and
 * the same router choices, and the engine counts exactly the rows that cross between backends. Devices of any
 * kind are served by CPU backend instances here, so hybrid plans (accelerator + host) run too.
 */
class ShardedEngineTest {
    static final Function<String, BackendProvider> ALL_CPU = kind -> new CpuBackendProvider();
    static final int CONTEXT = 64;

    static Path synthDir;
    static Checkpoint golden, synthetic;
    static Run goldenReference, syntheticReference;

    /** gpt-oss-120b's expert count and top-k with small widths: 3 layers x 128 experts. */
    static ModelConfig synthetic120bShape() {
        return new ModelConfig(3, 64, 4, 2, 16, 128, 4, 64, 1000, 8, ModelConfig.alternating(3),
                150000, 32, 32, 1, 4096, false, 131072, 7.0, ModelConfig.SWIGLU_ALPHA, 1e-5, 999);
    }

    @BeforeAll
    static void open() throws IOException {
        golden = Checkpoint.open(GoldenCase.caseA());
        synthDir = Files.createTempDirectory("gptoss-sharding-");
        SyntheticCheckpoint.write(synthDir, synthetic120bShape(), 7, SyntheticCheckpoint.Layout.HUGGING_FACE, 1, false, null);
        synthetic = Checkpoint.open(synthDir);
        // Warm up first: the Vector API sums lanes in another order before the JIT compiles it, which moves logits
        // by ~1e-5 between a cold and a warm run of the same placement.
        for (int i = 0; i < 10; i++) {
            goldenReference = run(golden, single(golden));
            syntheticReference = run(synthetic, single(synthetic));
        }
    }

    @AfterAll
    static void close() throws IOException {
        golden.close();
        synthetic.close();
        try (Stream<Path> files = Files.list(synthDir)) {
            for (Path p : files.toList()) Files.delete(p);
        }
        Files.delete(synthDir);
    }

    static Checkpoint model(String name) {
        return name.equals("golden") ? golden : synthetic;
    }

    static MemoryModel memory(Checkpoint ckpt, PlanSettings.Split split) {
        return new MemoryModel(ckpt.config(), ModelFootprint.of(ckpt.config(), ckpt.weights()),
                PlanSettings.defaults(CONTEXT).withSplit(split).withReserve(0));
    }

    static List<DeviceSpec> cpus(int n, long bytes) {
        List<DeviceSpec> d = new ArrayList<>();
        for (int i = 0; i < n; i++) d.add(new DeviceSpec("cpu", i, bytes));
        return d;
    }

    static PlacementPlan single(Checkpoint ckpt) {
        return MemoryPlanner.plan(memory(ckpt, PlanSettings.Split.LAYER), cpus(1, 1L << 30), null);
    }

    /** The placements tried on both models. */
    static Stream<Arguments> placements() {
        List<Arguments> all = new ArrayList<>();
        for (String m : List.of("golden", "synthetic-120b-shape")) {
            for (String p : List.of("planned-1-cpu", "planned-layer-split-2", "planned-layer-split-4", "planned-expert-split-3",
                    "planned-hybrid-accelerator-and-host", "planned-hybrid-2-accelerators-and-2-hosts",
                    "one-layer-per-device-4", "experts-round-robin-4", "random-4")) {
                all.add(Arguments.of(m, p));
            }
        }
        return all.stream();
    }

    /**
     * Builds the named placement for {@code ckpt}. Planned ones get budgets made of the model's exact parts so
     * that the planner has to produce the intended shape (checked by {@link #plannedPlacementsHaveTheIntendedShape}).
     */
    static PlacementPlan plan(Checkpoint ckpt, String name) {
        ModelConfig c = ckpt.config();
        int L = c.numLayers(), E = c.numExperts();
        MemoryModel m = memory(ckpt, PlanSettings.Split.LAYER);
        ModelFootprint f = m.footprint();
        long layerBuffers = m.attentionWorkspaceBytes() + m.expertWorkspaceBytes();
        long head = f.headBytes() + m.headWorkspaceBytes();
        long layersDense = 0, experts = 0;
        for (int l = 0; l < L; l++) {
            layersDense += m.layerDenseWithCache(l);
            experts += E * f.expertBytes(l);
        }
        long layersFull = layersDense + experts;
        return switch (name) {
            case "planned-1-cpu" -> single(ckpt);
            case "planned-layer-split-2" -> MemoryPlanner.plan(m, pipeline(2, m, layerBuffers, layersFull, head), null);
            case "planned-layer-split-4" -> MemoryPlanner.plan(m, pipeline(4, m, layerBuffers, layersFull, head), null);
            case "planned-expert-split-3" -> MemoryPlanner.plan(memory(ckpt, PlanSettings.Split.EXPERT), pipeline(3, m, layerBuffers, layersFull, head), null);
            // The accelerator holds all dense parts and half the experts (the hottest by the profile); the host the rest.
            case "planned-hybrid-accelerator-and-host" -> MemoryPlanner.plan(m, List.of(
                            new DeviceSpec("tornado", 0, layerBuffers + layersDense + head + experts / 2),
                            new DeviceSpec("cpu", 0, m.engineBytes() + m.expertWorkspaceBytes() + experts)),
                    ExpertProfile.read(fixtureOrUniform(ckpt), c));
            // tornado:0 takes the layers, tornado:1 the head, each a quarter of the experts; two hosts share the rest.
            case "planned-hybrid-2-accelerators-and-2-hosts" -> MemoryPlanner.plan(m, List.of(
                    new DeviceSpec("tornado", 0, layerBuffers + layersDense + experts / 4),
                    new DeviceSpec("tornado", 1, m.expertWorkspaceBytes() + head + experts / 4),
                    new DeviceSpec("cpu", 0, m.engineBytes() + m.expertWorkspaceBytes() + experts * 3 / 10),
                    new DeviceSpec("cpu", 1, m.expertWorkspaceBytes() + experts * 3 / 10)), null);
            case "one-layer-per-device-4" -> handMade(ckpt, (l, e) -> l % 4, l -> l % 4, 3);
            case "experts-round-robin-4" -> handMade(ckpt, (l, e) -> e % 4, l -> 0, 0);
            case "random-4" -> {
                SplittableRandom r = new SplittableRandom(L * 1000L + E);
                int[][] placed = new int[L][E];
                for (int[] row : placed) for (int e = 0; e < E; e++) row[e] = r.nextInt(4);
                int[] attention = new int[L];
                for (int l = 0; l < L; l++) attention[l] = r.nextInt(4);
                yield handMade(ckpt, (l, e) -> placed[l][e], l -> attention[l], r.nextInt(4));
            }
            default -> throw new IllegalArgumentException(name);
        };
    }

    /** {@code n} CPU instances with room for a bit more than 1/n of the layers each; cpu:0 runs the engine, the last the head. */
    static List<DeviceSpec> pipeline(int n, MemoryModel m, long layerBuffers, long layersFull, long head) {
        List<DeviceSpec> d = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long bytes = layerBuffers + layersFull * 11 / (10L * n) + (i == 0 ? m.engineBytes() : 0) + (i == n - 1 ? head : 0);
            d.add(new DeviceSpec("cpu", i, bytes));
        }
        return d;
    }

    /** The golden case's measured profile (the fixture); a uniform one for the synthetic model. */
    static Path fixtureOrUniform(Checkpoint ckpt) {
        try {
            if (ckpt == golden) return Path.of(ShardedEngineTest.class.getResource("/placement/case-a-summary.json").toURI());
            Path p = synthDir.resolve("uniform-summary.json");
            ModelConfig c = ckpt.config();
            StringBuilder json = new StringBuilder("{\"num_layers\": " + c.numLayers() + ", \"num_experts\": " + c.numExperts() + ", \"tokens\": 1, \"layers\": [");
            for (int l = 0; l < c.numLayers(); l++) {
                json.append(l == 0 ? "" : ",").append("{\"layer\": ").append(l).append(", \"expert_counts\": [");
                for (int e = 0; e < c.numExperts(); e++) json.append(e == 0 ? "" : ",").append(e % 5 == 0 ? 3 : 1);
                json.append("]}");
            }
            Files.writeString(p, json.append("]}").toString());
            return p;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    interface ExpertDevice {
        int of(int layer, int expert);
    }

    static PlacementPlan handMade(Checkpoint ckpt, ExpertDevice experts, java.util.function.IntUnaryOperator attention, int head) {
        ModelConfig c = ckpt.config();
        int[] att = new int[c.numLayers()];
        int[][] exp = new int[c.numLayers()][c.numExperts()];
        for (int l = 0; l < c.numLayers(); l++) {
            att[l] = attention.applyAsInt(l);
            for (int e = 0; e < c.numExperts(); e++) exp[l][e] = experts.of(l, e);
        }
        return new PlacementPlan(memory(ckpt, PlanSettings.Split.LAYER), cpus(4, 1L << 30), 0, att, exp, head).requireFits();
    }

    /** Logits and routing of a prompt (all positions) and then of four decode steps, and the transfers counted. */
    record Run(float[] logits, int[] experts, long expertRowsOut, long hopRows, int[] tokens, int promptLength) {
    }

    static float maxDiff(Run a, Run b) {
        float worst = 0;
        for (int i = 0; i < a.logits().length; i++) worst = Math.max(worst, Math.abs(a.logits()[i] - b.logits()[i]));
        return worst;
    }

    static int[] tokens(Checkpoint ckpt) {
        if (ckpt == golden) {
            int[] prompt = GoldenCase.golden("prompt_tokens.npy").toInts();
            int[] greedy = GoldenCase.golden("greedy_tokens.npy").toInts();
            int[] all = Arrays.copyOf(prompt, prompt.length + 4);
            System.arraycopy(greedy, 0, all, prompt.length, 4);
            return all;
        }
        SplittableRandom r = new SplittableRandom(11);
        int[] t = new int[24];
        for (int i = 0; i < t.length; i++) t[i] = r.nextInt(ckpt.config().vocabSize());
        return t;
    }

    static Run run(Checkpoint ckpt, PlacementPlan plan) {
        ModelConfig c = ckpt.config();
        int[] all = tokens(ckpt);
        int prompt = all.length - 4, V = c.vocabSize(), k = c.expertsPerToken();
        Placement placement = PlacementFactory.create(plan, ckpt.weights(), 1, false, ALL_CPU);
        try (Engine engine = new Engine(c, ckpt.weights(), placement, CONTEXT, 8)) {
            List<int[]> routing = new ArrayList<>();
            engine.addListener(new ForwardListener() {
                @Override
                public void onRouting(int layer, int sequence, int position, int token, int[] experts, float[] weights, float[] routerLogits) {
                    routing.add(new int[]{position, layer, experts[0], experts.length > 1 ? experts[1] : -1, experts.length > 2 ? experts[2] : -1, experts.length > 3 ? experts[3] : -1});
                }
            });
            Sequence seq = engine.newSequence();
            float[] logits = Arrays.copyOf(engine.forward(seq, Arrays.copyOf(all, prompt), true), all.length * V);
            for (int i = prompt; i < all.length; i++) {
                float[] step = engine.forward(seq, new int[]{all[i]}, false);
                System.arraycopy(step, 0, logits, i * V, V);
            }
            routing.sort(Comparator.<int[]>comparingInt(r -> r[0]).thenComparingInt(r -> r[1]));
            int[] experts = routing.stream().flatMapToInt(r -> Arrays.stream(r, 2, 2 + k)).toArray();
            TransferStats t = engine.transfers();
            assertEquals(t.expertRowsOut(), t.expertRowsBack(), "every row sent to an expert comes back");
            return new Run(logits, experts, t.expertRowsOut(), t.hopRows(), all, prompt);
        }
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("placements")
    void placementGivesSingleDeviceLogitsAndRouting(String modelName, String placementName) {
        Checkpoint ckpt = model(modelName);
        Run reference = ckpt == golden ? goldenReference : syntheticReference;
        PlacementPlan plan = plan(ckpt, placementName);
        Run run = run(ckpt, plan);

        float worst = maxDiff(reference, run);
        if (worst > 1e-5) {
            // The JIT may have compiled a kernel since the reference was taken (the Vector API sums lanes in another
            // order once compiled): compare with a single-device run made now, in the same JIT state.
            reference = run(ckpt, single(ckpt));
            run = run(ckpt, plan);
            worst = maxDiff(reference, run);
        }
        assertTrue(worst <= 1e-5, placementName + ": max |logit - single device| = " + worst);
        assertArrayEquals(reference.experts(), run.experts(), placementName + ": router ids");

        // Transfers, counted independently from the routing and the plan.
        ModelConfig c = ckpt.config();
        int L = c.numLayers(), k = c.expertsPerToken(), T = run.tokens().length;
        long expertRows = 0;
        for (int t = 0; t < T; t++) {
            for (int l = 0; l < L; l++) {
                for (int s = 0; s < k; s++) if (plan.expert(l, run.experts()[(t * L + l) * k + s]) != plan.attention(l)) expertRows++;
            }
        }
        long hops = 0;
        for (int l = 1; l < L; l++) if (plan.attention(l) != plan.attention(l - 1)) hops += T;
        int steps = 4;
        if (plan.head() != plan.attention(L - 1)) hops += run.promptLength() + steps;
        assertEquals(expertRows, run.expertRowsOut(), placementName + ": expert rows sent off the attention device");
        assertEquals(hops, run.hopRows(), placementName + ": pipeline rows");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("placements")
    void plannedPlacementsHaveTheIntendedShape(String modelName, String placementName) {
        Checkpoint ckpt = model(modelName);
        PlacementPlan plan = plan(ckpt, placementName);
        int devices = plan.devices().size();
        int computing = 0;
        for (int d = 0; d < devices; d++) if (plan.computes(d)) computing++;
        switch (placementName) {
            case "planned-1-cpu" -> assertEquals(1, computing);
            case "planned-layer-split-2", "planned-layer-split-4" -> {
                assertTrue(distinctAttention(plan) >= 2, placementName + " spreads layers: " + Arrays.toString(attentionOf(plan)));
                assertTrue(isContiguous(attentionOf(plan)), "pipeline stages are contiguous");
            }
            case "planned-expert-split-3" -> {
                for (int l = 0; l < plan.config().numLayers(); l++) {
                    int holders = 0;
                    for (int d = 0; d < devices; d++) if (plan.expertCount(d, l) > 0) holders++;
                    assertTrue(holders >= 2, "layer " + l + " experts on " + holders + " devices");
                }
            }
            case "planned-hybrid-accelerator-and-host", "planned-hybrid-2-accelerators-and-2-hosts" -> {
                int onHost = 0, onAccelerators = 0;
                for (int d = 0; d < devices; d++) {
                    if (plan.devices().get(d).isHost()) {
                        onHost += plan.expertCount(d);
                        assertTrue(plan.attentionLayers(d).isEmpty(), "no attention on the host");
                    } else {
                        onAccelerators += plan.expertCount(d);
                    }
                }
                assertTrue(onHost > 0 && onAccelerators > 0, "experts on host " + onHost + ", on accelerators " + onAccelerators);
            }
            default -> assertEquals(4, devices);
        }
    }

    static int[] attentionOf(PlacementPlan plan) {
        int[] a = new int[plan.config().numLayers()];
        for (int l = 0; l < a.length; l++) a[l] = plan.attention(l);
        return a;
    }

    static int distinctAttention(PlacementPlan plan) {
        return (int) Arrays.stream(attentionOf(plan)).distinct().count();
    }

    static boolean isContiguous(int[] a) {
        for (int i = 1; i < a.length; i++) if (a[i] < a[i - 1]) return false;
        return true;
    }
}
