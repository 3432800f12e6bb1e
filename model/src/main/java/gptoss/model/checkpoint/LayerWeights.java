package gptoss.model.checkpoint;

import gptoss.model.tensor.FloatTensor;
import gptoss.model.tensor.Mxfp4Tensor;

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
        Mxfp4Tensor mlp1,       // [E, 2I, H/32, 16] u8 + scales [E, 2I, H/32]: logical [E, 2I, H], rows gate/linear interleaved
        FloatTensor mlp1Bias,   // [E, 2I]
        Mxfp4Tensor mlp2,       // [E, H, I/32, 16] u8 + scales [E, H, I/32]: logical [E, H, I]
        FloatTensor mlp2Bias) { // [E, H]
}
