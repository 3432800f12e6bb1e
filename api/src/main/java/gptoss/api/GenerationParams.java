package gptoss.api;

import java.util.List;

/**
 * Per-request generation settings.
 *
 * @param maxTokens   most tokens to generate (the context limit may end it sooner)
 * @param temperature 0 = greedy
 * @param topP        nucleus mass in (0, 1]
 * @param seed        sampling seed, or null for a random one; a seeded request gives the same tokens alone or
 *                    batched with others
 * @param stop        strings that end the answer (the final text is cut before them); empty for none
 * @param constraint  an output constraint asked for (not enforced until constrained decoding lands, see
 *                    {@link Sampling}), or null
 */
public record GenerationParams(int maxTokens, double temperature, double topP, Long seed, List<String> stop,
                               OutputConstraint constraint) {
    public GenerationParams {
        if (maxTokens < 1) throw new IllegalArgumentException("max tokens must be >= 1, got " + maxTokens);
        if (!(temperature >= 0)) throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
        stop = stop == null ? List.of() : List.copyOf(stop);
    }

    /** 256 tokens, temperature 1, top-p 1 (the gpt-oss defaults), random seed. */
    public static GenerationParams defaults() {
        return new GenerationParams(256, 1.0, 1.0, null, List.of(), null);
    }

    public GenerationParams withMaxTokens(int n) {
        return new GenerationParams(n, temperature, topP, seed, stop, constraint);
    }

    public GenerationParams withTemperature(double t) {
        return new GenerationParams(maxTokens, t, topP, seed, stop, constraint);
    }

    public GenerationParams withTopP(double p) {
        return new GenerationParams(maxTokens, temperature, p, seed, stop, constraint);
    }

    public GenerationParams withSeed(Long s) {
        return new GenerationParams(maxTokens, temperature, topP, s, stop, constraint);
    }

    public GenerationParams withStop(List<String> s) {
        return new GenerationParams(maxTokens, temperature, topP, seed, s, constraint);
    }

    public GenerationParams withConstraint(OutputConstraint c) {
        return new GenerationParams(maxTokens, temperature, topP, seed, stop, c);
    }

    /**
     * What the output must match: a JSON schema for the final answer ({@code response_format}), or a forced call of
     * one function whose arguments follow its parameter schema ({@code tool_choice}).
     *
     * @param jsonSchema   the schema (JSON text), or null for any JSON object
     * @param functionName the function that must be called, or null for a response format
     */
    public record OutputConstraint(String jsonSchema, String functionName) {
    }
}
