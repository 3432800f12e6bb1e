package gptoss.bench;

import gptoss.runtime.cpu.kernel.Lanes;
import gptoss.runtime.cpu.kernel.WeightMatrix;

import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;

/**
 * The MXFP4 matrix-vector kernels, native and Java, on one thread, timed in the thread's own CPU time as well as
 * wall-clock time: on a shared host whose cores are oversubscribed, CPU time still compares the kernels (time
 * slices lost to other processes do not count). Matrices are gpt-oss-20b's 5760×2880 gate/up shape; "cache" runs
 * the first 512 rows of one matrix (0.78 MB, in L2) again and again, "memory" walks all of them (rows out of cache).
 * Two rounds per kernel, alternating. Usage: {@code MatVecCpuTime [megabytes]} (default 512).
 */
public final class MatVecCpuTime {
    private static final int COLS = 2880, ROWS = 5760, CACHE_ROWS = 512;

    private MatVecCpuTime() {
    }

    public static void main(String[] args) {
        long megabytes = args.length > 0 ? Long.parseLong(args[0]) : 512;
        double rowBytes = COLS / 32 * 17.0;
        int matrices = (int) Math.max(1, megabytes * (1L << 20) / (ROWS * rowBytes));
        ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        System.out.println(Lanes.describe() + "; " + matrices + " matrices of " + ROWS + "x" + COLS + " MXFP4");
        try (Arena arena = Arena.ofShared()) {
            var tensor = RandomWeights.tensor("mxfp4", arena, (long) matrices * ROWS * COLS, 1);
            float[] x = RandomWeights.gaussian(COLS, 2);
            for (String kernel : new String[]{"native", "java", "native", "java"}) {
                WeightMatrix[] m = new WeightMatrix[matrices];
                for (int i = 0; i < matrices; i++) {
                    long offset = (long) i * ROWS * COLS;
                    m[i] = kernel.equals("java") ? WeightMatrix.javaKernels(tensor, offset, ROWS, COLS) : WeightMatrix.of(tensor, offset, ROWS, COLS);
                }
                float[] in = new float[m[0].dotLayout().length(COLS)];
                m[0].dotLayout().arrange(x, 0, COLS, in, 0);
                float[] out = new float[ROWS], pass = new float[WeightMatrix.PASS_ROWS];
                for (String where : new String[]{"cache", "memory"}) {
                    for (int round = 0; round < 2; round++) { // the first round warms up the JIT
                        long cpu0 = bean.getCurrentThreadCpuTime(), wall0 = System.nanoTime();
                        double bytes = 0;
                        int reps = where.equals("cache") ? 3000 : 2 * matrices;
                        for (int r = 0; r < reps; r++) {
                            int rows = where.equals("cache") ? CACHE_ROWS : ROWS;
                            m[where.equals("cache") ? 0 : r % matrices].dotRows(0, rows, in, 0, out, 0, pass);
                            bytes += rows * rowBytes;
                        }
                        long cpu = bean.getCurrentThreadCpuTime() - cpu0, wall = System.nanoTime() - wall0;
                        if (round == 1) {
                            System.out.printf(Locale.ROOT, "%-6s %-6s %6.2f GB/s of thread CPU time, %6.2f GB/s wall-clock%n",
                                    kernel, where, bytes / cpu, bytes / wall);
                        }
                    }
                }
            }
        }
    }
}
