package gptoss.tornado;

import gptoss.tornado.kernels.AttentionKernels;

/**
 * Free list of cache pages shared by the layers of one kind (full or sliding attention): page i is the same
 * {@link AttentionKernels#PAGE} positions in every such layer's key and value buffers.
 */
final class KvPagePool {
    private final String kind;
    private final int pages;
    private final int[] free;
    private int freeCount;

    KvPagePool(String kind, int pages) {
        this.kind = kind;
        this.pages = pages;
        this.free = new int[pages];
        for (int i = 0; i < pages; i++) free[i] = pages - 1 - i;
        this.freeCount = pages;
    }

    int pages() {
        return pages;
    }

    /** Positions each layer buffer holds. */
    int slots() {
        return pages * AttentionKernels.PAGE;
    }

    int allocate() {
        if (freeCount == 0) {
            throw new IllegalStateException("the tornado KV cache for " + kind + " layers is full (" + pages + " pages of "
                    + AttentionKernels.PAGE + " positions in use; raise -D" + TornadoSettings.PREFIX + "kvTokens"
                    + " or -D" + TornadoSettings.PREFIX + "sequences)");
        }
        return free[--freeCount];
    }

    void release(int page) {
        free[freeCount++] = page;
    }
}
