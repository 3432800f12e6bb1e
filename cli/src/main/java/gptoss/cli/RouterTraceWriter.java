package gptoss.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gptoss.runtime.engine.ForwardListener;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes one JSON line per (layer, position): {@code {"layer","pos","token","experts","weights"}}. */
final class RouterTraceWriter implements ForwardListener, AutoCloseable {
    private final ObjectMapper json = new ObjectMapper();
    private final BufferedWriter out;

    RouterTraceWriter(Path file) throws IOException {
        this.out = Files.newBufferedWriter(file);
    }

    @Override
    public void onRouting(int layer, int sequence, int position, int token, int[] experts, float[] weights, float[] routerLogits) {
        ObjectNode line = json.createObjectNode();
        line.put("layer", layer);
        line.put("pos", position);
        line.put("token", token);
        ArrayNode e = line.putArray("experts");
        for (int x : experts) e.add(x);
        ArrayNode w = line.putArray("weights");
        for (float x : weights) w.add(x);
        try {
            out.write(json.writeValueAsString(line));
            out.newLine();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
