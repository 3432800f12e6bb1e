package gptoss.cli;

import gptoss.api.GptOss;
import gptoss.server.OpenAiServer;
import gptoss.server.ServerSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.logging.LogManager;

/** {@code gptoss serve}: the OpenAI-compatible HTTP server. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve the model over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/completions, /v1/responses, "
                + "/v1/models, /health, /metrics) with continuous batching. Defaults come from etc/server.properties.")
final class ServeCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--config", paramLabel = "FILE", description = "Server settings (default: etc/server.properties of the installation).")
    Path config;

    @Option(names = "--host", paramLabel = "ADDR", description = "Address to bind (default 127.0.0.1: this machine only).")
    String host;

    @Option(names = "--port", paramLabel = "N", description = "TCP port (default 8080; 0 picks a free one).")
    Integer port;

    @Option(names = "--api-key", paramLabel = "KEY", description = "Require 'Authorization: Bearer KEY' on /v1 requests (default: $GPTOSS_API_KEY, else none).")
    String apiKey;

    @Option(names = "--max-sequences", paramLabel = "N", description = "Sequences decoded together (default 8).")
    Integer maxSequences;

    @Option(names = "--queue", paramLabel = "N", description = "Requests that may wait for a slot; more get 429 (default 64).")
    Integer queue;

    @Option(names = "--max-body-bytes", paramLabel = "N", description = "Larger request bodies get 413 (default 4 MiB).")
    Long maxBodyBytes;

    @Override
    public Integer call() throws Exception {
        Properties p = settings();
        configureLogging();
        ServerSettings s = new ServerSettings(host != null ? host : p.getProperty("host", "127.0.0.1"),
                port != null ? port : Integer.parseInt(p.getProperty("port", "8080")),
                apiKey != null ? apiKey : System.getenv("GPTOSS_API_KEY"),
                maxBodyBytes != null ? maxBodyBytes : Long.parseLong(p.getProperty("max-body-bytes", String.valueOf(4L << 20))));
        var options = model.options()
                .withMaxSequences(maxSequences != null ? maxSequences : Integer.parseInt(p.getProperty("max-sequences", "8")))
                .withQueueCapacity(queue != null ? queue : Integer.parseInt(p.getProperty("queue", "64")))
                .withPrefixCache(Integer.parseInt(p.getProperty("prefix-cache-entries", "16")),
                        Long.parseLong(p.getProperty("prefix-cache-mib", "1024")) << 20);
        GptOss gptoss = GptOss.open(model.modelPath(), options);
        OpenAiServer server = new OpenAiServer(gptoss, s);
        int bound = server.start();
        System.err.println("gptoss serve: model '" + gptoss.id() + "' on http://" + s.host() + ":" + bound + "/v1"
                + (s.apiKey() != null ? " (API key required)" : "") + "; Ctrl-C stops");
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            gptoss.close();
            stopped.countDown();
        }));
        stopped.await();
        return 0;
    }

    private Properties settings() {
        Path file = config;
        if (file == null) {
            String etc = System.getProperty("gptoss.etc");
            if (etc != null && Files.isRegularFile(Path.of(etc, "server.properties"))) file = Path.of(etc, "server.properties");
        }
        return file == null ? new Properties() : ServerSettings.read(file);
    }

    private static void configureLogging() {
        String etc = System.getProperty("gptoss.etc");
        if (etc == null || System.getProperty("java.util.logging.config.file") != null) return;
        Path file = Path.of(etc, "logging.properties");
        if (!Files.isRegularFile(file)) return;
        try (InputStream in = Files.newInputStream(file)) {
            LogManager.getLogManager().readConfiguration(in);
        } catch (IOException e) {
            System.err.println("warning: cannot read " + file + ": " + e.getMessage());
        }
    }
}
