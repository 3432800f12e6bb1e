package gptoss.measure;

import gptoss.runtime.cpu.WorkerPool;
import gptoss.runtime.cpu.kernel.Lanes;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * The machine's memory read bandwidth, measured the way the kernels read weights: threads of a {@link WorkerPool}
 * stream a buffer larger than the caches with vector loads, each claiming its own contiguous stretch, and sum
 * what they read so the loads cannot be skipped. Bytes read per second of the fastest pass.
 */
public final class ReadBandwidth {
    private static final long CHUNK = 1 << 20;

    private ReadBandwidth() {
    }

    /** Best GB/s (10^9 bytes) of {@code passes} streaming passes over a fresh buffer of {@code bytes}, with {@code threads} threads. */
    public static double measure(int threads, long bytes, int passes) {
        long size = Math.max(CHUNK, bytes / CHUNK * CHUNK);
        try (Arena arena = Arena.ofShared(); WorkerPool pool = new WorkerPool(threads)) {
            MemorySegment buffer = arena.allocate(size, 4096);
            buffer.fill((byte) 1); // fault every page in before timing
            Pass pass = new Pass(buffer, threads);
            double best = 0;
            for (int p = 0; p < passes; p++) {
                long start = System.nanoTime();
                pool.run((int) (size / CHUNK), 1, pass);
                long nanos = System.nanoTime() - start;
                best = Math.max(best, size / (double) nanos);
                if (pass.total() == 42) System.err.print(""); // keep the sums observable
            }
            return best;
        }
    }

    /** Sums chunks of the buffer, per thread. */
    private static final class Pass implements WorkerPool.Task {
        private final MemorySegment buffer;
        private final long[] sums;

        Pass(MemorySegment buffer, int threads) {
            this.buffer = buffer;
            this.sums = new long[threads * 8]; // one cache line apart
        }

        @Override
        public void run(int thread, int from, int to) {
            long bytes = Lanes.I.vectorByteSize();
            IntVector a0 = IntVector.zero(Lanes.I), a1 = IntVector.zero(Lanes.I), a2 = IntVector.zero(Lanes.I), a3 = IntVector.zero(Lanes.I);
            for (long p = from * CHUNK, end = to * CHUNK; p < end; p += 4 * bytes) {
                a0 = a0.add(IntVector.fromMemorySegment(Lanes.I, buffer, p, ByteOrder.LITTLE_ENDIAN));
                a1 = a1.add(IntVector.fromMemorySegment(Lanes.I, buffer, p + bytes, ByteOrder.LITTLE_ENDIAN));
                a2 = a2.add(IntVector.fromMemorySegment(Lanes.I, buffer, p + 2 * bytes, ByteOrder.LITTLE_ENDIAN));
                a3 = a3.add(IntVector.fromMemorySegment(Lanes.I, buffer, p + 3 * bytes, ByteOrder.LITTLE_ENDIAN));
            }
            sums[thread * 8] += a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
        }

        long total() {
            long t = 0;
            for (long s : sums) t += s;
            return t;
        }
    }
}
