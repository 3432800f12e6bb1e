package gptoss.tornado;

import gptoss.tornado.kernels.MatmulKernels;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.WorkerGrid2D;

import java.util.ArrayList;
import java.util.List;

/**
 * One task graph of the backend's execution plan (attention of a layer, its router, its experts, the head),
 * with the work-group grids of its tasks. Grids are explicit and set before every execution, for the rows of the
 * call and the way each kernel runs this time (decode or prefill); with no rows, one idle work-group.
 */
abstract class Stage {
    final String kind;
    final String name;
    final TaskGraph graph;
    private final GridScheduler scheduler;
    private final List<String> tasks = new ArrayList<>();
    /** Position of this graph in the execution plan. */
    int index = -1;
    /** Bytes TornadoVM copies to the device at every execution (its EVERY_EXECUTION arrays, whole). */
    long uploadBytes;

    Stage(String kind, String name, GridScheduler scheduler) {
        this.kind = kind;
        this.name = name;
        this.graph = new TaskGraph(name);
        this.scheduler = scheduler;
    }

    /** Registers the grid of task {@code task} (sized before each execution). */
    WorkerGrid grid(String task, int localX, int localY) {
        WorkerGrid grid = new WorkerGrid2D(localX, localY);
        grid.setLocalWork(localX, localY, 1);
        scheduler.addWorkerGrid(name + "." + task, grid);
        tasks.add(task);
        return grid;
    }

    List<String> tasks() {
        return tasks;
    }

    static long bytes(uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray... arrays) {
        long n = 0;
        for (var a : arrays) n += a.getNumBytesOfSegment();
        return n;
    }

    static long roundUp(long n, long multiple) {
        return Math.max(multiple, (n + multiple - 1) / multiple * multiple);
    }

    /** Profiler label of a task run one way or the other. */
    static String label(String task, boolean prefill) {
        return task + (prefill ? ".prefill" : ".decode");
    }

    /**
     * The grid of a product kernel that runs either as matvec (decode: {@code lanes} threads per output,
     * {@code local / lanes} outputs per work-group of (local, 1)) or tiled (prefill: (tile, tile) work-groups over
     * {@code tiledOutputs} × rows).
     */
    record Product(String task, WorkerGrid grid, int outputs, int tiledOutputs, int local, int lanes, int tile) {
        static Product of(Stage stage, String task, int outputs, int tiledOutputs, int local, int lanes, int tile) {
            return new Product(task, stage.grid(task, local, 1), outputs, tiledOutputs, local, lanes, tile);
        }

        /** A BF16 product with K inputs. */
        static Product dense(Stage stage, String task, int outputs, int K) {
            return of(stage, task, outputs, outputs, MatmulKernels.LOCAL, MatmulKernels.lanes(K), MatmulKernels.TILE);
        }

        /**
         * Sizes the grid for {@code rows} rows and returns the profiler label. With no rows, one idle work-group of
         * the shape of that way (a warm-up: some drivers, PoCL among them, compile a kernel per work-group shape).
         */
        String size(int rows, boolean tiled) {
            if (tiled) {
                grid.setGlobalWork(rows > 0 ? roundUp(tiledOutputs, tile) : tile, roundUp(rows, tile), 1);
                grid.setLocalWork(tile, tile, 1);
            } else {
                int perGroup = local / lanes;
                grid.setGlobalWork(rows > 0 ? (long) (outputs + perGroup - 1) / perGroup * local : local, 1, 1);
                grid.setLocalWork(local, 1, 1);
            }
            return label(task, tiled);
        }
    }
}
