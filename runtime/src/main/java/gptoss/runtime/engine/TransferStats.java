package gptoss.runtime.engine;

import gptoss.runtime.backend.Backend;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Activation rows that cross from one backend to another under a {@link Placement}, counted by the engine as it
 * dispatches. The residual stream of a layer is taken to live on the backend running that layer's attention; a
 * row then crosses when
 * <ul>
 *   <li>an expert held elsewhere is applied to it: the normed row goes out and the expert's output row comes
 *       back (counted per expert evaluation, as the backend SPI hands rows over per expert call);</li>
 *   <li>consecutive layers' attention runs on different backends (a pipeline hop);</li>
 *   <li>the head runs elsewhere than the last layer's attention.</li>
 * </ul>
 * A row is H floats. Updates allocate nothing. Not thread-safe (the engine's thread updates it).
 */
public final class TransferStats {
    private final List<Backend> backends;
    private final int[] attention;   // [L] backend index
    private final int[][] experts;   // [L][E] backend index
    private final int head;
    private final long rowBytes;
    private final long[][] rows;     // [from][to]
    private long expertRowsOut, expertRowsBack, hopRows;

    public TransferStats(Placement placement, int numLayers, int numExperts, int hiddenSize) {
        this.backends = placement.backends();
        Map<Backend, Integer> index = new IdentityHashMap<>();
        for (int i = 0; i < backends.size(); i++) index.put(backends.get(i), i);
        attention = new int[numLayers];
        experts = new int[numLayers][numExperts];
        for (int l = 0; l < numLayers; l++) {
            attention[l] = index.get(placement.attention(l));
            for (int e = 0; e < numExperts; e++) experts[l][e] = index.get(placement.expert(l, e));
        }
        head = index.get(placement.head());
        rowBytes = (long) hiddenSize * Float.BYTES;
        rows = new long[backends.size()][backends.size()];
    }

    /** {@code count} rows enter {@code layer}: a hop if the previous layer's attention ran elsewhere. */
    void onLayer(int layer, int count) {
        if (layer > 0 && attention[layer] != attention[layer - 1]) {
            rows[attention[layer - 1]][attention[layer]] += count;
            hopRows += count;
        }
    }

    /** {@code count} rows go through {@code expert} of {@code layer}. */
    void onExpert(int layer, int expert, int count) {
        int from = attention[layer], to = experts[layer][expert];
        if (from == to) return;
        rows[from][to] += count;
        rows[to][from] += count;
        expertRowsOut += count;
        expertRowsBack += count;
    }

    /** {@code count} rows go to the head after the last layer. */
    void onHead(int count) {
        int last = attention[attention.length - 1];
        if (last == head) return;
        rows[last][head] += count;
        hopRows += count;
    }

    /** Rows sent to experts held off their layer's attention backend. */
    public long expertRowsOut() {
        return expertRowsOut;
    }

    /** Expert output rows returned to the attention backend (equal to {@link #expertRowsOut}). */
    public long expertRowsBack() {
        return expertRowsBack;
    }

    /** Residual rows moved between layers on different backends or to the head. */
    public long hopRows() {
        return hopRows;
    }

    /** Rows sent from {@code from} to {@code to}. */
    public long rows(Backend from, Backend to) {
        int f = backends.indexOf(from), t = backends.indexOf(to);
        return f < 0 || t < 0 ? 0 : rows[f][t];
    }

    /** All rows that crossed between backends. */
    public long totalRows() {
        return expertRowsOut + expertRowsBack + hopRows;
    }

    public long totalBytes() {
        return totalRows() * rowBytes;
    }

    public void reset() {
        for (long[] r : rows) java.util.Arrays.fill(r, 0);
        expertRowsOut = expertRowsBack = hopRows = 0;
    }

    /** A few lines for the log: totals and each busy link, backends named by {@code placement}'s labels. */
    public String report(Placement placement) {
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT,
                "transfers: %d rows (%.2f MB): %d expert rows out + %d back, %d pipeline rows%n",
                totalRows(), totalBytes() / 1e6, expertRowsOut, expertRowsBack, hopRows));
        List<String> links = new ArrayList<>();
        for (int f = 0; f < backends.size(); f++) {
            for (int t = 0; t < backends.size(); t++) {
                if (rows[f][t] == 0) continue;
                links.add(String.format(Locale.ROOT, "  %s -> %s: %d rows (%.2f MB)%n", placement.label(backends.get(f)),
                        placement.label(backends.get(t)), rows[f][t], rows[f][t] * rowBytes / 1e6));
            }
        }
        links.forEach(out::append);
        return out.toString();
    }
}
