package gptoss.server;

import gptoss.api.GenerationParams;
import gptoss.api.GptOss;
import gptoss.api.GptOssOptions;
import gptoss.api.Sampling;
import gptoss.api.TokenSelector;
import gptoss.model.synth.SyntheticCheckpoint;
import gptoss.model.testing.TestModels;
import gptoss.model.tokenizer.HarmonyTokenizer;

import java.nio.file.Path;

/**
 * A server on loopback over a tiny synthetic checkpoint (random weights, the real vocabulary). Requests with seed
 * {@link #TOOL_CALL_SEED} or {@link #REASONING_SEED} get a scripted "model" that writes what a trained gpt-oss
 * writes (a tool call; reasoning then an answer), so the plumbing of those outputs can be checked through HTTP;
 * every other request samples the random model.
 */
final class ServerFixture implements AutoCloseable {
    static final long TOOL_CALL_SEED = 9001, REASONING_SEED = 9002;
    static final String TOOL_CALL = "<|channel|>analysis<|message|>Need the weather.<|end|><|start|>assistant to=functions.get_weather"
            + "<|channel|>commentary <|constrain|>json<|message|>{\"city\":\"Paris\"}<|call|>";
    static final String REASONING = "<|channel|>analysis<|message|>User asks 2+2. Answer 4.<|end|><|start|>assistant<|channel|>final"
            + "<|message|>2 + 2 = 4.<|return|>";

    final GptOss model;
    final OpenAiServer server;
    final int port;

    ServerFixture(Path dir, ServerSettings settings, int maxSequences, int queue) {
        Path ckpt = TestModels.write(dir.resolve("tiny"), TestModels.config(2, 32, 4, 2, 8, 4, 2, 32, 201088, 8), 3,
                SyntheticCheckpoint.Layout.HUGGING_FACE, 1);
        model = GptOss.open(ckpt, GptOssOptions.defaults().withContext(1024).withThreads(2).withQuiet(true)
                .withMaxSequences(maxSequences).withQueueCapacity(queue), ServerFixture::selector);
        server = new OpenAiServer(model, settings.withPort(0));
        port = server.start();
    }

    static TokenSelector selector(GenerationParams p) {
        if (p.seed() != null && p.seed() == TOOL_CALL_SEED) return scripted(TOOL_CALL);
        if (p.seed() != null && p.seed() == REASONING_SEED) return scripted(REASONING);
        return Sampling.selector(p);
    }

    static TokenSelector scripted(String harmony) {
        int[] script = HarmonyTokenizer.instance().encodeWithSpecialTokens(harmony);
        int[] next = {0};
        return (logits, offset, vocab) -> script[Math.min(next[0]++, script.length - 1)];
    }

    String base() {
        return "http://127.0.0.1:" + port;
    }

    @Override
    public void close() {
        server.close();
        model.close();
    }
}
