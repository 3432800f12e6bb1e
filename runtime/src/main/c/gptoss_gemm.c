/*
 * Native GEMM micro-kernels of the CPU backend (gptoss.runtime.cpu.kernel.GemmKernels binds them through the FFM
 * API; gptoss.runtime.cpu.kernel.Gemm drives them). Built from this source by build.sh with the other kernels;
 * the Java micro-kernels of Gemm are the fallback and give the same bits.
 *
 * The product C[o, t] = sum_p W[o, p] * X[t, p] in the one summation order of gptoss.runtime.cpu.kernel
 * (package-info.java), L = 16: per (weight row, token) 16 lane accumulators starting at +0, the element at
 * position p going to lane p mod 16 by one fused multiply-add in increasing p. Vectors run along the depth (a
 * "dot" micro-kernel: both operands are loaded, nothing is broadcast), so lane j of accumulator (r, t) sums
 * the positions p = j (mod 16) in increasing p, whatever the tiling. A depth block's accumulators continue
 * from the previous block's (loaded from acc) and are stored back after it; Gemm folds them (Lanes.sum) and adds
 * the bias once the last block is done.
 *
 * The weights come decoded to exact fp32 in a packed panel (BF16: bits << 16; MXFP4: table value * 2^(e-127),
 * exact), decoded once per depth block and applied to every token. The panel is stored in groups of R = 4 rows
 * interleaved by vector: group g, vector step s, row i at panel[(g * steps + s) * 64 + i * 16]. So the
 * micro-kernel reads one sequential stream of weights (256 bytes per step) besides its token rows.
 *
 * Micro-kernel: 4 weight rows x 6 token rows = 24 zmm accumulators, 4 weight vectors and one token vector live
 * (29 of 32 registers). Per 16 positions: 4 weight loads, 6 token loads, 24 FMAs (0.42 loads per FMA; Zen 5 and
 * recent Intel cores sustain two 512-bit loads and two FMAs per cycle). Tiles of 4, 2 and 1 tokens take the
 * remainder; the token count is never padded.
 */
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define GPTOSS_GEMM_X86 1
#endif

#define GR 4 /* weight rows of a micro-kernel (the rows of a panel group) */

#ifdef GPTOSS_GEMM_X86
/*
 * 4 weight rows (group at w: step s, row i at w[s * 64 + i * 16]) x T token rows (token j at x + j * xs) over
 * `steps` vectors of 16 positions; accumulator (i, j) at c[i * cs + j * 16] (zero instead when first).
 */
__attribute__((target("avx512f,fma"), always_inline))
static inline void tile(const float *w, const float *x, long xs, int steps, float *c, long cs, int first, const int T) {
    __m512 a[GR][6];
    _Pragma("GCC unroll 4") for (int i = 0; i < GR; i++) {
        _Pragma("GCC unroll 6") for (int j = 0; j < T; j++) {
            a[i][j] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(c + i * cs + j * 16);
        }
    }
    for (int s = 0; s < steps; s++) {
        const float *ws = w + (long) s * 64;
        __m512 w0 = _mm512_load_ps(ws), w1 = _mm512_load_ps(ws + 16), w2 = _mm512_load_ps(ws + 32), w3 = _mm512_load_ps(ws + 48);
        const float *xp = x + (long) s * 16;
        _Pragma("GCC unroll 6") for (int j = 0; j < T; j++) {
            __m512 v = _mm512_loadu_ps(xp + j * xs);
            a[0][j] = _mm512_fmadd_ps(w0, v, a[0][j]);
            a[1][j] = _mm512_fmadd_ps(w1, v, a[1][j]);
            a[2][j] = _mm512_fmadd_ps(w2, v, a[2][j]);
            a[3][j] = _mm512_fmadd_ps(w3, v, a[3][j]);
        }
    }
    _Pragma("GCC unroll 4") for (int i = 0; i < GR; i++) {
        _Pragma("GCC unroll 6") for (int j = 0; j < T; j++) _mm512_storeu_ps(c + i * cs + j * 16, a[i][j]);
    }
}

__attribute__((target("avx512f,fma"))) static void tile6(const float *w, const float *x, long xs, int steps, float *c, long cs, int first) { tile(w, x, xs, steps, c, cs, first, 6); }
__attribute__((target("avx512f,fma"))) static void tile4(const float *w, const float *x, long xs, int steps, float *c, long cs, int first) { tile(w, x, xs, steps, c, cs, first, 4); }
__attribute__((target("avx512f,fma"))) static void tile2(const float *w, const float *x, long xs, int steps, float *c, long cs, int first) { tile(w, x, xs, steps, c, cs, first, 2); }
__attribute__((target("avx512f,fma"))) static void tile1(const float *w, const float *x, long xs, int steps, float *c, long cs, int first) { tile(w, x, xs, steps, c, cs, first, 1); }

/* The packed panel (groups of `steps` vector steps) times every token, 6 at a time: tokens outer, so a tile's
 * token rows stay in L1 while the panel streams from L2. Each tile's token rows are first copied to xt (64-byte
 * aligned, XT_PAD floats between rows against cache-set conflicts): Java arrays are 16-byte aligned, and a 64-byte
 * load across two cache lines costs two. */
#define XT_PAD 16

/* Weights the next call will most likely decode (rows `rows` of `bytes` bytes, `stride` apart, and one line of
 * scales per row where there are any), prefetched into L2 a slice per token tile while this block computes: the
 * decode of a panel then finds its rows in L2 instead of waiting for memory (with no prefetch the cores sit idle
 * while a thread's 128 KiB BF16 panel arrives). Prefetches never fault, so a guess past the tensor is harmless. */
typedef struct {
    const char *base;
    long stride;
    int rows, bytes;
    const char *scales;
    long scaleStride;
} Ahead;
__attribute__((target("avx512f,fma")))
static void apply(const float *panel, int groups, int steps, const float *x, long xs, int tokens, float *acc, long rowStride, int first, float *xt,
                  const Ahead *ahead) {
    long groupFloats = (long) steps * 64, xts = (long) steps * 16 + XT_PAD;
    int tiles = tokens / 6, rest = tokens % 6, tile = 0;
    tiles += rest / 4 + rest % 4 / 2 + rest % 2;
    for (int t = 0; t < tokens; tile++) {
        int n = tokens - t >= 6 ? 6 : tokens - t >= 4 ? 4 : tokens - t >= 2 ? 2 : 1;
        if (ahead) {
            for (int r = tile * ahead->rows / tiles; r < (tile + 1) * ahead->rows / tiles; r++) {
                const char *row = ahead->base + r * ahead->stride;
                for (int b = 0; b < ahead->bytes; b += 64) _mm_prefetch(row + b, _MM_HINT_T1);
                if (ahead->scales) _mm_prefetch(ahead->scales + r * ahead->scaleStride, _MM_HINT_T1);
            }
        }
        for (int j = 0; j < n; j++) {
            const float *src = x + (t + j) * xs;
            for (int k = 0; k < steps; k++) _mm512_store_ps(xt + j * xts + k * 16, _mm512_loadu_ps(src + k * 16));
        }
        float *c = acc + t * 16;
        switch (n) {
            case 6: for (int g = 0; g < groups; g++) tile6(panel + g * groupFloats, xt, xts, steps, c + g * GR * rowStride, rowStride, first); break;
            case 4: for (int g = 0; g < groups; g++) tile4(panel + g * groupFloats, xt, xts, steps, c + g * GR * rowStride, rowStride, first); break;
            case 2: for (int g = 0; g < groups; g++) tile2(panel + g * groupFloats, xt, xts, steps, c + g * GR * rowStride, rowStride, first); break;
            default: for (int g = 0; g < groups; g++) tile1(panel + g * groupFloats, xt, xts, steps, c + g * GR * rowStride, rowStride, first); break;
        }
        t += n;
    }
}

/* Rows of a row-major fp32 panel (row r at src + r * srcStride, `steps` vectors each; rows >= count are zero)
 * into the interleaved groups. */
__attribute__((target("avx512f,fma")))
static void pack(const float *src, long srcStride, int count, int groups, int steps, float *panel) {
    for (int g = 0; g < groups; g++) {
        float *dst = panel + (long) g * steps * 64;
        for (int i = 0; i < GR; i++) {
            int r = g * GR + i;
            if (r < count) {
                const float *s = src + r * srcStride;
                for (int k = 0; k < steps; k++) _mm512_store_ps(dst + k * 64 + i * 16, _mm512_loadu_ps(s + k * 16));
            } else {
                for (int k = 0; k < steps; k++) _mm512_store_ps(dst + k * 64 + i * 16, _mm512_setzero_ps());
            }
        }
    }
}

/* BF16 rows (row r at d + r * rowElems, from its first element of the block) decoded into the packed panel:
 * per 32 elements one 64-byte load gives the 16 even ones (bits << 16) and the 16 odd ones (bits & 0xFFFF0000),
 * SPLIT order, exact. kc is a multiple of 32. */
__attribute__((target("avx512f,fma")))
static void bf16Pack(const uint16_t *d, long rowElems, int count, int groups, int kc, float *panel) {
    const __m512i high = _mm512_set1_epi32((int) 0xFFFF0000u);
    int steps = kc / 16;
    for (int g = 0; g < groups; g++) {
        float *dst = panel + (long) g * steps * 64;
        for (int i = 0; i < GR; i++) {
            int r = g * GR + i;
            if (r < count) {
                const uint16_t *s = d + r * rowElems;
                for (int c = 0; c < kc / 32; c++) {
                    __m512i v = _mm512_loadu_si512(s + c * 32);
                    _mm512_store_ps(dst + (2 * c) * 64 + i * 16, _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)));
                    _mm512_store_ps(dst + (2 * c + 1) * 64 + i * 16, _mm512_castsi512_ps(_mm512_and_si512(v, high)));
                }
            } else {
                for (int k = 0; k < steps; k++) _mm512_store_ps(dst + k * 64 + i * 16, _mm512_setzero_ps());
            }
        }
    }
}

/* MXFP4 rows (row r: codes at b + r * blocksPerRow * 16, scales at s + r * blocksPerRow, from the block's first
 * block) decoded into the packed panel: per block the FP4 table times 2^(e-127) (float bits e << 23), then the
 * even codes (low nibbles) and odd codes (high nibbles) looked up: SPLIT order, exact, the values the Java decode
 * and the single-row kernels use. kc is a multiple of 32. */
__attribute__((target("avx512f,fma")))
static void mxfp4Pack(const uint8_t *b, const uint8_t *s, long blocksPerRow, int count, int groups, int kc, float *panel) {
    static const float fp4[16] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f,
                                  -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};
    const __m512 table = _mm512_loadu_ps(fp4);
    int steps = kc / 16, nb = kc / 32;
    for (int g = 0; g < groups; g++) {
        float *dst = panel + (long) g * steps * 64;
        for (int i = 0; i < GR; i++) {
            int r = g * GR + i;
            if (r < count) {
                const uint8_t *codes = b + r * blocksPerRow * 16, *scales = s + r * blocksPerRow;
                for (int j = 0; j < nb; j++) {
                    __m512 t = _mm512_mul_ps(table, _mm512_castsi512_ps(_mm512_set1_epi32((int) ((uint32_t) scales[j] << 23))));
                    __m512i w = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *) (codes + j * 16)));
                    _mm512_store_ps(dst + (2 * j) * 64 + i * 16, _mm512_permutexvar_ps(w, t));
                    _mm512_store_ps(dst + (2 * j + 1) * 64 + i * 16, _mm512_permutexvar_ps(_mm512_srli_epi32(w, 4), t));
                }
            } else {
                for (int k = 0; k < steps; k++) _mm512_store_ps(dst + k * 64 + i * 16, _mm512_setzero_ps());
            }
        }
    }
}

/* e^x of 16 lanes: the operations of gptoss.runtime.ops.Swiglu.exp in the same order (min/max written so that a NaN
 * lane stays NaN, as Math.min/max keep it), so each lane has the bits of the Java scalar. */
__attribute__((target("avx512f,fma"), always_inline))
static inline __m512 exp16(__m512 x) {
    __m512 c = _mm512_min_ps(_mm512_set1_ps(89.0f), _mm512_max_ps(_mm512_set1_ps(-104.0f), x));
    __m512 t = _mm512_fmadd_ps(c, _mm512_set1_ps(1.44269504f), _mm512_set1_ps(12582912.0f));
    __m512i n = _mm512_sub_epi32(_mm512_castps_si512(t), _mm512_castps_si512(_mm512_set1_ps(12582912.0f)));
    __m512 nf = _mm512_sub_ps(t, _mm512_set1_ps(12582912.0f));
    __m512 f = _mm512_fmadd_ps(nf, _mm512_set1_ps(-0.693359375f), c);
    f = _mm512_fmadd_ps(nf, _mm512_set1_ps(2.12194440e-4f), f);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(1.9875691500e-4f), f, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.0000001201e-1f));
    __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(f, f), f), _mm512_set1_ps(1.0f));
    __m512i h = _mm512_srai_epi32(n, 1), bias = _mm512_set1_epi32(127);
    __m512 s1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(h, bias), 23));
    __m512 s2 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_sub_epi32(n, h), bias), 23));
    return _mm512_mul_ps(_mm512_mul_ps(y, s1), s2);
}

/* gptoss.runtime.ops.Swiglu.apply of 16 (gate, linear) lanes, the same operations in the same order. */
__attribute__((target("avx512f,fma"), always_inline))
static inline __m512 swiglu16(__m512 gate, __m512 linear, float alpha, float limit) {
    __m512 lim = _mm512_set1_ps(limit);
    __m512 g = _mm512_min_ps(lim, gate);                                             /* Math.min(gate, limit) */
    __m512 l = _mm512_max_ps(_mm512_set1_ps(-limit), _mm512_min_ps(lim, linear));    /* Math.max(-limit, Math.min(linear, limit)) */
    __m512 x = _mm512_mul_ps(_mm512_set1_ps(alpha), g);
    __m512 negX = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int) 0x80000000u)));
    __m512 sig = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_add_ps(_mm512_set1_ps(1.0f), exp16(negX)));
    return _mm512_mul_ps(_mm512_mul_ps(g, sig), _mm512_add_ps(l, _mm512_set1_ps(1.0f)));
}

/* The 16 accumulator vectors of rows r0 .. r0 + n - 1 (n <= 16; missing rows read as zero) of one token, each
 * folded as Lanes.sum folds (lane j + lane j^8, then j^4, j^2, j^1: the same additions of the same pairs), the
 * 16 sums in row order. A transposing tree: 15 vector additions for 16 outputs. */
__attribute__((target("avx512f,fma"), always_inline))
static inline __m512 fold16(const float *a, long rowStride, int n) {
    __m512 v[16];
    for (int i = 0; i < 16; i++) v[i] = i < n ? _mm512_loadu_ps(a + i * rowStride) : _mm512_setzero_ps();
    __m512 u[8], w[4], z[2];
    for (int k = 0; k < 8; k++) /* lanes j + j^8: [b(k) 0..7 | b(k+8) 0..7] */
        u[k] = _mm512_add_ps(_mm512_shuffle_f32x4(v[k], v[k + 8], 0x44), _mm512_shuffle_f32x4(v[k], v[k + 8], 0xEE));
    for (int k = 0; k < 4; k++) /* j + j^4: blocks rows k, k+8, k+4, k+12 */
        w[k] = _mm512_add_ps(_mm512_shuffle_f32x4(u[k], u[k + 4], 0x88), _mm512_shuffle_f32x4(u[k], u[k + 4], 0xDD));
    for (int k = 0; k < 2; k++) /* j + j^2: per block two rows, lanes 0 and 1 each */
        z[k] = _mm512_add_ps(_mm512_shuffle_ps(w[k], w[k + 2], 0x44), _mm512_shuffle_ps(w[k], w[k + 2], 0xEE));
    /* j + j^1: lanes hold rows 0,2,1,3, 8,10,9,11, 4,6,5,7, 12,14,13,15 */
    __m512 s = _mm512_add_ps(_mm512_shuffle_ps(z[0], z[1], 0x88), _mm512_shuffle_ps(z[0], z[1], 0xDD));
    return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 2, 1, 3, 8, 10, 9, 11, 4, 6, 5, 7, 12, 14, 13, 15), s);
}

static float *aligned(int64_t scratch) {
    return (float *) (((uintptr_t) scratch + 63) & ~(uintptr_t) 63);
}

__attribute__((target("avx512f,fma")))
static void finish(const float *acc, long rowStride, int count, int tokens, const float *bias, float *out, long outStride,
                   int swiglu, float alpha, float limit) {
    if (!swiglu) {
        for (int t = 0; t < tokens; t++) {
            const float *a = acc + t * 16;
            float *o = out + t * outStride;
            for (int r = 0; r < count; r += 16) {
                int n = count - r < 16 ? count - r : 16;
                __mmask16 m = (__mmask16) ((1u << n) - 1);
                __m512 sum = _mm512_add_ps(fold16(a + r * rowStride, rowStride, n), _mm512_maskz_loadu_ps(m, bias + r));
                _mm512_mask_storeu_ps(o + r, m, sum);
            }
        }
    } else {
        const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
        for (int t = 0; t < tokens; t++) {
            const float *a = acc + t * 16;
            float *o = out + t * outStride;
            for (int r = 0; r < count; r += 32) {
                int n0 = count - r < 16 ? count - r : 16, n1 = count - r - 16 < 0 ? 0 : count - r - 16 < 16 ? count - r - 16 : 16;
                __mmask16 m0 = (__mmask16) ((1u << n0) - 1), m1 = (__mmask16) ((1u << n1) - 1);
                __m512 s0 = _mm512_add_ps(fold16(a + r * rowStride, rowStride, n0), _mm512_maskz_loadu_ps(m0, bias + r));
                __m512 s1 = n1 > 0 ? _mm512_add_ps(fold16(a + (r + 16) * rowStride, rowStride, n1), _mm512_maskz_loadu_ps(m1, bias + r + 16))
                                   : _mm512_setzero_ps();
                __m512 y = swiglu16(_mm512_permutex2var_ps(s0, even, s1), _mm512_permutex2var_ps(s0, odd, s1), alpha, limit);
                int pairs = (n0 + n1) / 2;
                _mm512_mask_storeu_ps(o + r / 2, (__mmask16) ((1u << pairs) - 1), y);
            }
        }
    }
}

/* The token tile's copy, after the panel of `groups` groups of kv positions. */
static float *tileCopy(float *panel, int groups, int kv) {
    return panel + (long) groups * GR * kv;
}
#endif

/** Float lanes of the native GEMM on this CPU: 16 (AVX-512) or 0 (none: the Java micro-kernels run). */
int gptoss_gemm_lanes(void) {
#ifdef GPTOSS_GEMM_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 16;
#endif
    return 0;
}

/*
 * The arguments all three entry points share: `tokens` token rows (token t at x + xOffset + t * xStride, from the
 * block's first position), accumulators of row r, token t at acc + accOffset + r * rowStride + t * 16 (rowStride
 * >= tokens * 16; taken as zero when first, then written), scratch: native memory for the packed panel and a
 * token tile, at least (ceil(count / 4) * 4 * kv + 6 * (kv + 16)) * 4 + 64 bytes. The caller checks every index.
 */

/* One depth block of kv positions (a multiple of 16) of rows [0, count) of an fp32 panel decoded by Java (row r at
 * w + wOffset + r * ws, zeros after the block's positions up to kv). */
void gptoss_gemm_f32(const float *w, int32_t wOffset, int32_t ws, int32_t count, const float *x, int32_t xOffset, int32_t xStride,
                     int32_t tokens, int32_t kv, float *acc, int32_t accOffset, int32_t rowStride, int32_t first, int64_t scratch) {
#ifdef GPTOSS_GEMM_X86
    float *panel = aligned(scratch);
    int groups = (count + GR - 1) / GR, steps = kv / 16;
    pack(w + wOffset, ws, count, groups, steps, panel);
    apply(panel, groups, steps, x + xOffset, xStride, tokens, acc + accOffset, rowStride, first, tileCopy(panel, groups, kv), 0);
#else
    (void) w; (void) wOffset; (void) ws; (void) count; (void) x; (void) xOffset; (void) xStride; (void) tokens; (void) kv;
    (void) acc; (void) accOffset; (void) rowStride; (void) first; (void) scratch;
#endif
}

/* Positions [from, from + kc) (multiples of 32) of `count` BF16 rows, row r's first element at element
 * first + r * cols of the tensor at data (SPLIT order: positions are columns). */
void gptoss_gemm_bf16(int64_t data, int64_t first, int32_t cols, int32_t count, int32_t from, int32_t kc,
                      const float *x, int32_t xOffset, int32_t xStride, int32_t tokens,
                      float *acc, int32_t accOffset, int32_t rowStride, int32_t firstBlock, int64_t scratch) {
#ifdef GPTOSS_GEMM_X86
    float *panel = aligned(scratch);
    int groups = (count + GR - 1) / GR;
    const uint16_t *d = (const uint16_t *) (intptr_t) data + first;
    bf16Pack(d + from, cols, count, groups, kc, panel);
    /* next: the same rows' next depth block, else the next rows' first block (the next unit, usually) */
    int next = from + kc < cols;
    const uint16_t *nd = next ? d + from + kc : d + (long) count * cols;
    int nkc = next ? (cols - from - kc < kc ? cols - from - kc : kc) : (cols < kc ? cols : kc);
    Ahead ahead = {(const char *) nd, (long) cols * 2, count, nkc * 2, 0, 0};
    apply(panel, groups, kc / 16, x + xOffset, xStride, tokens, acc + accOffset, rowStride, firstBlock, tileCopy(panel, groups, kc), &ahead);
#else
    (void) data; (void) first; (void) cols; (void) count; (void) from; (void) kc; (void) x; (void) xOffset; (void) xStride;
    (void) tokens; (void) acc; (void) accOffset; (void) rowStride; (void) firstBlock; (void) scratch;
#endif
}

/* Positions [from, from + kc) (multiples of 32) of `count` MXFP4 rows, row r's blocks from block
 * block + r * blocksPerRow of the tensor at (blocks, scales). */
void gptoss_gemm_mxfp4(int64_t blocks, int64_t scales, int64_t block, int32_t blocksPerRow, int32_t count, int32_t from, int32_t kc,
                       const float *x, int32_t xOffset, int32_t xStride, int32_t tokens,
                       float *acc, int32_t accOffset, int32_t rowStride, int32_t firstBlock, int64_t scratch) {
#ifdef GPTOSS_GEMM_X86
    float *panel = aligned(scratch);
    int groups = (count + GR - 1) / GR;
    int64_t b0 = block + from / 32;
    mxfp4Pack((const uint8_t *) (intptr_t) blocks + b0 * 16, (const uint8_t *) (intptr_t) scales + b0, blocksPerRow, count, groups, kc, panel);
    int cols = blocksPerRow * 32, next = from + kc < cols;
    int64_t nb0 = next ? b0 + kc / 32 : block + (int64_t) count * blocksPerRow;
    int nkc = next ? (cols - from - kc < kc ? cols - from - kc : kc) : (cols < kc ? cols : kc);
    Ahead ahead = {(const char *) (intptr_t) blocks + nb0 * 16, (long) blocksPerRow * 16, count, nkc / 2,
                   (const char *) (intptr_t) scales + nb0, blocksPerRow};
    apply(panel, groups, kc / 16, x + xOffset, xStride, tokens, acc + accOffset, rowStride, firstBlock, tileCopy(panel, groups, kc), &ahead);
#else
    (void) blocks; (void) scales; (void) block; (void) blocksPerRow; (void) count; (void) from; (void) kc; (void) x; (void) xOffset;
    (void) xStride; (void) tokens; (void) acc; (void) accOffset; (void) rowStride; (void) firstBlock; (void) scratch;
#endif
}

/*
 * The epilogue of a unit after its last depth block: every accumulator (row r < count, token t < tokens, at
 * acc + accOffset + r * rowStride + t * 16) folded as Lanes.sum folds, plus bias[r] (the caller passes zeros where
 * there is none: the Java epilogue adds +0 too), written to out + outOffset + t * outStride + r; with swiglu, rows
 * (2j, 2j + 1) are (gate, linear) and Swiglu.apply of the pair goes to out + outOffset + t * outStride + j (count
 * even). The same operations in the same order as Gemm's Java fold and CpuBackend's Java epilogue: the same bits.
 */
void gptoss_gemm_finish(const float *acc, int32_t accOffset, int32_t rowStride, int32_t count, int32_t tokens, const float *bias,
                        float *out, int32_t outOffset, int32_t outStride, int32_t swiglu, float alpha, float limit) {
#ifdef GPTOSS_GEMM_X86
    finish(acc + accOffset, rowStride, count, tokens, bias, out + outOffset, outStride, swiglu, alpha, limit);
#else
    (void) acc; (void) accOffset; (void) rowStride; (void) count; (void) tokens; (void) bias; (void) out; (void) outOffset;
    (void) outStride; (void) swiglu; (void) alpha; (void) limit;
#endif
}
