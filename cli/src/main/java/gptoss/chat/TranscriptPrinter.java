package gptoss.chat;

import gptoss.model.harmony.HarmonyEvent;
import gptoss.model.harmony.MessageHeader;

import java.io.PrintStream;
import java.util.function.Consumer;

/**
 * Streams a turn to the terminal: the final channel as plain text; the analysis channel (and tool calls) dimmed
 * when reasoning is shown; parser diagnostics as warnings on stderr.
 */
public final class TranscriptPrinter implements Consumer<HarmonyEvent> {
    private static final String DIM = "\u001b[2m", RESET = "\u001b[0m";

    private final PrintStream out;
    private final PrintStream err;
    private final boolean showReasoning;
    private final boolean color;
    private boolean midLine;

    public TranscriptPrinter(PrintStream out, PrintStream err, boolean showReasoning, boolean color) {
        this.out = out;
        this.err = err;
        this.showReasoning = showReasoning;
        this.color = color;
    }

    @Override
    public void accept(HarmonyEvent event) {
        switch (event) {
            case HarmonyEvent.MessageStarted s -> {
                if (!isFinal(s.header()) && showReasoning) {
                    String label = s.header().recipient() != null ? "[" + s.header().channel() + " to=" + s.header().recipient() + "] "
                            : "[" + s.header().channel() + "] ";
                    print(dim(label));
                }
            }
            case HarmonyEvent.ContentDelta d -> {
                if (isFinal(d.header())) print(d.text());
                else if (showReasoning) print(dim(d.text()));
            }
            case HarmonyEvent.MessageEnded e -> {
                if ("final".equals(e.message().channel()) || showReasoning) newLine();
            }
            case HarmonyEvent.Diagnostic d -> {
                newLine();
                err.println("warning: model output: " + d.problem());
            }
        }
        out.flush();
    }

    /** Ends the current line if text is pending. */
    public void newLine() {
        if (midLine) out.println();
        midLine = false;
    }

    private static boolean isFinal(MessageHeader h) {
        return "final".equals(h.channel());
    }

    private String dim(String text) {
        return color ? DIM + text + RESET : text;
    }

    private void print(String text) {
        if (text.isEmpty()) return;
        out.print(text);
        midLine = !text.endsWith("\n");
    }
}
