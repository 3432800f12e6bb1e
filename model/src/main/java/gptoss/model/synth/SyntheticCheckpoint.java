package gptoss.model.synth;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gptoss.model.config.ModelConfig;
import gptoss.model.memory.PageCache;
import gptoss.model.safetensors.DType;
import gptoss.model.tensor.Bf16Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.LongConsumer;
import java.util.stream.IntStream;

/**
 * Writes a random gpt-oss checkpoint that loads like a real one: BF16 dense tensors, MXFP4 experts (U8 blocks and
 * scales), BF16 expert biases, in the Hugging Face layout (one file or shards with an index) or the openai
 * {@code original/} layout. Values are scaled so activations stay of order one (weights of a matrix with fan-in K
 * have standard deviation about 1/√K). The same seed always gives the same bytes.
 */
public final class SyntheticCheckpoint {
    private static final int CHUNK = 1 << 20;

    public enum Layout { HUGGING_FACE, ORIGINAL }

    /** What to generate: a tensor's name, type, shape and how to fill it. */
    record Spec(String name, DType dtype, long[] shape, Fill fill) {
        long bytes() {
            long n = dtype.bytes();
            for (long d : shape) n *= d;
            return n;
        }
    }

    /** How a tensor's values are drawn. */
    sealed interface Fill {
        /** Uniform in [center − radius, center + radius], stored as BF16. */
        record Uniform(float center, float radius) implements Fill {}
        /** Uniformly random FP4 codes. */
        record RandomBytes() implements Fill {}
        /** E8M0 scale bytes uniform in [low, high]. */
        record ScaleBytes(int low, int high) implements Fill {}
    }

    private SyntheticCheckpoint() {
    }

    /** Writes config.json (and weights unless {@code configOnly}) to {@code out}. */
    public static void write(Path out, ModelConfig config, long seed, Layout layout, int shards, boolean configOnly,
                             LongConsumer progressBytes) throws IOException {
        Files.createDirectories(out);
        Files.writeString(out.resolve("config.json"), layout == Layout.ORIGINAL ? originalConfigJson(config) : config.toHuggingFaceJson());
        if (configOnly) return;
        List<Spec> specs = layout == Layout.ORIGINAL ? originalSpecs(config) : huggingFaceSpecs(config);
        List<List<Spec>> parts = split(specs, Math.max(1, shards));
        if (parts.size() == 1) {
            writeFile(out.resolve("model.safetensors"), parts.get(0), seed, progressBytes);
            return;
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        long total = 0;
        for (int i = 0; i < parts.size(); i++) {
            // The real gpt-oss repos number shards from 0 and write "of" the last index.
            String file = String.format("model-%05d-of-%05d.safetensors", i, parts.size() - 1);
            writeFile(out.resolve(file), parts.get(i), seed, progressBytes);
            for (Spec s : parts.get(i)) {
                weightMap.put(s.name(), file);
                total += s.bytes();
            }
        }
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode index = mapper.createObjectNode();
        index.putObject("metadata").put("total_size", total);
        ObjectNode map = index.putObject("weight_map");
        weightMap.forEach(map::put);
        Files.writeString(out.resolve("model.safetensors.index.json"), mapper.writeValueAsString(index));
    }

    /** Total bytes of tensor data the config implies (what {@link #write} produces, headers aside). */
    public static long tensorBytes(ModelConfig config) {
        return huggingFaceSpecs(config).stream().mapToLong(Spec::bytes).sum();
    }

    static List<Spec> huggingFaceSpecs(ModelConfig c) {
        long H = c.hiddenSize(), Q = c.qDim(), KV = c.kvDim(), E = c.numExperts(), I = c.intermediateSize(), V = c.vocabSize();
        List<Spec> s = new ArrayList<>();
        s.add(dense("model.embed_tokens.weight", 1.0f, V, H));
        for (int n = 0; n < c.numLayers(); n++) {
            String p = "model.layers." + n + ".";
            s.add(norm(p + "input_layernorm.weight", H));
            s.add(dense(p + "self_attn.q_proj.weight", fan(H), Q, H));
            s.add(bias(p + "self_attn.q_proj.bias", Q));
            s.add(dense(p + "self_attn.k_proj.weight", fan(H), KV, H));
            s.add(bias(p + "self_attn.k_proj.bias", KV));
            s.add(dense(p + "self_attn.v_proj.weight", fan(H), KV, H));
            s.add(bias(p + "self_attn.v_proj.bias", KV));
            s.add(dense(p + "self_attn.o_proj.weight", fan(Q), H, Q));
            s.add(bias(p + "self_attn.o_proj.bias", H));
            s.add(new Spec(p + "self_attn.sinks", DType.BF16, new long[]{c.numHeads()}, new Fill.Uniform(0f, 1f)));
            s.add(norm(p + "post_attention_layernorm.weight", H));
            s.add(dense(p + "mlp.router.weight", fan(H), E, H));
            s.add(bias(p + "mlp.router.bias", E));
            s.addAll(mxfp4(p + "mlp.experts.gate_up_proj", "_blocks", "_scales", E, 2 * I, H));
            s.add(bias(p + "mlp.experts.gate_up_proj_bias", E, 2 * I));
            s.addAll(mxfp4(p + "mlp.experts.down_proj", "_blocks", "_scales", E, H, I));
            s.add(bias(p + "mlp.experts.down_proj_bias", E, H));
        }
        s.add(norm("model.norm.weight", H));
        s.add(dense("lm_head.weight", fan(H), V, H));
        return s;
    }

    static List<Spec> originalSpecs(ModelConfig c) {
        long H = c.hiddenSize(), Q = c.qDim(), KV = c.kvDim(), E = c.numExperts(), I = c.intermediateSize(), V = c.vocabSize();
        List<Spec> s = new ArrayList<>();
        s.add(dense("embedding.weight", 1.0f, V, H));
        for (int n = 0; n < c.numLayers(); n++) {
            String p = "block." + n + ".";
            s.add(norm(p + "attn.norm.scale", H));
            s.add(dense(p + "attn.qkv.weight", fan(H), Q + 2 * KV, H));
            s.add(bias(p + "attn.qkv.bias", Q + 2 * KV));
            s.add(new Spec(p + "attn.sinks", DType.BF16, new long[]{c.numHeads()}, new Fill.Uniform(0f, 1f)));
            s.add(dense(p + "attn.out.weight", fan(Q), H, Q));
            s.add(bias(p + "attn.out.bias", H));
            s.add(norm(p + "mlp.norm.scale", H));
            s.add(dense(p + "mlp.gate.weight", fan(H), E, H));
            s.add(bias(p + "mlp.gate.bias", E));
            s.addAll(mxfp4(p + "mlp.mlp1_weight", ".blocks", ".scales", E, 2 * I, H));
            s.add(bias(p + "mlp.mlp1_bias", E, 2 * I));
            s.addAll(mxfp4(p + "mlp.mlp2_weight", ".blocks", ".scales", E, H, I));
            s.add(bias(p + "mlp.mlp2_bias", E, H));
        }
        s.add(norm("norm.scale", H));
        s.add(dense("unembedding.weight", fan(H), V, H));
        return s;
    }

    /** Radius of a uniform distribution with standard deviation 1/√fanIn. */
    private static float fan(long fanIn) {
        return (float) Math.sqrt(3.0 / fanIn);
    }

    private static Spec dense(String name, float radius, long... shape) {
        return new Spec(name, DType.BF16, shape, new Fill.Uniform(0f, radius));
    }

    private static Spec norm(String name, long size) {
        return new Spec(name, DType.BF16, new long[]{size}, new Fill.Uniform(1f, 0.1f));
    }

    private static Spec bias(String name, long... shape) {
        return new Spec(name, DType.BF16, shape, new Fill.Uniform(0f, 0.05f));
    }

    /** Blocks and scales of an MXFP4 matrix [E, rows, cols] with values of standard deviation about 1/√cols. */
    private static List<Spec> mxfp4(String base, String blocksSuffix, String scalesSuffix, long experts, long rows, long cols) {
        // Random FP4 codes have an RMS of about 2.93; pick the exponent so 2.93·2^(e−127) ≈ 1/√cols.
        int e = 127 + (int) Math.round(Math.log(1.0 / (Math.sqrt(cols) * 2.93)) / Math.log(2));
        return List.of(
                new Spec(base + blocksSuffix, DType.U8, new long[]{experts, rows, cols / 32, 16}, new Fill.RandomBytes()),
                new Spec(base + scalesSuffix, DType.U8, new long[]{experts, rows, cols / 32}, new Fill.ScaleBytes(e - 1, e)));
    }

    /** Splits tensors into {@code parts} groups of similar size, in order. */
    private static List<List<Spec>> split(List<Spec> specs, int parts) {
        long total = specs.stream().mapToLong(Spec::bytes).sum();
        long target = Math.max(1, total / parts);
        List<List<Spec>> out = new ArrayList<>();
        List<Spec> current = new ArrayList<>();
        long size = 0;
        for (Spec s : specs) {
            if (!current.isEmpty() && size + s.bytes() > target && out.size() < parts - 1) {
                out.add(current);
                current = new ArrayList<>();
                size = 0;
            }
            current.add(s);
            size += s.bytes();
        }
        out.add(current);
        return out;
    }

    private static void writeFile(Path file, List<Spec> specs, long seed, LongConsumer progress) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode header = mapper.createObjectNode();
        header.putObject("__metadata__").put("format", "pt");
        long offset = 0;
        long[] offsets = new long[specs.size()];
        for (int i = 0; i < specs.size(); i++) {
            Spec s = specs.get(i);
            ObjectNode t = header.putObject(s.name());
            t.put("dtype", s.dtype().name());
            var shape = t.putArray("shape");
            for (long d : s.shape()) shape.add(d);
            t.putArray("data_offsets").add(offset).add(offset + s.bytes());
            offsets[i] = offset;
            offset += s.bytes();
        }
        byte[] json = mapper.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8; // keep tensor data 8-byte aligned, padding with spaces
        long fileSize = 8 + padded + offset;
        Files.deleteIfExists(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
             Arena arena = Arena.ofShared()) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_WRITE, 0, fileSize, arena);
            seg.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, padded);
            MemorySegment.copy(json, 0, seg, ValueLayout.JAVA_BYTE, 8, json.length);
            seg.asSlice(8 + json.length, padded - json.length).fill((byte) ' ');
            MemorySegment data = seg.asSlice(8 + padded);
            for (int i = 0; i < specs.size(); i++) {
                Spec s = specs.get(i);
                fill(data.asSlice(offsets[i], s.bytes()), s, seed, progress);
            }
            seg.force();
        }
        // Written and flushed: drop it from the page cache so the first load reads it back in 2 MiB pages.
        PageCache.evict(file);
    }

    /** Fills a tensor in 1 MiB chunks, each with its own generator, so chunks can be filled in parallel. */
    private static void fill(MemorySegment target, Spec spec, long seed, LongConsumer progress) {
        long chunks = (target.byteSize() + CHUNK - 1) / CHUNK;
        long nameSeed = seed * 0x9E3779B97F4A7C15L + spec.name().hashCode();
        IntStream.range(0, (int) chunks).parallel().forEach(chunk -> {
            long start = (long) chunk * CHUNK;
            long size = Math.min(CHUNK, target.byteSize() - start);
            MemorySegment part = target.asSlice(start, size);
            SplittableRandom random = new SplittableRandom(nameSeed ^ (chunk * 0xBF58476D1CE4E5B9L));
            switch (spec.fill()) {
                case Fill.Uniform u -> {
                    // Four 16-bit uniform draws per random long: plenty of resolution for BF16's 8-bit mantissa.
                    var layout = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
                    float step = u.radius() / 32768f;
                    long bits = 0;
                    for (long i = 0, n = 0; i < size; i += 2, n++) {
                        if ((n & 3) == 0) bits = random.nextLong();
                        float v = u.center() + ((int) (bits & 0xFFFF) - 32768) * step;
                        bits >>>= 16;
                        part.set(layout, i, Bf16Tensor.fromFloat(v));
                    }
                }
                case Fill.RandomBytes r -> {
                    for (long i = 0; i + 8 <= size; i += 8) part.set(ValueLayout.JAVA_LONG_UNALIGNED, i, random.nextLong());
                    for (long i = size & ~7L; i < size; i++) part.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt());
                }
                case Fill.ScaleBytes sc -> {
                    for (long i = 0; i < size; i++) part.set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt(sc.low(), sc.high() + 1));
                }
            }
            if (progress != null) progress.accept(size);
        });
    }

    /** The openai original/config.json of a config (exactly the keys the reference's ModelConfig accepts). */
    static String originalConfigJson(ModelConfig c) {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        root.put("num_hidden_layers", c.numLayers());
        root.put("num_experts", c.numExperts());
        root.put("experts_per_token", c.expertsPerToken());
        root.put("vocab_size", c.vocabSize());
        root.put("hidden_size", c.hiddenSize());
        root.put("intermediate_size", c.intermediateSize());
        root.put("swiglu_limit", c.swigluLimit());
        root.put("head_dim", c.headDim());
        root.put("num_attention_heads", c.numHeads());
        root.put("num_key_value_heads", c.numKvHeads());
        root.put("sliding_window", c.slidingWindow());
        root.put("initial_context_length", c.ropeOriginalContext());
        root.put("rope_theta", c.ropeTheta());
        root.put("rope_scaling_factor", c.ropeScalingFactor());
        root.put("rope_ntk_alpha", c.ropeBetaSlow());
        root.put("rope_ntk_beta", c.ropeBetaFast());
        try {
            return mapper.writeValueAsString(root) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
