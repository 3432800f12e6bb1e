package gptoss.runtime.cpu;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How {@link WorkerPool} cuts a range into claims: every index exactly once, in the claim sizes each mode promises. */
class WorkerPoolTest {
    /** Claims [from, to) as the threads took them. */
    private static List<int[]> claims(WorkerPool pool, int n, int quantum, int grain, AtomicIntegerArray seen) {
        List<int[]> claims = Collections.synchronizedList(new ArrayList<>());
        WorkerPool.Task body = (thread, from, to) -> {
            assertTrue(thread >= 0 && thread < pool.threads(), "thread " + thread);
            for (int i = from; i < to; i++) seen.incrementAndGet(i);
            claims.add(new int[]{from, to});
        };
        if (quantum == 0) pool.run(n, grain, body);
        else pool.runGuided(n, quantum, grain, body);
        List<int[]> sorted = new ArrayList<>(claims);
        sorted.sort((a, b) -> Integer.compare(a[0], b[0]));
        return sorted;
    }

    @Test
    void guidedClaimsCoverTheRangeOnceInWholeQuantaThatShrinkToOne() {
        for (int threads = 1; threads <= 3; threads++) {
            try (WorkerPool pool = new WorkerPool(threads)) {
                for (int[] c : new int[][]{{5120, 8, 176}, {201088, 8, 176}, {1440, 1, 45}, {720, 1, 22}, {37, 8, 16}, {9, 8, 8}}) {
                    int n = c[0], quantum = c[1], grain = c[2];
                    for (int repeat = 0; repeat < 5; repeat++) {
                        AtomicIntegerArray seen = new AtomicIntegerArray(n);
                        List<int[]> claims = claims(pool, n, quantum, grain, seen);
                        for (int i = 0; i < n; i++) assertEquals(1, seen.get(i), "n " + n + ", index " + i + " with " + threads + " threads");
                        if (threads == 1 || n <= grain) { // one call on the calling thread
                            assertEquals(1, claims.size());
                            assertArrayEquals(new int[]{0, n}, claims.get(0));
                            continue;
                        }
                        int at = 0;
                        for (int[] claim : claims) {
                            String what = "n " + n + ", claim [" + claim[0] + ", " + claim[1] + ") with " + threads + " threads";
                            assertEquals(at, claim[0], what);
                            assertEquals(0, claim[0] % quantum, what + ": starts inside a quantum");
                            assertTrue(claim[1] - claim[0] <= grain, what + ": longer than the grain " + grain);
                            assertTrue(claim[1] == n || (claim[1] - claim[0]) % quantum == 0, what + ": not whole quanta");
                            at = claim[1];
                        }
                        assertEquals(n, at);
                        {
                            // the claims shrink: the first is the grain (when a quarter share of the whole exceeds it), the last one quantum
                            int[] last = claims.get(claims.size() - 1);
                            assertTrue(last[1] - last[0] <= quantum, "n " + n + ": last claim " + (last[1] - last[0]) + " > quantum " + quantum);
                            if (n / (2 * threads) >= grain) assertEquals(grain, claims.get(0)[1] - claims.get(0)[0], "n " + n + ": first claim");
                        }
                    }
                }
            }
        }
    }

    @Test
    void fixedClaimsAreChunksOfTheGrain() {
        try (WorkerPool pool = new WorkerPool(2)) {
            AtomicIntegerArray seen = new AtomicIntegerArray(1000);
            List<int[]> claims = claims(pool, 1000, 0, 64, seen);
            for (int i = 0; i < 1000; i++) assertEquals(1, seen.get(i));
            for (int k = 0; k < claims.size(); k++) assertArrayEquals(new int[]{64 * k, Math.min(1000, 64 * k + 64)}, claims.get(k));
        }
    }

    @Test
    void guidedClaimsRejectAGrainThatIsNotWholeQuanta() {
        try (WorkerPool pool = new WorkerPool(2)) {
            assertThrows(IllegalArgumentException.class, () -> pool.runGuided(100, 8, 12, (t, a, b) -> { }));
            assertThrows(IllegalArgumentException.class, () -> pool.runGuided(100, 0, 8, (t, a, b) -> { }));
        }
    }

    @Test
    void dispatchTimingCountsDispatchesOnlyWhenOn() {
        try (WorkerPool pool = new WorkerPool(2)) {
            WorkerPool.Task body = (t, a, b) -> { };
            pool.run(100, 10, body);
            assertArrayEquals(new long[]{0, 0, 0}, pool.drainTiming());
            pool.setTiming(true);
            pool.run(100, 10, body);
            pool.runGuided(100, 2, 10, body);
            pool.run(5, 10, body); // one claim: runs inline, no dispatch
            long[] t = pool.drainTiming();
            assertEquals(2, t[0]);
            assertTrue(t[1] >= 0 && t[2] >= 0);
            assertArrayEquals(new long[]{0, 0, 0}, pool.drainTiming());
        }
    }
}
