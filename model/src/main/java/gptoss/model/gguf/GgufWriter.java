package gptoss.model.gguf;

import gptoss.model.gguf.GgufFile.ValueType;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Writes a GGUF version 3 file: metadata pairs, tensor infos, and tensor data at offsets aligned to 32 bytes,
 * each tensor's bytes produced by a callback into the memory-mapped file.
 */
public final class GgufWriter {
    public static final int VERSION = 3;
    private final ByteArrayOutputStream metadata = new ByteArrayOutputStream();
    private int metadataCount;
    private final List<Entry> tensors = new ArrayList<>();
    private int alignment = GgufFile.DEFAULT_ALIGNMENT;
    private int version = VERSION;

    private record Entry(String name, GgmlType type, long[] dims, long bytes, Consumer<MemorySegment> fill) {
    }

    /** Aligns tensor data to {@code bytes} (also write {@code general.alignment} then). */
    public GgufWriter alignment(int bytes) {
        this.alignment = bytes;
        return this;
    }

    /** Writes this version number (2 and 3 share the layout). */
    public GgufWriter version(int version) {
        this.version = version;
        return this;
    }

    public GgufWriter putString(String key, String value) {
        header(key, ValueType.STRING);
        string(metadata, value);
        return this;
    }

    public GgufWriter putU32(String key, long value) {
        header(key, ValueType.UINT32);
        u32(metadata, (int) value);
        return this;
    }

    public GgufWriter putF32(String key, double value) {
        header(key, ValueType.FLOAT32);
        u32(metadata, Float.floatToRawIntBits((float) value));
        return this;
    }

    public GgufWriter putBool(String key, boolean value) {
        header(key, ValueType.BOOL);
        metadata.write(value ? 1 : 0);
        return this;
    }

    /** An ARRAY of STRING. */
    public GgufWriter putStrings(String key, List<String> values) {
        header(key, ValueType.ARRAY);
        u32(metadata, ValueType.STRING.ordinal());
        u64(metadata, values.size());
        for (String v : values) string(metadata, v);
        return this;
    }

    /** A pair with raw value bytes already encoded for {@code type} (tests write odd files with it). */
    public GgufWriter putRaw(String key, ValueType type, byte[] value) {
        header(key, type);
        metadata.writeBytes(value);
        return this;
    }

    private void header(String key, ValueType type) {
        string(metadata, key);
        u32(metadata, type.ordinal());
        metadataCount++;
    }

    /** A tensor with ggml dims (innermost first) whose bytes {@code fill} writes into the segment it is given. */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, Consumer<MemorySegment> fill) {
        long elements = 1;
        for (long d : dims) elements *= d;
        if (dims[0] % type.blockElements() != 0) throw new IllegalArgumentException(name + ": rows of " + dims[0] + " are not whole " + type + " blocks");
        tensors.add(new Entry(name, type, dims.clone(), type.bytes(elements), fill));
        return this;
    }

    /** Bytes of tensor data added so far. */
    public long tensorBytes() {
        return tensors.stream().mapToLong(Entry::bytes).sum();
    }

    public void write(Path file) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        u32(head, GgufFile.MAGIC);
        u32(head, version);
        u64(head, tensors.size());
        u64(head, metadataCount);
        head.writeBytes(metadata.toByteArray());
        long[] offsets = new long[tensors.size()];
        long offset = 0;
        for (int i = 0; i < tensors.size(); i++) {
            Entry t = tensors.get(i);
            string(head, t.name);
            u32(head, t.dims.length);
            for (long d : t.dims) u64(head, d);
            u32(head, t.type.id());
            u64(head, offset);
            offsets[i] = offset;
            offset = align(offset + t.bytes);
        }
        byte[] header = head.toByteArray();
        long dataStart = align(header.length);
        long fileSize = dataStart + offset;
        Files.deleteIfExists(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
             Arena arena = Arena.ofShared()) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_WRITE, 0, fileSize, arena);
            MemorySegment.copy(MemorySegment.ofArray(header), 0, seg, 0, header.length);
            for (int i = 0; i < tensors.size(); i++) {
                Entry t = tensors.get(i);
                t.fill.accept(seg.asSlice(dataStart + offsets[i], t.bytes));
            }
            seg.force();
        }
    }

    private long align(long n) {
        return (n + alignment - 1) / alignment * alignment;
    }

    static void u32(ByteArrayOutputStream out, int v) {
        for (int i = 0; i < 4; i++) out.write(v >>> (8 * i));
    }

    static void u64(ByteArrayOutputStream out, long v) {
        for (int i = 0; i < 8; i++) out.write((int) (v >>> (8 * i)));
    }

    static void string(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u64(out, b.length);
        out.writeBytes(b);
    }
}
