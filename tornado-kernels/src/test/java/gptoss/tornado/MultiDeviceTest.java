package gptoss.tornado;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.config.ModelConfig;
import gptoss.model.testing.GoldenCase;
import gptoss.runtime.backend.Backend;
import gptoss.runtime.backend.BackendRequest;
import gptoss.runtime.backend.Shard;
import gptoss.runtime.engine.Engine;
import gptoss.runtime.engine.ForwardListener;
import gptoss.runtime.engine.Placement;
import gptoss.runtime.engine.Sequence;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static gptoss.tornado.TornadoTests.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Golden case A spread over two TornadoVM devices (PoCL exposes two with {@code POCL_DEVICES="pthread pthread"},
 * which ci/test.sh sets): layers 0-1 and the even experts on device 0, layers 2-3, the odd experts and the head
 * on device 1. The result equals the one-device run and the reference.
 */
class MultiDeviceTest {

    @Test
    void twoDevicesGiveTheOneDeviceResult() {
        TornadoTests.assumeTornado();
        Assumptions.assumeTrue(TornadoInstallation.devices().size() >= 2,
                () -> "multi-device test skipped: TornadoVM sees " + TornadoInstallation.devices().size() + " device(s) (set POCL_DEVICES=\"pthread pthread\")");
        Checkpoint ckpt = TornadoTests.golden();
        ModelConfig c = ckpt.config();
        Shard first = Shard.none(c), second = Shard.none(c).withHead();
        for (int l = 0; l < c.numLayers(); l++) {
            if (l < 2) first = first.withAttention(l);
            else second = second.withAttention(l);
            for (int e = 0; e < c.numExperts(); e++) {
                if (e % 2 == 0) first = first.withExpert(l, e);
                else second = second.withExpert(l, e);
            }
        }
        int[] prompt = GoldenCase.golden("prompt_tokens.npy").toInts();
        float[] single;
        Engine one = new Engine(c, ckpt.weights(), Placement.single(TornadoTests.goldenBackend(), c));
        try (Sequence s = one.newSequence()) {
            single = one.forward(s, prompt, true);
        }
        TornadoSettings settings = TornadoSettings.fromSystemProperties();
        try (Backend d0 = new TornadoBackend(new BackendRequest(c, ckpt.weights(), 0, 1, first, false), TornadoInstallation.device(0), 0, settings);
             Backend d1 = new TornadoBackend(new BackendRequest(c, ckpt.weights(), 1, 1, second, false), TornadoInstallation.device(1), 1, settings)) {
            Backend[] attention = new Backend[c.numLayers()];
            Backend[][] experts = new Backend[c.numLayers()][c.numExperts()];
            for (int l = 0; l < c.numLayers(); l++) {
                attention[l] = l < 2 ? d0 : d1;
                for (int e = 0; e < c.numExperts(); e++) experts[l][e] = e % 2 == 0 ? d0 : d1;
            }
            Engine two = new Engine(c, ckpt.weights(), new Placement(attention, experts, d1));
            int[] ids = new int[c.numLayers() * prompt.length * c.expertsPerToken()];
            two.addListener(new ForwardListener() {
                @Override
                public void onRouting(int layer, int sequence, int position, int token, int[] e, float[] w, float[] logits) {
                    System.arraycopy(e, 0, ids, (layer * prompt.length + position) * e.length, e.length);
                }
            });
            float[] split;
            try (Sequence s = two.newSequence()) {
                split = two.forward(s, prompt, true);
            }
            float vsSingle = maxAbsDiff(split, single);
            // The one-device run is the device-resident whole step; the split one is host-orchestrated (ResidentPathTest:
            // the two paths differ by up to 1.5e-5 on this case).
            assertTrue(vsSingle <= 5e-5, "two devices differ from one by " + vsSingle);
            float vsGolden = maxAbsDiff(split, GoldenCase.golden("logits_prompt_f32.npy").toFloats());
            assertTrue(vsGolden <= 1e-3, "max |logit - golden| = " + vsGolden);
            assertArrayEquals(GoldenCase.golden("router_topk_ids_prompt.npy").toInts(), ids, "router ids");
            assertTrue(Arrays.stream(ids).anyMatch(e -> e % 2 == 1) && Arrays.stream(ids).anyMatch(e -> e % 2 == 0), "both devices ran experts");
        }
    }
}
