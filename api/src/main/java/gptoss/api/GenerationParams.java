package gptoss.api;

import gptoss.sampling.SamplingParams;

import java.util.List;
import java.util.Map;

/**
 * Per-request generation settings.
 *
 * @param maxTokens  most tokens to generate (the context limit may end it sooner); {@link #UNTIL_CONTEXT_FULL} for
 *                   as many as the context holds after the prompt
 * @param sampling   how logits become tokens: temperature (0 = greedy), top-k, top-p, min-p, repetition / presence /
 *                   frequency penalties, logit bias (its seed is replaced by {@code seed})
 * @param seed       sampling seed, or null for a random one; a seeded request gives the same tokens alone or
 *                   batched with others
 * @param stop       strings that end the answer (the final text is cut before them); empty for none
 * @param constraint what the output must match (a JSON schema, a forced tool call), or null for free text
 */
public record GenerationParams(int maxTokens, SamplingParams sampling, Long seed, List<String> stop,
                               OutputConstraint constraint) {
    /** {@code maxTokens} meaning "as many as fit": the context left after the prompt (at least 1). */
    public static final int UNTIL_CONTEXT_FULL = Integer.MAX_VALUE;

    public GenerationParams {
        if (maxTokens < 1) throw new IllegalArgumentException("max tokens must be >= 1, got " + maxTokens);
        if (sampling == null) sampling = SamplingParams.defaults();
        stop = stop == null ? List.of() : List.copyOf(stop);
    }

    /** 256 tokens, temperature 1, top-p 1 (the gpt-oss defaults), random seed. */
    public static GenerationParams defaults() {
        return new GenerationParams(256, SamplingParams.defaults(), null, List.of(), null);
    }

    public double temperature() {
        return sampling.temperature();
    }

    public double topP() {
        return sampling.topP();
    }

    public GenerationParams withMaxTokens(int n) {
        return new GenerationParams(n, sampling, seed, stop, constraint);
    }

    public GenerationParams withSampling(SamplingParams s) {
        return new GenerationParams(maxTokens, s, seed, stop, constraint);
    }

    public GenerationParams withTemperature(double t) {
        return withSampling(sampling.withTemperature(t));
    }

    public GenerationParams withTopP(double p) {
        return withSampling(sampling.withTopP(p));
    }

    public GenerationParams withTopK(int k) {
        return withSampling(sampling.withTopK(k));
    }

    public GenerationParams withMinP(double p) {
        return withSampling(sampling.withMinP(p));
    }

    public GenerationParams withRepetitionPenalty(double r) {
        return withSampling(sampling.withRepetitionPenalty(r));
    }

    public GenerationParams withPresencePenalty(double p) {
        return withSampling(sampling.withPresencePenalty(p));
    }

    public GenerationParams withFrequencyPenalty(double f) {
        return withSampling(sampling.withFrequencyPenalty(f));
    }

    public GenerationParams withLogitBias(Map<Integer, Float> bias) {
        return withSampling(sampling.withLogitBias(bias));
    }

    public GenerationParams withSeed(Long s) {
        return new GenerationParams(maxTokens, sampling, s, stop, constraint);
    }

    public GenerationParams withStop(List<String> s) {
        return new GenerationParams(maxTokens, sampling, seed, s, constraint);
    }

    public GenerationParams withConstraint(OutputConstraint c) {
        return new GenerationParams(maxTokens, sampling, seed, stop, c);
    }

    /**
     * What the output must match, enforced token by token (so it is valid by construction): JSON (any value, or
     * valid against a schema) as the answer ({@code response_format}), or a call of a function whose arguments
     * follow its parameters schema ({@code tool_choice} required or naming a function). In a chat, both skip the
     * analysis channel: the answer (or the call) is the first message.
     *
     * @param kind         JSON answer or tool call
     * @param jsonSchema   for {@link Kind#JSON}: the schema (JSON text), or null for any JSON value
     * @param functionName for {@link Kind#TOOL_CALL}: the function that must be called, or null for any of the tools
     * @param functions    for {@link Kind#TOOL_CALL}: the request's functions, name → parameters schema (JSON text,
     *                     or null for none); {@link GptOss#chat} fills it from the conversation's tools
     */
    public record OutputConstraint(Kind kind, String jsonSchema, String functionName, Map<String, String> functions) {
        public enum Kind { JSON, TOOL_CALL }

        public OutputConstraint {
            if (kind == null) throw new IllegalArgumentException("constraint kind missing");
            functions = functions == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(functions));
        }

        /** Any JSON object in a chat (OpenAI's {@code json_object}); any JSON value in a raw completion. */
        public static OutputConstraint anyJson() {
            return new OutputConstraint(Kind.JSON, null, null, Map.of());
        }

        /** JSON valid against {@code schema} (OpenAI's {@code json_schema}). */
        public static OutputConstraint jsonSchema(String schema) {
            return new OutputConstraint(Kind.JSON, schema, null, Map.of());
        }

        /** A call of {@code functionName} (or, when null, of any of the request's functions). */
        public static OutputConstraint toolCall(String functionName) {
            return new OutputConstraint(Kind.TOOL_CALL, null, functionName, Map.of());
        }

        public OutputConstraint withFunctions(Map<String, String> f) {
            return new OutputConstraint(kind, jsonSchema, functionName, f);
        }
    }
}
