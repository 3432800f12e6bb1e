package gptoss.tornado;

import gptoss.model.config.ModelConfig;
import gptoss.tornado.kernels.AttentionKernels;
import gptoss.tornado.kernels.DecodeTables;
import gptoss.tornado.kernels.Params;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Host arrays shared by the task graphs of one backend, sized for {@code maxRows} rows. Every graph that uses
 * one gets its own device copy (TornadoVM keeps device buffers per graph); inputs are uploaded at each
 * execution, outputs read back only for the rows of the call.
 */
final class Buffers {
    final int maxRows;
    final FloatArray tables = DecodeTables.create();
    final IntArray params = new IntArray(Params.SIZE);
    // activations
    final FloatArray x;           // [rows, H] residual rows in, updated rows out
    final FloatArray normed;      // [rows, H] RMSNorm output (device scratch, the router's output)
    final FloatArray qkv;         // [rows, Q + 2KV] (device only)
    final FloatArray attention;   // [rows, Q] (device only)
    final FloatArray routerLogits; // [rows, E]
    final FloatArray expertIn;    // [rows, H] the rows routed to one expert
    final FloatArray expertHidden; // [rows, I] (device only)
    final FloatArray expertOut;   // [rows, H]
    // attention batch layout
    final IntArray rowMeta;       // [rows, META]
    final IntArray pageTable;     // page lists of the batch's sequences: full-layer lists, then sliding-layer lists
    final IntArray tiles;         // [rows, 2] (first row, row count) of each prefill query tile
    final FloatArray cos, sin;    // [rows, D/2]

    Buffers(ModelConfig c, int maxRows, int pageTableSize) {
        this.maxRows = maxRows;
        int H = c.hiddenSize();
        x = new FloatArray(maxRows * H);
        normed = new FloatArray(maxRows * H);
        qkv = new FloatArray(maxRows * (c.qDim() + 2 * c.kvDim()));
        attention = new FloatArray(maxRows * c.qDim());
        routerLogits = new FloatArray(maxRows * c.numExperts());
        expertIn = new FloatArray(maxRows * H);
        expertHidden = new FloatArray(maxRows * c.intermediateSize());
        expertOut = new FloatArray(maxRows * H);
        rowMeta = new IntArray(maxRows * AttentionKernels.META);
        pageTable = new IntArray(Math.max(1, pageTableSize));
        tiles = new IntArray(maxRows * 2);
        cos = new FloatArray(maxRows * c.headDim() / 2);
        sin = new FloatArray(maxRows * c.headDim() / 2);
    }

    /** Bytes of all these arrays (host; each graph using one holds a device copy). */
    long bytes() {
        long b = 0;
        for (FloatArray a : new FloatArray[]{tables, x, normed, qkv, attention, routerLogits, expertIn, expertHidden, expertOut, cos, sin}) {
            b += a.getNumBytesOfSegment();
        }
        for (IntArray a : new IntArray[]{params, rowMeta, pageTable, tiles}) b += a.getNumBytesOfSegment();
        return b;
    }
}
