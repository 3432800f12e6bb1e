package gptoss.cli.profile;

import gptoss.runtime.profile.RoutingProfile;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HtmlReportTest {

    @Test
    void tokenTextAndSourceAreEscapedAndWhitespaceShown() {
        RoutingProfile p = new RoutingProfile(1, 3, 1);
        p.record(0, 42, new int[]{1}, new float[]{1}, null);
        String html = HtmlReport.render(p, Map.of("input", "<b>&"), 5, id -> " <script>\n", List.of("summary.json"));
        assertFalse(html.contains("<script>"), "token text is escaped");
        assertTrue(html.contains("<code>␣&lt;script&gt;\\n</code> #42 (1, 100 %)"), html);
        assertTrue(html.contains("&lt;b&gt;&amp;"));
        assertTrue(html.contains("src=\"load-heatmap.png\"") && html.contains("src=\"coactivation/layer-00.png\""));
        assertFalse(html.contains("http"), "nothing from the network");
    }

    @Test
    void numbersOfUndefinedStatistics() {
        assertEquals("–", HtmlReport.num(Double.NaN, 2));
        assertEquals("∞", HtmlReport.num(Double.POSITIVE_INFINITY, 2));
        assertEquals("1.2e-05", HtmlReport.pValue(1.2e-5));
        assertEquals("0.5000", HtmlReport.pValue(0.5));
    }
}
