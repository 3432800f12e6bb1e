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
 * write, attention (decode or tiled prefill variant), output projection (+ bias) added to the residual rows.
 * Weights and this layer's KV pages stay on the device; x goes in and out.
 */
final class AttentionStage extends Stage {
    final int layer;
    final FloatArray keys, values; // [pool slots, KV]: this layer's cache pages
    private final ProductGrids qkv, out;
    private final WorkerGrid norm, rope, decode, prefill;
    private final int heads;

    AttentionStage(int layer, ModelConfig c, LayerWeights w, DeviceArrays arrays, Buffers b, KvPagePool pool, int ring,
                   GridScheduler scheduler) {
        super("attention", "attn" + layer, scheduler);
        this.layer = layer;
        this.heads = c.numHeads();
        int H = c.hiddenSize(), Q = c.qDim(), KV = c.kvDim(), D = c.headDim();
        boolean sliding = c.isSliding(layer);
        int window = sliding ? c.slidingWindow() : 0;
        int tableSlot = sliding ? 2 : 1;
        float scale = (float) (1.0 / Math.sqrt(D));
        float eps = (float) c.rmsNormEps();
        FloatArray normScale = arrays.floats(w.attnNorm());
        var wqkv = arrays.bf16("layer " + layer + " q/k/v weights", w.wq(), w.wk(), w.wv());
        FloatArray bqkv = concat(arrays.floats(w.bq()), arrays.floats(w.bk()), arrays.floats(w.bv()));
        FloatArray sinks = arrays.floats(w.sinks());
        var wo = arrays.bf16("layer " + layer + " output projection", w.wo());
        FloatArray bo = arrays.floats(w.bo());
        keys = arrays.zeros((long) pool.slots() * KV);
        values = arrays.zeros((long) pool.slots() * KV);

        norm = grid1("norm", NormKernels.LOCAL);
        qkv = ProductGrids.dense(this, "qkv", Q + 2 * KV, H);
        rope = grid1("rope", AttentionKernels.LOCAL);
        decode = grid2("attnDecode", AttentionKernels.LOCAL, 1);
        prefill = grid2("attnPrefill", AttentionKernels.LOCAL, 1);
        out = ProductGrids.dense(this, "out", H, Q);

        KernelContext ctx = new KernelContext();
        graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, b.tables, normScale, wqkv, bqkv, sinks, wo, bo, keys, values,
                        b.normed, b.qkv, b.attention)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, b.x, b.params, b.rowMeta, b.pageTable, b.tiles, b.cos, b.sin)
                .task("norm", NormKernels::rmsNorm, ctx, b.x, normScale, b.normed, b.params, H, eps)
                .task("qkvMatvec", MatmulKernels::matvec, ctx, b.normed, wqkv, bqkv, b.qkv, b.tables, b.params, H, Q + 2 * KV, Params.HAS_BIAS, qkv.lanes())
                .task("qkvTiled", MatmulKernels::tiled, ctx, b.normed, wqkv, bqkv, b.qkv, b.tables, b.params, H, Q + 2 * KV, Params.HAS_BIAS)
                .task("rope", AttentionKernels::ropeAndStore, ctx, b.qkv, b.cos, b.sin, b.rowMeta, b.pageTable, keys, values, b.params,
                        c.numHeads(), c.numKvHeads(), D, sliding ? ring : 0, tableSlot)
                .task("attnDecode", AttentionKernels::decode, ctx, b.qkv, keys, values, sinks, b.rowMeta, b.pageTable, b.attention,
                        b.params, c.numHeads(), c.numKvHeads(), D, window, sliding ? ring : 0, tableSlot, scale)
                .task("attnPrefill", AttentionKernels::prefill, ctx, b.qkv, keys, values, sinks, b.rowMeta, b.pageTable, b.tiles,
                        b.attention, b.params, c.numHeads(), c.numKvHeads(), D, window, sliding ? ring : 0, tableSlot, scale)
                .task("outMatvec", MatmulKernels::matvec, ctx, b.attention, wo, bo, b.x, b.tables, b.params, Q, H, Params.HAS_BIAS | Params.ACCUMULATE, out.lanes())
                .task("outTiled", MatmulKernels::tiled, ctx, b.attention, wo, bo, b.x, b.tables, b.params, Q, H, Params.HAS_BIAS | Params.ACCUMULATE)
                .transferToHost(DataTransferMode.UNDER_DEMAND, b.x);
    }

    private static FloatArray concat(FloatArray... parts) {
        int n = 0;
        for (FloatArray p : parts) n += p.getSize();
        FloatArray out = new FloatArray(n);
        int at = 0;
        for (FloatArray p : parts) {
            for (int i = 0; i < p.getSize(); i++) out.set(at + i, p.get(i));
            at += p.getSize();
        }
        return out;
    }

    /**
     * Sizes the grids for {@code rows} rows in {@code tiles} prefill tiles and returns the tasks that will do
     * work. {@code tiledProducts}: tiled instead of matvec products; {@code prefill}: tiled attention.
     */
    List<String> size(int rows, boolean tiledProducts, boolean prefillAttention, int tileCount) {
        long local = AttentionKernels.LOCAL;
        norm.setGlobalWork(Math.max(1, rows) * (long) NormKernels.LOCAL, 1, 1);
        qkv.size(rows, tiledProducts);
        rope.setGlobalWork(Math.max(1, rows) * local, 1, 1);
        if (rows > 0 && !prefillAttention) decode.setGlobalWork(rows * local, heads, 1);
        else decode.setGlobalWork(local, 1, 1);
        if (rows > 0 && prefillAttention) prefill.setGlobalWork(tileCount * local, heads, 1);
        else prefill.setGlobalWork(local, 1, 1);
        out.size(rows, tiledProducts);
        return List.of("norm", qkv.active(tiledProducts), "rope", prefillAttention ? "attnPrefill" : "attnDecode", out.active(tiledProducts));
    }
}
