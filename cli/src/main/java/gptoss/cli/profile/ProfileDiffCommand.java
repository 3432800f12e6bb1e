package gptoss.cli.profile;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gptoss.runtime.profile.ProfileDiff;
import gptoss.runtime.profile.ProfileSummary;
import gptoss.runtime.profile.SummaryJson;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code gptoss profile diff A B}: which experts gain or lose load from profile A to profile B. */
@Command(name = "diff", mixinStandardHelpOptions = true,
        description = {"Compare two profiles (folders written by 'profile', or their summary.json): per layer the total",
                "variation and Jensen-Shannon distance between the expert load distributions, and the experts whose",
                "share of the load moved most. With --out DIR also writes diff.json and diff-heatmap.png."})
final class ProfileDiffCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "A", description = "The first profile (folder or summary.json).")
    Path a;

    @Parameters(index = "1", paramLabel = "B", description = "The second profile.")
    Path b;

    @Option(names = "--top", defaultValue = "20", paramLabel = "N", description = "Largest shifts to list (default: ${DEFAULT-VALUE}).")
    int top;

    @Option(names = "--out", paramLabel = "DIR", description = "Also write diff.json and diff-heatmap.png here.")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (top < 0) throw new IllegalArgumentException("--top must be >= 0");
        ProfileSummary pa = SummaryJson.read(a), pb = SummaryJson.read(b);
        ProfileDiff d = ProfileDiff.compare(pa, pb, top);
        print(d, System.out);
        if (out != null) {
            Files.createDirectories(out);
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve("diff.json").toFile(), toJson(d));
            ProfileImages.diffHeatmap(d, pa.numExperts(), "A", "B").write(out.resolve("diff-heatmap.png"));
            System.err.println("wrote " + out.resolve("diff.json") + " and " + out.resolve("diff-heatmap.png"));
        }
        return 0;
    }

    private void print(ProfileDiff d, PrintStream o) {
        o.printf(Locale.ROOT, "A: %s (%d positions)%nB: %s (%d positions)%n%n", a, d.tokensA(), b, d.tokensB());
        o.printf(Locale.ROOT, "%5s  %16s  %11s%n", "layer", "total variation", "JS distance");
        for (ProfileDiff.LayerShift s : d.layers()) {
            o.printf(Locale.ROOT, "%5d  %16.4f  %11.4f%n", s.layer(), s.totalVariation(), s.jensenShannonDistance());
        }
        if (d.topShifts().isEmpty()) return;
        o.printf(Locale.ROOT, "%nlargest shifts of an expert's share of its layer's load:%n%5s  %6s  %9s  %9s  %9s%n",
                "layer", "expert", "share A", "share B", "delta");
        for (ProfileDiff.ExpertShift s : d.topShifts()) {
            o.printf(Locale.ROOT, "%5d  %6d  %8.2f%%  %8.2f%%  %+8.2f%%%n", s.layer(), s.expert(), 100 * s.shareA(), 100 * s.shareB(), 100 * s.delta());
        }
    }

    private ObjectNode toJson(ProfileDiff d) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("a", a.toString());
        root.put("b", b.toString());
        root.put("tokens_a", d.tokensA());
        root.put("tokens_b", d.tokensB());
        ArrayNode layers = root.putArray("layers");
        for (ProfileDiff.LayerShift s : d.layers()) {
            ObjectNode l = layers.addObject();
            l.put("layer", s.layer());
            l.put("total_variation", s.totalVariation());
            l.put("js_distance", s.jensenShannonDistance());
            ArrayNode sa = l.putArray("share_a"), sb = l.putArray("share_b"), delta = l.putArray("delta");
            for (int e = 0; e < s.shareA().length; e++) {
                sa.add(s.shareA()[e]);
                sb.add(s.shareB()[e]);
                delta.add(s.shareB()[e] - s.shareA()[e]);
            }
        }
        ArrayNode shifts = root.putArray("top_shifts");
        for (ProfileDiff.ExpertShift s : d.topShifts()) {
            ObjectNode x = shifts.addObject();
            x.put("layer", s.layer());
            x.put("expert", s.expert());
            x.put("count_a", s.countA());
            x.put("count_b", s.countB());
            x.put("share_a", s.shareA());
            x.put("share_b", s.shareB());
            x.put("delta", s.delta());
        }
        return root;
    }
}
