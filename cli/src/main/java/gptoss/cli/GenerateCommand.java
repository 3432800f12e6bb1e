package gptoss.cli;

import gptoss.api.GptOss;
import gptoss.generation.Generator;
import gptoss.model.tokenizer.HarmonyTokenizer;
import gptoss.sampling.Sampler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code gptoss generate}: continue a token prompt. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continue a prompt of token ids; prints the generated text, or the ids with --print-ids.")
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--tokens", required = true, paramLabel = "IDS", description = "Prompt token ids, e.g. 1,2,3.")
    String tokens;

    @Option(names = "--max-tokens", defaultValue = "16", paramLabel = "N", description = "Tokens to generate (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default: ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--top-p", defaultValue = "1.0", description = "Nucleus sampling mass (default: ${DEFAULT-VALUE}).")
    double topP;

    @Option(names = "--seed", defaultValue = "0", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--print-ids", description = "Print the generated ids, space-separated, on one line (default: the decoded text).")
    boolean printIds;

    @Option(names = "--stop-on-eos", description = "Stop at the config's eos_token_id (never by default).")
    boolean stopOnEos;

    @Option(names = "--stop", split = ",", paramLabel = "ID", description = "Extra stop token ids.")
    int[] stop = new int[0];

    @Option(names = "--router-trace", paramLabel = "FILE.jsonl", description = "Write every routing decision as JSON lines.")
    Path routerTrace;

    @Override
    public Integer call() throws Exception {
        int[] ids = TokenIdsOption.parse(tokens);
        if (maxTokens < 0) throw new IllegalArgumentException("--max-tokens must be >= 0");
        Sampler sampler = Sampler.of(temperature, topP, seed);
        try (GptOss m = model.open();
             RouterTraceWriter trace = routerTrace == null ? null : new RouterTraceWriter(routerTrace)) {
            if (trace != null) m.model().engine().addListener(trace);
            Set<Integer> stops = new HashSet<>();
            for (int s : stop) stops.add(s);
            if (stopOnEos && m.config().eosTokenId() >= 0) stops.add(m.config().eosTokenId());
            if (maxTokens == 0) {
                System.out.println();
                return 0;
            }
            Generator.Result r = new Generator(m, sampler).generate(ids, maxTokens, stops, token -> true);
            if (printIds) {
                StringBuilder line = new StringBuilder();
                for (int t : r.tokens()) line.append(line.isEmpty() ? "" : " ").append(t);
                System.out.println(line);
            } else {
                System.out.println(HarmonyTokenizer.instance().decode(r.tokens()));
            }
            System.err.printf(Locale.ROOT, "%d prompt tokens (%.1f tok/s), %d generated (%.2f tok/s), stop: %s%n",
                    r.promptTokens(), r.promptTokensPerSecond(), r.tokens().length, r.generatedTokensPerSecond(),
                    r.reason().name().toLowerCase(Locale.ROOT).replace('_', ' '));
            System.err.println(m.model().memoryReport());
        }
        return 0;
    }
}
