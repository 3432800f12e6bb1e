package gptoss.server;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * Settings of the HTTP layer. Defaults live in {@code etc/server.properties}; command-line flags override them.
 *
 * @param host         address to bind (127.0.0.1 unless told otherwise)
 * @param port         TCP port (0 picks a free one)
 * @param apiKey       bearer key every /v1 request must send, or null for none
 * @param maxBodyBytes larger request bodies are refused with 413
 */
public record ServerSettings(String host, int port, String apiKey, long maxBodyBytes) {
    public ServerSettings {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be in 0..65535, got " + port);
        if (maxBodyBytes < 1) throw new IllegalArgumentException("max body bytes must be >= 1");
        if (apiKey != null && apiKey.isBlank()) apiKey = null;
    }

    public static ServerSettings defaults() {
        return new ServerSettings("127.0.0.1", 8080, null, 4L << 20);
    }

    public ServerSettings withPort(int p) {
        return new ServerSettings(host, p, apiKey, maxBodyBytes);
    }

    public ServerSettings withHost(String h) {
        return new ServerSettings(h, port, apiKey, maxBodyBytes);
    }

    public ServerSettings withApiKey(String k) {
        return new ServerSettings(host, port, k, maxBodyBytes);
    }

    public ServerSettings withMaxBodyBytes(long n) {
        return new ServerSettings(host, port, apiKey, n);
    }

    /** Reads {@code key=value} lines (see etc/server.properties). */
    public static Properties read(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return p;
    }
}
