package gptoss.model.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gptoss.model.InvalidModelException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongConsumer;
import java.util.stream.Stream;

/**
 * All tensors of a checkpoint directory: one {@code model.safetensors}, or shards listed by
 * {@code model.safetensors.index.json}, or (without an index) every {@code *.safetensors} file in the folder.
 */
public final class TensorStore implements AutoCloseable {
    public static final String INDEX_FILE = "model.safetensors.index.json";
    public static final String SINGLE_FILE = "model.safetensors";

    private final Path directory;
    private final List<SafetensorsFile> files;
    private final Map<String, TensorEntry> tensors;

    private TensorStore(Path directory, List<SafetensorsFile> files, Map<String, TensorEntry> tensors) {
        this.directory = directory;
        this.files = files;
        this.tensors = tensors;
    }

    public static TensorStore open(Path directory) {
        List<Path> paths = shardPaths(directory);
        List<SafetensorsFile> files = new ArrayList<>();
        Map<String, TensorEntry> tensors = new LinkedHashMap<>();
        try {
            for (Path p : paths) {
                SafetensorsFile f = SafetensorsFile.open(p);
                files.add(f);
                for (TensorEntry t : f.tensors().values()) {
                    TensorEntry previous = tensors.putIfAbsent(t.name(), t);
                    if (previous != null) {
                        throw new InvalidModelException("tensor '" + t.name() + "' is in both "
                                + previous.file().getFileName() + " and " + p.getFileName());
                    }
                }
            }
            checkIndexAgrees(directory, tensors);
        } catch (RuntimeException e) {
            files.forEach(SafetensorsFile::close);
            throw e;
        }
        return new TensorStore(directory, List.copyOf(files), Collections.unmodifiableMap(tensors));
    }

    /** The files making up the checkpoint, in index order. */
    static List<Path> shardPaths(Path directory) {
        Path index = directory.resolve(INDEX_FILE);
        if (Files.isRegularFile(index)) {
            Set<String> names = new LinkedHashSet<>(readIndex(index).values());
            List<Path> paths = new ArrayList<>();
            for (String n : names) {
                Path p = directory.resolve(n);
                if (!Files.isRegularFile(p)) {
                    throw new InvalidModelException(INDEX_FILE + " names shard '" + n + "' which does not exist in " + directory);
                }
                paths.add(p);
            }
            return paths;
        }
        Path single = directory.resolve(SINGLE_FILE);
        if (Files.isRegularFile(single)) return List.of(single);
        try (Stream<Path> s = Files.list(directory)) {
            List<Path> all = s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
            if (all.isEmpty()) throw new InvalidModelException("no .safetensors file in " + directory);
            return all;
        } catch (IOException e) {
            throw new InvalidModelException("cannot list " + directory + " (" + e.getMessage() + ")", e);
        }
    }

    private static Map<String, String> readIndex(Path index) {
        try {
            JsonNode root = new ObjectMapper().readTree(index.toFile());
            JsonNode map = root == null ? null : root.get("weight_map");
            if (map == null || !map.isObject()) {
                throw new InvalidModelException(index.getFileName() + ": missing 'weight_map' object");
            }
            Map<String, String> out = new LinkedHashMap<>();
            map.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
            return out;
        } catch (IOException e) {
            throw new InvalidModelException(index.getFileName() + ": cannot parse (" + e.getMessage() + ")", e);
        }
    }

    private static void checkIndexAgrees(Path directory, Map<String, TensorEntry> tensors) {
        Path index = directory.resolve(INDEX_FILE);
        if (!Files.isRegularFile(index)) return;
        for (Map.Entry<String, String> e : readIndex(index).entrySet()) {
            TensorEntry t = tensors.get(e.getKey());
            if (t == null) {
                throw new InvalidModelException(INDEX_FILE + ": tensor '" + e.getKey() + "' is not in " + e.getValue());
            }
            if (!t.file().getFileName().toString().equals(e.getValue())) {
                throw new InvalidModelException(INDEX_FILE + ": tensor '" + e.getKey() + "' listed in " + e.getValue()
                        + " but found in " + t.file().getFileName());
            }
        }
    }

    public Path directory() {
        return directory;
    }

    public Map<String, TensorEntry> tensors() {
        return tensors;
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** The named tensor; a clear error naming the directory if absent. */
    public TensorEntry get(String name) {
        TensorEntry t = tensors.get(name);
        if (t == null) throw new InvalidModelException(directory.getFileName() + ": missing tensor '" + name + "'");
        return t;
    }

    /**
     * Reads every tensor into memory now (from disk where the page cache lacks it), reporting bytes done to
     * {@code progress}; for measurements that should not include disk reads.
     */
    public void pageIn(LongConsumer progress) {
        long done = 0;
        for (TensorEntry t : tensors.values()) {
            if (t.data().isMapped()) t.data().load(); // copied weights (gptoss.weights=copy) are in memory already
            done += t.data().byteSize();
            progress.accept(done);
        }
    }

    public long totalBytes() {
        return tensors.values().stream().mapToLong(t -> t.data().byteSize()).sum();
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
