package gptoss.tornado;

import gptoss.runtime.backend.KvCache;
import gptoss.tornado.kernels.AttentionKernels;

import java.util.Arrays;

/**
 * The keys and values of one sequence on a tornado backend: lists of pages in the backend's device pools.
 * Full-attention layers hold position p at logical slot p; sliding layers hold a ring of {@code ringSlots}
 * positions (the window plus a batch), position p at p mod ringSlots. Pages are taken as the sequence grows
 * and given back on {@link #truncate} and {@link #close}.
 */
final class TornadoKvCache implements KvCache {
    private static final int PAGE = AttentionKernels.PAGE;

    final TornadoBackend owner;
    private final KvPagePool full;    // null when the backend holds no full-attention layer
    private final KvPagePool sliding; // null when it holds no sliding layer
    private final int ringSlots;
    private final int window;
    private final int maxContext;
    private final long fullPageBytes, slidingPageBytes;
    private int[] fullPages = new int[8];
    private int fullCount;
    private final int[] ringPages;
    private int ringCount;
    private int length;
    private boolean closed;

    TornadoKvCache(TornadoBackend owner, KvPagePool full, KvPagePool sliding, int ringSlots, int window, int maxContext,
                   long fullPageBytes, long slidingPageBytes) {
        this.owner = owner;
        this.full = full;
        this.sliding = sliding;
        this.ringSlots = ringSlots;
        this.window = window;
        this.maxContext = maxContext;
        this.fullPageBytes = fullPageBytes;
        this.slidingPageBytes = slidingPageBytes;
        this.ringPages = new int[sliding == null ? 0 : ringSlots / PAGE];
    }

    @Override
    public int length() {
        return length;
    }

    /** Makes room for positions {@code < positions}, taking pages from the pools. */
    void reserve(int positions) {
        if (closed) throw new IllegalStateException("KV cache used after close");
        if (positions > maxContext) throw new IllegalArgumentException("position " + (positions - 1) + " is past the cache's context of " + maxContext);
        int pages = (positions + PAGE - 1) / PAGE;
        if (full != null) {
            while (fullCount < pages) {
                if (fullCount == fullPages.length) fullPages = Arrays.copyOf(fullPages, fullPages.length * 2);
                int page = full.allocate(); // before the count moves: allocate may throw
                fullPages[fullCount++] = page;
            }
        }
        if (sliding != null) {
            int ring = Math.min(pages, ringPages.length);
            while (ringCount < ring) {
                int page = sliding.allocate();
                ringPages[ringCount++] = page;
            }
        }
    }

    /** Records that positions {@code < positions} are written. */
    void advance(int positions) {
        length = Math.max(length, positions);
    }

    int fullPageCount() {
        return fullCount;
    }

    int ringPageCount() {
        return ringCount;
    }

    /** Copies this sequence's full-layer page list to {@code out} from {@code offset}. */
    void copyFullPages(int[] out, int offset) {
        System.arraycopy(fullPages, 0, out, offset, fullCount);
    }

    void copyRingPages(int[] out, int offset) {
        System.arraycopy(ringPages, 0, out, offset, ringCount);
    }

    @Override
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) throw new IllegalArgumentException("cannot truncate " + length + " to " + newLength);
        // A ring cannot give back positions it has overwritten: those the new end still sees must be intact.
        if (sliding != null && length > ringSlots && length - newLength > ringSlots - window) {
            throw new IllegalStateException("a sliding-window cache cannot rewind from " + length + " to " + newLength);
        }
        int keep = (newLength + PAGE - 1) / PAGE;
        while (fullCount > keep) full.release(fullPages[--fullCount]);
        length = newLength;
    }

    @Override
    public long bytes() {
        return fullCount * fullPageBytes + ringCount * slidingPageBytes;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        while (fullCount > 0) full.release(fullPages[--fullCount]);
        while (ringCount > 0) sliding.release(ringPages[--ringCount]);
    }
}
