package gptoss.model.checkpoint;

import gptoss.model.InvalidModelException;
import gptoss.model.config.ModelConfig;
import gptoss.model.synth.SyntheticCheckpoint;
import gptoss.model.testing.GoldenCase;
import gptoss.model.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loading both layouts, sharded files, and a clear error naming file and tensor for each broken input. */
class CheckpointTest {
    @TempDir
    Path dir;

    @Test
    void goldenLayoutsHoldTheSameWeightsBitForBit() {
        try (Checkpoint hf = Checkpoint.open(GoldenCase.caseA());
             Checkpoint original = Checkpoint.open(GoldenCase.caseA().resolve("original"))) {
            assertEquals(Checkpoint.Layout.HUGGING_FACE, hf.layout());
            assertEquals(Checkpoint.Layout.ORIGINAL, original.layout());
            assertEquals(hf.config().hiddenSize(), original.config().hiddenSize());
            assertEquals(hf.config().layerTypes(), original.config().layerTypes());
            LayerWeights a = hf.weights().layers().get(1), b = original.weights().layers().get(1);
            // q, k, v come from slices of the fused qkv matrix in the original layout.
            for (long i = 0; i < a.wk().size(); i += 7) assertEquals(a.wk().getFloat(i), b.wk().getFloat(i));
            for (long i = 0; i < a.bv().size(); i++) assertEquals(a.bv().getFloat(i), b.bv().getFloat(i));
            for (long i = 0; i < a.mlp1().size(); i += 13) assertEquals(a.mlp1().getFloat(i), b.mlp1().getFloat(i));
        }
    }

    @Test
    void shardedCheckpointWithIndexLoadsLikeOneFile() {
        ModelConfig c = TestModels.small();
        Path one = TestModels.write(dir.resolve("one"), c, 3, SyntheticCheckpoint.Layout.HUGGING_FACE, 1);
        Path three = TestModels.write(dir.resolve("three"), c, 3, SyntheticCheckpoint.Layout.HUGGING_FACE, 3);
        assertTrue(Files.exists(three.resolve("model-00000-of-00002.safetensors")), "0-based shard names as in the real repos");
        assertTrue(Files.exists(three.resolve("model.safetensors.index.json")));
        try (Checkpoint a = Checkpoint.open(one); Checkpoint b = Checkpoint.open(three)) {
            assertEquals(a.weights().unembedding().getFloat(777), b.weights().unembedding().getFloat(777));
            assertEquals(a.store().totalBytes(), b.store().totalBytes());
            assertEquals(a.weights().layers().get(1).mlp2().getFloat(12345), b.weights().layers().get(1).mlp2().getFloat(12345));
        }
    }

    @Test
    void folderWithOnlyOriginalSubfolderOpensIt() throws IOException {
        Path repo = dir.resolve("repo");
        TestModels.write(repo.resolve("original"), TestModels.small(), 1, SyntheticCheckpoint.Layout.ORIGINAL, 1);
        try (Checkpoint c = Checkpoint.open(repo)) {
            assertEquals(Checkpoint.Layout.ORIGINAL, c.layout());
        }
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        Path p = TestModels.write(dir.resolve("m"), TestModels.small(), 1, SyntheticCheckpoint.Layout.HUGGING_FACE, 1);
        editConfig(p, "\"num_hidden_layers\" : 2", "\"num_hidden_layers\" : 3");
        editConfig(p, "\"full_attention\" ]", "\"full_attention\", \"sliding_attention\" ]");
        var e = assertThrows(InvalidModelException.class, () -> Checkpoint.open(p));
        assertTrue(e.getMessage().contains("missing tensor 'model.layers.2.input_layernorm.weight'"), e.getMessage());
    }

    @Test
    void shapeThatDisagreesWithTheConfigIsNamed() throws IOException {
        Path p = TestModels.write(dir.resolve("s"), TestModels.small(), 1, SyntheticCheckpoint.Layout.HUGGING_FACE, 1);
        editConfig(p, "\"vocab_size\" : 512", "\"vocab_size\" : 600");
        var e = assertThrows(InvalidModelException.class, () -> Checkpoint.open(p));
        assertTrue(e.getMessage().contains("model.safetensors: tensor 'model.embed_tokens.weight': shape [512, 64] disagrees with the config (expected [600, 64])"),
                e.getMessage());
    }

    @Test
    void configMissingAKeyIsNamed() throws IOException {
        Path p = TestModels.write(dir.resolve("k"), TestModels.small(), 1, SyntheticCheckpoint.Layout.HUGGING_FACE, 1);
        editConfig(p, "\"num_key_value_heads\" : 2,", "");
        var e = assertThrows(InvalidModelException.class, () -> Checkpoint.open(p));
        assertTrue(e.getMessage().contains("config.json: missing key 'num_key_value_heads'"), e.getMessage());
    }

    @Test
    void originalConfigMissingAKeyIsNamed() throws IOException {
        Path p = TestModels.write(dir.resolve("o"), TestModels.small(), 1, SyntheticCheckpoint.Layout.ORIGINAL, 1);
        editConfig(p, "\"rope_ntk_beta\" : 32.0", "\"unused\" : 0");
        var e = assertThrows(InvalidModelException.class, () -> Checkpoint.open(p));
        assertTrue(e.getMessage().contains("missing key 'rope_ntk_beta'"), e.getMessage());
    }

    @Test
    void truncatedCheckpointNamesFileAndTensor() throws IOException {
        Path p = TestModels.write(dir.resolve("t"), TestModels.small(), 1, SyntheticCheckpoint.Layout.HUGGING_FACE, 1);
        Path file = p.resolve("model.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(raf.length() - 100);
        }
        var e = assertThrows(InvalidModelException.class, () -> Checkpoint.open(p));
        assertTrue(e.getMessage().contains("model.safetensors: tensor 'lm_head.weight'") && e.getMessage().contains("out of range"), e.getMessage());
    }

    @Test
    void indexNamingAMissingShardIsReported() throws IOException {
        Path p = TestModels.write(dir.resolve("i"), TestModels.small(), 1, SyntheticCheckpoint.Layout.HUGGING_FACE, 2);
        Files.delete(p.resolve("model-00001-of-00001.safetensors"));
        var e = assertThrows(InvalidModelException.class, () -> Checkpoint.open(p));
        assertTrue(e.getMessage().contains("model-00001-of-00001.safetensors") && e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void missingDirectoryAndConfigAreReported() throws IOException {
        var e = assertThrows(InvalidModelException.class, () -> Checkpoint.open(dir.resolve("nowhere")));
        assertTrue(e.getMessage().contains("not found"), e.getMessage());
        Files.createDirectories(dir.resolve("empty"));
        e = assertThrows(InvalidModelException.class, () -> Checkpoint.open(dir.resolve("empty")));
        assertTrue(e.getMessage().contains("no config.json"), e.getMessage());
    }

    static void editConfig(Path checkpoint, String from, String to) throws IOException {
        Path config = checkpoint.resolve("config.json");
        String text = Files.readString(config);
        assertTrue(text.contains(from), "config.json contains " + from + ":\n" + text);
        Files.writeString(config, text.replace(from, to));
    }
}
