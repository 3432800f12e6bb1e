package gptoss.tornado;

import gptoss.model.tensor.Mxfp4Tensor;
import gptoss.tornado.kernels.DecodeTables;
import gptoss.tornado.kernels.ExpertKernels;
import gptoss.tornado.kernels.MatmulKernels;
import gptoss.tornado.kernels.Params;
import gptoss.tornado.kernels.RoutingKernels;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.WorkerGrid2D;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.ByteArray;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The device-side routing of the whole-step graph on its own, against host arithmetic written here: router
 * decision ({@link RoutingKernels#route}: top-k, ties to the lower id, softmax over the k), then the routed
 * expert kernels (decode and tiled, gate/up + SwiGLU and down) reading the chosen experts from one array of all
 * experts. Random MXFP4 weights, E = 4, k = 2, H = I = 64. The way is chosen per expert: one with at most 4 slots
 * in the step runs the decode kernels, one with more the tiled ones. 3 rows: all decode; 8 rows: expert 3 (8 slots)
 * tiled and the others (3, 3, 2 slots) decode in the same execution; 20 rows: (mostly) tiled.
 */
class RoutedKernelsTest {
    static final int H = 64, I = 64, E = 4, K = 2, MAX_ROWS = 32, MATVEC_ROWS = 4;
    static final float ALPHA = 1.702f, LIMIT = 7f;

    @ParameterizedTest
    @ValueSource(ints = {3, 8, 20})
    void routeThenRoutedExpertsMatchHostArithmetic(int rows) {
        TornadoTests.assumeTornado();
        Random r = new Random(rows);
        ByteArray blocks1 = randomBytes(E * 2 * I * H / 2, r, 0, 256), scales1 = randomBytes(E * 2 * I * H / 32, r, 119, 4);
        ByteArray blocks2 = randomBytes(E * H * I / 2, r, 0, 256), scales2 = randomBytes(E * H * I / 32, r, 119, 4);
        FloatArray bias1 = randomFloats(E * 2 * I, r), bias2 = randomFloats(E * H, r);
        FloatArray x = randomFloats(MAX_ROWS * H, r), logits = randomFloats(MAX_ROWS * E, r);
        float[] tie = {0f, 1f, 1f, 3f}; // row 1: expert 3 first, then a tie between 1 and 2 that 1 wins
        for (int e = 0; e < E; e++) logits.set(E + e, tie[e]);
        if (rows == 8) {
            // Every row picks expert 3 first and expert t mod 3 second (row 1 keeps its tie): 8, 3, 3, 2 slots.
            for (int t = 0; t < rows; t++) {
                if (t == 1) continue;
                for (int e = 0; e < E; e++) logits.set(t * E + e, e == 3 ? 5f : e == t % 3 ? 4f : -1f - Math.abs(logits.get(t * E + e)));
            }
        }
        int rowTiles = (MAX_ROWS + ExpertKernels.TILE - 1) / ExpertKernels.TILE;
        IntArray routes = new IntArray(2 * rowTiles * ExpertKernels.TILE * K + E + 1);
        FloatArray weights = new FloatArray(2 * rowTiles * ExpertKernels.TILE * K), record = new FloatArray(MAX_ROWS * (2 * K + E));
        FloatArray hidden = new FloatArray(MAX_ROWS * K * I), out = new FloatArray(MAX_ROWS * K * H);
        FloatArray tables = DecodeTables.create();
        boolean tiled = rows > MATVEC_ROWS;
        IntArray params = new IntArray(Params.SIZE);
        params.set(Params.ROWS, rows);
        params.set(Params.MATVEC_ROWS, tiled ? 0 : rows);
        params.set(Params.TILED_ROWS, tiled ? rows : 0);
        int lanes1 = MatmulKernels.lanes(H / 2), lanes2 = MatmulKernels.lanes(I / 2);

        GridScheduler grids = new GridScheduler();
        grid(grids, "r.route", 1, 1, 1, 1);
        decodeGrid(grids, "r.gateUp", I, lanes1, rows);
        tiledGrid(grids, "r.gateUpTiled", 2 * I, E * rowTiles, tiled);
        decodeGrid(grids, "r.down", H, lanes2, rows);
        tiledGrid(grids, "r.downTiled", H, E * rowTiles, tiled);
        KernelContext ctx = new KernelContext();
        TaskGraph g = new TaskGraph("r")
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, tables, blocks1, scales1, bias1, blocks2, scales2, bias2, x, logits,
                        routes, weights, record, hidden, out, params)
                .task("route", RoutingKernels::route, ctx, logits, routes, weights, record, tables, params, E, K, 0, rowTiles)
                .task("gateUp", ExpertKernels::gateUpRoutedDecode, ctx, x, blocks1, scales1, bias1, hidden, routes, tables, params,
                        H, I, ALPHA, LIMIT, lanes1, K, rowTiles, MATVEC_ROWS)
                .task("gateUpTiled", ExpertKernels::gateUpRoutedTiled, ctx, x, blocks1, scales1, bias1, hidden, routes, tables, params,
                        H, I, ALPHA, LIMIT, K, rowTiles, MATVEC_ROWS)
                .task("down", ExpertKernels::downRoutedDecode, ctx, hidden, blocks2, scales2, bias2, out, routes, tables, params, H, I, lanes2, K,
                        rowTiles, MATVEC_ROWS)
                .task("downTiled", ExpertKernels::downRoutedTiled, ctx, hidden, blocks2, scales2, bias2, out, routes, tables, params, H, I, K,
                        rowTiles, MATVEC_ROWS)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, routes, weights, hidden, out);
        try (TornadoExecutionPlan plan = new TornadoExecutionPlan(g.snapshot())) {
            plan.withDevice(TornadoInstallation.device(TornadoTests.device())).withGridScheduler(grids).execute();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }

        int[] slots = new int[E];
        for (int i = 0; i < rows * K; i++) slots[routes.get(i)]++;
        if (rows == 8) assertArrayEquals(new int[]{3, 3, 2, 8}, slots, "slots per expert: both ways in one execution");
        float worstHidden = 0, worstOut = 0;
        for (int t = 0; t < rows; t++) {
            int[] ids = topK(logits, t);
            if (t == 1) assertEquals(1, ids[1], "the host's own tie rule");
            double max = logits.get(t * E + ids[0]), sum = 0;
            for (int s = 0; s < K; s++) sum += Math.exp(logits.get(t * E + ids[s]) - max);
            for (int s = 0; s < K; s++) {
                int slot = t * K + s;
                assertEquals(ids[s], routes.get(slot), "expert of row " + t + " slot " + s);
                assertEquals(Math.exp(logits.get(t * E + ids[s]) - max) / sum, weights.get(slot), 2e-7, "weight of row " + t + " slot " + s);
                float[] y = new float[I];
                for (int j = 0; j < I; j++) {
                    float gate = dot(blocks1, scales1, ids[s] * 2 * I + 2 * j, H, x, t * H) + bias1.get(ids[s] * 2 * I + 2 * j);
                    float linear = dot(blocks1, scales1, ids[s] * 2 * I + 2 * j + 1, H, x, t * H) + bias1.get(ids[s] * 2 * I + 2 * j + 1);
                    float gg = Math.min(gate, LIMIT), ll = Math.max(-LIMIT, Math.min(linear, LIMIT));
                    y[j] = (float) (gg / (1 + Math.exp(-ALPHA * gg)) * (ll + 1));
                    worstHidden = Math.max(worstHidden, Math.abs(y[j] - hidden.get(slot * I + j)));
                }
                FloatArray yArray = FloatArray.fromArray(y);
                for (int o = 0; o < H; o++) {
                    float expected = dot(blocks2, scales2, ids[s] * H + o, I, yArray, 0) + bias2.get(ids[s] * H + o);
                    worstOut = Math.max(worstOut, Math.abs(expected - out.get(slot * H + o)) / Math.max(1f, Math.abs(expected)));
                }
            }
        }
        assertTrue(worstHidden <= 1e-4f, "gate/up + SwiGLU of the chosen experts: max error " + worstHidden);
        assertTrue(worstOut <= 1e-4f, "down of the chosen experts: max relative error " + worstOut);
    }

    /** The k largest logits of row t, ties to the lower id. */
    static int[] topK(FloatArray logits, int t) {
        int[] ids = new int[K];
        boolean[] taken = new boolean[E];
        for (int s = 0; s < K; s++) {
            int best = -1;
            for (int e = 0; e < E; e++) {
                if (!taken[e] && (best < 0 || logits.get(t * E + e) > logits.get(t * E + best))) best = e;
            }
            taken[best] = true;
            ids[s] = best;
        }
        return ids;
    }

    /** Row {@code row} of an MXFP4 matrix with n columns, dotted with v[at .. at+n]. */
    static float dot(ByteArray blocks, ByteArray scales, int row, int n, FloatArray v, int at) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            int b = blocks.get(row * n / 2 + i / 2) & 0xFF;
            int code = (i & 1) == 0 ? b & 15 : b >> 4;
            sum += (double) Mxfp4Tensor.FP4[code] * Mxfp4Tensor.E8M0[scales.get(row * n / 32 + i / 32) & 0xFF] * v.get(at + i);
        }
        return (float) sum;
    }

    static void grid(GridScheduler grids, String name, long gx, long gy, int lx, int ly) {
        WorkerGrid w = new WorkerGrid2D(lx, ly);
        w.setGlobalWork(gx, gy, 1);
        w.setLocalWork(lx, ly, 1);
        grids.addWorkerGrid(name, w);
    }

    static void decodeGrid(GridScheduler grids, String name, int outputs, int lanes, int rows) {
        int perGroup = ExpertKernels.LOCAL / lanes;
        grid(grids, name, rows > 0 ? (long) (outputs + perGroup - 1) / perGroup * ExpertKernels.LOCAL : ExpertKernels.LOCAL,
                Math.max(1, rows * K), ExpertKernels.LOCAL, 1);
    }

    static void tiledGrid(GridScheduler grids, String name, int outputs, int tileRows, boolean works) {
        int T = ExpertKernels.TILE;
        grid(grids, name, works ? (outputs + T - 1) / T * T : T, works ? (long) tileRows * T : T, T, T);
    }

    static ByteArray randomBytes(int n, Random r, int from, int span) {
        ByteArray a = new ByteArray(n);
        for (int i = 0; i < n; i++) a.set(i, (byte) (from + r.nextInt(span)));
        return a;
    }

    static FloatArray randomFloats(int n, Random r) {
        FloatArray a = new FloatArray(n);
        for (int i = 0; i < n; i++) a.set(i, (float) r.nextGaussian());
        return a;
    }
}
