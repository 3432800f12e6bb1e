package gptoss.cli.profile;

import gptoss.api.LoadedModel;
import gptoss.cli.ModelOptions;
import gptoss.model.config.ModelConfig;
import gptoss.model.harmony.HarmonyChat;
import gptoss.runtime.engine.Engine;
import gptoss.runtime.engine.Sequence;
import gptoss.runtime.profile.RoutingProfile;
import gptoss.runtime.profile.RoutingProfiler;
import gptoss.runtime.profile.SummaryJson;
import gptoss.sampling.GreedySampler;
import gptoss.sampling.Sampler;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code gptoss profile}: which experts fire for a corpus of prompts; writes traces, statistics, heatmaps, a report. */
@Command(name = "profile", mixinStandardHelpOptions = true, subcommands = ProfileDiffCommand.class,
        description = {"Profile expert routing over the prompts of --input and write to --out: trace.jsonl, summary.json,",
                "coactivation.json and coactivation/*.csv, load-heatmap.png, coactivation/*.png, report.html.",
                "--input: plain text (one prompt per line) or JSON lines with {\"tokens\": [ids]}, {\"prompt\": \"...\"}",
                "or {\"messages\": [{\"role\": ..., \"content\": ...}]}.",
                "'profile diff A B' compares two profiles."})
public final class ProfileCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--input", paramLabel = "FILE", description = "Prompts: plain text or JSON lines (see above).")
    Path input;

    @Option(names = "--out", paramLabel = "DIR", description = "Output folder (created if missing).")
    Path out;

    @Option(names = "--max-tokens", defaultValue = "0", paramLabel = "N",
            description = "Also continue each prompt by N greedy tokens and profile them (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--stop-on-eos", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Stop a continuation at <|return|>, <|call|> or the config's eos_token_id (default: ${DEFAULT-VALUE}).")
    boolean stopOnEos;

    @Option(names = "--no-system", description = "Render text prompts as a user message alone, without the default system message.")
    boolean noSystem;

    @Option(names = "--top-tokens", defaultValue = "10", paramLabel = "N",
            description = "Top tokens listed per expert in summary.json and the report (default: ${DEFAULT-VALUE}).")
    int topTokens;

    @Option(names = "--router-logits", description = "Also write all router logits of every decision to trace.jsonl (\"logits\").")
    boolean routerLogits;

    @Option(names = "--no-trace", description = "Do not write trace.jsonl.")
    boolean noTrace;

    @Override
    public Integer call() throws Exception {
        if (input == null || out == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "profile needs --input FILE and --out DIR (or: profile diff A B)");
        }
        if (maxTokens < 0) throw new IllegalArgumentException("--max-tokens must be >= 0");
        if (topTokens < 0) throw new IllegalArgumentException("--top-tokens must be >= 0");
        List<ProfileInput.Prompt> prompts = ProfileInput.read(input);
        PromptCodec codec = new PromptCodec(HarmonyChat.standard(), !noSystem);
        List<int[]> encoded = new ArrayList<>();
        for (ProfileInput.Prompt p : prompts) encoded.add(codec.encode(p));
        Files.createDirectories(out);

        Run run;
        RoutingProfile profile;
        String backends;
        try (LoadedModel m = model.load();
             TraceWriter trace = noTrace ? null : new TraceWriter(out.resolve("trace.jsonl"))) {
            ModelConfig c = m.config();
            backends = String.join(", ", m.engine().placement().backends().stream().map(b -> b.name()).toList());
            check(prompts, encoded, c.vocabSize(), m.engine().maxContext());
            profile = RoutingProfile.forModel(c);
            try (RoutingProfiler profiler = RoutingProfiler.attach(m.engine(), profile, routerLogits)) {
                if (trace != null) profiler.addSink(trace);
                Set<Integer> stops = new HashSet<>();
                if (stopOnEos) {
                    stops.addAll(codec.stopTokens());
                    if (c.eosTokenId() >= 0) stops.add(c.eosTokenId());
                }
                run = run(m.engine(), encoded, trace, stops);
            }
        }

        Map<String, Object> source = new LinkedHashMap<>();
        source.put("model", model.modelPath().toString());
        source.put("backend", backends);
        source.put("input", input.toString());
        source.put("prompts", prompts.size());
        source.put("prompt_tokens", run.promptTokens());
        source.put("generated_tokens", run.generatedTokens());
        source.put("max_tokens", maxTokens);
        SummaryJson.write(out.resolve("summary.json"), profile, source, topTokens, codec.tokenText());
        CoactivationFiles.write(out, profile);
        ProfileImages.writeAll(out, profile);
        List<String> files = new ArrayList<>(List.of("summary.json", CoactivationFiles.JSON_FILE));
        if (!noTrace) files.add(1, "trace.jsonl");
        HtmlReport.write(out, profile, source, topTokens, codec.tokenText(), files);

        System.err.printf(Locale.ROOT, "profiled %d prompts: %d prompt tokens (%.1f tok/s), %d generated (%.2f tok/s decode); wrote %s%n",
                prompts.size(), run.promptTokens(), rate(run.promptTokens(), run.prefillNanos()), run.generatedTokens(),
                rate(run.generatedTokens(), run.decodeNanos()), out.resolve(HtmlReport.FILE));
        return 0;
    }

    /** Token counts and times of a profiling run. */
    record Run(long promptTokens, long prefillNanos, long generatedTokens, long decodeNanos) {
    }

    private Run run(Engine engine, List<int[]> prompts, TraceWriter trace, Set<Integer> stops) {
        Sampler greedy = new GreedySampler();
        int V = engine.config().vocabSize();
        long promptTokens = 0, generated = 0, prefillNanos = 0, decodeNanos = 0, lastReport = System.nanoTime();
        for (int i = 0; i < prompts.size(); i++) {
            if (trace != null) trace.setPrompt(i);
            int[] ids = prompts.get(i);
            try (Sequence seq = engine.newSequence()) {
                long t0 = System.nanoTime();
                float[] logits = engine.forward(seq, ids, false);
                long t1 = System.nanoTime();
                for (int n = 0; n < maxTokens && seq.length() < engine.maxContext(); n++) {
                    int next = greedy.sample(logits, 0, V);
                    if (stops.contains(next)) break;
                    logits = engine.forward(seq, new int[]{next}, false);
                    generated++;
                }
                long t2 = System.nanoTime();
                promptTokens += ids.length;
                prefillNanos += t1 - t0;
                decodeNanos += t2 - t1;
                if (t2 - lastReport > 10_000_000_000L) {
                    System.err.printf(Locale.ROOT, "profile: %d/%d prompts%n", i + 1, prompts.size());
                    lastReport = t2;
                }
            }
        }
        return new Run(promptTokens, prefillNanos, generated, decodeNanos);
    }

    private static void check(List<ProfileInput.Prompt> prompts, List<int[]> encoded, int vocab, int context) {
        for (int i = 0; i < prompts.size(); i++) {
            int[] ids = encoded.get(i);
            int line = prompts.get(i).line();
            if (ids.length == 0) throw new IllegalArgumentException("--input line " + line + ": empty prompt");
            if (ids.length > context) {
                throw new IllegalArgumentException("--input line " + line + ": prompt of " + ids.length + " tokens exceeds the context of " + context);
            }
            for (int id : ids) {
                if (id < 0 || id >= vocab) {
                    throw new IllegalArgumentException("--input line " + line + ": token id " + id + " is outside the vocabulary (0.." + (vocab - 1) + ")");
                }
            }
        }
    }

    private static double rate(long tokens, long nanos) {
        return nanos == 0 ? 0 : tokens * 1e9 / nanos;
    }
}
