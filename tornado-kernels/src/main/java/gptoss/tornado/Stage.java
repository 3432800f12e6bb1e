package gptoss.tornado;

import gptoss.tornado.kernels.MatmulKernels;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.WorkerGrid;
import uk.ac.manchester.tornado.api.WorkerGrid1D;
import uk.ac.manchester.tornado.api.WorkerGrid2D;

import java.util.ArrayList;
import java.util.List;

/**
 * One task graph of the backend's execution plan (attention of a layer, its router, its experts, the head),
 * with the work-group grids of its tasks. Grids are explicit and resized before every execution: the variant
 * of a kernel that does not run this time gets a single work-group whose threads return at once.
 */
abstract class Stage {
    final String kind;
    final String name;
    final TaskGraph graph;
    private final GridScheduler scheduler;
    private final List<String> tasks = new ArrayList<>();
    /** Position of this graph in the execution plan. */
    int index = -1;

    Stage(String kind, String name, GridScheduler scheduler) {
        this.kind = kind;
        this.name = name;
        this.graph = new TaskGraph(name);
        this.scheduler = scheduler;
    }

    /** Registers the grid of task {@code task}: 1-D with work-groups of {@code local} threads. */
    WorkerGrid grid1(String task, int local) {
        WorkerGrid grid = new WorkerGrid1D(local);
        grid.setLocalWork(local, 1, 1);
        return register(task, grid);
    }

    /** Registers a 2-D grid with work-groups of {@code localX × localY} threads. */
    WorkerGrid grid2(String task, int localX, int localY) {
        WorkerGrid grid = new WorkerGrid2D(localX, localY);
        grid.setLocalWork(localX, localY, 1);
        return register(task, grid);
    }

    private WorkerGrid register(String task, WorkerGrid grid) {
        scheduler.addWorkerGrid(name + "." + task, grid);
        tasks.add(task);
        return grid;
    }

    List<String> tasks() {
        return tasks;
    }

    static long roundUp(long n, long multiple) {
        return Math.max(multiple, (n + multiple - 1) / multiple * multiple);
    }

    /**
     * The grids of a product run either as matvec (decode: {@code lanes} threads per output, {@code local / lanes}
     * outputs per work-group) or tiled (prefill).
     */
    record ProductGrids(String matvecTask, WorkerGrid matvec, String tiledTask, WorkerGrid tiled, int outputs, int local, int lanes) {
        static ProductGrids of(Stage stage, String prefix, int outputs, int local, int lanes, int tile) {
            return new ProductGrids(prefix + "Matvec", stage.grid1(prefix + "Matvec", local),
                    prefix + "Tiled", stage.grid2(prefix + "Tiled", tile, tile), outputs, local, lanes);
        }

        /** A BF16 product with K inputs. */
        static ProductGrids dense(Stage stage, String prefix, int outputs, int K) {
            return of(stage, prefix, outputs, MatmulKernels.LOCAL, MatmulKernels.lanes(K), MatmulKernels.TILE);
        }

        /** Sizes both grids for {@code rows} rows; the variant not chosen gets one idle work-group. */
        void size(int rows, boolean tiled) {
            sizeMatvec(rows > 0 && !tiled);
            int tile = (int) this.tiled.getLocalWork()[0];
            if (rows > 0 && tiled) this.tiled.setGlobalWork(roundUp(outputs, tile), roundUp(rows, tile), 1);
            else this.tiled.setGlobalWork(tile, tile, 1);
        }

        void sizeMatvec(boolean active) {
            int perGroup = local / lanes;
            matvec.setGlobalWork(active ? (long) (outputs + perGroup - 1) / perGroup * local : local, 1, 1);
        }

        /** The task that runs for this choice. */
        String active(boolean tiled) {
            return tiled ? tiledTask : matvecTask;
        }
    }
}
