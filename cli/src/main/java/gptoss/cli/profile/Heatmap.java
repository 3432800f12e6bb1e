package gptoss.cli.profile;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.function.DoubleFunction;

/**
 * A labelled heatmap as a PNG (java.awt, headless): rows × columns of colored cells, a title, axis titles, row and
 * column labels (thinned out when cells are small), and a color legend with ticks. NaN cells are drawn grey.
 *
 * @param values     [rows][cols]
 * @param scale      how values map to colors
 * @param legendNote an extra line under the legend (e.g. what grey means), or null
 * @param annotate   print each value in its cell when the cells are large enough
 */
public record Heatmap(String title, String xTitle, String yTitle, String[] rowLabels, String[] colLabels, double[][] values,
                      Scale scale, String legendTitle, DoubleFunction<String> format, String legendNote, boolean annotate) {

    /** Value → color maps. */
    public enum Scale {
        /** 0 .. max through viridis (dark purple → yellow). */
        SEQUENTIAL(new int[]{0x440154, 0x472D7B, 0x3B528B, 0x2C728E, 0x21918C, 0x28AE80, 0x5EC962, 0xADDC30, 0xFDE725}),
        /** -m .. +m, m = max |value|, blue → white → red. */
        DIVERGING(new int[]{0x2166AC, 0x92C5DE, 0xF7F7F7, 0xF4A582, 0xB2182B});

        private final int[] anchors;

        Scale(int[] anchors) {
            this.anchors = anchors;
        }

        /** Color at {@code t} in [0, 1], linear between the anchors. */
        public Color at(double t) {
            double x = Math.max(0, Math.min(1, t)) * (anchors.length - 1);
            int i = Math.min((int) x, anchors.length - 2);
            double f = x - i;
            int a = anchors[i], b = anchors[i + 1];
            return new Color(mix(a >> 16, b >> 16, f), mix(a >> 8, b >> 8, f), mix(a, b, f));
        }

        private static int mix(int a, int b, double f) {
            return (int) Math.round((a & 0xFF) + ((b & 0xFF) - (a & 0xFF)) * f);
        }
    }

    static final Color MASKED = new Color(0xD0D0D0);
    private static final int MAX_GRID_WIDTH = 960, MAX_GRID_HEIGHT = 680, MAX_CELL = 36, MIN_CELL = 3;
    private static final int LEGEND_BAR = 16, LEGEND_MIN_HEIGHT = 160, PAD = 12;

    public Heatmap {
        if (values.length != rowLabels.length) throw new IllegalArgumentException("heatmap has " + values.length + " rows but " + rowLabels.length + " labels");
        for (double[] row : values) {
            if (row.length != colLabels.length) throw new IllegalArgumentException("heatmap row of " + row.length + " values for " + colLabels.length + " columns");
        }
    }

    /** The value range the colors span: [0, max] (sequential) or [-m, m] (diverging); never empty. */
    public double[] range() {
        double max = 0;
        for (double[] row : values) {
            for (double v : row) {
                if (Double.isFinite(v)) max = Math.max(max, scale == Scale.DIVERGING ? Math.abs(v) : v);
            }
        }
        if (max == 0) max = 1;
        return scale == Scale.DIVERGING ? new double[]{-max, max} : new double[]{0, max};
    }

    /** The color a value is drawn in. */
    public Color colorOf(double value) {
        if (!Double.isFinite(value)) return MASKED;
        double[] r = range();
        return scale.at((value - r[0]) / (r[1] - r[0]));
    }

    /** Side of one (square) cell in pixels. */
    public int cellSize() {
        int rows = Math.max(1, values.length), cols = Math.max(1, colLabels.length);
        return Math.max(MIN_CELL, Math.min(MAX_CELL, Math.min(MAX_GRID_WIDTH / cols, MAX_GRID_HEIGHT / rows)));
    }

    /** Where the grid's top-left corner lies in the image (for tests and overlays). */
    public int[] gridOrigin() {
        return layout().origin();
    }

    private record Layout(int[] origin, int width, int height, Font labelFont, Font titleFont) {
    }

    private Layout layout() {
        BufferedImage scratch = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = scratch.createGraphics();
        Font labelFont = new Font(Font.SANS_SERIF, Font.PLAIN, 12), titleFont = new Font(Font.SANS_SERIF, Font.BOLD, 15);
        FontMetrics lm = g.getFontMetrics(labelFont), tm = g.getFontMetrics(titleFont);
        int rowLabelWidth = 0;
        for (String s : rowLabels) rowLabelWidth = Math.max(rowLabelWidth, lm.stringWidth(s));
        int tickWidth = 0;
        for (String t : tickLabels(range())) tickWidth = Math.max(tickWidth, lm.stringWidth(t));
        int s = cellSize();
        int gridW = colLabels.length * s, gridH = values.length * s;
        int left = PAD + lm.getHeight() + PAD + rowLabelWidth + 6;
        int top = PAD + tm.getHeight() + PAD;
        int legendH = Math.max(gridH, LEGEND_MIN_HEIGHT);
        int right = 2 * PAD + LEGEND_BAR + 6 + tickWidth + PAD + lm.getHeight() + PAD;
        int bottom = 6 + lm.getHeight() + 6 + lm.getHeight() + PAD + (legendNote != null ? lm.getHeight() + 4 : 0);
        int width = Math.max(left + gridW + right, PAD * 2 + tm.stringWidth(title));
        g.dispose();
        return new Layout(new int[]{left, top}, width, top + legendH + bottom, labelFont, titleFont);
    }

    public BufferedImage render() {
        Layout l = layout();
        BufferedImage img = new BufferedImage(l.width(), l.height(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, l.width(), l.height());
            int s = cellSize(), x0 = l.origin()[0], y0 = l.origin()[1];
            int rows = values.length, cols = colLabels.length;

            g.setFont(l.titleFont());
            g.setColor(Color.BLACK);
            g.drawString(title, PAD, PAD + g.getFontMetrics().getAscent());

            // cells
            g.setFont(l.labelFont());
            FontMetrics fm = g.getFontMetrics();
            boolean gaps = s >= 10;
            for (int row = 0; row < rows; row++) {
                for (int col = 0; col < cols; col++) {
                    double v = values[row][col];
                    Color c = colorOf(v);
                    g.setColor(c);
                    g.fillRect(x0 + col * s, y0 + row * s, gaps ? s - 1 : s, gaps ? s - 1 : s);
                    if (annotate && Double.isFinite(v)) {
                        String text = format.apply(v);
                        if (fm.stringWidth(text) <= s - 3 && fm.getAscent() <= s - 2) {
                            g.setColor(luminance(c) > 0.5 ? Color.BLACK : Color.WHITE);
                            g.drawString(text, x0 + col * s + (s - 1 - fm.stringWidth(text)) / 2, y0 + row * s + (s - 1 + fm.getAscent() - fm.getDescent()) / 2);
                        }
                    }
                }
            }
            g.setColor(Color.DARK_GRAY);
            g.drawRect(x0 - 1, y0 - 1, cols * s, rows * s);

            // column labels and x title
            g.setColor(Color.BLACK);
            int colLabelWidth = 0;
            for (String c : colLabels) colLabelWidth = Math.max(colLabelWidth, fm.stringWidth(c));
            int colStep = niceStep((colLabelWidth + 6 + s - 1) / s);
            int yLabels = y0 + rows * s + 6 + fm.getAscent();
            for (int col = 0; col < cols; col += colStep) {
                g.drawString(colLabels[col], x0 + col * s + (s - fm.stringWidth(colLabels[col])) / 2, yLabels);
            }
            g.drawString(xTitle, x0 + (cols * s - fm.stringWidth(xTitle)) / 2, yLabels + 6 + fm.getHeight());

            // row labels and y title
            int rowStep = niceStep((fm.getHeight() + s - 1) / s);
            for (int row = 0; row < rows; row += rowStep) {
                g.drawString(rowLabels[row], x0 - 6 - fm.stringWidth(rowLabels[row]), y0 + row * s + (s + fm.getAscent() - fm.getDescent()) / 2);
            }
            drawVertical(g, yTitle, PAD + fm.getAscent(), y0 + (rows * s + fm.stringWidth(yTitle)) / 2);

            // legend: a vertical bar from the top of the range down to the bottom, ticks at fifths
            int legendH = Math.max(rows * s, LEGEND_MIN_HEIGHT);
            int lx = x0 + cols * s + 2 * PAD;
            for (int y = 0; y < legendH; y++) {
                g.setColor(scale.at(1 - y / (double) (legendH - 1)));
                g.fillRect(lx, y0 + y, LEGEND_BAR, 1);
            }
            g.setColor(Color.DARK_GRAY);
            g.setStroke(new BasicStroke(1));
            g.drawRect(lx, y0, LEGEND_BAR, legendH - 1);
            double[] r = range();
            double[] ticks = ticks(r);
            String[] labels = tickLabels(r);
            int tickRight = lx + LEGEND_BAR + 6;
            int tickWidth = 0;
            for (int i = 0; i < ticks.length; i++) {
                int y = y0 + (int) Math.round((legendH - 1) * (1 - (ticks[i] - r[0]) / (r[1] - r[0])));
                g.drawLine(lx + LEGEND_BAR, y, lx + LEGEND_BAR + 4, y);
                tickWidth = Math.max(tickWidth, fm.stringWidth(labels[i]));
                g.drawString(labels[i], tickRight, y + (fm.getAscent() - fm.getDescent()) / 2);
            }
            g.setColor(Color.BLACK);
            drawVertical(g, legendTitle, tickRight + tickWidth + PAD + fm.getAscent(), y0 + (legendH + fm.stringWidth(legendTitle)) / 2);
            if (legendNote != null) {
                g.setColor(MASKED);
                int ny = yLabels + 6 + fm.getHeight() + 4 + fm.getHeight();
                g.fillRect(x0, ny - fm.getAscent(), fm.getAscent(), fm.getAscent());
                g.setColor(Color.BLACK);
                g.drawString(legendNote, x0 + fm.getAscent() + 6, ny);
            }
        } finally {
            g.dispose();
        }
        return img;
    }

    public void write(Path file) throws IOException {
        if (!ImageIO.write(render(), "png", file.toFile())) throw new IOException("no PNG writer available");
    }

    private static void drawVertical(Graphics2D g, String text, int x, int y) {
        AffineTransform saved = g.getTransform();
        g.translate(x, y);
        g.rotate(-Math.PI / 2);
        g.drawString(text, 0, 0);
        g.setTransform(saved);
    }

    private static double luminance(Color c) {
        return (0.2126 * c.getRed() + 0.7152 * c.getGreen() + 0.0722 * c.getBlue()) / 255;
    }

    /** Legend ticks: multiples of a round step (1, 2, 2.5 or 5 times a power of ten) inside {@code range}, about five. */
    static double[] ticks(double[] range) {
        double step = tickStep(range);
        long first = (long) Math.ceil(range[0] / step - 1e-9), last = (long) Math.floor(range[1] / step + 1e-9);
        double[] out = new double[(int) (last - first + 1)];
        for (int i = 0; i < out.length; i++) out[i] = (first + i) * step;
        return out;
    }

    static double tickStep(double[] range) {
        double raw = (range[1] - range[0]) / 4;
        double power = Math.pow(10, Math.floor(Math.log10(raw)));
        for (double m : new double[]{1, 2, 2.5, 5, 10}) if (m * power >= raw - 1e-12 * power) return m * power;
        return 10 * power;
    }

    /** Tick labels with as many decimals as the step needs. */
    static String[] tickLabels(double[] range) {
        double step = tickStep(range);
        int decimals = 0;
        while (decimals < 6 && Math.abs(step * Math.pow(10, decimals) - Math.rint(step * Math.pow(10, decimals))) > 1e-6) decimals++;
        double[] t = ticks(range);
        String[] out = new String[t.length];
        for (int i = 0; i < t.length; i++) out[i] = String.format(java.util.Locale.ROOT, "%." + decimals + "f", t[i] == 0 ? 0.0 : t[i]);
        return out;
    }

    /** The smallest of 1, 2, 4, 5, 8, 10, 16, 20, 25, 32, 50, 64, 100, ... that is at least {@code n}. */
    static int niceStep(int n) {
        int[] steps = {1, 2, 4, 5, 8, 10, 16, 20, 25, 32, 50, 64, 100, 128, 200, 256, 500, 1000};
        for (int s : steps) if (s >= n) return s;
        return n;
    }
}
