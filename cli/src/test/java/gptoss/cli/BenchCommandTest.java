package gptoss.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gptoss.model.config.ModelConfig;
import gptoss.model.synth.SyntheticCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchCommandTest {

    @Test
    void jsonReportIsConsistent(@TempDir Path dir) throws Exception {
        ModelConfig b = ModelConfig.gptOss20b();
        ModelConfig c = new ModelConfig(2, 128, 4, 2, 16, 8, 2, 128, 1000, 8, ModelConfig.alternating(2),
                b.ropeTheta(), b.ropeScalingFactor(), b.ropeBetaFast(), b.ropeBetaSlow(), b.ropeOriginalContext(),
                b.ropeTruncate(), b.maxContext(), b.swigluLimit(), b.swigluAlpha(), b.rmsNormEps(), -1);
        SyntheticCheckpoint.write(dir, c, 1, SyntheticCheckpoint.Layout.HUGGING_FACE, 1, false, null);
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            code = Main.execute("bench", "--model", dir.toString(), "--threads", "2", "--prompt-tokens", "12", "--gen-tokens", "5",
                    "--repetitions", "2", "--bandwidth-buffer-mib", "32", "--sequences", "3", "--json");
        } finally {
            System.setOut(stdout);
        }
        assertEquals(0, code);
        JsonNode r = new ObjectMapper().readTree(captured.toString(StandardCharsets.UTF_8));
        for (String key : new String[]{"pp_tokens_per_s", "tg_tokens_per_s", "read_bandwidth_gb_s", "bytes_per_token", "tg_roofline_fraction"}) {
            assertTrue(r.path(key).isNumber() && r.path(key).asDouble() > 0, key + " in " + r);
        }
        assertEquals(2, r.path("runs").size());
        // Batched decoding: 3 sequences per engine step against 1, in the same run.
        assertEquals(3, r.path("sequences").asInt());
        double aggregate = r.path("tg_aggregate_tokens_per_s").asDouble(), single = r.path("tg_batch1_tokens_per_s").asDouble();
        assertTrue(aggregate > 0 && single > 0, r.toString());
        assertEquals(aggregate / single, r.path("tg_aggregate_speedup").asDouble(), 1e-9);
        assertTrue(r.path("tg_aggregate_tokens_per_s_min").asDouble() <= aggregate && aggregate <= r.path("tg_aggregate_tokens_per_s_max").asDouble());
        double tg = r.path("tg_tokens_per_s").asDouble();
        assertTrue(r.path("tg_tokens_per_s_min").asDouble() <= tg && tg <= r.path("tg_tokens_per_s_max").asDouble());
        // Each run's fraction is its generation traffic over the bandwidth sampled during it; the report gives the median.
        double[] fractions = new double[2];
        for (int i = 0; i < 2; i++) {
            JsonNode run = r.path("runs").get(i);
            double achieved = run.path("tg_tokens_per_s").asDouble() * run.path("bytes_per_token").asDouble() / 1e9;
            fractions[i] = run.path("tg_roofline_fraction").asDouble();
            assertEquals(achieved / run.path("read_bandwidth_gb_s").asDouble(), fractions[i], 1e-6 * fractions[i]);
        }
        assertEquals((fractions[0] + fractions[1]) / 2, r.path("tg_roofline_fraction").asDouble(), 1e-9);
        // Every generated token reads at least the unembedding matrix and the embedding row.
        assertTrue(r.path("bytes_per_token").asLong() > 2L * (1000 + 1) * 128);
    }

    @Test
    void rejectsNonsenseArguments() {
        assertEquals(1, Main.execute("bench", "--gen-tokens", "0"));
        assertEquals(2, Main.execute("bench", "--prompt-tokens", "many"));
    }
}
