package gptoss.runtime.placement;

import gptoss.model.config.ModelConfig;
import gptoss.runtime.backend.Shard;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Plan files: JSON round trip, validation on load, shards. */
class PlacementPlanTest {
    static final ModelConfig C = ModelConfig.gptOss120b();
    static final ModelFootprint F = ModelFootprint.of(C);

    static PlacementPlan hybrid() {
        return MemoryPlanner.plan(new MemoryModel(C, F, PlanSettings.defaults(32768).withSplit(PlanSettings.Split.EXPERT)),
                DeviceSpec.parseList("tornado:0=24GiB,tornado:1=16GiB,cpu=48GiB"), MemoryPlannerTest.zipfProfile(C, 1.0));
    }

    @Test
    void jsonRoundTripGivesTheSamePlanAndMemory(@TempDir Path dir) throws IOException {
        PlacementPlan plan = hybrid();
        Path file = dir.resolve("plan.json");
        Files.writeString(file, plan.toJson());
        PlacementPlan back = PlacementPlan.read(file, C, F, 0);
        assertTrue(plan.sameAs(back));
        assertEquals(plan.usages(), back.usages());
        assertEquals(plan.toJson(), back.toJson());
        // One line per layer in the expert table keeps the file readable.
        assertEquals(36, plan.toJson().lines().filter(l -> l.trim().matches("\\[(\\d+, ){127}\\d+],?")).count(), "compact JSON");
    }

    @Test
    void smallerContextOnLoadIsAllowedLargerIsNot(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("plan.json");
        Files.writeString(file, hybrid().toJson());
        assertEquals(1024, PlacementPlan.read(file, C, F, 1024).settings().context());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PlacementPlan.read(file, C, F, 65536));
        assertTrue(e.getMessage().contains("context 32768"), e.getMessage());
    }

    @Test
    void planForAnotherModelIsRejected(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("plan.json");
        Files.writeString(file, hybrid().toJson());
        ModelConfig c20 = ModelConfig.gptOss20b();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PlacementPlan.read(file, c20, ModelFootprint.of(c20), 0));
        assertTrue(e.getMessage().contains("36 layers x 128 experts"), e.getMessage());
    }

    @Test
    void editedPlanThatNoLongerFitsIsRejectedWithNumbers(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("plan.json");
        // Move every expert to tornado:1 (device 1, 16 GiB) by rewriting the expert rows.
        String json = hybrid().toJson();
        StringBuilder edited = new StringBuilder();
        boolean inExperts = false;
        for (String line : json.split("\n", -1)) {
            if (line.contains("\"experts\"")) inExperts = true;
            else if (inExperts && line.trim().startsWith("]")) inExperts = false;
            else if (inExperts) line = line.replaceAll("\\d+", "1");
            edited.append(line).append('\n');
        }
        Files.writeString(file, edited.toString());
        PlacementException e = assertThrows(PlacementException.class, () -> PlacementPlan.read(file, C, F, 0));
        assertTrue(e.getMessage().contains("tornado:1 needs"), e.getMessage());
        assertTrue(e.getMessage().contains("but has 16.00 GiB"), e.getMessage());
    }

    @Test
    void shardsPartitionTheModel() {
        PlacementPlan plan = hybrid();
        Shard[] shards = new Shard[plan.devices().size()];
        for (int d = 0; d < shards.length; d++) shards[d] = plan.shard(d);
        for (int l = 0; l < C.numLayers(); l++) {
            int holders = 0;
            for (int d = 0; d < shards.length; d++) if (shards[d].hasAttention(l)) holders++;
            assertEquals(1, holders, "attention of layer " + l);
            for (int e = 0; e < C.numExperts(); e++) {
                int h = 0;
                for (int d = 0; d < shards.length; d++) if (shards[d].hasExpert(l, e)) h++;
                assertEquals(1, h, "expert " + e + " of layer " + l);
                assertTrue(shards[plan.expert(l, e)].hasExpert(l, e));
            }
        }
        int heads = 0;
        for (Shard s : shards) if (s.hasHead()) heads++;
        assertEquals(1, heads);
        assertFalse(shards[plan.host()].hasAttention(0), "the host CPU only holds spilled experts here");
    }
}
