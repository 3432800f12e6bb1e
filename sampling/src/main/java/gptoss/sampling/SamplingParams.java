package gptoss.sampling;

import gptoss.sampling.constraint.TokenConstraint;

import java.util.Map;

/**
 * How logits become tokens: the knobs of llama.cpp / vLLM / the OpenAI API. Immutable; {@link #newSampler} makes the
 * per-sequence stateful {@link LogitSampler}.
 *
 * <p>Order of the transformations (as Hugging Face / vLLM): logit bias, penalties (over the tokens passed to
 * {@link LogitSampler#accept}), reserved ids and the constraint mask, temperature, top-k, top-p (mass relative to
 * the top-k survivors), min-p (relative to the most likely token), then a seeded draw. Temperature 0 is greedy
 * (argmax after bias, penalties and masks).
 *
 * @param temperature       0 = greedy, else softmax temperature (> 0)
 * @param topK              keep the k most likely tokens; 0 = off
 * @param topP              nucleus mass in (0, 1]; 1 = off
 * @param minP              keep tokens with p ≥ minP · p_max, in [0, 1); 0 = off
 * @param repetitionPenalty > 0; 1 = off. A seen token's logit is divided by it when positive, multiplied when negative
 * @param presencePenalty   subtracted once from the logit of every seen token, in [-2, 2]
 * @param frequencyPenalty  subtracted per occurrence, in [-2, 2]
 * @param penaltyWindow     penalties look at the last N accepted tokens; 0 = all of them
 * @param logitBias         added to a token's logit before anything else (−100 bans, +100 forces in practice)
 * @param seed              seed of the draw: the same seed gives the same tokens for the same logits
 */
public record SamplingParams(double temperature, int topK, double topP, double minP, double repetitionPenalty,
                             double presencePenalty, double frequencyPenalty, int penaltyWindow,
                             Map<Integer, Float> logitBias, long seed) {

    public SamplingParams {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) throw bad("temperature", "must be >= 0 and finite", temperature);
        if (topK < 0) throw bad("topK", "must be >= 0 (0 = off)", topK);
        if (!(topP > 0 && topP <= 1)) throw bad("topP", "must be in (0, 1]", topP);
        if (!(minP >= 0 && minP < 1)) throw bad("minP", "must be in [0, 1)", minP);
        if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) throw bad("repetitionPenalty", "must be > 0 and finite (1 = off)", repetitionPenalty);
        if (!(presencePenalty >= -2 && presencePenalty <= 2)) throw bad("presencePenalty", "must be in [-2, 2]", presencePenalty);
        if (!(frequencyPenalty >= -2 && frequencyPenalty <= 2)) throw bad("frequencyPenalty", "must be in [-2, 2]", frequencyPenalty);
        if (penaltyWindow < 0) throw bad("penaltyWindow", "must be >= 0 (0 = all tokens)", penaltyWindow);
        logitBias = logitBias == null ? Map.of() : Map.copyOf(logitBias);
        for (Map.Entry<Integer, Float> e : logitBias.entrySet()) {
            if (e.getKey() < 0) throw bad("logitBias", "has a negative token id", e.getKey());
            if (!Float.isFinite(e.getValue()) || Math.abs(e.getValue()) > 100) throw bad("logitBias", "value for token " + e.getKey() + " must be in [-100, 100]", e.getValue());
        }
    }

    private static IllegalArgumentException bad(String field, String rule, Object value) {
        return new IllegalArgumentException(field + " " + rule + ", got " + value);
    }

    /** Argmax, no penalties. */
    public static SamplingParams greedy() {
        return new SamplingParams(0, 0, 1, 0, 1, 0, 0, 0, Map.of(), 0);
    }

    /** The gpt-oss recommendation: temperature 1, top-p 1, nothing else; seed 0. */
    public static SamplingParams defaults() {
        return new SamplingParams(1, 0, 1, 0, 1, 0, 0, 0, Map.of(), 0);
    }

    public SamplingParams withTemperature(double t) {
        return new SamplingParams(t, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty, penaltyWindow, logitBias, seed);
    }

    public SamplingParams withTopK(int k) {
        return new SamplingParams(temperature, k, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty, penaltyWindow, logitBias, seed);
    }

    public SamplingParams withTopP(double p) {
        return new SamplingParams(temperature, topK, p, minP, repetitionPenalty, presencePenalty, frequencyPenalty, penaltyWindow, logitBias, seed);
    }

    public SamplingParams withMinP(double p) {
        return new SamplingParams(temperature, topK, topP, p, repetitionPenalty, presencePenalty, frequencyPenalty, penaltyWindow, logitBias, seed);
    }

    public SamplingParams withRepetitionPenalty(double r) {
        return new SamplingParams(temperature, topK, topP, minP, r, presencePenalty, frequencyPenalty, penaltyWindow, logitBias, seed);
    }

    public SamplingParams withPresencePenalty(double p) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, p, frequencyPenalty, penaltyWindow, logitBias, seed);
    }

    public SamplingParams withFrequencyPenalty(double f) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, f, penaltyWindow, logitBias, seed);
    }

    public SamplingParams withPenaltyWindow(int n) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty, n, logitBias, seed);
    }

    public SamplingParams withLogitBias(Map<Integer, Float> bias) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty, penaltyWindow, bias, seed);
    }

    public SamplingParams withSeed(long s) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty, penaltyWindow, logitBias, s);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }

    /** A fresh per-sequence sampler over {@code vocabSize} logits. */
    public LogitSampler newSampler(int vocabSize) {
        return new LogitSampler(this, vocabSize, null);
    }

    /** A fresh per-sequence sampler whose draws are restricted by {@code constraint} (per-sequence state too). */
    public LogitSampler newSampler(int vocabSize, TokenConstraint constraint) {
        return new LogitSampler(this, vocabSize, constraint);
    }

    /**
     * A {@link Sampler} with these settings that makes its {@link LogitSampler} on the first call, sized to that
     * call's vocabulary; tokens accepted before then reach {@code constraint} (which may be null) directly.
     */
    public Sampler lazySampler(TokenConstraint constraint) {
        return new Sampler() {
            private LogitSampler delegate;

            @Override
            public int sample(float[] logits, int offset, int vocab) {
                if (delegate == null) delegate = newSampler(vocab, constraint);
                return delegate.sample(logits, offset, vocab);
            }

            @Override
            public void accept(int token) {
                if (delegate != null) delegate.accept(token);
                else if (constraint != null) constraint.accept(token);
            }
        };
    }
}
