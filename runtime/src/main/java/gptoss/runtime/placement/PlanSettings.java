package gptoss.runtime.placement;

import java.util.Locale;

/**
 * What a plan is made for besides the model and devices.
 *
 * @param context      tokens of context every sequence may reach (KV cache is sized for it)
 * @param sequences    sequences decoded together, each with its own KV cache
 * @param prefillChunk prompt rows processed per forward step (sizes the activation buffers)
 * @param kvPrecision  element type of the KV cache
 * @param split        how experts are spread when several devices hold layers
 * @param reserveBytes memory kept free on every accelerator (driver context, compiled kernels, fragmentation);
 *                     CPU instances keep none
 */
public record PlanSettings(int context, int sequences, int prefillChunk, KvPrecision kvPrecision, Split split,
                           long reserveBytes) {
    /** Default {@link #reserveBytes}: 512 MiB. */
    public static final long DEFAULT_RESERVE = 512L << 20;

    public PlanSettings {
        if (context < 1) throw new IllegalArgumentException("context must be positive, got " + context);
        if (sequences < 1) throw new IllegalArgumentException("sequences must be positive, got " + sequences);
        if (prefillChunk < 1) throw new IllegalArgumentException("prefill chunk must be positive, got " + prefillChunk);
        if (reserveBytes < 0) throw new IllegalArgumentException("reserve must be >= 0, got " + reserveBytes);
    }

    /** One sequence, the engine's prefill chunks, fp32 KV cache (what the CPU backend stores), layer split, 512 MiB reserve. */
    public static PlanSettings defaults(int context) {
        return new PlanSettings(context, 1, gptoss.runtime.engine.Engine.DEFAULT_PREFILL_CHUNK, KvPrecision.FP32, Split.LAYER, DEFAULT_RESERVE);
    }

    public PlanSettings withSplit(Split s) {
        return new PlanSettings(context, sequences, prefillChunk, kvPrecision, s, reserveBytes);
    }

    public PlanSettings withKvPrecision(KvPrecision p) {
        return new PlanSettings(context, sequences, prefillChunk, p, split, reserveBytes);
    }

    public PlanSettings withReserve(long bytes) {
        return new PlanSettings(context, sequences, prefillChunk, kvPrecision, split, bytes);
    }

    /** Memory kept free on {@code device}. */
    public long reserveOn(DeviceSpec device) {
        return device.isHost() ? 0 : reserveBytes;
    }

    /** Rows one forward step processes at most: a prefill chunk, or one row per sequence when decoding. */
    public int rowsPerStep() {
        return Math.max(Math.min(prefillChunk, context), sequences);
    }

    /** KV cache element type. The CPU backend stores fp32. */
    public enum KvPrecision {
        FP32(4), BF16(2);

        private final int bytes;

        KvPrecision(int bytes) {
            this.bytes = bytes;
        }

        public int bytes() {
            return bytes;
        }

        public String cliName() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static KvPrecision parse(String s) {
            for (KvPrecision p : values()) if (p.cliName().equalsIgnoreCase(s)) return p;
            throw new IllegalArgumentException("unknown KV precision '" + s + "' (fp32, bf16)");
        }
    }

    /** Where the experts of a layer go when several devices hold layers. */
    public enum Split {
        /** Pipeline: experts live with their layer's attention; only what does not fit moves elsewhere. */
        LAYER,
        /** Expert parallel: each layer's experts are dealt over all compute devices in proportion to their free memory. */
        EXPERT;

        public String cliName() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Split parse(String s) {
            for (Split v : values()) if (v.cliName().equalsIgnoreCase(s)) return v;
            throw new IllegalArgumentException("unknown split '" + s + "' (layer, expert)");
        }
    }
}
