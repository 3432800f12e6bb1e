package gptoss.cli;

import gptoss.api.GptOss;
import gptoss.chat.ChatSession;
import gptoss.chat.TranscriptPrinter;
import gptoss.model.harmony.ReasoningEffort;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;

/** {@code gptoss chat}: an interactive conversation. */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = "Chat interactively. Commands: /reset, /reasoning low|medium|high, /show-reasoning on|off, /exit. "
                + "Ctrl-C stops the current answer; Ctrl-D (or Ctrl-C at the prompt) quits.")
final class ChatCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Mixin
    ChatOptions chat;

    private final AtomicBoolean generating = new AtomicBoolean();
    private final AtomicBoolean cancel = new AtomicBoolean();

    @Override
    public Integer call() throws IOException {
        chat.check(); // bad flags are usage errors before the model loads
        try (GptOss m = model.open()) {
            ChatSession session = new ChatSession(m, chat.sampler(m.config().vocabSize()), chat.system(), chat.maxTokens);
            boolean showReasoning = chat.showReasoning;
            installInterruptHandler();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            System.err.println("chat with " + m.id() + " (reasoning " + session.reasoning().wireName()
                    + "); /reset, /reasoning low|medium|high, /show-reasoning on|off, /exit");
            while (true) {
                System.out.print("> ");
                System.out.flush();
                String line = in.readLine();
                if (line == null) {
                    System.out.println();
                    return 0;
                }
                line = line.strip();
                if (line.isEmpty()) continue;
                if (line.startsWith("/")) {
                    String[] words = line.split("\\s+");
                    switch (words[0]) {
                        case "/exit", "/quit" -> {
                            return 0;
                        }
                        case "/reset" -> {
                            session.reset();
                            System.err.println("[conversation cleared]");
                        }
                        case "/reasoning" -> {
                            ReasoningEffort e = words.length == 2 ? ReasoningEffort.parse(words[1]) : null;
                            if (e == null) System.err.println("usage: /reasoning low|medium|high");
                            else {
                                session.setReasoning(e);
                                System.err.println("[reasoning " + e.wireName() + "]");
                            }
                        }
                        case "/show-reasoning" -> {
                            if (words.length == 2 && (words[1].equals("on") || words[1].equals("off"))) showReasoning = words[1].equals("on");
                            else System.err.println("usage: /show-reasoning on|off");
                        }
                        default -> System.err.println("unknown command " + words[0] + " (/reset, /reasoning, /show-reasoning, /exit)");
                    }
                    continue;
                }
                TranscriptPrinter printer = new TranscriptPrinter(System.out, System.err, showReasoning, chat.color());
                cancel.set(false);
                generating.set(true);
                try {
                    ChatSession.Turn turn = session.send(line, printer, cancel::get);
                    printer.newLine();
                    TurnSummary.print(turn, chat.maxTokens);
                } catch (IllegalArgumentException e) {
                    System.err.println("error: " + e.getMessage());
                } finally {
                    generating.set(false);
                }
            }
        }
    }

    /** Ctrl-C while answering stops the answer; at the prompt it quits. */
    @SuppressWarnings("restriction")
    private void installInterruptHandler() {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), signal -> {
                if (generating.get()) cancel.set(true);
                else {
                    System.out.println();
                    System.exit(130);
                }
            });
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            // no signal support here: Ctrl-C ends the program
        }
    }
}
