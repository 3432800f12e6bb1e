/**
 * The CPU kernels: weight formats behind {@link gptoss.runtime.cpu.kernel.WeightMatrix}, the matrix-vector,
 * small-batch and GEMM products, attention.
 *
 * <h2>One summation order</h2>
 * A result never depends on how many rows were computed together, by which kernel (Java or native, matrix-vector,
 * small batch or GEMM), on which thread, or in which JIT state: a prompt processed in chunks of any size, a row
 * decoded alone or in a batch of 16, give the same bits. Every kernel therefore computes
 * {@code out[o] = Σ_k W[o, k] · x[k]} in exactly this order:
 * <ol>
 *   <li>the weight is decoded exactly to fp32 first ({@code w = W[o, k]}; BF16, F16, MXFP4 (table value × 2^e)
 *       and Q8_0 (fp16 scale × int8, 19 significant bits) are all exact in fp32);</li>
 *   <li>{@link gptoss.runtime.cpu.kernel.Lanes#L} fp32 lane accumulators, all starting at +0: the element at
 *       position p of the row in the format's {@link gptoss.runtime.cpu.kernel.VectorLayout} goes to lane
 *       {@code p mod L}, as one fused multiply-add {@code a[lane] = fma(w, x, a[lane])}, in increasing p;</li>
 *   <li>the lanes are summed by {@link gptoss.runtime.cpu.kernel.Lanes#sum(jdk.incubator.vector.FloatVector)}
 *       (fold halves: L/2, L/4, ..., 1), never by {@code reduceLanes};</li>
 *   <li>then the bias, if any, is added.</li>
 * </ol>
 * A kernel may keep its partial vectors in memory between depth blocks, split work over threads by output rows
 * (never by k), and unroll as it likes, as long as each output's lane accumulators see the same FMAs in the same
 * order. Tests compare every path bit for bit against each other (not within a tolerance).
 */
package gptoss.runtime.cpu.kernel;
