package gptoss.tornado;

import gptoss.model.checkpoint.LayerWeights;
import gptoss.model.config.ModelConfig;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;

import java.util.List;

/**
 * The attention sub-block of one layer as a task graph ({@link AttentionBlock}): RMSNorm, fused QKV projection
 * (+ bias), RoPE and cache write, attention, output projection (+ bias) added to the residual rows; then, on the
 * updated rows, the MoE norm and the router, so that the engine's next call (the router of this layer on these
 * rows) needs no second execution. Weights and this layer's KV pages stay on the device; x goes in and out.
 */
final class AttentionStage extends Stage {
    private final AttentionBlock block;

    AttentionStage(int layer, ModelConfig c, LayerWeights w, DeviceArrays arrays, Buffers b, KvPagePool pool, int ring,
                   GridScheduler scheduler) {
        super("attention", "attn" + layer, scheduler);
        graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, b.tables, b.qkv, b.attention)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, b.x, b.params, b.rowMeta, b.pageTable, b.tiles, b.cos, b.sin);
        block = new AttentionBlock(this, "", layer, c, w, arrays, b, pool, ring, new KernelContext());
        graph.transferToHost(DataTransferMode.UNDER_DEMAND, b.x, b.normed, b.routerLogits);
        uploadBytes = bytes(b.x, b.params, b.rowMeta, b.pageTable, b.tiles, b.cos, b.sin);
    }

    /**
     * Sizes the grids for {@code rows} rows: products tiled or not, attention by prefill tiles ({@code tileCount}
     * of them) or decode rows. Returns the profiler labels of the tasks.
     */
    List<String> size(int rows, boolean tiledProducts, boolean prefillAttention, int tileCount) {
        return block.size(rows, tiledProducts, prefillAttention, tileCount);
    }
}
