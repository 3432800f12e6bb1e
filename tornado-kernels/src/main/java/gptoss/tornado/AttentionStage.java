package gptoss.tornado;

import gptoss.model.checkpoint.LayerWeights;
import gptoss.model.config.ModelConfig;
import gptoss.tornado.kernels.AttentionKernels;
import gptoss.tornado.kernels.MatmulKernels;
import gptoss.tornado.kernels.NormKernels;
import gptoss.tornado.kernels.Params;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

import java.util.List;

/**
 * The attention sub-block of one layer as a task graph: RMSNorm, fused QKV projection (+ bias), RoPE and cache
 * write, attention, output projection (+ bias) added to the residual rows; then, on the updated rows, the MoE
 * norm and the router, so that the engine's next call (the router of this layer on these rows) needs no second
 * execution. Weights and this layer's KV pages stay on the device; x goes in and out.
 */
final class AttentionStage extends Stage {
    final int layer;
    final FloatArray keys, values; // [pool slots, KV]: this layer's cache pages
    private final Product qkv, out, router;
    private final WorkerGrid norm, rope, attention, mlpNorm;
    private final int heads;

    AttentionStage(int layer, ModelConfig c, LayerWeights w, DeviceArrays arrays, Buffers b, KvPagePool pool, int ring,
                   GridScheduler scheduler) {
        super("attention", "attn" + layer, scheduler);
        this.layer = layer;
        this.heads = c.numHeads();
        int H = c.hiddenSize(), Q = c.qDim(), KV = c.kvDim(), D = c.headDim();
        boolean sliding = c.isSliding(layer);
        int window = sliding ? c.slidingWindow() : 0;
        int ringSlots = sliding ? ring : 0;
        int tableSlot = sliding ? 2 : 1;
        float scale = (float) (1.0 / Math.sqrt(D));
        FloatArray normScale = arrays.floats(w.attnNorm());
        var wqkv = arrays.bf16("layer " + layer + " q/k/v weights", w.wq(), w.wk(), w.wv());
        FloatArray bqkv = arrays.floats(w.bq(), w.bk(), w.bv());
        FloatArray sinks = arrays.floats(w.sinks());
        var wo = arrays.bf16("layer " + layer + " output projection", w.wo());
        FloatArray bo = arrays.floats(w.bo());
        FloatArray mlpScale = arrays.floats(w.mlpNorm());
        var wr = arrays.bf16("layer " + layer + " router", w.router());
        FloatArray br = arrays.floats(w.routerBias());
        keys = arrays.zeros((long) pool.slots() * KV);
        values = arrays.zeros((long) pool.slots() * KV);

        norm = grid("norm", NormKernels.LOCAL, 1);
        qkv = Product.dense(this, "qkv", Q + 2 * KV, H);
        rope = grid("rope", AttentionKernels.LOCAL, 1);
        attention = grid("attention", AttentionKernels.LOCAL, 1);
        out = Product.dense(this, "out", H, Q);
        mlpNorm = grid("mlpNorm", NormKernels.LOCAL, 1);
        router = Product.dense(this, "router", c.numExperts(), H);

        KernelContext ctx = new KernelContext();
        graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, b.tables, normScale, wqkv, bqkv, sinks, wo, bo, keys, values,
                        mlpScale, wr, br, b.qkv, b.attention)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, b.x, b.params, b.rowMeta, b.pageTable, b.tiles, b.cos, b.sin)
                .task("norm", NormKernels::rmsNorm, ctx, b.x, normScale, b.normed, b.params, H, (float) c.rmsNormEps())
                .task("qkv", MatmulKernels::product, ctx, b.normed, wqkv, bqkv, b.qkv, b.tables, b.params, H, Q + 2 * KV,
                        Params.HAS_BIAS, qkv.lanes())
                .task("rope", AttentionKernels::ropeAndStore, ctx, b.qkv, b.cos, b.sin, b.rowMeta, b.pageTable, keys, values, b.params,
                        c.numHeads(), c.numKvHeads(), D, ringSlots, tableSlot)
                .task("attention", AttentionKernels::attention, ctx, b.qkv, keys, values, sinks, b.rowMeta, b.pageTable, b.tiles,
                        b.attention, b.params, c.numHeads(), c.numKvHeads(), D, window, ringSlots, tableSlot, scale)
                .task("out", MatmulKernels::product, ctx, b.attention, wo, bo, b.x, b.tables, b.params, Q, H,
                        Params.HAS_BIAS | Params.ACCUMULATE, out.lanes())
                .task("mlpNorm", NormKernels::rmsNorm, ctx, b.x, mlpScale, b.normed, b.params, H, (float) c.rmsNormEps())
                .task("router", MatmulKernels::product, ctx, b.normed, wr, br, b.routerLogits, b.tables, b.params, H, c.numExperts(),
                        Params.HAS_BIAS, router.lanes())
                .transferToHost(DataTransferMode.UNDER_DEMAND, b.x, b.normed, b.routerLogits);
        uploadBytes = bytes(b.x, b.params, b.rowMeta, b.pageTable, b.tiles, b.cos, b.sin);
    }

    /**
     * Sizes the grids for {@code rows} rows: products tiled or not, attention by prefill tiles ({@code tileCount}
     * of them) or decode rows. Returns the profiler labels of the tasks.
     */
    List<String> size(int rows, boolean tiledProducts, boolean prefillAttention, int tileCount) {
        long local = AttentionKernels.LOCAL;
        norm.setGlobalWork(Math.max(1, rows) * (long) NormKernels.LOCAL, 1, 1);
        rope.setGlobalWork(Math.max(1, rows) * local, 1, 1);
        mlpNorm.setGlobalWork(Math.max(1, rows) * (long) NormKernels.LOCAL, 1, 1);
        if (rows == 0) attention.setGlobalWork(local, 1, 1);
        else attention.setGlobalWork((prefillAttention ? tileCount : rows) * local, heads, 1);
        return List.of("norm", qkv.size(rows, tiledProducts), "rope", label("attention", prefillAttention), out.size(rows, tiledProducts),
                "mlpNorm", router.size(rows, tiledProducts));
    }
}
