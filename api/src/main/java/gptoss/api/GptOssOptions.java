package gptoss.api;

import gptoss.runtime.engine.Engine;

import java.nio.file.Path;

/**
 * How {@link GptOss#open} loads and serves a checkpoint. Start from {@link #defaults()} and change what you need:
 * <pre>GptOssOptions.defaults().withContext(8192).withMaxSequences(8)</pre>
 *
 * @param backend            backend that runs the model ({@code cpu}, {@code tornado})
 * @param device             device index of the backend
 * @param threads            CPU threads, or null for all cores
 * @param context            context limit in tokens per sequence, or null for the model's
 * @param prefillChunk       prompt tokens per forward chunk (one scheduler step processes one chunk)
 * @param devices            a device list to spread the model over (as {@code gptoss plan}), or null
 * @param placement          a placement file written by {@code gptoss plan --json}, or null
 * @param profileKernels     record per-kernel timings (backends that support it)
 * @param maxSequences       sequences decoded together in one batch
 * @param queueCapacity      requests that may wait for a batch slot; more are refused
 * @param prefixCacheEntries finished sequences kept for prefix reuse (0 turns reuse off)
 * @param prefixCacheBytes   KV-cache bytes the kept sequences may hold in all
 * @param quiet              no load report on stderr
 */
public record GptOssOptions(String backend, int device, Integer threads, Integer context, int prefillChunk, String devices,
                            Path placement, boolean profileKernels, int maxSequences, int queueCapacity,
                            int prefixCacheEntries, long prefixCacheBytes, boolean quiet) {

    public GptOssOptions {
        if (backend == null || backend.isBlank()) throw new IllegalArgumentException("backend must be named");
        if (threads != null && threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        if (prefillChunk < 1) throw new IllegalArgumentException("prefill chunk must be >= 1, got " + prefillChunk);
        if (maxSequences < 1) throw new IllegalArgumentException("max sequences must be >= 1, got " + maxSequences);
        if (queueCapacity < 0) throw new IllegalArgumentException("queue capacity must be >= 0, got " + queueCapacity);
        if (prefixCacheEntries < 0) throw new IllegalArgumentException("prefix cache entries must be >= 0");
        if (prefixCacheBytes < 0) throw new IllegalArgumentException("prefix cache bytes must be >= 0");
    }

    /** CPU backend, all cores, the model's context, 8 sequences, a queue of 64, 16 cached prefixes in at most 1 GiB. */
    public static GptOssOptions defaults() {
        return new GptOssOptions("cpu", 0, null, null, Engine.DEFAULT_PREFILL_CHUNK, null, null, false, 8, 64, 16, 1L << 30, false);
    }

    public int threadCount() {
        return threads != null ? threads : Runtime.getRuntime().availableProcessors();
    }

    public GptOssOptions withBackend(String b, int d) {
        return new GptOssOptions(b, d, threads, context, prefillChunk, devices, placement, profileKernels, maxSequences, queueCapacity, prefixCacheEntries, prefixCacheBytes, quiet);
    }

    public GptOssOptions withThreads(Integer n) {
        return new GptOssOptions(backend, device, n, context, prefillChunk, devices, placement, profileKernels, maxSequences, queueCapacity, prefixCacheEntries, prefixCacheBytes, quiet);
    }

    public GptOssOptions withContext(Integer n) {
        return new GptOssOptions(backend, device, threads, n, prefillChunk, devices, placement, profileKernels, maxSequences, queueCapacity, prefixCacheEntries, prefixCacheBytes, quiet);
    }

    public GptOssOptions withPrefillChunk(int n) {
        return new GptOssOptions(backend, device, threads, context, n, devices, placement, profileKernels, maxSequences, queueCapacity, prefixCacheEntries, prefixCacheBytes, quiet);
    }

    public GptOssOptions withPlacement(String deviceList, Path placementFile) {
        return new GptOssOptions(backend, device, threads, context, prefillChunk, deviceList, placementFile, profileKernels, maxSequences, queueCapacity, prefixCacheEntries, prefixCacheBytes, quiet);
    }

    public GptOssOptions withProfileKernels(boolean on) {
        return new GptOssOptions(backend, device, threads, context, prefillChunk, devices, placement, on, maxSequences, queueCapacity, prefixCacheEntries, prefixCacheBytes, quiet);
    }

    public GptOssOptions withMaxSequences(int n) {
        return new GptOssOptions(backend, device, threads, context, prefillChunk, devices, placement, profileKernels, n, queueCapacity, prefixCacheEntries, prefixCacheBytes, quiet);
    }

    public GptOssOptions withQueueCapacity(int n) {
        return new GptOssOptions(backend, device, threads, context, prefillChunk, devices, placement, profileKernels, maxSequences, n, prefixCacheEntries, prefixCacheBytes, quiet);
    }

    public GptOssOptions withPrefixCache(int entries, long bytes) {
        return new GptOssOptions(backend, device, threads, context, prefillChunk, devices, placement, profileKernels, maxSequences, queueCapacity, entries, bytes, quiet);
    }

    public GptOssOptions withQuiet(boolean q) {
        return new GptOssOptions(backend, device, threads, context, prefillChunk, devices, placement, profileKernels, maxSequences, queueCapacity, prefixCacheEntries, prefixCacheBytes, q);
    }
}
