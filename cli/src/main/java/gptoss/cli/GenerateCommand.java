package gptoss.cli;

import gptoss.api.GptOss;
import gptoss.generation.Generator;
import gptoss.model.tokenizer.HarmonyTokenizer;
import gptoss.sampling.Sampler;
import gptoss.sampling.SamplingParams;
import gptoss.sampling.StopRules;
import gptoss.sampling.constraint.JsonGrammar;
import gptoss.sampling.constraint.JsonSchemaConstraint;
import gptoss.sampling.constraint.TokenVocabulary;
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

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--print-ids", description = "Print the generated ids, space-separated, on one line (default: the decoded text).")
    boolean printIds;

    @Option(names = "--print-text", description = "Print only the generated text: no newline added, no statistics on stderr.")
    boolean printText;

    @Option(names = "--stop-on-eos", description = "Stop at the config's eos_token_id (never by default).")
    boolean stopOnEos;

    @Option(names = "--stop", split = ",", paramLabel = "ID", description = "Extra stop token ids.")
    int[] stop = new int[0];

    @Option(names = "--router-trace", paramLabel = "FILE.jsonl", description = "Write every routing decision as JSON lines.")
    Path routerTrace;

    @Override
    public Integer call() throws Exception {
        int[] ids = TokenIdsOption.parse(tokens);
        if (maxTokens < 0) throw new UsageException("--max-tokens must be >= 0, got " + maxTokens);
        if (printIds && printText) throw new UsageException("--print-ids and --print-text exclude each other");
        SamplingParams params = sampling.params(0.0, 0L); // greedy unless --temperature
        JsonGrammar grammar = sampling.grammar();
        try (GptOss m = model.open();
             RouterTraceWriter trace = routerTrace == null ? null : new RouterTraceWriter(routerTrace)) {
            if (trace != null) m.model().engine().addListener(trace);
            int V = m.config().vocabSize();
            TokenVocabulary vocabulary = grammar != null || !sampling.stopStrings.isEmpty() ? TokenVocabulary.o200k() : null;
            Sampler sampler = grammar == null ? params.newSampler(V) : params.newSampler(V, JsonSchemaConstraint.of(grammar, vocabulary));
            Set<Integer> stops = new HashSet<>();
            for (int s : stop) stops.add(s);
            if (stopOnEos && m.config().eosTokenId() >= 0) stops.add(m.config().eosTokenId());
            StopRules rules = StopRules.of(maxTokens, stops).withStopStrings(sampling.stopStrings);
            Generator.Result r = new Generator(m, sampler).generate(ids, rules, vocabulary, token -> true);
            if (printIds) {
                StringBuilder line = new StringBuilder();
                for (int t : r.tokens()) line.append(line.isEmpty() ? "" : " ").append(t);
                System.out.println(line);
            } else {
                HarmonyTokenizer tokenizer = HarmonyTokenizer.instance();
                int[] textTokens = r.tokens();
                if (grammar != null && textTokens.length > 0 && tokenizer.isSpecial(textTokens[textTokens.length - 1])) {
                    textTokens = java.util.Arrays.copyOf(textTokens, textTokens.length - 1); // the JSON's end token
                }
                String text;
                if (r.stopStringByteOffset() >= 0) { // the text ends before the stop string (OpenAI's stop)
                    byte[] bytes = tokenizer.decodeBytes(textTokens);
                    text = new String(bytes, 0, (int) r.stopStringByteOffset(), java.nio.charset.StandardCharsets.UTF_8);
                } else {
                    text = tokenizer.decode(textTokens);
                }
                if (printText) {
                    System.out.print(text);
                    System.out.flush();
                    return 0;
                }
                System.out.println(text);
            }
            System.err.printf(Locale.ROOT, "%d prompt tokens (%.1f tok/s), %d generated (%.2f tok/s), stop: %s%n",
                    r.promptTokens(), r.promptTokensPerSecond(), r.tokens().length, r.generatedTokensPerSecond(),
                    r.reason().name().toLowerCase(Locale.ROOT).replace('_', ' '));
            System.err.println(m.model().memoryReport());
        }
        return 0;
    }
}
