package gptoss.cli.profile;

import gptoss.runtime.profile.LayerStatistics;
import gptoss.runtime.profile.RoutingProfile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * {@code report.html}: one self-contained page (inline CSS, no scripts, no network) that shows the heatmaps through
 * relative paths next to it, the balance table of every layer and, per layer, the co-activation heatmap and the
 * experts with their top tokens. Opens from disk in any browser.
 */
final class HtmlReport {
    static final String FILE = "report.html";

    private HtmlReport() {
    }

    /**
     * @param files relative paths of the data files to link (those that were written)
     */
    static void write(Path out, RoutingProfile p, Map<String, ?> source, int topTokens, IntFunction<String> text,
                      List<String> files) throws IOException {
        Files.writeString(out.resolve(FILE), render(p, source, topTokens, text, files), StandardCharsets.UTF_8);
    }

    static String render(RoutingProfile p, Map<String, ?> source, int topTokens, IntFunction<String> text, List<String> files) {
        StringBuilder h = new StringBuilder(64 * 1024);
        h.append("""
                <!DOCTYPE html>
                <html lang="en">
                <head>
                <meta charset="utf-8">
                <title>Expert routing profile</title>
                <style>
                body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
                table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
                th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; vertical-align: top; white-space: nowrap; }
                th { background: #f0f0f0; }
                td.text, th.text { text-align: left; white-space: normal; }
                code { white-space: pre; background: #f4f4f4; padding: 0 2px; }
                img { max-width: 100%; border: 1px solid #ddd; }
                details { margin: 0.5em 0; } summary { cursor: pointer; font-weight: bold; }
                .note { color: #666; font-size: 0.9em; }
                </style>
                </head>
                <body>
                <h1>Expert routing profile</h1>
                """);
        h.append("<table>\n");
        row(h, "layers × experts", p.layers() + " × " + p.experts() + " (top-" + p.expertsPerToken() + ")");
        row(h, "positions profiled", String.valueOf(p.tokens()));
        for (var e : source.entrySet()) row(h, e.getKey().replace('_', ' '), String.valueOf(e.getValue()));
        h.append("</table>\n<p>Data: ");
        for (int i = 0; i < files.size(); i++) {
            h.append(i == 0 ? "" : " · ").append("<a href=\"").append(escape(files.get(i))).append("\">").append(escape(files.get(i))).append("</a>");
        }
        h.append("</p>\n");

        h.append("<h2>Load per layer and expert</h2>\n<img src=\"").append(ProfileImages.LOAD_HEATMAP)
                .append("\" alt=\"heatmap of each expert's share of its layer's load\">\n");
        h.append(String.format(Locale.ROOT, "<p class=\"note\">Share of each layer's %d-expert choices that went to each expert; a uniform load gives %.2f %% everywhere.</p>%n",
                p.expertsPerToken(), 100.0 / p.experts()));

        h.append("<h2>Balance per layer</h2>\n<table>\n<tr><th>layer</th><th>tokens</th><th>entropy (bits)</th><th>normalized entropy</th>"
                + "<th>load CV</th><th>max/min load</th><th>never used</th><th>χ² (uniform)</th><th>p-value</th></tr>\n");
        for (int l = 0; l < p.layers(); l++) {
            LayerStatistics s = p.statistics(l);
            h.append("<tr><td><a href=\"#layer-").append(l).append("\">").append(l).append("</a></td><td>").append(s.tokens())
                    .append("</td><td>").append(num(s.entropyBits(), 3)).append("</td><td>").append(num(s.normalizedEntropy(), 3))
                    .append("</td><td>").append(num(s.loadCv(), 3)).append("</td><td>").append(num(s.maxMinLoadRatio(), 2))
                    .append("</td><td class=\"text\">").append(s.neverUsed().length == 0 ? "–" : ints(s.neverUsed()))
                    .append("</td><td>").append(num(s.chiSquare(), 1)).append("</td><td>").append(pValue(s.chiSquarePValue()))
                    .append("</td></tr>\n");
        }
        h.append("</table>\n<p class=\"note\">Entropy of the load distribution (log<sub>2</sub> E = ")
                .append(num(Math.log(p.experts()) / Math.log(2), 3))
                .append(" bits when uniform); CV: population standard deviation of the loads over their mean; χ²: Pearson's test of the loads against a uniform load, ")
                .append(p.experts() - 1).append(" degrees of freedom.</p>\n");

        h.append("<h2>Layers</h2>\n");
        for (int l = 0; l < p.layers(); l++) layer(h, p, l, topTokens, text);
        h.append("</body>\n</html>\n");
        return h.toString();
    }

    private static void layer(StringBuilder h, RoutingProfile p, int l, int topTokens, IntFunction<String> text) {
        LayerStatistics s = p.statistics(l);
        double[] shares = s.loadShares(), meanWeights = s.meanWeights(), logits = p.meanRouterLogits(l);
        h.append("<details id=\"layer-").append(l).append("\"").append(l == 0 ? " open" : "").append(">\n<summary>Layer ").append(l)
                .append(String.format(Locale.ROOT, " — entropy %s bits, CV %s</summary>%n", num(s.entropyBits(), 3), num(s.loadCv(), 3)));
        String stem = CoactivationFiles.layerStem(l, p.layers());
        h.append("<p><img src=\"").append(stem).append(".png\" alt=\"co-activation heatmap of layer ").append(l)
                .append("\"></p>\n<p class=\"note\">Co-activation: tokens that chose both experts (CSV: <a href=\"").append(stem)
                .append(".csv\">").append(stem).append(".csv</a>).</p>\n");
        h.append("<table>\n<tr><th>expert</th><th>count</th><th>share</th><th>weight mass</th><th>mean weight</th>")
                .append(logits != null ? "<th>mean router logit</th>" : "").append("<th class=\"text\">top tokens (count, share of the token's occurrences)</th></tr>\n");
        for (int e = 0; e < p.experts(); e++) {
            h.append("<tr><td>").append(e).append("</td><td>").append(s.expertCounts()[e]).append("</td><td>")
                    .append(num(100 * shares[e], 2)).append(" %</td><td>").append(num(s.expertWeightMass()[e], 2)).append("</td><td>")
                    .append(num(meanWeights[e], 3)).append("</td>");
            if (logits != null) h.append("<td>").append(num(logits[e], 3)).append("</td>");
            h.append("<td class=\"text\">");
            List<RoutingProfile.ExpertToken> top = p.topTokens(l, e, topTokens);
            for (int i = 0; i < top.size(); i++) {
                RoutingProfile.ExpertToken t = top.get(i);
                h.append(i == 0 ? "" : ", ");
                if (text != null) h.append("<code>").append(escape(visible(text.apply(t.token())))).append("</code> ");
                h.append('#').append(t.token()).append(String.format(Locale.ROOT, " (%d, %.0f %%)", t.count(), 100 * t.share()));
            }
            h.append("</td></tr>\n");
        }
        h.append("</table>\n</details>\n");
    }

    private static void row(StringBuilder h, String key, String value) {
        h.append("<tr><th class=\"text\">").append(escape(key)).append("</th><td class=\"text\">").append(escape(value)).append("</td></tr>\n");
    }

    static String num(double v, int decimals) {
        if (Double.isNaN(v)) return "–";
        if (Double.isInfinite(v)) return v > 0 ? "∞" : "-∞";
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    static String pValue(double p) {
        if (Double.isNaN(p)) return "–";
        return p < 1e-4 ? String.format(Locale.ROOT, "%.1e", p) : String.format(Locale.ROOT, "%.4f", p);
    }

    private static String ints(int[] values) {
        StringBuilder b = new StringBuilder();
        for (int v : values) b.append(b.isEmpty() ? "" : ", ").append(v);
        return b.toString();
    }

    /** Makes whitespace and control characters of token text visible: ␣ for space, \n, \t, \\uXXXX. */
    static String visible(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case ' ' -> b.append('␣');
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                default -> {
                    if (Character.isISOControl(c)) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.toString();
    }

    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
