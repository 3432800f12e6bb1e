package gptoss.model.checkpoint;

import gptoss.model.tensor.FloatTensor;

/**
 * The weights of one transformer block (H hidden, NH query heads, NKV KV heads, D head dim, E experts,
 * I expert width). Matrices are row-major "out × in" like {@code nn.Linear}.
 */
public record LayerWeights(
        FloatTensor attnNorm,   // [H] bf16
        FloatTensor wq,         // [NH*D, H] bf16
        FloatTensor bq,         // [NH*D]
        FloatTensor wk,         // [NKV*D, H]
        FloatTensor bk,         // [NKV*D]
        FloatTensor wv,         // [NKV*D, H]
        FloatTensor bv,         // [NKV*D]
        FloatTensor wo,         // [H, NH*D]
        FloatTensor bo,         // [H]
        FloatTensor sinks,      // [NH]
        FloatTensor mlpNorm,    // [H]
        FloatTensor router,     // [E, H]
        FloatTensor routerBias, // [E]
        FloatTensor mlp1,       // [E, 2I, H/32, 16] u8 + scales [E, 2I, H/32]: logical [E, 2I, H], rows gate/linear interleaved
                                //   (GGUF: gate [E, I, H] and up [E, I, H] in 17-byte MXFP4 blocks, seen interleaved)
        FloatTensor mlp1Bias,   // [E, 2I] (GGUF: gate and up biases [E, I] each, seen interleaved)
        FloatTensor mlp2,       // [E, H, I/32, 16] u8 + scales [E, H, I/32]: logical [E, H, I] (GGUF: [E, H, I/32] 17-byte blocks)
        FloatTensor mlp2Bias) { // [E, H]
}
