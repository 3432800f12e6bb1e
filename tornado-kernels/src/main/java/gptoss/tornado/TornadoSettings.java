package gptoss.tornado;

/**
 * Sizes of a tornado backend's device buffers and its kernel choice, from system properties:
 *
 * @param maxRows    rows one graph execution processes ({@code -Dgptoss.tornado.maxRows}, default 32); larger calls are
 *                   split. The tiled kernels read each weight once per 16 rows, so pieces of 32 rows cost prefill
 *                   little, while every execution uploads whole activation buffers: smaller is cheaper for decode
 * @param matvecRows up to this many rows the products run as matvec (decode) kernels, above it as tiled ones
 *                   ({@code -Dgptoss.tornado.matvecRows}, default 4)
 * @param kvTokens   positions the full-attention KV pool holds, summed over live sequences
 *                   ({@code -Dgptoss.tornado.kvTokens}, default 8192)
 * @param sequences  sequences whose sliding-window rings fit in the sliding KV pool at once
 *                   ({@code -Dgptoss.tornado.sequences}, default 16)
 * @param resident   a backend holding the whole model runs whole steps on the device ({@link StepStage}); false
 *                   keeps the host-orchestrated part graphs, as a backend holding part of a model always does
 *                   ({@code -Dgptoss.tornado.resident}, default true)
 */
record TornadoSettings(int maxRows, int matvecRows, int kvTokens, int sequences, boolean resident) {
    static final String PREFIX = "gptoss.tornado.";

    TornadoSettings {
        if (maxRows < 1 || matvecRows < 1 || kvTokens < 1 || sequences < 1) {
            throw new IllegalArgumentException("tornado backend settings must be positive: " + this);
        }
    }

    /** Host-orchestrated parts or whole steps, the same sizes. */
    TornadoSettings withResident(boolean on) {
        return new TornadoSettings(maxRows, matvecRows, kvTokens, sequences, on);
    }

    static TornadoSettings fromSystemProperties() {
        return new TornadoSettings(property("maxRows", 32), property("matvecRows", 4), property("kvTokens", 8192), property("sequences", 16),
                "true".equalsIgnoreCase(System.getProperty(PREFIX + "resident", "true").trim()));
    }

    private static int property(String name, int fallback) {
        String v = System.getProperty(PREFIX + name);
        if (v == null) return fallback;
        try {
            int n = Integer.parseInt(v.trim());
            if (n < 1) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + PREFIX + name + " must be a positive integer, got '" + v + "'");
        }
    }
}
