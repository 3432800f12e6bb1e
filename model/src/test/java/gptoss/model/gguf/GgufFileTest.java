package gptoss.model.gguf;

import gptoss.model.InvalidModelException;
import gptoss.model.checkpoint.Checkpoint;
import gptoss.model.checkpoint.LayerWeights;
import gptoss.model.config.ModelConfig;
import gptoss.model.gguf.GgufFile.ValueType;
import gptoss.model.synth.SyntheticCheckpoint;
import gptoss.model.synth.SyntheticGguf;
import gptoss.model.tensor.FloatTensor;
import gptoss.model.testing.BrokenGguf;
import gptoss.model.testing.GoldenCase;
import gptoss.model.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The GGUF reader on hand-made files, the gpt-oss mapping against safetensors, and one clear error per damage. */
class GgufFileTest {
    @TempDir
    Path dir;

    private static byte[] le(int bytes, long value) {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value);
        return java.util.Arrays.copyOf(b.array(), bytes);
    }

    private static byte[] str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + b.length).order(ByteOrder.LITTLE_ENDIAN).putLong(b.length).put(b).array();
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void readsEveryMetadataTypeAndAlignedTensorsInVersions2And3(int version) throws IOException {
        Path file = dir.resolve("types.gguf");
        new GgufWriter().version(version).alignment(64)
                .putU32(GgufFile.ALIGNMENT_KEY, 64)
                .putRaw("u8", ValueType.UINT8, le(1, 200))
                .putRaw("i8", ValueType.INT8, le(1, -5))
                .putRaw("u16", ValueType.UINT16, le(2, 65000))
                .putRaw("i16", ValueType.INT16, le(2, -30000))
                .putRaw("u32", ValueType.UINT32, le(4, 4_000_000_000L))
                .putRaw("i32", ValueType.INT32, le(4, -2_000_000_000))
                .putRaw("f32", ValueType.FLOAT32, le(4, Float.floatToRawIntBits(1.5f)))
                .putRaw("bool", ValueType.BOOL, new byte[]{1})
                .putString("string", "héllo")
                .putRaw("u64", ValueType.UINT64, le(8, -1))
                .putRaw("i64", ValueType.INT64, le(8, -123456789012L))
                .putRaw("f64", ValueType.FLOAT64, le(8, Double.doubleToRawLongBits(-2.25)))
                .putRaw("ints", ValueType.ARRAY, concat(le(4, ValueType.INT32.ordinal()), le(8, 3), le(4, 1), le(4, -2), le(4, 3)))
                .putStrings("strings", List.of("a", "", "ç"))
                .putRaw("nested", ValueType.ARRAY, concat(le(4, ValueType.ARRAY.ordinal()), le(8, 2),
                        le(4, ValueType.BOOL.ordinal()), le(8, 1), new byte[]{0},
                        le(4, ValueType.UINT8.ordinal()), le(8, 2), new byte[]{7, (byte) 255}))
                .addTensor("a", GgmlType.F32, new long[]{3}, s -> { for (int i = 0; i < 3; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, i + 0.5f); })
                .addTensor("b", GgmlType.F32, new long[]{2, 2}, s -> { for (int i = 0; i < 4; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, -i); })
                .write(file);
        try (GgufFile f = GgufFile.open(file)) {
            assertEquals(version, f.version());
            var m = f.metadata();
            assertEquals(200L, m.get("u8"));
            assertEquals(-5L, m.get("i8"));
            assertEquals(65000L, m.get("u16"));
            assertEquals(-30000L, m.get("i16"));
            assertEquals(4_000_000_000L, m.get("u32"));
            assertEquals(-2_000_000_000L, m.get("i32"));
            assertEquals(1.5f, m.get("f32"));
            assertEquals(true, m.get("bool"));
            assertEquals("héllo", m.get("string"));
            assertEquals(-1L, m.get("u64"));
            assertEquals(-123456789012L, m.get("i64"));
            assertEquals(-2.25, m.get("f64"));
            assertEquals(List.of(1L, -2L, 3L), m.get("ints"));
            assertEquals(List.of("a", "", "ç"), m.get("strings"));
            assertEquals(List.of(List.of(false), List.of(7L, 255L)), m.get("nested"));
            assertEquals(ValueType.INT16, f.metadataType("i16"));
            assertEquals(0, f.dataOffset() % 64);
            GgufTensor b = f.tensor("b");
            assertEquals(0, (b.data().address() - f.tensor("a").data().address()) % 64, "tensor data aligned to 64");
            assertEquals(-3f, b.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 3));
            assertEquals(1.5f, f.tensor("a").data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 1));
        }
    }

    @Test
    void ggufHoldsExactlyTheSafetensorsWeightsOfTheSameSeed() throws IOException {
        ModelConfig c = TestModels.small();
        Path st = TestModels.write(dir.resolve("st"), c, 9, SyntheticCheckpoint.Layout.HUGGING_FACE, 1);
        Path gguf = SyntheticGguf.write(dir.resolve("m.gguf"), c, 9, GgufExport.DenseType.BF16, null);
        try (Checkpoint a = Checkpoint.open(st); Checkpoint b = Checkpoint.open(gguf); Checkpoint viaFolder = Checkpoint.open(dir.resolve("m.gguf").getParent())) {
            assertEquals(Checkpoint.Layout.GGUF, b.layout());
            assertEquals(Checkpoint.Layout.GGUF, viaFolder.layout(), "a folder holding one .gguf opens it");
            assertEquals(c, b.config());
            assertEquals(a.config(), b.config());
            assertSame(a.weights().embedding(), b.weights().embedding());
            assertSame(a.weights().unembedding(), b.weights().unembedding());
            assertSame(a.weights().finalNorm(), b.weights().finalNorm());
            for (int l = 0; l < c.numLayers(); l++) {
                LayerWeights x = a.weights().layers().get(l), y = b.weights().layers().get(l);
                assertSame(x.attnNorm(), y.attnNorm());
                assertSame(x.wq(), y.wq());
                assertSame(x.bq(), y.bq());
                assertSame(x.wk(), y.wk());
                assertSame(x.wv(), y.wv());
                assertSame(x.bv(), y.bv());
                assertSame(x.wo(), y.wo());
                assertSame(x.bo(), y.bo());
                assertSame(x.sinks(), y.sinks());
                assertSame(x.mlpNorm(), y.mlpNorm());
                assertSame(x.router(), y.router());
                assertSame(x.routerBias(), y.routerBias());
                assertSame(x.mlp1(), y.mlp1());
                assertSame(x.mlp1Bias(), y.mlp1Bias());
                assertSame(x.mlp2(), y.mlp2());
                assertSame(x.mlp2Bias(), y.mlp2Bias());
            }
        }
    }

    private static void assertSame(FloatTensor a, FloatTensor b) {
        assertEquals(a.size(), b.size(), "size");
        for (long i = 0; i < a.size(); i++) {
            if (Float.floatToRawIntBits(a.getFloat(i)) != Float.floatToRawIntBits(b.getFloat(i))) {
                throw new AssertionError("element " + i + ": " + a.getFloat(i) + " != " + b.getFloat(i));
            }
        }
    }

    @Test
    void goldenCaseWrittenAsGgufKeepsItsConfigAndExperts() throws IOException {
        Path file = dir.resolve("case-a.gguf");
        try (Checkpoint hf = Checkpoint.open(GoldenCase.caseA())) {
            GgufExport.write(file, hf.config(), hf.weights(), GgufExport.DenseType.BF16, "case A", null);
            try (Checkpoint g = Checkpoint.open(file)) {
                ModelConfig a = hf.config(), b = g.config();
                assertEquals(a.layerTypes(), b.layerTypes());
                assertEquals(a.slidingWindow(), b.slidingWindow());
                assertEquals(a.headDim(), b.headDim());
                assertEquals(a.eosTokenId(), b.eosTokenId());
                assertEquals(a.ropeScalingFactor(), b.ropeScalingFactor());
                assertEquals(a.ropeOriginalContext(), b.ropeOriginalContext());
                assertEquals(a.maxContext(), b.maxContext());
                assertEquals((float) a.rmsNormEps(), (float) b.rmsNormEps());
                assertSame(hf.weights().layers().get(3).mlp1(), g.weights().layers().get(3).mlp1());
                assertSame(hf.weights().layers().get(2).mlp2(), g.weights().layers().get(2).mlp2());
            }
        }
    }

    @Test
    void ggmlMxfp4BlocksAreTheOpenAiBlocksWithNibblesRepacked() throws IOException {
        // Element k of an OpenAI block sits in byte k/2 (even k low nibble); in ggml, byte j holds j (low) and j+16 (high).
        Path file = dir.resolve("case-a.gguf");
        try (Checkpoint hf = Checkpoint.open(GoldenCase.caseA())) {
            GgufExport.write(file, hf.config(), hf.weights(), GgufExport.DenseType.BF16, "case A", null);
            var blocks = ((gptoss.model.tensor.Mxfp4Tensor) hf.weights().layers().get(0).mlp2()).blocks();
            var scales = ((gptoss.model.tensor.Mxfp4Tensor) hf.weights().layers().get(0).mlp2()).scales();
            try (GgufFile g = GgufFile.open(file)) {
                var down = g.tensor("blk.0.ffn_down_exps.weight").data();
                for (long block = 0; block < 40; block++) {
                    assertEquals(scales.get(ValueLayout.JAVA_BYTE, block), down.get(ValueLayout.JAVA_BYTE, block * 17), "exponent byte first");
                    for (int j = 0; j < 16; j++) {
                        int q = down.get(ValueLayout.JAVA_BYTE, block * 17 + 1 + j) & 0xFF;
                        int lowSrc = blocks.get(ValueLayout.JAVA_BYTE, block * 16 + j / 2) & 0xFF;
                        int highSrc = blocks.get(ValueLayout.JAVA_BYTE, block * 16 + (j + 16) / 2) & 0xFF;
                        assertEquals(j % 2 == 0 ? lowSrc & 15 : lowSrc >>> 4, q & 15, "value " + j);
                        assertEquals(j % 2 == 0 ? highSrc & 15 : highSrc >>> 4, q >>> 4, "value " + (j + 16));
                    }
                }
            }
        }
    }

    @Test
    void mxfp4BlocksComeBackInOpenAiOrderFromEitherLayout() throws IOException {
        // What the TornadoVM backend uploads: GGUF's split ggml blocks re-packed must equal the safetensors bytes.
        Path file = dir.resolve("case-a.gguf");
        try (Checkpoint hf = Checkpoint.open(GoldenCase.caseA())) {
            GgufExport.write(file, hf.config(), hf.weights(), GgufExport.DenseType.BF16, "case A", null);
            try (Checkpoint g = Checkpoint.open(file)) {
                int H = hf.config().hiddenSize(), I = hf.config().intermediateSize();
                LayerWeights a = hf.weights().layers().get(1), b = g.weights().layers().get(1);
                byte[] x = new byte[16], y = new byte[16];
                for (long block = 0; block < a.mlp1().size() / 32; block++) {
                    assertEquals(gptoss.model.tensor.Mxfp4Blocks.openAiBlock(a.mlp1(), H, block, x),
                            gptoss.model.tensor.Mxfp4Blocks.openAiBlock(b.mlp1(), H, block, y), "mlp1 scale " + block);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(x, y, "mlp1 block " + block);
                }
                for (long block = 0; block < a.mlp2().size() / 32; block++) {
                    assertEquals(gptoss.model.tensor.Mxfp4Blocks.openAiBlock(a.mlp2(), I, block, x),
                            gptoss.model.tensor.Mxfp4Blocks.openAiBlock(b.mlp2(), I, block, y), "mlp2 scale " + block);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(x, y, "mlp2 block " + block);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(BrokenGguf.Damage.class)
    void damagedFilesGetOneErrorNamingTheProblem(BrokenGguf.Damage damage) {
        Path valid = BrokenGguf.valid(dir);
        try (Checkpoint ok = Checkpoint.open(valid)) {
            assertEquals(TestModels.small(), ok.config());
        }
        Path broken = BrokenGguf.broken(valid, damage, dir);
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> Checkpoint.open(broken).close());
        assertTrue(e.getMessage().contains(damage.message), damage + ": " + e.getMessage());
        assertTrue(e.getMessage().startsWith(broken.getFileName().toString()), "names the file: " + e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line");
    }

    @Test
    void folderWithTwoGgufFilesAsksForOne() throws IOException {
        Path valid = BrokenGguf.valid(dir);
        Files.copy(valid, dir.resolve("other.gguf"));
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> Checkpoint.open(dir));
        assertTrue(e.getMessage().contains("2 .gguf files"), e.getMessage());
    }
}
