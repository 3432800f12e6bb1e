package gptoss.tornado;

import gptoss.model.checkpoint.LayerWeights;
import gptoss.model.config.ModelConfig;
import gptoss.tornado.kernels.MatmulKernels;
import gptoss.tornado.kernels.NormKernels;
import gptoss.tornado.kernels.Params;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

import java.util.List;

/** MoE norm and router matvec of one layer: {@code normed = rmsnorm(x)}, {@code logits = W_router · normed + b}. */
final class RouterStage extends Stage {
    private final WorkerGrid norm;
    private final Product router;

    RouterStage(int layer, ModelConfig c, LayerWeights w, DeviceArrays arrays, Buffers b, GridScheduler scheduler) {
        super("router", "router" + layer, scheduler);
        int H = c.hiddenSize(), E = c.numExperts();
        FloatArray normScale = arrays.floats(w.mlpNorm());
        var weights = arrays.bf16("layer " + layer + " router", w.router());
        FloatArray bias = arrays.floats(w.routerBias());
        norm = grid("norm", NormKernels.LOCAL, 1);
        router = Product.dense(this, "router", E, H);
        KernelContext ctx = new KernelContext();
        graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, b.tables, normScale, weights, bias)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, b.x, b.params)
                .task("norm", NormKernels::rmsNorm, ctx, b.x, normScale, b.normed, b.params, H, (float) c.rmsNormEps())
                .task("router", MatmulKernels::product, ctx, b.normed, weights, bias, b.routerLogits, b.tables, b.params, H, E,
                        Params.HAS_BIAS, router.lanes())
                .transferToHost(DataTransferMode.UNDER_DEMAND, b.normed, b.routerLogits);
        uploadBytes = bytes(b.x, b.params);
    }

    List<String> size(int rows, boolean tiled) {
        norm.setGlobalWork(Math.max(1, rows) * (long) NormKernels.LOCAL, 1, 1);
        return List.of("norm", router.size(rows, tiled));
    }
}
