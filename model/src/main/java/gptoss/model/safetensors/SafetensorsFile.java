package gptoss.model.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gptoss.model.InvalidModelException;

import java.io.IOException;
import gptoss.model.memory.WeightMemory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A memory-mapped safetensors file: an 8-byte little-endian header length, a JSON header, then the tensor bytes.
 * The whole file is mapped once through the FFM API (no 2 GiB limit); tensors are slices of that mapping, so
 * no weight is ever copied onto the Java heap. The header is validated completely at open.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Headers larger than this are rejected before reading them (the format's own limit is 100 MB). */
    private static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;
    private final Arena arena;
    private final Map<String, TensorEntry> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Arena arena, Map<String, TensorEntry> tensors, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public static SafetensorsFile open(Path path) {
        String name = path.getFileName().toString();
        long fileSize;
        try {
            fileSize = Files.size(path);
        } catch (IOException e) {
            throw new InvalidModelException(name + ": cannot read file (" + e.getMessage() + ")", e);
        }
        if (fileSize < 8) {
            throw new InvalidModelException(name + ": truncated file: " + fileSize + " bytes, too short for the 8-byte header length");
        }
        Arena arena = Arena.ofShared();
        try {
            MemorySegment file;
            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
                file = WeightMemory.load(channel, path, fileSize, arena);
            }
            long headerLength = file.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0);
            if (headerLength < 2 || headerLength > fileSize - 8) {
                throw new InvalidModelException(name + ": header length " + headerLength
                        + " goes beyond the end of the file (" + fileSize + " bytes): truncated or not a safetensors file");
            }
            if (headerLength > MAX_HEADER_BYTES) {
                throw new InvalidModelException(name + ": header length " + headerLength + " exceeds the 100 MB limit");
            }
            byte[] headerBytes = file.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
            JsonNode header;
            try {
                header = JSON.readTree(new String(headerBytes, StandardCharsets.UTF_8));
            } catch (JsonProcessingException e) {
                throw new InvalidModelException(name + ": header is not valid JSON (" + e.getOriginalMessage() + ")");
            }
            if (header == null || !header.isObject()) {
                throw new InvalidModelException(name + ": header is not a JSON object");
            }
            MemorySegment data = file.asSlice(8 + headerLength);
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, TensorEntry> tensors = parseTensors(path, header, data, metadata);
            return new SafetensorsFile(path, arena, tensors, Collections.unmodifiableMap(metadata));
        } catch (IOException e) {
            arena.close();
            throw new InvalidModelException(name + ": cannot map file (" + e.getMessage() + ")", e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Map<String, TensorEntry> parseTensors(Path path, JsonNode header, MemorySegment data,
                                                         Map<String, String> metadata) {
        String fileName = path.getFileName().toString();
        long dataSize = data.byteSize();
        Map<String, TensorEntry> tensors = new LinkedHashMap<>();
        List<long[]> ranges = new ArrayList<>(); // {begin, end, index into names}
        List<String> names = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String tensorName = field.getKey();
            JsonNode info = field.getValue();
            if (tensorName.equals("__metadata__")) {
                info.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            String where = fileName + ": tensor '" + tensorName + "'";
            if (!info.isObject()) throw new InvalidModelException(where + ": header entry is not an object");
            DType dtype = DType.parse(info.path("dtype").isTextual() ? info.get("dtype").asText() : null, where);
            JsonNode shapeNode = info.get("shape");
            JsonNode offsetsNode = info.get("data_offsets");
            if (shapeNode == null || !shapeNode.isArray()) throw new InvalidModelException(where + ": missing 'shape'");
            if (offsetsNode == null || !offsetsNode.isArray() || offsetsNode.size() != 2
                    || !offsetsNode.get(0).canConvertToLong() || !offsetsNode.get(1).canConvertToLong()) {
                throw new InvalidModelException(where + ": 'data_offsets' must be [begin, end]");
            }
            long[] shape = new long[shapeNode.size()];
            long elements = 1;
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = shapeNode.get(i);
                if (!d.canConvertToLong() || d.asLong() < 0) throw new InvalidModelException(where + ": bad shape " + shapeNode);
                shape[i] = d.asLong();
                elements = Math.multiplyExact(elements, shape[i]);
            }
            long begin = offsetsNode.get(0).asLong();
            long end = offsetsNode.get(1).asLong();
            if (begin < 0 || end < begin || end > dataSize) {
                throw new InvalidModelException(where + ": data offsets [" + begin + ", " + end
                        + "] out of range: the data section holds " + dataSize + " bytes (truncated file?)");
            }
            long expected = elements * dtype.bytes();
            if (end - begin != expected) {
                throw new InvalidModelException(where + ": data offsets [" + begin + ", " + end + "] hold " + (end - begin)
                        + " bytes but " + dtype + " " + java.util.Arrays.toString(shape) + " needs " + expected);
            }
            tensors.put(tensorName, new TensorEntry(tensorName, dtype, shape, data.asSlice(begin, end - begin), path));
            ranges.add(new long[]{begin, end, names.size()});
            names.add(tensorName);
        }
        ranges.sort(Comparator.comparingLong(r -> r[0]));
        for (int i = 1; i < ranges.size(); i++) {
            long[] prev = ranges.get(i - 1), cur = ranges.get(i);
            if (cur[0] < prev[1] && cur[1] > cur[0]) {
                throw new InvalidModelException(fileName + ": tensors '" + names.get((int) prev[2]) + "' and '"
                        + names.get((int) cur[2]) + "' overlap (bytes " + cur[0] + ".." + prev[1] + ")");
            }
        }
        return Collections.unmodifiableMap(tensors);
    }

    public Path path() {
        return path;
    }

    public Map<String, TensorEntry> tensors() {
        return tensors;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public void close() {
        arena.close();
    }
}
