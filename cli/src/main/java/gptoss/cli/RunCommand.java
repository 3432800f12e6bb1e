package gptoss.cli;

import gptoss.api.GptOss;
import gptoss.chat.ChatSession;
import gptoss.chat.TranscriptPrinter;
import gptoss.model.harmony.HarmonyChat;
import gptoss.model.tokenizer.TextDecoder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code gptoss run}: one question, the answer streamed. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Answer one prompt through the Harmony chat format, streaming the final channel.")
final class RunCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Mixin
    ChatOptions chat;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "The user message.")
    String prompt;

    @Option(names = "--raw", description = "Print the decoded output tokens as they are, special tokens included, instead of the parsed answer.")
    boolean raw;

    @Override
    public Integer call() {
        chat.check(); // bad flags are usage errors before the model loads
        try (GptOss m = model.open()) {
            ChatSession session = new ChatSession(m, chat.sampler(m.config().vocabSize()), chat.system(), chat.maxTokens);
            HarmonyChat harmony = HarmonyChat.standard();
            TranscriptPrinter printer = new TranscriptPrinter(System.out, System.err, chat.showReasoning, chat.color());
            TextDecoder decoder = harmony.tokenizer().newTextDecoder();
            ChatSession.Turn turn = raw
                    ? session.send(prompt, event -> { }, token -> {
                        System.out.print(decoder.decode(token));
                        System.out.flush();
                    }, () -> false)
                    : session.send(prompt, printer, () -> false);
            if (raw) System.out.println(decoder.flush());
            printer.newLine();
            TurnSummary.print(turn, chat.maxTokens);
        }
        return 0;
    }
}
