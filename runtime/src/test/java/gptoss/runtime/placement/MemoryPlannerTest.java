package gptoss.runtime.placement;

import gptoss.model.config.ModelConfig;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Placements of the real gpt-oss-120b and 20b configs (no weights needed: sizes come from the config). */
class MemoryPlannerTest {
    static final long GiB = 1L << 30;
    static final ModelConfig C120 = ModelConfig.gptOss120b();

    static MemoryModel memory120b(PlanSettings settings) {
        return new MemoryModel(C120, ModelFootprint.of(C120), settings);
    }

    static List<DeviceSpec> devices(String spec) {
        return DeviceSpec.parseList(spec);
    }

    @Test
    void kvCacheMatchesSpecPerTokenFigures() {
        // Spec §3.4: bf16, sliding layers keep 128 tokens: 36 KiB per token + 4.5 MiB fixed (120b).
        int context = 131072;
        MemoryModel bf16 = memory120b(PlanSettings.defaults(context).withKvPrecision(PlanSettings.KvPrecision.BF16));
        assertEquals(36L * 1024 * context + 4_718_592L, bf16.totalKvCacheBytes());
        // Our CPU backend stores fp32: twice that.
        MemoryModel fp32 = memory120b(PlanSettings.defaults(context));
        assertEquals(2 * bf16.totalKvCacheBytes(), fp32.totalKvCacheBytes());
        // 20b: 24 KiB per token + 3 MiB fixed in bf16.
        ModelConfig c20 = ModelConfig.gptOss20b();
        MemoryModel m20 = new MemoryModel(c20, ModelFootprint.of(c20), PlanSettings.defaults(1000).withKvPrecision(PlanSettings.KvPrecision.BF16));
        assertEquals(24L * 1024 * 1000 + 3L * 1024 * 1024, m20.totalKvCacheBytes());
    }

    @Test
    void one80GiBDeviceHoldsAll120b() {
        MemoryModel m = memory120b(PlanSettings.defaults(131072));
        PlacementPlan plan = MemoryPlanner.plan(m, devices("tornado:0=80GiB"), null);
        assertEquals(-1, plan.host(), "no cpu device listed, so the engine's host memory is not budgeted");
        assertEquals(C120.numLayers() * C120.numExperts(), plan.expertCount(0));
        assertEquals(0, plan.pipelineHops());
        DeviceUsage u = plan.usage(0);
        long expectedWeights = 65_248_815_744L - ModelFootprint.of(C120).embeddingBytes();
        assertEquals(expectedWeights, u.weightBytes(), "all tensors but the embedding (which the engine reads on the host)");
        assertEquals(m.totalKvCacheBytes(), u.kvCacheBytes());
        assertTrue(u.fits());
    }

    @Test
    void hostOnlyPlanOf20bCountsEveryTensorByte() {
        ModelConfig c20 = ModelConfig.gptOss20b();
        MemoryModel m = new MemoryModel(c20, ModelFootprint.of(c20), PlanSettings.defaults(4096));
        PlacementPlan plan = MemoryPlanner.plan(m, devices("cpu=32GiB"), null);
        assertEquals(13_761_264_768L, plan.usage(0).weightBytes(), "spec §3.4 total, embedding included (the engine is here)");
        assertEquals(m.totalKvCacheBytes(), plan.usage(0).kvCacheBytes());
        assertEquals(m.attentionWorkspaceBytes() + m.expertWorkspaceBytes() + m.headWorkspaceBytes() + m.engineBufferBytes(),
                plan.usage(0).activationBytes());
    }

    @Test
    void twoFortyEightGiBDevicesSplitLayersEvenly() {
        PlacementPlan plan = MemoryPlanner.plan(memory120b(PlanSettings.defaults(131072)), devices("tornado:0=48GiB,tornado:1=48GiB"), null);
        assertEquals(18, plan.attentionLayers(0).size());
        assertEquals(18, plan.attentionLayers(1).size());
        assertEquals(1, plan.pipelineHops(), "one hop between the two halves, the head sits with the second");
        assertEquals(1, plan.head());
        assertEquals(0.0, plan.remoteExpertRowsPerToken(ExpertProfile.uniform(C120)), "experts stay with their layer");
        for (DeviceUsage u : plan.usages()) assertTrue(u.fits(), u.toString());
    }

    @Test
    void smallGpuPlusHostKeepsDenseOnGpuAndSpillsExpertsToHost() {
        PlacementPlan plan = MemoryPlanner.plan(memory120b(PlanSettings.defaults(131072)), devices("tornado:0=24GiB,cpu=64GiB"), null);
        assertEquals(36, plan.attentionLayers(0).size(), "all attention on the GPU");
        assertEquals(0, plan.head());
        assertEquals(1, plan.host());
        int gpu = plan.expertCount(0), host = plan.expertCount(1);
        assertEquals(36 * 128, gpu + host);
        assertTrue(gpu > 0 && host > 0, "gpu " + gpu + ", host " + host);
        // What is left on the GPU is less than one expert (plus nothing else to place).
        assertTrue(plan.usage(0).freeBytes() < ModelFootprint.of(C120).expertBytes(0), "GPU is filled: " + plan.usage(0));
        for (DeviceUsage u : plan.usages()) assertTrue(u.fits(), u.toString());
        // Without a profile every layer keeps about the same number of experts on the GPU.
        int min = Integer.MAX_VALUE, max = 0;
        for (int l = 0; l < 36; l++) {
            min = Math.min(min, plan.expertCount(0, l));
            max = Math.max(max, plan.expertCount(0, l));
        }
        assertTrue(max - min <= 1, "per-layer GPU experts " + min + ".." + max);
    }

    @Test
    void profileSendsHottestExpertsToTheGpu() {
        ExpertProfile skewed = zipfProfile(C120, 1.1);
        PlacementPlan plan = MemoryPlanner.plan(memory120b(PlanSettings.defaults(131072)), devices("tornado:0=24GiB,cpu=64GiB"), skewed);
        double coldestOnGpu = Double.POSITIVE_INFINITY, hottestOnHost = 0;
        for (int l = 0; l < 36; l++) {
            for (int e = 0; e < 128; e++) {
                if (plan.expert(l, e) == 0) coldestOnGpu = Math.min(coldestOnGpu, skewed.perToken(l, e));
                else hottestOnHost = Math.max(hottestOnHost, skewed.perToken(l, e));
            }
        }
        assertTrue(coldestOnGpu >= hottestOnHost, "coldest on GPU " + coldestOnGpu + " < hottest on host " + hottestOnHost);
        double gpuShare = plan.expertWorkShare(0, skewed), hostShare = plan.expertWorkShare(1, skewed);
        assertEquals(1.0, gpuShare + hostShare, 1e-9);
        double gpuFraction = plan.expertCount(0) / (36.0 * 128);
        assertTrue(gpuShare > 2 * gpuFraction, "GPU holds " + gpuFraction + " of the experts and does " + gpuShare + " of the work");
        // Without the profile the same devices do work in proportion to the experts they hold.
        PlacementPlan blind = MemoryPlanner.plan(memory120b(PlanSettings.defaults(131072)), devices("tornado:0=24GiB,cpu=64GiB"), null);
        assertEquals(blind.expertCount(0) / (36.0 * 128), blind.expertWorkShare(0, ExpertProfile.uniform(C120)), 1e-9);
        assertTrue(plan.remoteExpertRowsPerToken(skewed) < blind.remoteExpertRowsPerToken(skewed));
    }

    @Test
    void expertSplitDealsEveryLayerOverBothGpus() {
        PlanSettings s = PlanSettings.defaults(131072).withSplit(PlanSettings.Split.EXPERT);
        PlacementPlan plan = MemoryPlanner.plan(memory120b(s), devices("tornado:0=48GiB,tornado:1=48GiB"), null);
        for (int l = 0; l < 36; l++) {
            int a = plan.expertCount(0, l), b = plan.expertCount(1, l);
            assertEquals(128, a + b);
            assertTrue(Math.abs(a - b) <= 16, "layer " + l + ": " + a + " / " + b);
        }
        for (DeviceUsage u : plan.usages()) assertTrue(u.fits(), u.toString());
    }

    @Test
    void gpuTooSmallForDenseLayersPipelinesTheRestOnTheHost() {
        PlacementPlan plan = MemoryPlanner.plan(memory120b(PlanSettings.defaults(131072)), devices("tornado:0=4GiB,cpu=96GiB"), null);
        int onGpu = plan.attentionLayers(0).size();
        assertTrue(onGpu > 0 && onGpu < 36, "layers on the GPU: " + onGpu);
        assertEquals(36 - onGpu, plan.attentionLayers(1).size());
        for (int l = 1; l < 36; l++) assertTrue(plan.attention(l) >= plan.attention(l - 1), "contiguous stages");
        for (DeviceUsage u : plan.usages()) assertTrue(u.fits(), u.toString());
    }

    @Test
    void severalCpuInstancesPipelineWithTheirOwnBudgets() {
        PlacementPlan plan = MemoryPlanner.plan(memory120b(PlanSettings.defaults(8192)), devices("cpu:0=40GiB,cpu:1=40GiB"), null);
        assertEquals(0, plan.host());
        assertTrue(!plan.attentionLayers(0).isEmpty() && !plan.attentionLayers(1).isEmpty());
        assertEquals(0, plan.usage(0).reserveBytes(), "CPU instances keep no reserve");
        for (DeviceUsage u : plan.usages()) assertTrue(u.fits(), u.toString());
    }

    @Test
    void impossibleRequestNamesTheNumbers() {
        PlacementException e = assertThrows(PlacementException.class,
                () -> MemoryPlanner.plan(memory120b(PlanSettings.defaults(131072)), devices("tornado:0=24GiB,tornado:1=24GiB"), null));
        String m = e.getMessage();
        assertTrue(m.contains("weights 60.77 GiB"), m);
        assertTrue(m.contains("KV cache 9.01 GiB fp32 for 1 x 131072 tokens"), m);
        assertTrue(m.contains("short by"), m);
        assertTrue(m.contains("tornado:0 23.50 GiB"), "usable memory after the reserve: " + m);
    }

    @Test
    void unknownMemorySizeIsRejected() {
        assertThrows(IllegalArgumentException.class,
                () -> MemoryPlanner.plan(memory120b(PlanSettings.defaults(1024)), devices("tornado:0"), null));
    }

    @Test
    void proportionalSplitIsContiguousAndBalanced() {
        long[] cost = {1, 1, 1, 1, 1, 1};
        assertEquals(List.of(0, 0, 0, 1, 1, 1), box(MemoryPlanner.proportional(cost, new long[]{10, 10})));
        assertEquals(List.of(0, 0, 1, 1, 1, 1), box(MemoryPlanner.proportional(cost, new long[]{10, 20})));
        assertEquals(List.of(1, 1, 1, 1, 1, 1), box(MemoryPlanner.proportional(cost, new long[]{0, 20})));
    }

    static List<Integer> box(int[] a) {
        return java.util.Arrays.stream(a).boxed().toList();
    }

    /** Expert e of layer l chosen with weight 1/(rank+1)^s, ranks shuffled per layer. */
    static ExpertProfile zipfProfile(ModelConfig c, double s) {
        double[][] counts = new double[c.numLayers()][c.numExperts()];
        java.util.SplittableRandom r = new java.util.SplittableRandom(5);
        for (int l = 0; l < c.numLayers(); l++) {
            int[] rank = new int[c.numExperts()];
            for (int e = 0; e < rank.length; e++) rank[e] = e;
            for (int e = rank.length - 1; e > 0; e--) {
                int j = r.nextInt(e + 1), t = rank[e];
                rank[e] = rank[j];
                rank[j] = t;
            }
            double sum = 0;
            for (int e = 0; e < rank.length; e++) sum += Math.pow(rank[e] + 1, -s);
            for (int e = 0; e < rank.length; e++) counts[l][e] = Math.round(1000 * c.expertsPerToken() * Math.pow(rank[e] + 1, -s) / sum);
        }
        return ExpertProfile.of(1000, counts);
    }
}
