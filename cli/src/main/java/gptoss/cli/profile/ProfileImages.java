package gptoss.cli.profile;

import gptoss.runtime.profile.ProfileDiff;
import gptoss.runtime.profile.RoutingProfile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.IntStream;

/** The profile's pictures: the layer × expert load heatmap and one co-activation heatmap per layer. */
final class ProfileImages {
    static final String LOAD_HEATMAP = "load-heatmap.png";

    private ProfileImages() {
    }

    static String[] labels(int n) {
        return IntStream.range(0, n).mapToObj(String::valueOf).toArray(String[]::new);
    }

    static String percent(double v) {
        return String.format(Locale.ROOT, Math.abs(v) >= 10 ? "%.0f" : "%.1f", v);
    }

    /** Rows: layers; columns: experts; value: the expert's share of the layer's load, in percent. */
    static Heatmap loadHeatmap(RoutingProfile p) {
        double[][] v = new double[p.layers()][];
        for (int l = 0; l < p.layers(); l++) {
            v[l] = p.statistics(l).loadShares();
            for (int e = 0; e < v[l].length; e++) v[l][e] *= 100;
        }
        return new Heatmap(String.format(Locale.ROOT, "Expert load per layer (%d positions, top-%d of %d; uniform = %.2f %%)",
                p.tokens(), p.expertsPerToken(), p.experts(), 100.0 / p.experts()),
                "expert", "layer", labels(p.layers()), labels(p.experts()), v, Heatmap.Scale.SEQUENTIAL,
                "share of the layer's load (%)", ProfileImages::percent, null, true);
    }

    /** Expert × expert: tokens that chose both; the diagonal (an expert with itself) is masked. */
    static Heatmap coactivationHeatmap(RoutingProfile p, int layer) {
        long[][] m = p.coactivation(layer);
        double[][] v = new double[p.experts()][p.experts()];
        for (int a = 0; a < p.experts(); a++) {
            for (int b = 0; b < p.experts(); b++) v[a][b] = a == b ? Double.NaN : m[a][b];
        }
        return new Heatmap("Layer " + layer + ": co-activation (tokens choosing both experts)", "expert", "expert",
                labels(p.experts()), labels(p.experts()), v, Heatmap.Scale.SEQUENTIAL, "tokens",
                x -> String.format(Locale.ROOT, "%.0f", x), "diagonal: not shown (an expert's own count is in the table)", true);
    }

    /** Rows: layers; columns: experts; value: share in B minus share in A, percentage points. */
    static Heatmap diffHeatmap(ProfileDiff d, int experts, String nameA, String nameB) {
        double[][] v = new double[d.layers().size()][experts];
        for (ProfileDiff.LayerShift s : d.layers()) {
            for (int e = 0; e < experts; e++) v[s.layer()][e] = 100 * (s.shareB()[e] - s.shareA()[e]);
        }
        return new Heatmap("Load shift: " + nameB + " minus " + nameA, "expert", "layer", labels(v.length), labels(experts), v,
                Heatmap.Scale.DIVERGING, "share difference (percentage points)", ProfileImages::percent, null, true);
    }

    static void writeAll(Path out, RoutingProfile p) throws IOException {
        loadHeatmap(p).write(out.resolve(LOAD_HEATMAP));
        Files.createDirectories(out.resolve(CoactivationFiles.FOLDER));
        for (int l = 0; l < p.layers(); l++) {
            coactivationHeatmap(p, l).write(out.resolve(CoactivationFiles.layerStem(l, p.layers()) + ".png"));
        }
    }
}
