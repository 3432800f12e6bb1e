package gptoss.cli.profile;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gptoss.runtime.profile.RoutingProfile;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Co-activation matrices: {@code coactivation.json} ({@code {"num_layers", "num_experts", "layers": [{"layer": l,
 * "matrix": [[E] x E]}]}}) and one CSV per layer under {@code coactivation/} (header row and first column are the
 * expert ids). Entry (a, b) counts tokens that chose both a and b; the diagonal counts tokens that chose a.
 */
final class CoactivationFiles {
    static final String JSON_FILE = "coactivation.json", FOLDER = "coactivation";

    private CoactivationFiles() {
    }

    /** {@code coactivation/layer-NN} without extension, NN padded to the width of the last layer (at least 2). */
    static String layerStem(int layer, int layers) {
        int width = Math.max(2, String.valueOf(layers - 1).length());
        return FOLDER + "/layer-" + String.format("%0" + width + "d", layer);
    }

    static void write(Path out, RoutingProfile p) throws IOException {
        Files.createDirectories(out.resolve(FOLDER));
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("num_layers", p.layers());
        root.put("num_experts", p.experts());
        ArrayNode layers = root.putArray("layers");
        for (int l = 0; l < p.layers(); l++) {
            long[][] m = p.coactivation(l);
            ObjectNode layer = layers.addObject();
            layer.put("layer", l);
            ArrayNode rows = layer.putArray("matrix");
            for (long[] row : m) {
                ArrayNode r = rows.addArray();
                for (long v : row) r.add(v);
            }
            try (BufferedWriter csv = Files.newBufferedWriter(out.resolve(layerStem(l, p.layers()) + ".csv"))) {
                csv.write("expert");
                for (int e = 0; e < p.experts(); e++) csv.write("," + e);
                csv.newLine();
                for (int a = 0; a < p.experts(); a++) {
                    csv.write(String.valueOf(a));
                    for (long v : m[a]) csv.write("," + v);
                    csv.newLine();
                }
            }
        }
        json.writeValue(out.resolve(JSON_FILE).toFile(), root);
    }
}
