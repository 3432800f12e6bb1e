package gptoss.tornado.kernels;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/** RMSNorm (spec §2.2.1), one work-group per row: a local-memory sum of squares, then the scaled row. */
public final class NormKernels {
    /** Work-group size (a power of two). */
    public static final int LOCAL = 128;

    private NormKernels() {
    }

    /** {@code out[t] = x[t] / sqrt(mean(x[t]²) + eps) · scale} for rows {@code t < params[ROWS]}; x, out: [rows, H]. */
    public static void rmsNorm(KernelContext ctx, FloatArray x, FloatArray scale, FloatArray out, IntArray params, int H, float eps) {
        int t = ctx.groupIdx;
        int lid = ctx.localIdx;
        if (t < params.get(Params.ROWS)) {
            float[] partial = ctx.allocateFloatLocalArray(LOCAL);
            int base = t * H;
            float sum = 0f;
            for (int i = lid; i < H; i += LOCAL) {
                float v = x.get(base + i);
                sum += v * v;
            }
            partial[lid] = sum;
            ctx.localBarrier();
            for (int stride = LOCAL / 2; stride > 0; stride >>= 1) {
                if (lid < stride) partial[lid] += partial[lid + stride];
                ctx.localBarrier();
            }
            float inverse = 1.0f / TornadoMath.sqrt(partial[0] / H + eps);
            for (int i = lid; i < H; i += LOCAL) out.set(base + i, x.get(base + i) * inverse * scale.get(i));
        }
    }
}
