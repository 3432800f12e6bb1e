package gptoss.tornado;

import gptoss.model.checkpoint.LayerWeights;
import gptoss.model.config.ModelConfig;
import gptoss.tornado.kernels.ExpertKernels;
import gptoss.tornado.kernels.MatmulKernels;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.ByteArray;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

import java.util.List;

/**
 * The experts a backend holds in one layer, as one task graph: MXFP4 gate/up with the clamped SwiGLU, then MXFP4
 * down + bias. Which expert runs is a parameter of the execution; the rows routed to it go in, its outputs come out.
 */
final class ExpertStage extends Stage {
    final int[] localIndex; // [E] expert → index among those held here, or -1
    private final Product gateUp, down;

    ExpertStage(int layer, ModelConfig c, LayerWeights w, int[] experts, DeviceArrays arrays, Buffers b, GridScheduler scheduler) {
        super("expert", "experts" + layer, scheduler);
        int H = c.hiddenSize(), I = c.intermediateSize();
        localIndex = new int[c.numExperts()];
        java.util.Arrays.fill(localIndex, -1);
        for (int i = 0; i < experts.length; i++) localIndex[experts[i]] = i;
        long mlp1Elements = 2L * I * H, mlp2Elements = (long) H * I;
        ByteArray blocks1 = arrays.mxfp4(w.mlp1(), experts, mlp1Elements, H, false);
        ByteArray scales1 = arrays.mxfp4(w.mlp1(), experts, mlp1Elements, H, true);
        ByteArray blocks2 = arrays.mxfp4(w.mlp2(), experts, mlp2Elements, I, false);
        ByteArray scales2 = arrays.mxfp4(w.mlp2(), experts, mlp2Elements, I, true);
        long[] bias1Offsets = new long[experts.length], bias2Offsets = new long[experts.length];
        for (int i = 0; i < experts.length; i++) {
            bias1Offsets[i] = (long) experts[i] * 2 * I;
            bias2Offsets[i] = (long) experts[i] * H;
        }
        FloatArray bias1 = arrays.floatSlices(w.mlp1Bias(), bias1Offsets, 2 * I);
        FloatArray bias2 = arrays.floatSlices(w.mlp2Bias(), bias2Offsets, H);
        // Decode: one output per SwiGLU channel (I); prefill tiles: one per gate or linear row (2I).
        gateUp = Product.of(this, "gateUp", I, 2 * I, ExpertKernels.LOCAL, MatmulKernels.lanes(H / 2), ExpertKernels.TILE);
        down = Product.of(this, "down", H, H, ExpertKernels.LOCAL, MatmulKernels.lanes(I / 2), ExpertKernels.TILE);
        float alpha = (float) c.swigluAlpha(), limit = (float) c.swigluLimit();
        KernelContext ctx = new KernelContext();
        graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, b.tables, blocks1, scales1, bias1, blocks2, scales2, bias2, b.expertHidden)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, b.expertIn, b.params)
                .task("gateUp", ExpertKernels::gateUp, ctx, b.expertIn, blocks1, scales1, bias1, b.expertHidden, b.tables, b.params,
                        H, I, alpha, limit, gateUp.lanes())
                .task("down", ExpertKernels::down, ctx, b.expertHidden, blocks2, scales2, bias2, b.expertOut, b.tables, b.params,
                        H, I, down.lanes())
                .transferToHost(DataTransferMode.UNDER_DEMAND, b.expertOut);
        uploadBytes = bytes(b.expertIn, b.params);
    }

    List<String> size(int rows, boolean tiled) {
        return List.of(gateUp.size(rows, tiled), down.size(rows, tiled));
    }
}
