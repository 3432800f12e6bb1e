package gptoss.tornado;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import gptoss.runtime.backend.Backend.KernelTiming;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;

/**
 * Per-kernel device times from TornadoVM's profiler ({@code ProfilerMode.SILENT}): after each execution the new
 * part of the graph's JSON log gives {@code TASK_KERNEL_TIME} per task (OpenCL/CUDA event times) and the graph's
 * copy-in time. Times are summed per kernel and the way it ran ("attention.qkv.decode", "expert.gateUp.prefill",
 * ...), plus the transfers of each kind of graph.
 */
final class KernelProfiler {
    // TornadoVM writes a trailing comma after the last task of a graph.
    private final JsonMapper json = JsonMapper.builder().enable(JsonReadFeature.ALLOW_TRAILING_COMMA).build();
    private final Map<String, KernelTiming> timings = new TreeMap<>();
    private final int[] consumed; // characters of each graph's log already read
    private static final java.util.regex.Pattern LAYER_SUFFIX = java.util.regex.Pattern.compile("\\d+(?=\\.|$)");

    KernelProfiler(int graphs) {
        consumed = new int[graphs];
    }

    /**
     * Adds the kernel times of {@code stage}'s last execution, under the labels {@code task} or {@code task.way}
     * given for its tasks, and its transfer time:
     * TornadoVM's copy-in and copy-out plus {@code hostCopyNanos} spent reading results back on demand.
     */
    void record(Stage stage, TornadoExecutionResult result, Collection<String> labels, long hostCopyNanos) {
        String log = result.getProfilerResult().getProfileLog();
        if (log == null || log.length() <= consumed[stage.index]) return;
        String fresh = log.substring(consumed[stage.index]);
        consumed[stage.index] = log.length();
        Map<String, Long> kernels = new TreeMap<>();
        long transfers = hostCopyNanos;
        // One JSON object per execution and one per on-demand read-back.
        try (MappingIterator<JsonNode> it = json.readerFor(JsonNode.class).readValues(fresh)) {
            while (it.hasNext()) {
                JsonNode graph = it.next().path(stage.name);
                if (graph.isMissingNode()) continue;
                for (String label : labels) {
                    int dot = label.indexOf('.');
                    JsonNode t = graph.path(stage.name + "." + (dot < 0 ? label : label.substring(0, dot)));
                    // Per-layer tasks of the whole-step graph ("qkv3.decode") add up under their kernel ("qkv.decode").
                    String key = stage.kind + "." + LAYER_SUFFIX.matcher(label).replaceFirst("");
                    if (t.has("TASK_KERNEL_TIME")) kernels.merge(key, t.get("TASK_KERNEL_TIME").asLong(), Long::sum);
                }
                transfers += graph.path("COPY_IN_TIME").asLong(0) + graph.path("COPY_OUT_TIME").asLong(0);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("unreadable TornadoVM profiler log", e);
        }
        kernels.forEach(this::add);
        add(stage.kind + ".transfers", transfers);
    }

    private void add(String key, long nanos) {
        timings.merge(key, new KernelTiming(1, nanos), (a, b) -> new KernelTiming(a.calls() + 1, a.nanos() + b.nanos()));
    }

    Map<String, KernelTiming> drain() {
        Map<String, KernelTiming> out = Map.copyOf(timings);
        timings.clear();
        return out;
    }
}
