package gptoss.runtime.cpu;

import gptoss.model.memory.HugePages;
import gptoss.runtime.cpu.kernel.Lanes;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * The machine's memory read bandwidth: threads of a {@link WorkerPool} stream a buffer larger than the caches with
 * vector loads, each claiming 1 MiB chunks and reading a chunk as eight interleaved streams (the fastest way we
 * found for a core to read memory), summing what they read so the loads cannot be skipped.
 */
public final class ReadBandwidth {
    private static final long CHUNK = 1 << 20;

    private ReadBandwidth() {
    }

    /** Best GB/s (10^9 bytes) of {@code passes} streaming passes over a fresh buffer of {@code bytes}, with {@code threads} threads. */
    public static double measure(int threads, long bytes, int passes) {
        try (Arena arena = Arena.ofShared(); WorkerPool pool = new WorkerPool(threads)) {
            Pass pass = new Pass(arena, bytes, threads);
            double best = 0;
            for (int p = 0; p < passes; p++) {
                long start = System.nanoTime();
                pass.run(pool);
                best = Math.max(best, pass.bytes() / (double) (System.nanoTime() - start));
            }
            return best;
        }
    }

    /**
     * The ints of {@code buffer[from, to)} summed (so the loads cannot be skipped), read with vector loads as eight
     * interleaved streams {@code (to - from) / 8} bytes apart: a core needs several streams in flight to reach the
     * memory's bandwidth (one stream reaches about 90 % of it here). {@code to - from} is a multiple of eight vectors.
     */
    public static long readInterleaved(MemorySegment buffer, long from, long to) {
        long v = Lanes.I.vectorByteSize(), s = (to - from) / 8;
        if (s % v != 0 || 8 * s != to - from) throw new IllegalArgumentException("not eight whole-vector streams: " + (to - from) + " bytes");
        IntVector a0 = IntVector.zero(Lanes.I), a1 = IntVector.zero(Lanes.I), a2 = IntVector.zero(Lanes.I), a3 = IntVector.zero(Lanes.I);
        for (long p = from; p < from + s; p += v) {
            a0 = a0.add(IntVector.fromMemorySegment(Lanes.I, buffer, p, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(IntVector.fromMemorySegment(Lanes.I, buffer, p + s, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(IntVector.fromMemorySegment(Lanes.I, buffer, p + 2 * s, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(IntVector.fromMemorySegment(Lanes.I, buffer, p + 3 * s, ByteOrder.LITTLE_ENDIAN));
            a0 = a0.add(IntVector.fromMemorySegment(Lanes.I, buffer, p + 4 * s, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(IntVector.fromMemorySegment(Lanes.I, buffer, p + 5 * s, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(IntVector.fromMemorySegment(Lanes.I, buffer, p + 6 * s, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(IntVector.fromMemorySegment(Lanes.I, buffer, p + 7 * s, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    /** The ints of {@code buffer[from, to)} summed, read as one sequential stream of vector loads (whole vectors). */
    public static long readSequential(MemorySegment buffer, long from, long to) {
        long v = Lanes.I.vectorByteSize(), p = from;
        IntVector a0 = IntVector.zero(Lanes.I), a1 = IntVector.zero(Lanes.I), a2 = IntVector.zero(Lanes.I), a3 = IntVector.zero(Lanes.I);
        for (; p + 4 * v <= to; p += 4 * v) {
            a0 = a0.add(IntVector.fromMemorySegment(Lanes.I, buffer, p, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(IntVector.fromMemorySegment(Lanes.I, buffer, p + v, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(IntVector.fromMemorySegment(Lanes.I, buffer, p + 2 * v, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(IntVector.fromMemorySegment(Lanes.I, buffer, p + 3 * v, ByteOrder.LITTLE_ENDIAN));
        }
        for (; p + v <= to; p += v) a0 = a0.add(IntVector.fromMemorySegment(Lanes.I, buffer, p, ByteOrder.LITTLE_ENDIAN));
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD);
    }

    /** One streaming read of a buffer, chunks claimed by the threads of a pool; the sums keep the loads alive. */
    public static final class Pass implements WorkerPool.Task {
        private final MemorySegment buffer;
        private final long[] sums;

        /**
         * A buffer of about {@code bytes} (whole MiB) in {@code arena}, in huge pages where the system has them (as
         * the weights are read, see {@link HugePages}), written once so every page is in memory.
         */
        public Pass(Arena arena, long bytes, int threads) {
            long size = Math.max(CHUNK, bytes / CHUNK * CHUNK);
            this.buffer = HugePages.allocate(size, arena);
            buffer.fill((byte) 1);
            this.sums = new long[threads * 8]; // one cache line apart
        }

        public long bytes() {
            return buffer.byteSize();
        }

        /** Reads the whole buffer once; returns the sum of what was read. */
        public long run(WorkerPool pool) {
            pool.run((int) (buffer.byteSize() / CHUNK), 1, this);
            long t = 0;
            for (long s : sums) t += s;
            return t;
        }

        @Override
        public void run(int thread, int from, int to) {
            long sum = 0;
            for (long c = from * CHUNK, end = to * CHUNK; c < end; c += CHUNK) sum += readInterleaved(buffer, c, c + CHUNK);
            sums[thread * 8] += sum;
        }
    }
}
