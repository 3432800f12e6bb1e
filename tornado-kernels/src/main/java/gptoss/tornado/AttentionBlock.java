package gptoss.tornado;

import gptoss.model.checkpoint.LayerWeights;
import gptoss.model.config.ModelConfig;
import gptoss.tornado.kernels.AttentionKernels;
import gptoss.tornado.kernels.MatmulKernels;
import gptoss.tornado.kernels.NormKernels;
import gptoss.tornado.kernels.Params;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

import java.util.List;

/**
 * The attention sub-block of one layer and the MoE norm and router on its output rows, as tasks of a stage's graph
 * ({@link AttentionStage}: a graph per layer; {@link StepStage}: all layers in one): RMSNorm, fused QKV projection
 * (+ bias), RoPE and KV-cache write, attention, output projection (+ bias) added to the residual rows {@code b.x},
 * MoE RMSNorm into {@code b.normed}, router (+ bias) into {@code b.routerLogits}. The layer's weights and cache pages
 * go to the device at the graph's first execution. Task names end in {@code suffix} (the layer, in the step graph).
 */
final class AttentionBlock {
    private final String suffix;
    private final int heads;
    private final WorkerGrid norm, rope, attention, mlpNorm;
    private final Stage.Product qkv, out, router;

    AttentionBlock(Stage stage, String suffix, int layer, ModelConfig c, LayerWeights w, DeviceArrays arrays, Buffers b, KvPagePool pool,
                   int ring, KernelContext ctx) {
        this.suffix = suffix;
        this.heads = c.numHeads();
        int H = c.hiddenSize(), Q = c.qDim(), KV = c.kvDim(), D = c.headDim(), E = c.numExperts();
        boolean sliding = c.isSliding(layer);
        int window = sliding ? c.slidingWindow() : 0, ringSlots = sliding ? ring : 0, tableSlot = sliding ? 2 : 1;
        float eps = (float) c.rmsNormEps(), scale = (float) (1.0 / Math.sqrt(D));
        FloatArray normScale = arrays.floats(w.attnNorm());
        ShortArray wqkv = arrays.bf16("layer " + layer + " q/k/v weights", w.wq(), w.wk(), w.wv());
        FloatArray bqkv = arrays.floats(w.bq(), w.bk(), w.bv());
        FloatArray sinks = arrays.floats(w.sinks());
        ShortArray wo = arrays.bf16("layer " + layer + " output projection", w.wo());
        FloatArray bo = arrays.floats(w.bo());
        FloatArray mlpScale = arrays.floats(w.mlpNorm());
        ShortArray wr = arrays.bf16("layer " + layer + " router", w.router());
        FloatArray br = arrays.floats(w.routerBias());
        FloatArray keys = arrays.zeros((long) pool.slots() * KV), values = arrays.zeros((long) pool.slots() * KV); // [pool slots, KV]

        norm = stage.grid("norm" + suffix, NormKernels.LOCAL, 1);
        qkv = Stage.Product.dense(stage, "qkv" + suffix, Q + 2 * KV, H);
        rope = stage.grid("rope" + suffix, AttentionKernels.LOCAL, 1);
        attention = stage.grid("attention" + suffix, AttentionKernels.LOCAL, 1);
        out = Stage.Product.dense(stage, "out" + suffix, H, Q);
        mlpNorm = stage.grid("mlpNorm" + suffix, NormKernels.LOCAL, 1);
        router = Stage.Product.dense(stage, "router" + suffix, E, H);

        stage.graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, normScale, wqkv, bqkv, sinks, wo, bo, mlpScale, wr, br, keys, values)
                .task("norm" + suffix, NormKernels::rmsNorm, ctx, b.x, normScale, b.normed, b.params, H, eps)
                .task("qkv" + suffix, MatmulKernels::product, ctx, b.normed, wqkv, bqkv, b.qkv, b.tables, b.params, H, Q + 2 * KV,
                        Params.HAS_BIAS, qkv.lanes())
                .task("rope" + suffix, AttentionKernels::ropeAndStore, ctx, b.qkv, b.cos, b.sin, b.rowMeta, b.pageTable, keys, values,
                        b.params, c.numHeads(), c.numKvHeads(), D, ringSlots, tableSlot)
                .task("attention" + suffix, AttentionKernels::attention, ctx, b.qkv, keys, values, sinks, b.rowMeta, b.pageTable, b.tiles,
                        b.attention, b.params, c.numHeads(), c.numKvHeads(), D, window, ringSlots, tableSlot, scale)
                .task("out" + suffix, MatmulKernels::product, ctx, b.attention, wo, bo, b.x, b.tables, b.params, Q, H,
                        Params.HAS_BIAS | Params.ACCUMULATE, out.lanes())
                .task("mlpNorm" + suffix, NormKernels::rmsNorm, ctx, b.x, mlpScale, b.normed, b.params, H, eps)
                .task("router" + suffix, MatmulKernels::product, ctx, b.normed, wr, br, b.routerLogits, b.tables, b.params, H, E,
                        Params.HAS_BIAS, router.lanes());
    }

    /**
     * Sizes the grids for {@code rows} rows (none: one idle work-group each): products tiled or not, attention by
     * prefill tiles ({@code tileCount} of them) or decode rows. Returns the profiler labels of the tasks.
     */
    List<String> size(int rows, boolean tiledProducts, boolean prefillAttention, int tileCount) {
        long local = AttentionKernels.LOCAL;
        int r = Math.max(1, rows);
        norm.setGlobalWork(r * (long) NormKernels.LOCAL, 1, 1);
        rope.setGlobalWork(r * local, 1, 1);
        mlpNorm.setGlobalWork(r * (long) NormKernels.LOCAL, 1, 1);
        if (rows == 0) attention.setGlobalWork(local, 1, 1);
        else attention.setGlobalWork((prefillAttention ? tileCount : rows) * local, heads, 1);
        return List.of("norm" + suffix, qkv.size(rows, tiledProducts), "rope" + suffix, Stage.label("attention" + suffix, prefillAttention),
                out.size(rows, tiledProducts), "mlpNorm" + suffix, router.size(rows, tiledProducts));
    }
}
