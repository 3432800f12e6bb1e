package gptoss.cli.profile;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

class HeatmapTest {

    static Heatmap map(double[][] v, Heatmap.Scale scale) {
        String[] rows = ProfileImages.labels(v.length), cols = ProfileImages.labels(v[0].length);
        return new Heatmap("t", "x", "y", rows, cols, v, scale, "legend", d -> String.format("%.1f", d), null, false);
    }

    @Test
    void cellsHaveTheColorsOfTheirValuesInTheWrittenPng(@TempDir Path dir) throws Exception {
        double[][] v = {{0, 1, 2, 3}, {4, Double.NaN, 6, 8}};
        Heatmap h = map(v, Heatmap.Scale.SEQUENTIAL);
        Path file = dir.resolve("h.png");
        h.write(file);
        BufferedImage img = ImageIO.read(file.toFile());
        int s = h.cellSize(), x0 = h.gridOrigin()[0], y0 = h.gridOrigin()[1];
        for (int r = 0; r < 2; r++) {
            for (int c = 0; c < 4; c++) {
                int rgb = img.getRGB(x0 + c * s + s / 2, y0 + r * s + s / 2) & 0xFFFFFF;
                assertEquals(h.colorOf(v[r][c]).getRGB() & 0xFFFFFF, rgb, "cell " + r + "," + c);
            }
        }
        assertEquals(Heatmap.Scale.SEQUENTIAL.at(1), h.colorOf(8), "the largest value takes the top color");
        assertEquals(new Color(0x440154), h.colorOf(0), "zero is the bottom of viridis");
        assertEquals(Heatmap.MASKED, h.colorOf(Double.NaN));
    }

    @Test
    void divergingScaleIsSymmetricAroundZero() {
        Heatmap h = map(new double[][]{{-1, 0, 3}}, Heatmap.Scale.DIVERGING);
        assertArrayEquals(new double[]{-3, 3}, h.range());
        assertEquals(new Color(0xF7F7F7), h.colorOf(0));
        assertEquals(new Color(0xB2182B), h.colorOf(3));
        assertNotEquals(h.colorOf(-1), h.colorOf(1));
    }

    @Test
    void legendTicksAreRoundNumbersInsideTheRange() {
        assertArrayEquals(new double[]{0, 10, 20}, Heatmap.ticks(new double[]{0, 26}));
        assertArrayEquals(new String[]{"0", "2", "4", "6"}, Heatmap.tickLabels(new double[]{0, 6}));
        assertArrayEquals(new String[]{"0.00", "0.25", "0.50", "0.75", "1.00"}, Heatmap.tickLabels(new double[]{0, 1}));
        assertArrayEquals(new String[]{"-2", "0", "2"}, Heatmap.tickLabels(new double[]{-2.5, 2.5}));
        assertEquals(4, Heatmap.niceStep(3));
    }

    @Test
    void largeGridsShrinkTheirCells() {
        Heatmap big = map(new double[36][128], Heatmap.Scale.SEQUENTIAL);
        BufferedImage img = big.render();
        assertEquals(7, big.cellSize());
        assertEquals(true, img.getWidth() < 1400 && img.getHeight() < 900, img.getWidth() + "x" + img.getHeight());
    }
}
