package gptoss.tornado;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.config.ModelConfig;
import gptoss.model.synth.SyntheticCheckpoint;
import gptoss.runtime.backend.Backend;
import gptoss.runtime.backend.DeviceTraffic;
import gptoss.runtime.cpu.CpuBackend;
import gptoss.runtime.cpu.WorkerPool;
import gptoss.runtime.engine.Engine;
import gptoss.runtime.engine.ForwardListener;
import gptoss.runtime.engine.Placement;
import gptoss.runtime.engine.Sequence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static gptoss.tornado.TornadoTests.argmax;
import static gptoss.tornado.TornadoTests.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * gpt-oss-20b layer shapes (hidden 2880, 64 query / 8 KV heads of 64, 32 MXFP4 experts of width 2880, window
 * 128) in a 2-layer synthetic checkpoint with a 4096-token vocabulary, generated here (about 0.9 GB in a
 * temporary folder): the tornado backend's logits against the CPU backend's, prefill and decode.
 * {@code -Dgptoss.tornado.shapes20b=DIR} uses an existing checkpoint instead (e.g. one from
 * {@code gptoss synth --preset bench-m --layers 2}). The backend runs 16 rows per execution, so the 20-token prompt
 * takes a tiled and a matvec pass.
 */
class Shapes20bTest {
    static Path dir;
    static boolean generated;
    static Checkpoint ckpt;
    static WorkerPool pool;
    static Engine cpu, tornado, resident;

    @BeforeAll
    static void open() throws IOException {
        if (!TornadoTests.available()) return;
        String given = System.getProperty("gptoss.tornado.shapes20b");
        if (given != null) {
            dir = Path.of(given);
        } else {
            ModelConfig m = ModelConfig.gptOss20b();
            ModelConfig config = new ModelConfig(2, m.hiddenSize(), m.numHeads(), m.numKvHeads(), m.headDim(), m.numExperts(),
                    m.expertsPerToken(), m.intermediateSize(), 4096, m.slidingWindow(), ModelConfig.alternating(2), m.ropeTheta(),
                    m.ropeScalingFactor(), m.ropeBetaFast(), m.ropeBetaSlow(), m.ropeOriginalContext(), m.ropeTruncate(),
                    m.maxContext(), m.swigluLimit(), m.swigluAlpha(), m.rmsNormEps(), 4000);
            dir = Files.createTempDirectory("gptoss-20b-shapes");
            generated = true;
            long start = System.nanoTime();
            SyntheticCheckpoint.write(dir, config, 20, SyntheticCheckpoint.Layout.HUGGING_FACE, 1, false, null);
            System.err.printf("Shapes20bTest: generated a 2-layer 20b-shape checkpoint in %.1f s%n", (System.nanoTime() - start) / 1e9);
        }
        ckpt = Checkpoint.open(dir);
        pool = new WorkerPool(Runtime.getRuntime().availableProcessors());
        ModelConfig c = ckpt.config();
        cpu = new Engine(c, ckpt.weights(), Placement.single(new CpuBackend(c, ckpt.weights(), pool), c), 4096, 128);
        Backend device = TornadoTests.backend(ckpt, new TornadoSettings(16, 4, 1024, 4, false), false);
        tornado = new Engine(c, ckpt.weights(), Placement.single(device, c), 4096, 128);
        Backend whole = TornadoTests.backend(ckpt, new TornadoSettings(16, 4, 1024, 4, true), false);
        resident = new Engine(c, ckpt.weights(), Placement.single(whole, c), 4096, 128);
    }

    @AfterAll
    static void close() throws IOException {
        if (tornado != null) tornado.close();
        if (resident != null) resident.close();
        if (pool != null) pool.close();
        if (ckpt != null) ckpt.close();
        if (generated) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> {
                    try {
                        Files.delete(p);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
        }
    }

    @BeforeEach
    void needsTornado() {
        TornadoTests.assumeTornado();
    }

    static int[] prompt(int n, long seed) {
        Random r = new Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(ckpt.config().vocabSize());
        return t;
    }

    @Test
    void prefillThenDecodeMatchTheCpuBackend() {
        int V = ckpt.config().vocabSize();
        int[] prompt = prompt(20, 1);
        try (Sequence s1 = cpu.newSequence(); Sequence s2 = tornado.newSequence()) {
            float[] expected = cpu.forward(s1, prompt, true);
            float[] actual = tornado.forward(s2, prompt, true);
            float diff = maxAbsDiff(expected, actual);
            System.err.printf("Shapes20bTest: prefill of %d tokens, max |logit diff| = %.2e%n", prompt.length, diff);
            assertTrue(diff <= 1e-3, "prefill logits: max |tornado - cpu| = " + diff);
            int token = argmax(expected, (prompt.length - 1) * V, V);
            int[] cpuTokens = new int[6], tornadoTokens = new int[6];
            float worst = 0;
            for (int step = 0; step < 6; step++) {
                float[] e = cpu.forward(s1, new int[]{token}, false);
                float[] a = tornado.forward(s2, new int[]{token}, false);
                worst = Math.max(worst, maxAbsDiff(e, a));
                cpuTokens[step] = argmax(e, 0, V);
                tornadoTokens[step] = argmax(a, 0, V);
                token = cpuTokens[step];
            }
            System.err.printf("Shapes20bTest: 6 decode steps, max |logit diff| = %.2e%n", worst);
            assertTrue(worst <= 1e-3, "decode logits: max |tornado - cpu| = " + worst);
            assertArrayEquals(cpuTokens, tornadoTokens, "greedy tokens");
        }
    }

    @Test
    void batchedDecodeOfTwoSequencesMatchesTheCpuBackend() {
        int V = ckpt.config().vocabSize();
        Sequence[] a = {cpu.newSequence(), cpu.newSequence()};
        Sequence[] b = {tornado.newSequence(), tornado.newSequence()};
        try {
            int[][] prompts = {prompt(9, 2), prompt(5, 3)};
            for (int i = 0; i < 2; i++) {
                cpu.forward(a[i], prompts[i], false);
                tornado.forward(b[i], prompts[i], false);
            }
            int[] tokens = {prompts[0][0], prompts[1][0]};
            for (int step = 0; step < 3; step++) {
                float[] e = cpu.decode(a, tokens);
                float[] x = tornado.decode(b, tokens);
                float diff = maxAbsDiff(e, x);
                assertTrue(diff <= 1e-3, "batched decode step " + step + ": max |tornado - cpu| = " + diff);
                tokens = new int[]{argmax(e, 0, V), argmax(e, V, V)};
            }
        } finally {
            Arrays.stream(a).forEach(Sequence::close);
            Arrays.stream(b).forEach(Sequence::close);
        }
    }

    /**
     * The device-resident whole step against the host-orchestrated part graphs on these shapes: a 6-token prompt
     * (tiled kernels), then decode steps; logits within 1e-5, router choices equal.
     */
    @Test
    void residentStepMatchesHostOrchestratedParts() {
        int V = ckpt.config().vocabSize();
        int[] prompt = prompt(6, 1);
        Chosen a = new Chosen(), b = new Chosen();
        resident.addListener(a);
        tornado.addListener(b);
        try (Sequence s1 = tornado.newSequence(); Sequence s2 = resident.newSequence()) {
            float[] expected = tornado.forward(s1, prompt, true);
            float[] actual = resident.forward(s2, prompt, true);
            float worst = maxAbsDiff(expected, actual);
            int token = argmax(expected, (prompt.length - 1) * V, V);
            for (int step = 0; step < 3; step++) {
                float[] e = tornado.forward(s1, new int[]{token}, false);
                float[] r = resident.forward(s2, new int[]{token}, false);
                worst = Math.max(worst, maxAbsDiff(e, r));
                token = argmax(e, 0, V);
            }
            System.err.printf("Shapes20bTest: resident vs host-orchestrated, prefill + 3 decode steps, max |logit diff| = %.2e%n", worst);
            assertTrue(worst <= 1e-5, "resident vs host-orchestrated logits: " + worst);
            assertEquals(b.perLayer, a.perLayer, "experts chosen per layer");
        } finally {
            resident.removeListener(a);
            tornado.removeListener(b);
        }
    }

    /**
     * The device-resident path's counters: one execution per decode step, and only the logits come back; with a
     * routing listener one more read of the routing record ([L, maxRows, 2k + E] floats).
     */
    @Test
    void residentDecodeStepIsOneExecutionAndOnlyTheLogitsComeBack() {
        ModelConfig c = ckpt.config();
        int V = c.vocabSize(), L = c.numLayers(), E = c.numExperts(), k = c.expertsPerToken();
        Backend device = resident.placement().head();
        try (Sequence s = resident.newSequence()) {
            float[] logits = resident.forward(s, prompt(3, 5), false);
            DeviceTraffic before = device.deviceTraffic();
            logits = resident.forward(s, new int[]{argmax(logits, 0, V)}, false);
            DeviceTraffic used = device.deviceTraffic().minus(before);
            assertEquals(1, used.executions(), "executions of one decode step");
            assertEquals(4L * V, used.deviceToHostBytes(), "bytes read back: the logits");
            assertTrue(used.hostToDeviceBytes() <= 64 * 1024, "uploaded per step: " + used);
            Chosen chosen = new Chosen();
            resident.addListener(chosen);
            before = device.deviceTraffic();
            resident.forward(s, new int[]{argmax(logits, 0, V)}, false);
            used = device.deviceTraffic().minus(before);
            resident.removeListener(chosen);
            assertEquals(1, used.executions(), "executions of a traced decode step");
            assertEquals(4L * V + 4L * L * 16 * (2L * k + E), used.deviceToHostBytes(), "logits and the routing record");
            assertEquals(L, chosen.perLayer.size(), "the listener saw every layer's routing");
            chosen.perLayer.forEach(set -> assertEquals(k, set.size(), "k distinct experts for one row"));
        }
    }

    /** The distinct experts each layer chose in one step. */
    static final class Chosen implements ForwardListener {
        final List<java.util.Set<Integer>> perLayer = new ArrayList<>();

        @Override
        public void onRouting(int layer, int sequence, int position, int token, int[] experts, float[] weights, float[] routerLogits) {
            while (perLayer.size() <= layer) perLayer.add(new java.util.TreeSet<>());
            for (int e : experts) perLayer.get(layer).add(e);
        }
    }

    /**
     * The device counters bench reports, against a count by hand for one host-orchestrated decode step: one
     * execution per layer's attention (its router rides along), one per distinct chosen expert, one for the head;
     * read back per layer the row, its normed copy and its router logits, per expert its output row, and the logits.
     */
    @Test
    void deviceCountersOfADecodeStep() {
        ModelConfig c = ckpt.config();
        int H = c.hiddenSize(), E = c.numExperts(), V = c.vocabSize(), L = c.numLayers();
        Backend device = tornado.placement().head();
        try (Sequence s = tornado.newSequence()) {
            float[] logits = tornado.forward(s, prompt(3, 5), false);
            Chosen chosen = new Chosen();
            tornado.addListener(chosen);
            DeviceTraffic before = device.deviceTraffic();
            tornado.forward(s, new int[]{argmax(logits, 0, V)}, false);
            DeviceTraffic used = device.deviceTraffic().minus(before);
            tornado.removeListener(chosen);
            int experts = chosen.perLayer.stream().mapToInt(java.util.Set::size).sum();
            assertEquals(L + experts + 1, used.executions(), "executions of one decode step");
            assertEquals(4L * (L * (2L * H + E) + (long) experts * H + V), used.deviceToHostBytes(), "bytes read back");
            assertTrue(used.hostToDeviceBytes() >= 4L * H * (L + experts + 1), "the rows went up: " + used);
        }
    }
}
