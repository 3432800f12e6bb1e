/*
 * Native decode kernels of the CPU backend, called through the FFM API (gptoss.runtime.cpu.kernel.NativeKernels).
 * Built from this source by runtime/src/main/c/build.sh during the Maven build where a C compiler exists; the
 * Java Vector API kernels are the fallback and give the same bits.
 *
 * Every product follows the summation order of gptoss.runtime.cpu.kernel (package-info.java), with L = 16:
 * weights decoded exactly to fp32, 16 lane accumulators starting at +0, the element at position p of the row in
 * SPLIT order (per 32 elements: the 16 even ones, then the 16 odd ones) added to lane p mod 16 by one fused
 * multiply-add in increasing p, the lanes folded as Lanes.sum does (lane j += lane j+8, then +4, +2, +1). So for
 * each 32-element chunk: acc = fma(even weights, even x, acc); acc = fma(odd weights, odd x, acc). One such chain
 * per row is bound by the FMA latency, so the kernels run several rows side by side (independent chains).
 *
 * MXFP4: a 16-byte block holds 32 codes, byte j = element 2j (low nibble) and 2j+1 (high nibble), so one widening
 * load (vpmovzxbd) gives 16 int lanes whose low nibbles are the even codes and, after one shift, the odd ones;
 * vpermps reads only the low 4 bits of each index, so no masking. The block scale 2^(e−127) (float bits e << 23:
 * byte 0 gives 0 and 255 gives +inf, as in the Java kernel) multiplies the 16-entry FP4 table once per block: the
 * looked-up weight is then FP4[code]·2^(e−127), exact, the same value the Java kernel and the GEMM decode.
 * Per 128 weights (4 blocks) and row: 4 widening loads, 4 shifts, 4 table multiplies (scale broadcast from memory),
 * 8 lookups, 8 FMAs (x as memory operands) = 28 vector instructions, plus 3 per 16 blocks to build the scales.
 * (Session 7 measured the codes re-laid out at load in groups of four blocks, so that one 64-byte load and seven
 * shifts replace the four widening loads and shifts, same bits: 2-8 % faster with the rows in L2, 5 % slower from
 * memory on two threads; not adopted. The decode costs about 2.3 cycles per block and row against about 1.5 for its
 * multiply and two FMAs alone: see README, "MXFP4 decode kernel: the re-laid-out codes measured".)
 *
 * BF16: a 64-byte load holds 32 elements as 16 int lanes (even element in the low half): even = lane << 16,
 * odd = lane & 0xFFFF0000, both exact floats. Per 128 weights and row: 4 loads, 4 shifts, 4 ANDs, 8 FMAs.
 * Neither kernel uses the bf16 dot-product instructions (they round the activations to bf16).
 */
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define GPTOSS_X86 1
#endif

/*
 * Software prefetch (measured with MatVecShareBenchmark, the kernel and a plain read alternating in the same
 * milliseconds, 2 threads, rows from memory, session 6): MXFP4 prefetches, for each row stream, the same position of
 * the row that the next pass reads (`ahead` bytes: R rows further for passes of R adjacent rows), 0.75-0.8 of the
 * read rate against 0.6-0.65 with a fixed 1 KiB distance (which mostly landed in rows the pass was already reading)
 * and 0.45-0.5 with none. BF16 (eight long row streams spread over the range) reads 0.91-0.94 of the read rate with
 * no software prefetch against 0.76-0.85 with 1-4 KiB: the hardware prefetchers follow those streams by themselves.
 */

#ifdef GPTOSS_X86
/* Lanes.sum: fold halves, lane 0 is the sum (the order every kernel uses). */
__attribute__((target("avx512f,fma")))
static inline float fold16(__m512 v) {
    float a[16];
    _mm512_storeu_ps(a, v);
    for (int w = 8; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) a[j] += a[j + w];
    return a[0];
}

/*
 * R MXFP4 rows (codes at b[r], scales at s[r], nb blocks each) times x (SPLIT order); sums to out[r].
 * R is a compile-time constant at every call, so the row loops unroll and the accumulators stay in registers.
 * Each row stream prefetches `ahead` bytes beyond its position (one line per four blocks): the row the caller reads
 * next at that position (R rows further for passes of R adjacent rows).
 */
__attribute__((target("avx512f,fma"), always_inline))
static inline void mxfp4Rows(const uint8_t *const *b, const uint8_t *const *s, int nb, const float *x, float *out, const int R, long ahead) {
    static const float fp4[16] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f,
                                  -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};
    const __m512 table = _mm512_loadu_ps(fp4);
    __m512 acc[8];
    float scale[8][16] __attribute__((aligned(64)));
    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps();
    for (int j0 = 0; j0 < nb; j0 += 16) {
        int n = nb - j0 < 16 ? nb - j0 : 16;
        _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {
            if (n == 16) {
                __m512i e = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *) (s[r] + j0)));
                _mm512_store_ps(scale[r], _mm512_castsi512_ps(_mm512_slli_epi32(e, 23)));
            } else {
                for (int j = 0; j < n; j++) {
                    uint32_t bits = (uint32_t) s[r][j0 + j] << 23;
                    memcpy(&scale[r][j], &bits, 4);
                }
            }
        }
        for (int j = 0; j < n; j++) {
            int blk = j0 + j;
            const float *xe = x + (long) blk * 32;
            _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {
                const uint8_t *p = b[r] + (long) blk * 16;
                if ((blk & 3) == 0) _mm_prefetch((const char *) p + ahead, _MM_HINT_T0);
                __m512i w = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *) p));
                __m512 t = _mm512_mul_ps(table, _mm512_set1_ps(scale[r][j]));
                acc[r] = _mm512_fmadd_ps(_mm512_permutexvar_ps(w, t), _mm512_loadu_ps(xe), acc[r]);
                acc[r] = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(w, 4), t), _mm512_loadu_ps(xe + 16), acc[r]);
            }
        }
    }
    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) out[r] = fold16(acc[r]);
}

/* R BF16 rows (at b[r], k elements each) times x (SPLIT order); sums to out[r]. Tail: see bf16Tail. */
__attribute__((target("avx512f,fma"), always_inline))
static inline void bf16Rows(const uint16_t *const *b, int k, const float *x, float *out, const int R) {
    const __m512i high = _mm512_set1_epi32((int) 0xFFFF0000u);
    __m512 acc[8];
    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps();
    int chunks = k / 32;
    for (int c = 0; c < chunks; c++) {
        const float *xc = x + (long) c * 32;
        _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {
            const uint16_t *p = b[r] + (long) c * 32;
            __m512i v = _mm512_loadu_si512(p);
            acc[r] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_slli_epi32(v, 16)), _mm512_loadu_ps(xc), acc[r]);
            acc[r] = _mm512_fmadd_ps(_mm512_castsi512_ps(_mm512_and_si512(v, high)), _mm512_loadu_ps(xc + 16), acc[r]);
        }
    }
    if (chunks * 32 != k) {
        /* SPLIT leaves a tail shorter than 32 in natural order: position p to lane p mod 16. */
        _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {
            float a[16];
            _mm512_storeu_ps(a, acc[r]);
            for (int p = chunks * 32; p < k; p++) {
                uint32_t bits = (uint32_t) b[r][p] << 16;
                float w;
                memcpy(&w, &bits, 4);
                a[p & 15] = __builtin_fmaf(w, x[p], a[p & 15]);
            }
            acc[r] = _mm512_loadu_ps(a);
        }
    }
    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) out[r] = fold16(acc[r]);
}

__attribute__((target("avx512f,fma"))) static void mxfp4Rows8(const uint8_t *const *b, const uint8_t *const *s, int nb, const float *x, float *out, long ahead) { mxfp4Rows(b, s, nb, x, out, 8, ahead); }
__attribute__((target("avx512f,fma"))) static void mxfp4Rows4(const uint8_t *const *b, const uint8_t *const *s, int nb, const float *x, float *out, long ahead) { mxfp4Rows(b, s, nb, x, out, 4, ahead); }
__attribute__((target("avx512f,fma"))) static void mxfp4Rows1(const uint8_t *const *b, const uint8_t *const *s, int nb, const float *x, float *out, long ahead) { mxfp4Rows(b, s, nb, x, out, 1, ahead); }
__attribute__((target("avx512f,fma"))) static void bf16Rows8(const uint16_t *const *b, int k, const float *x, float *out) { bf16Rows(b, k, x, out, 8); }
__attribute__((target("avx512f,fma"))) static void bf16Rows1(const uint16_t *const *b, int k, const float *x, float *out) { bf16Rows(b, k, x, out, 1); }
#endif

/** Float lanes of the native kernels on this CPU: 16 (AVX-512) or 0 (none: the Java kernels run). */
int gptoss_kernels_lanes(void) {
#ifdef GPTOSS_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 16;
#endif
    return 0;
}

/*
 * Rows [from, to) of an MXFP4 matrix (row r: blocksPerRow blocks from block firstBlock + r·blocksPerRow of the
 * tensor at (blocks, scales)) times x + xOffset (SPLIT order), row r to out[outOffset + r]: passes of 8 adjacent
 * rows, then 4 and 1 at a time. (Eight rows spread over the range, as BF16 takes them, measured about 0.75x as fast
 * here: with 16 bytes per row and step, eight adjacent rows are one 12 KB stretch the prefetchers follow better.)
 * Each row's sum is the same whichever rows run beside it.
 */
void gptoss_mxfp4_rows(int64_t blocks, int64_t scales, int64_t firstBlock, int32_t blocksPerRow,
                       const float *x, int32_t xOffset, int32_t from, int32_t to, float *out, int32_t outOffset) {
#ifdef GPTOSS_X86
    x += xOffset;
    out += outOffset;
    const uint8_t *B = (const uint8_t *) (intptr_t) blocks, *S = (const uint8_t *) (intptr_t) scales;
    const uint8_t *b[8], *s[8];
    float o[8];
    int passes = (to - from) / 8;
    for (int p = 0; p < passes; p++) {
        for (int i = 0; i < 8; i++) {
            int64_t blk = firstBlock + (int64_t) (from + 8 * p + i) * blocksPerRow;
            b[i] = B + blk * 16;
            s[i] = S + blk;
        }
        /* the next pass's scales (8 rows, one contiguous stretch): the loads of 16 scales would otherwise wait */
        if (p + 1 < passes) {
            for (int i = 0; i < 8 * blocksPerRow + 64; i += 64) _mm_prefetch((const char *) s[7] + blocksPerRow + i, _MM_HINT_T0);
        }
        mxfp4Rows8(b, s, blocksPerRow, x, o, 8L * 16 * blocksPerRow);
        for (int i = 0; i < 8; i++) out[from + 8 * p + i] = o[i];
    }
    int r = from + passes * 8;
    for (; r + 4 <= to; r += 4) {
        for (int i = 0; i < 4; i++) {
            int64_t blk = firstBlock + (int64_t) (r + i) * blocksPerRow;
            b[i] = B + blk * 16;
            s[i] = S + blk;
        }
        mxfp4Rows4(b, s, blocksPerRow, x, o, 4L * 16 * blocksPerRow);
        for (int i = 0; i < 4; i++) out[r + i] = o[i];
    }
    for (; r < to; r++) {
        int64_t blk = firstBlock + (int64_t) r * blocksPerRow;
        b[0] = B + blk * 16;
        s[0] = S + blk;
        mxfp4Rows1(b, s, blocksPerRow, x, o, 16L * blocksPerRow);
        out[r] = o[0];
    }
#else
    (void) blocks; (void) scales; (void) firstBlock; (void) blocksPerRow; (void) x; (void) xOffset; (void) outOffset; (void) from; (void) to; (void) out;
#endif
}

/* One MXFP4 row (blocks from `block`) times x + xOffset. */
float gptoss_mxfp4_dot(int64_t blocks, int64_t scales, int64_t block, int32_t blocksPerRow, const float *x, int32_t xOffset) {
#ifdef GPTOSS_X86
    const uint8_t *b = (const uint8_t *) (intptr_t) blocks + block * 16, *s = (const uint8_t *) (intptr_t) scales + block;
    float o;
    mxfp4Rows1(&b, &s, blocksPerRow, x + xOffset, &o, 16L * blocksPerRow);
    return o;
#else
    (void) blocks; (void) scales; (void) block; (void) blocksPerRow; (void) x; (void) xOffset;
    return 0.0f;
#endif
}

/* Rows row + i·stride (i < 8) of the MXFP4 matrix times x, to out[outOffset + i]. */
void gptoss_mxfp4_rows8(int64_t blocks, int64_t scales, int64_t firstBlock, int32_t blocksPerRow,
                        const float *x, int32_t xOffset, int32_t row, int32_t stride, float *out, int32_t outOffset) {
#ifdef GPTOSS_X86
    x += xOffset;
    out += outOffset;
    const uint8_t *B = (const uint8_t *) (intptr_t) blocks, *S = (const uint8_t *) (intptr_t) scales;
    const uint8_t *b[8], *s[8];
    for (int i = 0; i < 8; i++) {
        int64_t blk = firstBlock + (int64_t) (row + (int64_t) i * stride) * blocksPerRow;
        b[i] = B + blk * 16;
        s[i] = S + blk;
    }
    mxfp4Rows8(b, s, blocksPerRow, x, out, 8L * stride * 16 * blocksPerRow);
#else
    (void) blocks; (void) scales; (void) firstBlock; (void) blocksPerRow; (void) x; (void) xOffset; (void) outOffset; (void) row; (void) stride; (void) out;
#endif
}

/* Rows [from, to) of a BF16 matrix (row r: k elements from element first + r·k of the tensor at data) times x. */
void gptoss_bf16_rows(int64_t data, int64_t first, int32_t k, const float *x, int32_t xOffset,
                      int32_t from, int32_t to, float *out, int32_t outOffset) {
#ifdef GPTOSS_X86
    x += xOffset;
    out += outOffset;
    const uint16_t *D = (const uint16_t *) (intptr_t) data;
    const uint16_t *b[8];
    float o[8];
    int passes = (to - from) / 8;
    for (int p = 0; p < passes; p++) {
        for (int i = 0; i < 8; i++) b[i] = D + first + (int64_t) (from + p + i * passes) * k;
        bf16Rows8(b, k, x, o);
        for (int i = 0; i < 8; i++) out[from + p + i * passes] = o[i];
    }
    for (int r = from + passes * 8; r < to; r++) {
        b[0] = D + first + (int64_t) r * k;
        bf16Rows1(b, k, x, o);
        out[r] = o[0];
    }
#else
    (void) data; (void) first; (void) k; (void) x; (void) xOffset; (void) outOffset; (void) from; (void) to; (void) out;
#endif
}

/* One BF16 row (k elements from element `first`) times x + xOffset. */
float gptoss_bf16_dot(int64_t data, int64_t first, int32_t k, const float *x, int32_t xOffset) {
#ifdef GPTOSS_X86
    const uint16_t *b = (const uint16_t *) (intptr_t) data + first;
    float o;
    bf16Rows1(&b, k, x + xOffset, &o);
    return o;
#else
    (void) data; (void) first; (void) k; (void) x; (void) xOffset;
    return 0.0f;
#endif
}

/* Rows row + i·stride (i < 8) of the BF16 matrix times x, to out[outOffset + i]. */
void gptoss_bf16_rows8(int64_t data, int64_t first, int32_t k, const float *x, int32_t xOffset,
                       int32_t row, int32_t stride, float *out, int32_t outOffset) {
#ifdef GPTOSS_X86
    x += xOffset;
    out += outOffset;
    const uint16_t *D = (const uint16_t *) (intptr_t) data;
    const uint16_t *b[8];
    for (int i = 0; i < 8; i++) b[i] = D + first + (int64_t) (row + (int64_t) i * stride) * k;
    bf16Rows8(b, k, x, out);
#else
    (void) data; (void) first; (void) k; (void) x; (void) xOffset; (void) outOffset; (void) row; (void) stride; (void) out;
#endif
}
