package gptoss.model.gguf;

import gptoss.model.InvalidModelException;
import gptoss.model.memory.WeightMemory;

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
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A memory-mapped GGUF file (versions 2 and 3, little-endian): magic {@code GGUF}, version, tensor count and
 * metadata count (u64), the metadata key/value pairs, the tensor infos (name, dims innermost first, ggml type,
 * offset), padding to {@code general.alignment} (default 32), then the tensor data. The file is mapped once through
 * the FFM API; tensors are slices of that mapping. Everything in the header is checked at open, so a truncated or
 * inconsistent file gets one error naming the problem instead of a crash later.
 * <p>
 * Metadata values become Java objects: integers of every width {@link Long} (unsigned ones by value, u64 as its
 * bits), FLOAT32 {@link Float}, FLOAT64 {@link Double}, BOOL {@link Boolean}, STRING {@link String}, ARRAY an
 * unmodifiable {@link List} of those.
 */
public final class GgufFile implements AutoCloseable {
    public static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
    public static final int DEFAULT_ALIGNMENT = 32;
    public static final String ALIGNMENT_KEY = "general.alignment";

    /** Metadata value types (gguf.h {@code enum gguf_type}). */
    public enum ValueType {
        UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64;

        static ValueType byId(long id) {
            return id >= 0 && id < values().length ? values()[(int) id] : null;
        }
    }

    private final Path path;
    private final Arena arena;
    private final int version;
    private final Map<String, Object> metadata;
    private final Map<String, ValueType> metadataTypes;
    private final Map<String, GgufTensor> tensors;
    private final long dataOffset;

    private GgufFile(Path path, Arena arena, int version, Map<String, Object> metadata, Map<String, ValueType> types,
                     Map<String, GgufTensor> tensors, long dataOffset) {
        this.path = path;
        this.arena = arena;
        this.version = version;
        this.metadata = metadata;
        this.metadataTypes = types;
        this.tensors = tensors;
        this.dataOffset = dataOffset;
    }

    /** Whether {@code path} starts with the GGUF magic (false for anything unreadable). */
    public static boolean hasMagic(Path path) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            return ch.read(b) == 4 && b.getInt(0) == MAGIC;
        } catch (IOException e) {
            return false;
        }
    }

    public static GgufFile open(Path path) {
        String name = path.getFileName().toString();
        long fileSize;
        try {
            fileSize = Files.size(path);
        } catch (IOException e) {
            throw new InvalidModelException(name + ": cannot read file (" + e.getMessage() + ")", e);
        }
        if (fileSize < 24) throw new InvalidModelException(name + ": truncated GGUF file: " + fileSize + " bytes, shorter than the 24-byte header");
        Arena arena = Arena.ofShared();
        try {
            MemorySegment file;
            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
                file = WeightMemory.load(channel, path, fileSize, arena);
            }
            GgufFile f = parse(path, arena, file);
            return f;
        } catch (IOException e) {
            arena.close();
            throw new InvalidModelException(name + ": cannot map file (" + e.getMessage() + ")", e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static GgufFile parse(Path path, Arena arena, MemorySegment file) {
        Reader r = new Reader(file, path.getFileName().toString());
        int magic = r.u32("magic");
        if (magic != MAGIC) {
            throw new InvalidModelException(r.name + ": not a GGUF file (bad magic 0x" + Integer.toHexString(magic)
                    + ", expected \"GGUF\")");
        }
        int version = r.u32("version");
        if (version == 0x02000000 || version == 0x03000000) {
            throw new InvalidModelException(r.name + ": big-endian GGUF is not supported");
        }
        if (version != 2 && version != 3) {
            throw new InvalidModelException(r.name + ": GGUF version " + Integer.toUnsignedString(version) + " is not supported (2 and 3 are)");
        }
        long tensorCount = r.u64("tensor count");
        long kvCount = r.u64("metadata count");
        // Each metadata pair needs at least 13 bytes (key length, type, a 1-byte value); each tensor info 32.
        if (kvCount < 0 || kvCount > r.remaining() / 13) {
            throw new InvalidModelException(r.name + ": metadata count " + Long.toUnsignedString(kvCount)
                    + " cannot fit in the file's " + file.byteSize() + " bytes (truncated file or corrupt count)");
        }
        if (tensorCount < 0 || tensorCount > r.remaining() / 32) {
            throw new InvalidModelException(r.name + ": tensor count " + Long.toUnsignedString(tensorCount)
                    + " cannot fit in the file's " + file.byteSize() + " bytes (truncated file or corrupt count)");
        }
        Map<String, Object> metadata = new LinkedHashMap<>();
        Map<String, ValueType> types = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = r.string("metadata key " + i);
            long typeId = Integer.toUnsignedLong(r.u32("type of metadata '" + key + "'"));
            ValueType type = ValueType.byId(typeId);
            if (type == null) throw new InvalidModelException(r.name + ": metadata '" + key + "' has unknown value type " + typeId);
            if (metadata.containsKey(key)) throw new InvalidModelException(r.name + ": metadata key '" + key + "' appears twice");
            metadata.put(key, r.value(type, key));
            types.put(key, type);
        }
        long alignment = DEFAULT_ALIGNMENT;
        if (metadata.containsKey(ALIGNMENT_KEY)) {
            alignment = metadata.get(ALIGNMENT_KEY) instanceof Long a && types.get(ALIGNMENT_KEY) == ValueType.UINT32 ? a : -1;
            if (alignment <= 0 || Long.bitCount(alignment) != 1) {
                throw new InvalidModelException(r.name + ": " + ALIGNMENT_KEY + " must be a power of two (u32), got " + metadata.get(ALIGNMENT_KEY));
            }
        }
        record Info(String name, long[] dims, GgmlType type, long offset, long bytes) {
        }
        List<Info> infos = new ArrayList<>();
        Map<String, Boolean> seen = new LinkedHashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            String tname = r.string("name of tensor " + i);
            String where = r.name + ": tensor '" + tname + "'";
            if (seen.put(tname, true) != null) throw new InvalidModelException(where + " appears twice");
            int nDims = r.u32("dimension count of tensor '" + tname + "'");
            if (nDims < 1 || nDims > 4) throw new InvalidModelException(where + ": " + Integer.toUnsignedString(nDims) + " dimensions (1..4 allowed)");
            long[] dims = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                dims[d] = r.u64("dimensions of tensor '" + tname + "'");
                if (dims[d] <= 0) throw new InvalidModelException(where + ": dimension " + d + " is " + Long.toUnsignedString(dims[d]));
                try {
                    elements = Math.multiplyExact(elements, dims[d]);
                } catch (ArithmeticException e) {
                    throw new InvalidModelException(where + ": dimensions " + java.util.Arrays.toString(dims) + " overflow");
                }
            }
            long typeId = Integer.toUnsignedLong(r.u32("type of tensor '" + tname + "'"));
            GgmlType type = GgmlType.byId(typeId);
            if (type == null) {
                throw new InvalidModelException(where + ": ggml type " + typeId + " (" + GgmlType.nameOf(typeId)
                        + ") is not supported (F32, F16, BF16, Q8_0, MXFP4 are)");
            }
            if (dims[0] % type.blockElements() != 0) {
                throw new InvalidModelException(where + ": rows of " + dims[0] + " values are not whole " + type + " blocks of " + type.blockElements());
            }
            long offset = r.u64("offset of tensor '" + tname + "'");
            if (offset < 0 || offset % alignment != 0) {
                throw new InvalidModelException(where + ": data offset " + Long.toUnsignedString(offset) + " is not a multiple of the alignment " + alignment);
            }
            infos.add(new Info(tname, dims, type, offset, type.bytes(elements)));
        }
        long dataOffset = (r.position + alignment - 1) / alignment * alignment;
        long dataSize = file.byteSize() - dataOffset;
        if (dataSize < 0) dataSize = 0;
        Map<String, GgufTensor> tensors = new LinkedHashMap<>();
        for (Info info : infos) {
            if (info.offset > dataSize || info.bytes > dataSize - info.offset) {
                throw new InvalidModelException(r.name + ": tensor '" + info.name + "': data [" + info.offset + ", "
                        + Long.toUnsignedString(info.offset + info.bytes) + ") out of range: the data section holds "
                        + dataSize + " bytes (truncated file?)");
            }
            tensors.put(info.name, new GgufTensor(info.name, info.type, info.dims,
                    file.asSlice(dataOffset + info.offset, info.bytes), path));
        }
        List<Info> sorted = new ArrayList<>(infos);
        sorted.sort(Comparator.comparingLong(Info::offset));
        for (int i = 1; i < sorted.size(); i++) {
            Info prev = sorted.get(i - 1), cur = sorted.get(i);
            if (cur.offset < prev.offset + prev.bytes && cur.bytes > 0) {
                throw new InvalidModelException(r.name + ": tensors '" + prev.name + "' and '" + cur.name + "' overlap");
            }
        }
        return new GgufFile(path, arena, version, Collections.unmodifiableMap(metadata), Collections.unmodifiableMap(types),
                Collections.unmodifiableMap(tensors), dataOffset);
    }

    /** Sequential little-endian reads with a bounds check on each, naming what was being read when the file ends. */
    private static final class Reader {
        private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        final MemorySegment file;
        final String name;
        long position;

        Reader(MemorySegment file, String name) {
            this.file = file;
            this.name = name;
        }

        long remaining() {
            return file.byteSize() - position;
        }

        private long take(long bytes, String what) {
            if (bytes < 0 || bytes > remaining()) {
                throw new InvalidModelException(name + ": truncated GGUF file: it ends inside the " + what
                        + " (offset " + position + " of " + file.byteSize() + " bytes)");
            }
            long p = position;
            position += bytes;
            return p;
        }

        int u32(String what) {
            return file.get(I32, take(4, what));
        }

        long u64(String what) {
            return file.get(I64, take(8, what));
        }

        String string(String what) {
            long length = u64(what);
            if (length < 0 || length > remaining()) {
                throw new InvalidModelException(name + ": " + what + ": string length " + Long.toUnsignedString(length)
                        + " goes beyond the end of the file (truncated or corrupt)");
            }
            long p = take(length, what);
            if (length > Integer.MAX_VALUE - 8) throw new InvalidModelException(name + ": " + what + ": string of " + length + " bytes");
            byte[] bytes = file.asSlice(p, length).toArray(ValueLayout.JAVA_BYTE);
            return new String(bytes, StandardCharsets.UTF_8);
        }

        Object value(ValueType type, String key) {
            String what = "value of metadata '" + key + "'";
            return switch (type) {
                case UINT8 -> (long) (file.get(ValueLayout.JAVA_BYTE, take(1, what)) & 0xFF);
                case INT8 -> (long) file.get(ValueLayout.JAVA_BYTE, take(1, what));
                case UINT16 -> (long) (file.get(I16, take(2, what)) & 0xFFFF);
                case INT16 -> (long) file.get(I16, take(2, what));
                case UINT32 -> Integer.toUnsignedLong(file.get(I32, take(4, what)));
                case INT32 -> (long) file.get(I32, take(4, what));
                case UINT64, INT64 -> file.get(I64, take(8, what));
                case FLOAT32 -> file.get(F32, take(4, what));
                case FLOAT64 -> file.get(F64, take(8, what));
                case BOOL -> {
                    byte b = file.get(ValueLayout.JAVA_BYTE, take(1, what));
                    if (b != 0 && b != 1) throw new InvalidModelException(name + ": metadata '" + key + "': bool byte " + b);
                    yield b == 1;
                }
                case STRING -> string(what);
                case ARRAY -> {
                    long elemId = Integer.toUnsignedLong(u32("element type of metadata '" + key + "'"));
                    ValueType elem = ValueType.byId(elemId);
                    if (elem == null) throw new InvalidModelException(name + ": metadata '" + key + "' is an array of unknown type " + elemId);
                    long count = u64("length of metadata '" + key + "'");
                    if (count < 0 || count > remaining()) {
                        throw new InvalidModelException(name + ": metadata '" + key + "': array length " + Long.toUnsignedString(count)
                                + " cannot fit in the rest of the file (truncated or corrupt)");
                    }
                    List<Object> list = new ArrayList<>((int) Math.min(count, 1 << 20));
                    for (long i = 0; i < count; i++) list.add(value(elem, key));
                    yield Collections.unmodifiableList(list);
                }
            };
        }
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public Map<String, Object> metadata() {
        return metadata;
    }

    public ValueType metadataType(String key) {
        return metadataTypes.get(key);
    }

    public Map<String, GgufTensor> tensors() {
        return tensors;
    }

    /** File offset where tensor data begins. */
    public long dataOffset() {
        return dataOffset;
    }

    /** The named tensor; a clear error naming the file if absent. */
    public GgufTensor tensor(String name) {
        GgufTensor t = tensors.get(name);
        if (t == null) throw new InvalidModelException(path.getFileName() + ": missing tensor '" + name + "'");
        return t;
    }

    /** Bytes of tensor data. */
    public long totalBytes() {
        return tensors.values().stream().mapToLong(t -> t.data().byteSize()).sum();
    }

    @Override
    public void close() {
        arena.close();
    }
}
