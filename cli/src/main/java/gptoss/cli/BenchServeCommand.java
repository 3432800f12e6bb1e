package gptoss.cli;

import gptoss.api.GptOss;
import gptoss.server.LoadTest;
import gptoss.server.OpenAiServer;
import gptoss.server.ServerSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code gptoss bench-serve}: a load test of the HTTP server on loopback. */
@Command(name = "bench-serve", mixinStandardHelpOptions = true,
        description = "Start the server on 127.0.0.1 and run concurrent streaming clients against it for a bounded time: "
                + "time to first token and inter-token latency (p50/p99), and a check that every answer equals the same "
                + "request answered alone. Exit code 1 on any error, mixed output or leaked sequence.")
final class BenchServeCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--clients", defaultValue = "16", paramLabel = "N", description = "Concurrent streaming clients (default: ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--duration", defaultValue = "60", paramLabel = "SECONDS", description = "How long the clients send requests (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--max-tokens", defaultValue = "32", paramLabel = "N", description = "Tokens per answer (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--max-sequences", paramLabel = "N", description = "Server batch slots (default: --clients).")
    Integer maxSequences;

    @Option(names = "--disconnect-every", defaultValue = "5", paramLabel = "N",
            description = "Every N-th request of a client hangs up after 3 tokens; 0 never (default: ${DEFAULT-VALUE}).")
    int disconnectEvery;

    @Option(names = "--temperature", defaultValue = "0", paramLabel = "T",
            description = "Sampling temperature of every request, each client with its own seed (default: ${DEFAULT-VALUE}, greedy: with random "
                    + "weights the distribution is nearly flat, and kernel rounding (<= 1e-5) can move a sampled token).")
    double temperature;

    @Option(names = "--json", description = "Print one JSON object instead of a table.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (clients < 1 || seconds <= 0 || seconds > 3600 || maxTokens < 1) {
            throw new IllegalArgumentException("--clients and --max-tokens must be >= 1, --duration in (0, 3600]");
        }
        var options = model.options().withMaxSequences(maxSequences != null ? maxSequences : clients).withQueueCapacity(Math.max(64, clients));
        try (GptOss m = GptOss.open(model.modelPath(), options);
             OpenAiServer server = new OpenAiServer(m, ServerSettings.defaults().withHost("127.0.0.1").withPort(0))) {
            int port = server.start();
            System.err.println("bench-serve: " + clients + " clients for " + seconds + " s on http://127.0.0.1:" + port);
            LoadTest.Report r = new LoadTest(new LoadTest.Settings("http://127.0.0.1:" + port, null, m.id(), clients, seconds,
                    maxTokens, disconnectEvery, 1, temperature)).run();
            System.out.println(json ? r.json().toPrettyString() : r.table());
            return r.ok() ? 0 : 1;
        }
    }
}
