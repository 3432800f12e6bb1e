package gptoss.tornado.kernels;

/**
 * Slots of the small int array every task graph uploads at each execution: what changes from call to call
 * (row counts, which kernel variant runs, which expert). Sizes that never change are scalar task arguments.
 * A variant whose row count is 0 returns at once: each graph holds a decode (matrix-vector) and a batched
 * (tiled) variant of its kernels, and the host launches the unused one with a single work-group.
 */
public final class Params {
    /** Rows in this execution. */
    public static final int ROWS = 0;
    /** Rows for the matrix-vector kernels (0 when the tiled ones run). */
    public static final int MATVEC_ROWS = 1;
    /** Rows for the tiled kernels (0 when the matrix-vector ones run). */
    public static final int TILED_ROWS = 2;
    /** Rows for the decode attention kernel (0 when the tiled one runs). */
    public static final int DECODE_ROWS = 3;
    /** Query tiles for the tiled (prefill) attention kernel (0 when the decode one runs). */
    public static final int PREFILL_TILES = 4;
    /** Expert, as its index among the experts this backend holds in the layer. */
    public static final int EXPERT = 5;
    /** What the whole-step graph copies to its record arrays for listeners (bits of {@link RoutingKernels}). */
    public static final int RECORD = 6;
    /** First row of the execution's rows that the whole-step graph's head runs on ({@code ROWS} of them from there). */
    public static final int FIRST_ROW = 7;
    public static final int SIZE = 8;

    /** Flag of the matmul kernels: add a bias. */
    public static final int HAS_BIAS = 1;
    /** Flag of the matmul kernels: add the product to the output (the residual stream). */
    public static final int ACCUMULATE = 2;

    private Params() {
    }
}
