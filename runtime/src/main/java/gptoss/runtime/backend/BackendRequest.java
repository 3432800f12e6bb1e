package gptoss.runtime.backend;

import gptoss.model.checkpoint.ModelWeights;
import gptoss.model.config.ModelConfig;

/**
 * What a backend instance is asked to serve.
 *
 * @param device         device index within the provider
 * @param threads        CPU threads the instance may use
 * @param shard          the layers and experts it holds
 * @param profileKernels record per-kernel timings (see {@link Backend#drainKernelTimings})
 */
public record BackendRequest(ModelConfig config, ModelWeights weights, int device, int threads, Shard shard,
                             boolean profileKernels) {
}
