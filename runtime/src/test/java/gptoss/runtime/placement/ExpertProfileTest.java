package gptoss.runtime.placement;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.config.ModelConfig;
import gptoss.model.testing.GoldenCase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The profiler's summary.json contract, read with the fixture made from golden case A's router choices. */
class ExpertProfileTest {

    static Path fixture() throws URISyntaxException {
        return Path.of(ExpertProfileTest.class.getResource("/placement/case-a-summary.json").toURI());
    }

    static ModelConfig caseA() {
        try (Checkpoint c = Checkpoint.open(GoldenCase.caseA())) {
            return c.config();
        }
    }

    @Test
    void fixtureCountsAreTheGoldenRouterChoices() throws Exception {
        ModelConfig c = caseA();
        ExpertProfile p = ExpertProfile.read(fixture(), c);
        int[] ids = GoldenCase.golden("router_topk_ids_full_seq.npy").toInts(); // [L, T, k]
        int L = c.numLayers(), k = c.expertsPerToken(), T = ids.length / (L * k);
        assertEquals(T, p.tokens());
        double[][] counted = new double[L][c.numExperts()];
        for (int l = 0; l < L; l++) for (int i = 0; i < T * k; i++) counted[l][ids[l * T * k + i]]++;
        for (int l = 0; l < L; l++) {
            double perLayer = 0;
            for (int e = 0; e < c.numExperts(); e++) {
                assertEquals(counted[l][e] / T, p.perToken(l, e), 1e-12, "layer " + l + " expert " + e);
                perLayer += p.perToken(l, e);
            }
            assertEquals(k, perLayer, 1e-12, "each token picks k experts per layer");
        }
    }

    @Test
    void profileForAnotherShapeIsRejected() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ExpertProfile.read(fixture(), ModelConfig.gptOss120b()));
        assertTrue(e.getMessage().contains("4 layers x 8 experts"), e.getMessage());
    }

    @Test
    void malformedProfilesAreRejected(@TempDir Path dir) throws IOException {
        ModelConfig c = caseA();
        Path f = dir.resolve("summary.json");
        Files.writeString(f, "{\"num_layers\": 4, \"num_experts\": 8, \"tokens\": 5, \"layers\": [{\"layer\": 0, \"expert_counts\": [1,2,3]}]}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ExpertProfile.read(f, c)).getMessage().contains("8 numbers"));
        Files.writeString(f, "{\"num_layers\": 4, \"num_experts\": 8, \"tokens\": 5, \"layers\": []}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ExpertProfile.read(f, c)).getMessage().contains("layer 0 is missing"));
    }
}
