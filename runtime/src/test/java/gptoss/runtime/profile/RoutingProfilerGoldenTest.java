package gptoss.runtime.profile;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.npy.Npy;
import gptoss.model.testing.GoldenCase;
import gptoss.runtime.cpu.CpuBackend;
import gptoss.runtime.cpu.WorkerPool;
import gptoss.runtime.engine.Engine;
import gptoss.runtime.engine.Placement;
import gptoss.runtime.engine.Sequence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The profiler on golden case A: what it records is what the reference router chose. */
class RoutingProfilerGoldenTest {
    static WorkerPool pool;

    @BeforeAll
    static void startPool() {
        pool = new WorkerPool(2);
    }

    @AfterAll
    static void stopPool() {
        pool.close();
    }

    static Engine engine(Checkpoint ckpt) {
        return new Engine(ckpt.config(), ckpt.weights(), Placement.single(new CpuBackend(ckpt.config(), ckpt.weights(), pool), ckpt.config()));
    }

    @Test
    void recordsTheReferenceRouterChoicesAndCountsThem() {
        int[] prompt = GoldenCase.golden("prompt_tokens.npy").toInts();
        Npy.Array golden = GoldenCase.golden("router_topk_ids_prompt.npy");
        int[] ids = golden.toInts();
        int L = golden.shape()[0], T = golden.shape()[1], k = golden.shape()[2];
        assertEquals(prompt.length, T);
        try (Checkpoint ckpt = Checkpoint.open(GoldenCase.caseA()); Engine engine = engine(ckpt)) {
            int E = ckpt.config().numExperts();
            List<RoutingDecision> seen = new ArrayList<>();
            try (RoutingProfiler profiler = RoutingProfiler.attach(engine)) {
                profiler.addSink(seen::add);
                engine.forward(engine.newSequence(), prompt, false);
                RoutingProfile p = profiler.profile();

                // every (layer, position): the golden ids, in router order, for the right token
                assertEquals(L * T, seen.size());
                for (RoutingDecision d : seen) {
                    int base = (d.layer() * T + d.position()) * k;
                    assertArrayEquals(java.util.Arrays.copyOfRange(ids, base, base + k), d.experts(),
                            "layer " + d.layer() + " position " + d.position());
                    assertEquals(prompt[d.position()], d.token());
                    assertNull(d.routerLogits(), "logits are not kept unless asked");
                }

                for (int l = 0; l < L; l++) {
                    long[] counts = new long[E];
                    long[][] pairs = new long[E][E];
                    for (int t = 0; t < T; t++) {
                        for (int a = 0; a < k; a++) {
                            counts[ids[(l * T + t) * k + a]]++;
                            for (int b = 0; b < k; b++) pairs[ids[(l * T + t) * k + a]][ids[(l * T + t) * k + b]]++;
                        }
                    }
                    double entropy = 0;
                    for (long c : counts) if (c > 0) entropy -= (c / (double) (T * k)) * (Math.log(c / (double) (T * k)) / Math.log(2));
                    LayerStatistics s = p.statistics(l);
                    assertEquals(T, s.tokens());
                    assertArrayEquals(counts, s.expertCounts(), "counts, layer " + l);
                    assertEquals(entropy, s.entropyBits(), 1e-12, "entropy, layer " + l);
                    assertArrayEquals(pairs, p.coactivation(l), "co-activation, layer " + l);
                    assertNotNull(p.meanRouterLogits(l), "the profile keeps mean router logits");
                }
            }

            // closed: detached, the profile no longer changes
            RoutingProfile before = null;
            try (RoutingProfiler profiler = RoutingProfiler.attach(engine)) {
                before = profiler.profile();
            }
            engine.forward(engine.newSequence(), prompt, false);
            assertEquals(0, before.tokens());
        }
    }

    @Test
    void pausedProfilerRecordsOnlyWhileResumedAndKeepsLogitsWhenAsked() {
        int[] prompt = GoldenCase.golden("prompt_tokens.npy").toInts();
        float[] goldenLogits = GoldenCase.golden("router_logits_prompt_f32.npy").toFloats();
        try (Checkpoint ckpt = Checkpoint.open(GoldenCase.caseA()); Engine engine = engine(ckpt)) {
            int E = ckpt.config().numExperts(), T = prompt.length;
            List<RoutingDecision> seen = new ArrayList<>();
            try (RoutingProfiler profiler = RoutingProfiler.attach(engine, RoutingProfile.forModel(ckpt.config()), true)) {
                profiler.addSink(seen::add);
                Sequence seq = engine.newSequence();
                profiler.pause();
                engine.forward(seq, java.util.Arrays.copyOf(prompt, 10), false);
                profiler.resume();
                engine.forward(seq, java.util.Arrays.copyOfRange(prompt, 10, T), false);
                assertEquals(T - 10, profiler.profile().tokens());
                for (RoutingDecision d : seen) {
                    int base = (d.layer() * T + d.position()) * E;
                    float[] expected = java.util.Arrays.copyOfRange(goldenLogits, base, base + E);
                    for (int e = 0; e < E; e++) assertEquals(expected[e], d.routerLogits()[e], 1e-3f);
                }
            }
        }
    }
}
