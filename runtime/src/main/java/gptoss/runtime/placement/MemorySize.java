package gptoss.runtime.placement;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Byte counts as people write them: {@code 24GiB}, {@code 1.5 GiB}, {@code 80GB}, {@code 512MiB}, {@code 4096}. */
public final class MemorySize {
    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([KMGT]i?B|B)?", Pattern.CASE_INSENSITIVE);

    private MemorySize() {
    }

    /** Bytes of {@code text}; binary units (KiB, MiB, GiB, TiB) are powers of 1024, decimal ones (KB, MB, GB, TB) of 1000. */
    public static long parse(String text) {
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("bad memory size '" + text + "' (expected e.g. 24GiB, 512MiB, 80GB or a byte count)");
        }
        double value = Double.parseDouble(m.group(1));
        String unit = m.group(2) == null ? "B" : m.group(2).toUpperCase(Locale.ROOT);
        long scale = switch (unit) {
            case "B" -> 1L;
            case "KIB" -> 1L << 10;
            case "MIB" -> 1L << 20;
            case "GIB" -> 1L << 30;
            case "TIB" -> 1L << 40;
            case "KB" -> 1_000L;
            case "MB" -> 1_000_000L;
            case "GB" -> 1_000_000_000L;
            case "TB" -> 1_000_000_000_000L;
            default -> throw new IllegalArgumentException("bad memory unit in '" + text + "'");
        };
        double bytes = value * scale;
        if (bytes > Long.MAX_VALUE / 2) throw new IllegalArgumentException("memory size '" + text + "' is too large");
        return Math.round(bytes);
    }

    /** {@code bytes} in GiB with two decimals, e.g. {@code 60.77 GiB}; small amounts in MiB or KiB. */
    public static String format(long bytes) {
        double abs = Math.abs((double) bytes);
        if (abs >= (1L << 30) / 10.0) return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
        if (abs >= (1L << 20) / 10.0) return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
        if (abs >= 1024) return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        return bytes + " B";
    }
}
