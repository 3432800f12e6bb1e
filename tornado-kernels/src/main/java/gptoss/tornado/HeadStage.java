package gptoss.tornado;

import gptoss.model.checkpoint.ModelWeights;
import gptoss.model.config.ModelConfig;
import gptoss.tornado.kernels.MatmulKernels;
import gptoss.tornado.kernels.NormKernels;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

import java.util.List;

/** Final RMSNorm and unembedding: {@code logits = W_unembed · rmsnorm(x)} (no bias). */
final class HeadStage extends Stage {
    final FloatArray logits; // [rows, V]
    private final WorkerGrid norm;
    private final Product unembed;

    HeadStage(ModelConfig c, ModelWeights w, DeviceArrays arrays, Buffers b, GridScheduler scheduler) {
        super("head", "head", scheduler);
        int H = c.hiddenSize(), V = c.vocabSize();
        FloatArray normScale = arrays.floats(w.finalNorm());
        var weights = arrays.bf16("unembedding", w.unembedding());
        FloatArray noBias = new FloatArray(1);
        logits = arrays.zeros((long) b.maxRows * V);
        norm = grid("norm", NormKernels.LOCAL, 1);
        unembed = Product.dense(this, "unembed", V, H);
        KernelContext ctx = new KernelContext();
        graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, b.tables, normScale, weights, noBias, b.normed)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, b.x, b.params)
                .task("norm", NormKernels::rmsNorm, ctx, b.x, normScale, b.normed, b.params, H, (float) c.rmsNormEps())
                .task("unembed", MatmulKernels::product, ctx, b.normed, weights, noBias, logits, b.tables, b.params, H, V, 0, unembed.lanes())
                .transferToHost(DataTransferMode.UNDER_DEMAND, logits);
        uploadBytes = bytes(b.x, b.params);
    }

    List<String> size(int rows, boolean tiled) {
        norm.setGlobalWork(Math.max(1, rows) * (long) NormKernels.LOCAL, 1, 1);
        return List.of("norm", unembed.size(rows, tiled));
    }
}
