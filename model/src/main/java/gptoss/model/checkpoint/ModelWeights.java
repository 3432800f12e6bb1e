package gptoss.model.checkpoint;

import gptoss.model.tensor.FloatTensor;

import java.util.List;

/** All weights of a gpt-oss model (V vocab, H hidden). */
public record ModelWeights(
        FloatTensor embedding,    // [V, H] bf16
        List<LayerWeights> layers,
        FloatTensor finalNorm,    // [H]
        FloatTensor unembedding) { // [V, H], not tied to the embedding
}
