package gptoss.tornado;

import gptoss.model.checkpoint.LayerWeights;
import gptoss.model.checkpoint.ModelWeights;
import gptoss.model.config.ModelConfig;
import gptoss.tornado.kernels.ExpertKernels;
import gptoss.tornado.kernels.MatmulKernels;
import gptoss.tornado.kernels.NormKernels;
import gptoss.tornado.kernels.Params;
import gptoss.tornado.kernels.RoutingKernels;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.ByteArray;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

import java.util.ArrayList;
import java.util.List;

/**
 * A whole forward step as one task graph, for a backend that holds the whole model: embedding lookup of the
 * token ids, then per layer the attention sub-block with the MoE norm and router ({@link AttentionBlock}, as in
 * {@link AttentionStage}), the router decision ({@link RoutingKernels#route}), the chosen experts read from the
 * layer's full expert arrays by the ids in a device array (each expert the decode or the tiled way by its slot
 * count, as the host-orchestrated path chooses), their combine in router order with the residual add; then the
 * head, on the rows whose logits are wanted. The residual stream
 * never leaves the device: per execution the token ids, positions and page lists go in and the logits of the rows
 * that want them come out. Routing decisions and residual rows are copied to record arrays, read back only for
 * listeners.
 */
final class StepStage extends Stage {
    final int layers, maxRows, k, E, H, V;
    final IntArray tokens;      // [maxRows] token ids of the rows
    final IntArray headParams;  // Params for the head: its rows from FIRST_ROW (0 when no logits are wanted from this execution)
    final FloatArray logits;    // [maxRows, V]: the head's rows from 0
    final FloatArray routing;   // [L, maxRows, 2k + E]: ids (as floats), weights, router logits of each row
    final FloatArray residuals; // [L + 1, maxRows, H]
    private final IntArray ids; // routes: [rowTiles·16·k] expert ids, [same] slots grouped by expert, [E + 1] group starts
    private final List<Layer> perLayer = new ArrayList<>();
    private final WorkerGrid embed, pick, headNorm;
    private final Product unembed;

    /** Tasks of one layer: the attention block with the router, then the routed experts. */
    private record Layer(AttentionBlock attention, WorkerGrid route, Routed gateUp, Routed down, WorkerGrid combine, WorkerGrid snapshot) {
    }

    StepStage(ModelConfig c, ModelWeights w, DeviceArrays arrays, Buffers b, KvPagePool fullPool, KvPagePool slidingPool, int ring,
              int matvecRows, GridScheduler scheduler) {
        super("step", "step", scheduler);
        layers = c.numLayers();
        maxRows = b.maxRows;
        k = c.expertsPerToken();
        E = c.numExperts();
        H = c.hiddenSize();
        V = c.vocabSize();
        int I = c.intermediateSize();
        float eps = (float) c.rmsNormEps();
        tokens = new IntArray(maxRows);
        headParams = new IntArray(Params.SIZE);
        logits = arrays.zeros((long) maxRows * V);
        routing = arrays.zeros((long) layers * maxRows * (2L * k + E));
        residuals = arrays.zeros((long) (layers + 1) * maxRows * H);
        int rowTiles = (maxRows + ExpertKernels.TILE - 1) / ExpertKernels.TILE;
        ids = new IntArray(2 * rowTiles * ExpertKernels.TILE * k + E + 1);
        FloatArray weights = arrays.zeros(2L * rowTiles * ExpertKernels.TILE * k); // routing weights, then scratch
        FloatArray hidden = arrays.zeros((long) maxRows * k * I);
        FloatArray expertOut = arrays.zeros((long) maxRows * k * H);
        ShortArray embedding = arrays.bf16("embedding", w.embedding());
        int[] all = new int[E];
        for (int e = 0; e < E; e++) all[e] = e;
        KernelContext ctx = new KernelContext();

        embed = grid("embed", RoutingKernels.LOCAL, 1);
        graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, b.tables, embedding, routing, residuals, ids, weights,
                        hidden, expertOut, b.x, b.qkv, b.attention, b.normed, b.routerLogits)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, tokens, b.params, headParams, b.rowMeta, b.pageTable, b.tiles, b.cos, b.sin)
                .task("embed", RoutingKernels::embed, ctx, tokens, embedding, b.x, b.tables, b.params, H);
        WorkerGrid snap0 = grid("snap0", RoutingKernels.LOCAL, 1);
        graph.task("snap0", RoutingKernels::snapshot, ctx, b.x, residuals, b.params, H, 0);
        perLayer.add(new Layer(null, null, null, null, null, snap0));
        for (int l = 0; l < layers; l++) {
            LayerWeights lw = w.layers().get(l);
            AttentionBlock attention = new AttentionBlock(this, Integer.toString(l), l, c, lw, arrays, b,
                    c.isSliding(l) ? slidingPool : fullPool, ring, ctx);
            long mlp1Elements = 2L * I * H, mlp2Elements = (long) H * I;
            ByteArray blocks1 = arrays.mxfp4(lw.mlp1(), all, mlp1Elements, H, false);
            ByteArray scales1 = arrays.mxfp4(lw.mlp1(), all, mlp1Elements, H, true);
            ByteArray blocks2 = arrays.mxfp4(lw.mlp2(), all, mlp2Elements, I, false);
            ByteArray scales2 = arrays.mxfp4(lw.mlp2(), all, mlp2Elements, I, true);
            FloatArray bias1 = arrays.floats(lw.mlp1Bias());
            FloatArray bias2 = arrays.floats(lw.mlp2Bias());
            Layer g = new Layer(attention, grid("route" + l, 1, 1),
                    Routed.of(this, "gateUp" + l, "gateUpTiled" + l, I, 2 * I, MatmulKernels.lanes(H / 2), E * rowTiles, k),
                    Routed.of(this, "down" + l, "downTiled" + l, H, H, MatmulKernels.lanes(I / 2), E * rowTiles, k),
                    grid("combine" + l, RoutingKernels.LOCAL, 1), grid("snap" + (l + 1), RoutingKernels.LOCAL, 1));
            perLayer.add(g);
            float alpha = (float) c.swigluAlpha(), limit = (float) c.swigluLimit();
            graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, blocks1, scales1, blocks2, scales2, bias1, bias2)
                    .task("route" + l, RoutingKernels::route, ctx, b.routerLogits, ids, weights, routing, b.tables, b.params, E, k,
                            l * maxRows * (2 * k + E), rowTiles)
                    .task("gateUp" + l, ExpertKernels::gateUpRoutedDecode, ctx, b.normed, blocks1, scales1, bias1, hidden, ids,
                            b.tables, b.params, H, I, alpha, limit, g.gateUp().lanes(), k, rowTiles, matvecRows)
                    .task("gateUpTiled" + l, ExpertKernels::gateUpRoutedTiled, ctx, b.normed, blocks1, scales1, bias1, hidden, ids,
                            b.tables, b.params, H, I, alpha, limit, k, rowTiles, matvecRows)
                    .task("down" + l, ExpertKernels::downRoutedDecode, ctx, hidden, blocks2, scales2, bias2, expertOut, ids,
                            b.tables, b.params, H, I, g.down().lanes(), k, rowTiles, matvecRows)
                    .task("downTiled" + l, ExpertKernels::downRoutedTiled, ctx, hidden, blocks2, scales2, bias2, expertOut, ids,
                            b.tables, b.params, H, I, k, rowTiles, matvecRows)
                    .task("combine" + l, RoutingKernels::combine, ctx, expertOut, weights, b.x, b.params, H, k)
                    .task("snap" + (l + 1), RoutingKernels::snapshot, ctx, b.x, residuals, b.params, H, (l + 1) * maxRows * H);
        }
        FloatArray finalScale = arrays.floats(w.finalNorm());
        ShortArray unembedding = arrays.bf16("unembedding", w.unembedding());
        FloatArray noBias = new FloatArray(1);
        FloatArray headRows = arrays.zeros((long) maxRows * H);
        pick = grid("pick", RoutingKernels.LOCAL, 1);
        headNorm = grid("headNorm", NormKernels.LOCAL, 1);
        unembed = Product.dense(this, "unembed", V, H);
        graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, finalScale, unembedding, noBias, headRows)
                .task("pick", RoutingKernels::pickRows, ctx, b.x, headRows, headParams, H)
                .task("headNorm", NormKernels::rmsNorm, ctx, headRows, finalScale, b.normed, headParams, H, eps)
                .task("unembed", MatmulKernels::product, ctx, b.normed, unembedding, noBias, logits, b.tables, headParams, H, V, 0,
                        unembed.lanes())
                .transferToHost(DataTransferMode.UNDER_DEMAND, logits, routing, residuals);
        uploadBytes = bytes(tokens, b.params, headParams, b.rowMeta, b.pageTable, b.tiles, b.cos, b.sin);
    }

    /**
     * Sizes every grid for {@code rows} rows (products tiled or not, attention by prefill tiles or decode rows) and
     * the head for {@code headRows} of them (tiled or not: {@code headTiled}), and returns the profiler labels of the
     * tasks that work.
     */
    List<String> size(int rows, boolean tiled, boolean prefillAttention, int tileCount, int headRows, boolean headTiled) {
        int r = Math.max(1, rows);
        List<String> labels = new ArrayList<>();
        embed.setGlobalWork((long) r * RoutingKernels.LOCAL, 1, 1);
        labels.add("embed");
        for (int l = 0; l <= layers; l++) {
            Layer g = perLayer.get(l);
            if (l > 0) {
                int layer = l - 1;
                g.route().setGlobalWork(1, 1, 1);
                g.combine().setGlobalWork((long) r * RoutingKernels.LOCAL, 1, 1);
                labels.addAll(g.attention().size(rows, tiled, prefillAttention, tileCount));
                labels.addAll(List.of("route" + layer, "combine" + layer));
                labels.addAll(g.gateUp().size(rows, tiled));
                labels.addAll(g.down().size(rows, tiled));
            }
            g.snapshot().setGlobalWork((long) r * RoutingKernels.LOCAL, 1, 1);
            labels.add("snap" + l);
        }
        pick.setGlobalWork((long) Math.max(1, headRows) * RoutingKernels.LOCAL, 1, 1);
        headNorm.setGlobalWork((long) Math.max(1, headRows) * NormKernels.LOCAL, 1, 1);
        if (headRows > 0) labels.addAll(List.of("pick", "headNorm"));
        labels.add(unembed.size(headRows, headTiled));
        return labels;
    }

    /**
     * The grids of a routed expert product, a decode kernel and a tiled one, both launched. Decode:
     * (⌈outputs / (LOCAL / lanes)⌉·LOCAL, rows·k) with work-groups (LOCAL, 1), one column per (row, slot); it works
     * on the slots of experts with at most matvecRows slots. Tiled, in a step of more than matvecRows rows:
     * (⌈tiledOutputs / 16⌉·16, tileRows·16) with (16, 16) work-groups, tileRows = experts × row tiles per expert,
     * working on the experts with more; otherwise one idle work-group of its shape.
     */
    record Routed(String task, WorkerGrid decode, String tiledTask, WorkerGrid tiled, int outputs, int tiledOutputs, int lanes, int tileRows, int k) {
        static Routed of(Stage stage, String task, String tiledTask, int outputs, int tiledOutputs, int lanes, int tileRows, int k) {
            return new Routed(task, stage.grid(task, ExpertKernels.LOCAL, 1), tiledTask, stage.grid(tiledTask, ExpertKernels.TILE, ExpertKernels.TILE),
                    outputs, tiledOutputs, lanes, tileRows, k);
        }

        /** Sizes both grids for {@code rows} rows and returns the profiler labels of the kernels that may work. */
        List<String> size(int rows, boolean useTiled) {
            int perGroup = ExpertKernels.LOCAL / lanes;
            boolean decodeWorks = rows > 0, tiledWorks = rows > 0 && useTiled;
            decode.setGlobalWork(decodeWorks ? (long) (outputs + perGroup - 1) / perGroup * ExpertKernels.LOCAL : ExpertKernels.LOCAL,
                    decodeWorks ? (long) rows * k : 1, 1);
            decode.setLocalWork(ExpertKernels.LOCAL, 1, 1);
            tiled.setGlobalWork(tiledWorks ? roundUp(tiledOutputs, ExpertKernels.TILE) : ExpertKernels.TILE,
                    tiledWorks ? (long) tileRows * ExpertKernels.TILE : ExpertKernels.TILE, 1);
            tiled.setLocalWork(ExpertKernels.TILE, ExpertKernels.TILE, 1);
            return useTiled ? List.of(label(task, false), label(tiledTask, true)) : List.of(label(task, false));
        }
    }
}
