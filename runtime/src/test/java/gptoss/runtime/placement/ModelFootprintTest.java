package gptoss.runtime.placement;

import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.config.ModelConfig;
import gptoss.model.testing.GoldenCase;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Tensor byte counts against spec §3.4 and against real checkpoint files. */
class ModelFootprintTest {

    @Test
    void gptOss20bMatchesSpecSizes() {
        ModelFootprint f = ModelFootprint.of(ModelConfig.gptOss20b());
        assertEquals(3_608_919_168L, f.denseBytes(), "bf16 tensors");
        assertEquals(10_152_345_600L, f.mxfp4Bytes(), "MXFP4 blocks and scales");
        assertEquals(13_761_264_768L, f.totalBytes(), "total");
    }

    @Test
    void gptOss120bMatchesSpecSizes() {
        ModelFootprint f = ModelFootprint.of(ModelConfig.gptOss120b());
        assertEquals(4_334_742_144L, f.denseBytes(), "bf16 tensors");
        assertEquals(60_914_073_600L, f.mxfp4Bytes(), "MXFP4 blocks and scales");
        assertEquals(65_248_815_744L, f.totalBytes(), "total");
    }

    @Test
    void partsAddUpForOneExpertOf120b() {
        ModelFootprint f = ModelFootprint.of(ModelConfig.gptOss120b());
        // MLP1 [5760, 90 blocks] and MLP2 [2880, 90 blocks], 17 bytes per block; biases 5760 + 2880 bf16.
        assertEquals(5760L * 90 * 17 + 2880L * 90 * 17, f.expertMxfp4Bytes(0));
        assertEquals(5760L * 90 * 17 + 2880L * 90 * 17 + 2L * (5760 + 2880), f.expertBytes(0));
        assertEquals(2L * 201088 * 2880, f.embeddingBytes());
        assertEquals(2L * 201088 * 2880 + 2L * 2880, f.headBytes());
    }

    @Test
    void configSizesEqualCheckpointTensorsInBothLayouts() {
        for (var dir : new java.nio.file.Path[]{GoldenCase.caseA(), GoldenCase.caseA().resolve("original")}) {
            try (Checkpoint ckpt = Checkpoint.open(dir)) {
                ModelFootprint fromConfig = ModelFootprint.of(ckpt.config());
                ModelFootprint fromWeights = ModelFootprint.of(ckpt.config(), ckpt.weights());
                assertEquals(ckpt.store().totalBytes(), fromWeights.totalBytes(), dir + ": weights vs file tensors");
                assertEquals(fromWeights.totalBytes(), fromConfig.totalBytes(), dir + ": config vs weights");
                assertEquals(fromWeights.mxfp4Bytes(), fromConfig.mxfp4Bytes(), dir + ": MXFP4 part");
                for (int l = 0; l < ckpt.config().numLayers(); l++) {
                    assertEquals(fromWeights.layerDenseBytes(l), fromConfig.layerDenseBytes(l), "layer " + l + " dense");
                    assertEquals(fromWeights.expertBytes(l), fromConfig.expertBytes(l), "layer " + l + " expert");
                }
            }
        }
    }
}
