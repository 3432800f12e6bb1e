package gptoss.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import gptoss.sampling.SamplingParams;
import gptoss.sampling.constraint.JsonGrammar;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The sampling flags shared by run, chat and generate (llama.cpp / vLLM names). */
public final class SamplingOptions {
    @Option(names = "--temperature", paramLabel = "T", description = "Sampling temperature, 0 = greedy (default: 1 for run/chat, 0 for generate).")
    Double temperature;

    @Option(names = "--top-k", defaultValue = "0", paramLabel = "K", description = "Keep the K most likely tokens, 0 = off (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--top-p", defaultValue = "1.0", paramLabel = "P", description = "Nucleus mass in (0, 1] (default: ${DEFAULT-VALUE}).")
    double topP;

    @Option(names = "--min-p", defaultValue = "0", paramLabel = "P", description = "Drop tokens below P times the top probability, in [0, 1) (default: ${DEFAULT-VALUE}).")
    double minP;

    @Option(names = "--repeat-penalty", defaultValue = "1.0", paramLabel = "R", description = "Repetition penalty, 1 = off (default: ${DEFAULT-VALUE}).")
    double repeatPenalty;

    @Option(names = "--repeat-last-n", defaultValue = "0", paramLabel = "N", description = "Penalties look at the last N generated tokens, 0 = all (default: ${DEFAULT-VALUE}).")
    int repeatLastN;

    @Option(names = "--presence-penalty", defaultValue = "0", paramLabel = "X", description = "Subtracted once from every generated token's logit, in [-2, 2] (default: ${DEFAULT-VALUE}).")
    double presencePenalty;

    @Option(names = "--frequency-penalty", defaultValue = "0", paramLabel = "X", description = "Subtracted per occurrence, in [-2, 2] (default: ${DEFAULT-VALUE}).")
    double frequencyPenalty;

    @Option(names = "--logit-bias", split = ",", paramLabel = "ID=BIAS", description = "Added to a token's logit, e.g. 200002=-100.")
    List<String> logitBias = List.of();

    @Option(names = "--seed", paramLabel = "N", description = "Sampling seed (default: random for run/chat, 0 for generate).")
    Long seed;

    @Option(names = "--stop-string", paramLabel = "TEXT", description = "Stop when the output contains TEXT (repeatable; may span tokens).")
    List<String> stopStrings = List.of();

    @Option(names = "--json-schema", paramLabel = "FILE", description = "Constrain the output to JSON valid against this JSON schema (run/chat: the final answer).")
    Path jsonSchema;

    @Option(names = "--json", description = "Constrain the output to any JSON value (OpenAI json_object).")
    boolean anyJson;

    /** The parameters, or a usage error naming the flag. */
    SamplingParams params(double defaultTemperature, long defaultSeed) {
        Map<Integer, Float> bias = new HashMap<>();
        for (String b : logitBias) {
            int eq = b.indexOf('=');
            try {
                if (eq < 0) throw new NumberFormatException();
                bias.put(Integer.parseInt(b.substring(0, eq).trim()), Float.parseFloat(b.substring(eq + 1).trim()));
            } catch (NumberFormatException e) {
                throw new UsageException("--logit-bias wants ID=BIAS, got '" + b + "'");
            }
        }
        try {
            return new SamplingParams(temperature == null ? defaultTemperature : temperature, topK, topP, minP, repeatPenalty,
                    presencePenalty, frequencyPenalty, repeatLastN, bias, seed == null ? defaultSeed : seed);
        } catch (IllegalArgumentException e) {
            throw new UsageException(flagName(e.getMessage()));
        }
    }

    /** The --json-schema grammar once compiled (checking the flags and then running must not compile it twice). */
    private JsonGrammar compiledSchema;

    /** The JSON grammar of --json-schema / --json, or null. */
    JsonGrammar grammar() {
        if (jsonSchema != null && anyJson) throw new UsageException("--json-schema and --json exclude each other");
        if (anyJson) return JsonGrammar.anyJson();
        if (jsonSchema == null) return null;
        if (compiledSchema == null) compiledSchema = compileSchema();
        return compiledSchema;
    }

    private JsonGrammar compileSchema() {
        JsonNode schema;
        try {
            schema = new ObjectMapper().readTree(Files.readString(jsonSchema));
        } catch (IOException e) {
            throw new UsageException("--json-schema " + jsonSchema + " cannot be read as JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (schema == null || schema.isMissingNode()) throw new UsageException("--json-schema " + jsonSchema + " is empty");
        try {
            return JsonGrammar.compile(schema);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--json-schema " + jsonSchema + ": " + e.getMessage());
        }
    }

    /** "topP must be ..." → "--top-p must be ...". */
    private static String flagName(String message) {
        String[][] names = {{"temperature", "--temperature"}, {"topK", "--top-k"}, {"topP", "--top-p"}, {"minP", "--min-p"},
                {"repetitionPenalty", "--repeat-penalty"}, {"presencePenalty", "--presence-penalty"},
                {"frequencyPenalty", "--frequency-penalty"}, {"penaltyWindow", "--repeat-last-n"}, {"logitBias", "--logit-bias"}};
        for (String[] n : names) if (message.startsWith(n[0] + " ")) return n[1] + message.substring(n[0].length());
        return message;
    }
}
