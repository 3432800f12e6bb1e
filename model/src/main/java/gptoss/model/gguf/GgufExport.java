package gptoss.model.gguf;

import gptoss.model.checkpoint.LayerWeights;
import gptoss.model.checkpoint.ModelWeights;
import gptoss.model.config.LayerType;
import gptoss.model.config.ModelConfig;
import gptoss.model.memory.PageCache;
import gptoss.model.tensor.Bf16Tensor;
import gptoss.model.tensor.FloatTensor;
import gptoss.model.tensor.GgmlMxfp4Tensor;
import gptoss.model.tensor.InterleavedRowsTensor;
import gptoss.model.tensor.Mxfp4Tensor;
import gptoss.model.tensor.Q8_0Tensor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.LongConsumer;
import java.util.stream.LongStream;

/**
 * Writes a gpt-oss model as GGUF the way llama.cpp's converter lays it out (spec §3.5): tensor names
 * {@code token_embd}, {@code blk.N.*}, {@code output}; expert matrices in ggml MXFP4 (17-byte blocks, nibbles
 * re-packed from OpenAI's order), the fused gate/up matrix and bias split into {@code ffn_gate_exps} (even rows)
 * and {@code ffn_up_exps} (odd rows); norms, biases, sinks and the router in F32; the other matrices in the chosen
 * dense type. BF16 and F32 keep BF16 weights exactly; F16 rounds them, Q8_0 quantizes them as ggml does.
 * The vocabulary is not written ({@code tokenizer.ggml.model = "none"} with {@code gpt-oss.vocab_size}): this engine
 * always uses its own o200k_harmony tokenizer, and llama.cpp then loads the file with placeholder tokens.
 */
public final class GgufExport {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** llama.cpp's {@code llama_ftype} of MXFP4 experts with other tensors in higher precision. */
    private static final int LLAMA_FTYPE_MOSTLY_MXFP4_MOE = 38;
    /** Rows converted per parallel work item. */
    private static final long ROWS_PER_TASK = 64;

    /** Types a dense matrix can be written in. */
    public enum DenseType {
        F32(GgmlType.F32), BF16(GgmlType.BF16), F16(GgmlType.F16), Q8_0(GgmlType.Q8_0);

        final GgmlType ggml;

        DenseType(GgmlType ggml) {
            this.ggml = ggml;
        }

        public static DenseType parse(String name) {
            for (DenseType t : values()) if (t.name().equalsIgnoreCase(name)) return t;
            throw new IllegalArgumentException("unknown dense type '" + name + "' (f32, bf16, f16, q8_0)");
        }
    }

    private GgufExport() {
    }

    /** Writes {@code weights} (of any layout this engine loads) to {@code file}; {@code progress} gets bytes written. */
    public static void write(Path file, ModelConfig c, ModelWeights weights, DenseType dense, String name,
                             LongConsumer progress) throws IOException {
        GgufWriter w = new GgufWriter();
        metadata(w, c, name);
        long H = c.hiddenSize(), V = c.vocabSize(), Q = c.qDim(), KV = c.kvDim(), E = c.numExperts(), I = c.intermediateSize();
        LongConsumer p = progress != null ? progress : b -> { };
        dense(w, "token_embd.weight", weights.embedding(), dense.ggml, p, H, V);
        for (int n = 0; n < c.numLayers(); n++) {
            LayerWeights lw = weights.layers().get(n);
            String b = "blk." + n + ".";
            dense(w, b + "attn_norm.weight", lw.attnNorm(), GgmlType.F32, p, H);
            dense(w, b + "attn_q.weight", lw.wq(), dense.ggml, p, H, Q);
            dense(w, b + "attn_q.bias", lw.bq(), GgmlType.F32, p, Q);
            dense(w, b + "attn_k.weight", lw.wk(), dense.ggml, p, H, KV);
            dense(w, b + "attn_k.bias", lw.bk(), GgmlType.F32, p, KV);
            dense(w, b + "attn_v.weight", lw.wv(), dense.ggml, p, H, KV);
            dense(w, b + "attn_v.bias", lw.bv(), GgmlType.F32, p, KV);
            dense(w, b + "attn_output.weight", lw.wo(), dense.ggml, p, Q, H);
            dense(w, b + "attn_output.bias", lw.bo(), GgmlType.F32, p, H);
            dense(w, b + "attn_sinks.weight", lw.sinks(), GgmlType.F32, p, c.numHeads());
            dense(w, b + "post_attention_norm.weight", lw.mlpNorm(), GgmlType.F32, p, H);
            dense(w, b + "ffn_gate_inp.weight", lw.router(), GgmlType.F32, p, H, E);
            dense(w, b + "ffn_gate_inp.bias", lw.routerBias(), GgmlType.F32, p, E);
            mxfp4(w, b + "ffn_gate_exps.weight", lw.mlp1(), H, 0, E * I, p, H, I, E);
            rowsF32(w, b + "ffn_gate_exps.bias", lw.mlp1Bias(), 0, p, I, E);
            mxfp4(w, b + "ffn_up_exps.weight", lw.mlp1(), H, 1, E * I, p, H, I, E);
            rowsF32(w, b + "ffn_up_exps.bias", lw.mlp1Bias(), 1, p, I, E);
            mxfp4(w, b + "ffn_down_exps.weight", lw.mlp2(), I, -1, E * H, p, I, H, E);
            dense(w, b + "ffn_down_exps.bias", lw.mlp2Bias(), GgmlType.F32, p, H, E);
        }
        dense(w, "output_norm.weight", weights.finalNorm(), GgmlType.F32, p, H);
        dense(w, "output.weight", weights.unembedding(), dense.ggml, p, H, V);
        w.write(file);
        PageCache.evict(file);
    }

    /** Bytes of tensor data {@link #write} produces for {@code c} with dense type {@code dense}. */
    public static long tensorBytes(ModelConfig c, DenseType dense) {
        long H = c.hiddenSize(), V = c.vocabSize(), Q = c.qDim(), KV = c.kvDim(), E = c.numExperts(), I = c.intermediateSize();
        GgmlType d = dense.ggml;
        long perLayer = d.bytes(Q * H) + 2 * d.bytes(KV * H) + d.bytes(H * Q)
                + 4L * (H + Q + 2 * KV + H + c.numHeads() + H + E * H + E + 2 * E * I + E * H)
                + GgmlType.MXFP4.bytes(2 * E * I * H + E * H * I);
        return 2 * d.bytes(V * H) + 4L * H + c.numLayers() * perLayer;
    }

    private static void metadata(GgufWriter w, ModelConfig c, String name) {
        String p = GgufModel.P;
        w.putString(GgufModel.ARCH_KEY, GgufModel.ARCHITECTURE);
        w.putString("general.name", name);
        w.putU32(GgufFile.ALIGNMENT_KEY, GgufFile.DEFAULT_ALIGNMENT);
        w.putU32("general.file_type", LLAMA_FTYPE_MOSTLY_MXFP4_MOE); // how llama.cpp labels the file
        w.putU32(p + "block_count", c.numLayers());
        w.putU32(p + "context_length", c.maxContext());
        w.putU32(p + "embedding_length", c.hiddenSize());
        w.putU32(p + "feed_forward_length", c.intermediateSize());
        w.putU32(p + "attention.head_count", c.numHeads());
        w.putU32(p + "attention.head_count_kv", c.numKvHeads());
        w.putU32(p + "attention.key_length", c.headDim());
        w.putU32(p + "attention.value_length", c.headDim());
        w.putF32(p + "attention.layer_norm_rms_epsilon", c.rmsNormEps());
        w.putU32(p + "attention.sliding_window", c.slidingWindow());
        if (!c.layerTypes().equals(ModelConfig.alternating(c.numLayers()))) {
            // Not llama.cpp's default pattern: written per layer (this engine reads it; llama.cpp reads bool arrays too).
            byte[] raw = new byte[12 + c.numLayers()];
            java.nio.ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).putInt(GgufFile.ValueType.BOOL.ordinal()).putLong(c.numLayers());
            for (int i = 0; i < c.numLayers(); i++) raw[12 + i] = (byte) (c.layerTypes().get(i) == LayerType.SLIDING_ATTENTION ? 1 : 0);
            w.putRaw(p + "attention.sliding_window_pattern", GgufFile.ValueType.ARRAY, raw);
        }
        w.putU32(p + "expert_count", c.numExperts());
        w.putU32(p + "expert_used_count", c.expertsPerToken());
        w.putU32(p + "expert_feed_forward_length", c.intermediateSize());
        w.putF32(p + "rope.freq_base", c.ropeTheta());
        if (c.ropeScalingFactor() != 1.0) {
            w.putString(p + "rope.scaling.type", "yarn");
            w.putF32(p + "rope.scaling.factor", c.ropeScalingFactor());
            w.putU32(p + "rope.scaling.original_context_length", c.ropeOriginalContext());
            w.putF32(p + "rope.scaling.yarn_beta_fast", c.ropeBetaFast());
            w.putF32(p + "rope.scaling.yarn_beta_slow", c.ropeBetaSlow());
        } else {
            w.putString(p + "rope.scaling.type", "none");
        }
        if (c.swigluLimit() != 7.0) w.putF32(p + "swiglu_limit", c.swigluLimit());
        w.putU32(p + "vocab_size", c.vocabSize());
        w.putString("tokenizer.ggml.model", "none");
        if (c.eosTokenId() >= 0) w.putU32("tokenizer.ggml.eos_token_id", c.eosTokenId());
    }

    /** A tensor of ggml dims {@code dims} (innermost first) from {@code src} element by element, in {@code type}. */
    private static void dense(GgufWriter w, String name, FloatTensor src, GgmlType type, LongConsumer progress, long... dims) {
        long elements = 1;
        for (long d : dims) elements *= d;
        if (src.size() != elements) throw new IllegalArgumentException(name + ": " + src.size() + " values for dims " + java.util.Arrays.toString(dims));
        long rowLength = dims[0], rows = elements / rowLength;
        w.addTensor(name, type, dims, seg -> LongStream.range(0, (rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK).parallel().forEach(task -> {
            float[] row = new float[(int) rowLength];
            long end = Math.min(rows, (task + 1) * ROWS_PER_TASK);
            for (long r = task * ROWS_PER_TASK; r < end; r++) {
                src.copyTo(r * rowLength, row, 0, (int) rowLength);
                writeRow(type, row, seg, type.bytes(r * rowLength));
            }
            progress.accept(type.bytes((end - task * ROWS_PER_TASK) * rowLength));
        }));
    }

    private static void writeRow(GgmlType type, float[] row, MemorySegment seg, long at) {
        switch (type) {
            case F32 -> { for (int i = 0; i < row.length; i++) seg.set(F32, at + 4L * i, row[i]); }
            case BF16 -> { for (int i = 0; i < row.length; i++) seg.set(I16, at + 2L * i, Bf16Tensor.fromFloat(row[i])); }
            case F16 -> { for (int i = 0; i < row.length; i++) seg.set(I16, at + 2L * i, Float.floatToFloat16(row[i])); }
            case Q8_0 -> { for (int b = 0; b < row.length / 32; b++) Q8_0Tensor.quantizeBlock(row, 32 * b, seg, at + 34L * b); }
            case MXFP4 -> throw new IllegalArgumentException("dense rows are not written as MXFP4");
        }
    }

    /** Rows {@code parity}, {@code parity + 2}, ... of a bias [E, 2I] as F32 (one of gate / up). */
    private static void rowsF32(GgufWriter w, String name, FloatTensor src, int parity, LongConsumer progress, long... dims) {
        long n = dims[0] * dims[1];
        w.addTensor(name, GgmlType.F32, dims, seg -> {
            for (long i = 0; i < n; i++) seg.set(F32, 4 * i, src.getFloat(2 * i + parity));
            progress.accept(4 * n);
        });
    }

    /**
     * Rows of an MXFP4 matrix in ggml blocks: with {@code parity} 0 or 1 the even or odd rows of {@code src}
     * (gate or up of the interleaved [E, 2I, H] matrix), with −1 all rows.
     */
    private static void mxfp4(GgufWriter w, String name, FloatTensor src, long rowLength, int parity, long rows,
                              LongConsumer progress, long... dims) {
        long blocksPerRow = rowLength / 32;
        w.addTensor(name, GgmlType.MXFP4, dims, seg -> LongStream.range(0, (rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK).parallel().forEach(task -> {
            byte[] block = new byte[17];
            long end = Math.min(rows, (task + 1) * ROWS_PER_TASK);
            for (long r = task * ROWS_PER_TASK; r < end; r++) {
                long srcRow = parity < 0 ? r : 2 * r + parity;
                for (long g = 0; g < blocksPerRow; g++) {
                    ggmlBlock(src, rowLength, srcRow, g, block);
                    MemorySegment.copy(block, 0, seg, ValueLayout.JAVA_BYTE, (r * blocksPerRow + g) * 17, 17);
                }
            }
            progress.accept((end - task * ROWS_PER_TASK) * blocksPerRow * 17);
        }));
    }

    /** Block {@code g} of row {@code row} of an MXFP4 tensor, in ggml's 17-byte layout. */
    static void ggmlBlock(FloatTensor src, long rowLength, long row, long g, byte[] out) {
        switch (src) {
            case InterleavedRowsTensor t -> ggmlBlock((row & 1) == 0 ? t.even() : t.odd(), rowLength, row >>> 1, g, out);
            case GgmlMxfp4Tensor t -> MemorySegment.copy(t.segment(), ValueLayout.JAVA_BYTE, (row * rowLength / 32 + g) * 17, out, 0, 17);
            case Mxfp4Tensor t -> {
                long block = row * rowLength / 32 + g;
                out[0] = t.scales().get(ValueLayout.JAVA_BYTE, block);
                int[] codes = new int[32];
                for (int j = 0; j < 16; j++) {
                    int b = t.blocks().get(ValueLayout.JAVA_BYTE, block * 16 + j) & 0xFF;
                    codes[2 * j] = b & 0x0F;
                    codes[2 * j + 1] = b >>> 4;
                }
                for (int j = 0; j < 16; j++) out[1 + j] = (byte) (codes[j] | codes[j + 16] << 4);
            }
            default -> throw new IllegalArgumentException("expert weights must be MXFP4 to be written as GGUF, got "
                    + src.getClass().getSimpleName().toLowerCase(Locale.ROOT));
        }
    }
}
