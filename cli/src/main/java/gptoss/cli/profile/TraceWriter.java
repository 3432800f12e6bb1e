package gptoss.cli.profile;

import gptoss.runtime.profile.RoutingDecision;
import gptoss.runtime.profile.RoutingSink;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code trace.jsonl}: one line per routing decision, the {@code --router-trace} format plus the prompt index:
 * {@code {"prompt":i,"layer":l,"pos":p,"token":t,"experts":[...],"weights":[...]}}, and {@code "logits":[E]} when
 * the profiler keeps router logits.
 */
final class TraceWriter implements RoutingSink, AutoCloseable {
    private final BufferedWriter out;
    private final StringBuilder line = new StringBuilder(256);
    private int prompt;
    private long lines;

    TraceWriter(Path file) throws IOException {
        this.out = Files.newBufferedWriter(file, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Index (0-based, input order) of the prompt the following decisions belong to. */
    void setPrompt(int prompt) {
        this.prompt = prompt;
    }

    long lines() {
        return lines;
    }

    @Override
    public void accept(RoutingDecision d) {
        line.setLength(0);
        line.append("{\"prompt\":").append(prompt).append(",\"layer\":").append(d.layer()).append(",\"pos\":").append(d.position())
                .append(",\"token\":").append(d.token()).append(",\"experts\":[");
        for (int i = 0; i < d.experts().length; i++) line.append(i == 0 ? "" : ",").append(d.experts()[i]);
        line.append("],\"weights\":");
        floats(d.weights());
        if (d.routerLogits() != null) {
            line.append(",\"logits\":");
            floats(d.routerLogits());
        }
        line.append("}\n");
        try {
            out.append(line);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the routing trace", e);
        }
        lines++;
    }

    private void floats(float[] values) {
        line.append('[');
        for (int i = 0; i < values.length; i++) {
            float v = values[i];
            line.append(i == 0 ? "" : ",");
            if (Float.isFinite(v)) line.append(v);
            else line.append("null");
        }
        line.append(']');
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
