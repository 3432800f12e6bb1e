package gptoss.api.example;

import gptoss.api.ChatListener;
import gptoss.api.ChatRequest;
import gptoss.api.ChatResult;
import gptoss.api.GenerationParams;
import gptoss.api.GptOss;
import gptoss.api.GptOssOptions;
import gptoss.api.ToolCall;
import gptoss.model.harmony.ReasoningEffort;
import gptoss.model.harmony.ToolDescription;

import java.nio.file.Path;

/**
 * Embedding gpt-oss in a Java program: open a checkpoint, stream one answer (reasoning, text and tool calls as
 * they arrive), print the token counts.
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *      -cp "cli/target/gptoss-cli.jar:cli/target/lib/*" gptoss.api.example.EmbedExample /models/gpt-oss-20b "What is 2 + 2?"
 * </pre>
 */
public final class EmbedExample {
    private EmbedExample() {
    }

    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: EmbedExample CHECKPOINT_DIR QUESTION [MAX_TOKENS]");
            System.exit(2);
        }
        int maxTokens = args.length > 2 ? Integer.parseInt(args[2]) : 200;
        try (GptOss model = GptOss.open(Path.of(args[0]), GptOssOptions.defaults().withContext(4096))) {
            ChatRequest request = ChatRequest.builder()
                    .reasoning(ReasoningEffort.LOW)
                    .instructions("Answer briefly.")
                    .tool(new ToolDescription("get_time", "The current time in a city", null))
                    .user(args[1])
                    .params(GenerationParams.defaults().withMaxTokens(maxTokens).withSeed(1L))
                    .build();
            ChatResult r = model.chat(request, new ChatListener() {
                @Override
                public void onReasoning(String delta) {
                    System.out.print("\u001b[2m" + delta + "\u001b[0m");
                }

                @Override
                public void onText(String delta) {
                    System.out.print(delta);
                }

                @Override
                public void onToolCall(ToolCall call) {
                    System.out.print("\n[tool call " + call.name() + " " + call.arguments() + "]");
                }
            });
            System.out.println();
            System.out.println("finish: " + r.finishReason().wireName() + ", usage: " + r.usage());
        }
    }
}
