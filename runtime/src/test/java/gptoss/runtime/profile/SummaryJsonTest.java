package gptoss.runtime.profile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SummaryJsonTest {

    @Test
    void writesTheContractAndReadsTheLoadsBack(@TempDir Path dir) throws Exception {
        RoutingProfile p = new RoutingProfile(2, 5, 2);
        RoutingProfileTest.fill(p, new Random(3), 40);
        p.record(1, 7, new int[]{0, 1}, new float[]{0.5f, 0.5f}, null);
        Path file = dir.resolve("summary.json");
        SummaryJson.write(file, p, Map.of("model", "m"), 3, id -> "t" + id);

        JsonNode root = new ObjectMapper().readTree(file.toFile());
        assertEquals(2, root.get("num_layers").asInt());
        assertEquals(5, root.get("num_experts").asInt());
        assertEquals(41, root.get("tokens").asLong());
        assertEquals("m", root.get("source").get("model").asText());
        JsonNode layer1 = root.get("layers").get(1);
        assertEquals(1, layer1.get("layer").asInt());
        assertEquals(5, layer1.get("top_tokens").size());
        JsonNode top = layer1.get("top_tokens").get(0).get(0);
        RoutingProfile.ExpertToken expected = p.topTokens(1, 0, 1).get(0);
        assertEquals(expected.token(), top.get("id").asInt());
        assertEquals("t" + expected.token(), top.get("text").asText());
        assertEquals(p.statistics(1).entropyBits(), layer1.get("entropy_bits").asDouble(), 1e-12);
        assertEquals(p.statistics(1).chiSquarePValue(), layer1.get("chi_square").get("p_value").asDouble(), 1e-12);

        ProfileSummary back = SummaryJson.read(dir);
        assertEquals(41, back.tokens());
        assertEquals(2, back.expertsPerToken());
        for (int l = 0; l < 2; l++) {
            assertArrayEquals(p.expertCounts(l), back.expertCounts()[l]);
            assertArrayEquals(p.expertWeightMass(l), back.weightMass()[l], 1e-12);
        }
    }

    @Test
    void undefinedNumbersAreNullAndBadFilesAreNamed(@TempDir Path dir) throws Exception {
        RoutingProfile p = new RoutingProfile(1, 3, 1);
        p.record(0, 1, new int[]{0}, new float[]{1}, null);
        JsonNode layer = SummaryJson.toJson(p, Map.of(), 2, null).get("layers").get(0);
        assertTrue(layer.get("max_min_load_ratio").isNull(), "ratio with an unused expert");
        assertTrue(layer.get("mean_weight").get(1).isNull());
        assertEquals("[1,2]", layer.get("never_used").toString());
        assertTrue(layer.get("top_tokens").get(0).get(0).get("text") == null, "no decoder, no text");

        Files.writeString(dir.resolve("summary.json"), "{\"num_layers\": 1, \"num_experts\": 2, \"layers\": [{\"layer\": 0, \"expert_counts\": [1]}]}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SummaryJson.read(dir));
        assertTrue(e.getMessage().contains("expert_counts"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SummaryJson.read(dir.resolve("missing")));
    }
}
