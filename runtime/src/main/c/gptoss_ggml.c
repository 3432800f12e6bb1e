/*
 * Native matrix-vector kernels for the ggml block formats of GGUF files (Q8_0 and ggml MXFP4), called through the
 * FFM API by gptoss.runtime.cpu.kernel.GgmlKernels. AVX-512 only (16 float lanes); elsewhere the Java Vector API
 * kernels of Q8_0Matrix and GgmlMxfp4Matrix run, and they compute the same bits.
 *
 * Summation order (runtime/src/main/java/gptoss/runtime/cpu/kernel/package-info.java), activations in natural
 * order, L = 16: every weight is first decoded exactly to fp32 (Q8_0: fp16 scale d times int8 q, 19 significant
 * bits; MXFP4: the FP4 table scaled by the block's 2^(e-127), the scaled value is exact), then element k of the
 * row goes to lane k mod 16 as one fused multiply-add, in increasing k; the 16 lanes are folded in halves
 * (8, 4, 2, 1) at the end. Within a 32-element block that is two vectors: elements 0..15 then 16..31 (for ggml
 * MXFP4 the low nibbles of the 16 code bytes, then the high nibbles).
 *
 * dot8 computes eight rows side by side, sharing every load of x: rows 2i at a + i*step and 2i+1 at b + i*step, so
 * the same kernel serves eight rows spread through a matrix (b = a + stride*rowBytes, step = 2*stride*rowBytes)
 * and GGUF's separate gate and up expert matrices read as interleaved (gate, up) row pairs (a in one, b in the
 * other, step = rowBytes). Eight independent FMA chains keep the FMA units busy; one row alone is one chain.
 */
#pragma GCC optimize("fp-contract=off")
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define GGML_X86 1
#endif

#define Q8_BLOCK_BYTES 34
#define MX_BLOCK_BYTES 17

/* E8M0 byte -> 2^(e-127) as float, exactly (e = 0 is the subnormal 2^-127); 255 is NaN (OCP MX). */
static float e8m0[256];

__attribute__((constructor))
static void init_e8m0(void) {
    for (int e = 0; e < 256; e++) {
        uint32_t bits = e == 0 ? 0x00400000u : e == 255 ? 0x7FC00000u : (uint32_t) e << 23;
        memcpy(&e8m0[e], &bits, 4);
    }
}

/** Float lanes of these kernels on this CPU: 16 with AVX-512, else 0 (then the Java kernels run). */
int gptoss_ggml_lanes(void) {
#ifdef GGML_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 16;
#endif
    return 0;
}

#ifdef GGML_X86
/* Lanes.sum: a[j] += a[j + 8], then + 4, + 2, + 1; lane 0. */
__attribute__((target("avx512f"), always_inline))
static inline float fold16(__m512 a) {
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(a), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)));
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    q = _mm_add_ss(q, _mm_shuffle_ps(q, q, 1));
    return _mm_cvtss_f32(q);
}

/*
 * Software prefetch of the rows the next call will read: [pa, pa + blocks*span) and the same from pb (if not null),
 * span bytes per block step. Read row by row through adjacent passes, the hardware prefetchers see many short
 * streams that start cold at each pass (from memory, Q8_0 rows paired as gate/up ran at 13 GB/s on one core
 * without this, 33 GB/s with it; a single streaming read runs at about 32).
 */
#define PREFETCH_STEP(pa, pb, span, g) do { \
        const char *qa = (pa) + (span) * (int64_t) (g), *qb = (pb) ? (pb) + (span) * (int64_t) (g) : 0; \
        for (int64_t o = 0; o < (span); o += 64) { \
            _mm_prefetch(qa + o, _MM_HINT_T0); \
            if (qb) _mm_prefetch(qb + o, _MM_HINT_T0); \
        } \
    } while (0)

/* The scale of a Q8_0 block in all 16 lanes. */
#define Q8_SCALE(p) _mm512_cvtph_ps(_mm256_set1_epi16(*(const short *) (p)))
/* Elements 16h .. 16h+15 of a Q8_0 block as exact floats d*q. */
#define Q8_W(p, h, d) _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *) ((p) + 2 + 16 * (h))))), d)

enum format { Q8_0, MXFP4 };

static const float fp4[16] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f,
                              -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

/*
 * N rows (1 or 8) of blocks of format F (a constant wherever this is inlined, so each caller compiles to the one
 * format's code); rows 2i at a + i*step, 2i+1 at b + i*step. Per block: elements 0..15 to w0, 16..31 to w1, exactly.
 */
__attribute__((target("avx512f"), always_inline))
static inline void rows_of(enum format F, int N, const uint8_t *a, const uint8_t *b, int64_t step, int blocks,
                           const float *x, float *out, const char *pa, const char *pb, int64_t span) {
    const int64_t blockBytes = F == Q8_0 ? Q8_BLOCK_BYTES : MX_BLOCK_BYTES;
    const __m512 table = _mm512_loadu_ps(fp4);
    const uint8_t *r[8];
    for (int i = 0; i < 8; i++) r[i] = (i & 1 ? b : a) + (i >> 1) * step;
    __m512 acc[8];
#pragma GCC unroll 8
    for (int i = 0; i < N; i++) acc[i] = _mm512_setzero_ps();
    for (int g = 0; g < blocks; g++) {
        __m512 x0 = _mm512_loadu_ps(x + 32 * (int64_t) g), x1 = _mm512_loadu_ps(x + 32 * (int64_t) g + 16);
        if (span) PREFETCH_STEP(pa, pb, span, g);
#pragma GCC unroll 8
        for (int i = 0; i < N; i++) {
            const uint8_t *p = r[i] + (int64_t) g * blockBytes;
            __m512 w0, w1;
            if (F == Q8_0) {
                __m512 d = Q8_SCALE(p);
                w0 = Q8_W(p, 0, d);
                w1 = Q8_W(p, 1, d);
            } else {
                /* The 16 FP4 values times this block's scale: each product is exact (or 0, inf, NaN as the scalar
                 * decode); vpermps reads only the low 4 bits of each index: the low nibble as is, the high one
                 * after a shift. */
                __m512 scaled = _mm512_mul_ps(table, _mm512_set1_ps(e8m0[p[0]]));
                __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *) (p + 1)));
                w0 = _mm512_permutexvar_ps(q, scaled);
                w1 = _mm512_permutexvar_ps(_mm512_srli_epi32(q, 4), scaled);
            }
            acc[i] = _mm512_fmadd_ps(w0, x0, acc[i]);
            acc[i] = _mm512_fmadd_ps(w1, x1, acc[i]);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < N; i++) out[i] = fold16(acc[i]);
}

/*
 * The exported kernels of one format, called by GgmlKernels (callers check gptoss_ggml_lanes() first):
 *  PREFIX_dot:  the row at address `row` (`blocks` blocks) times x[xOffset ..];
 *  PREFIX_dot8: out[outOffset + k], k < 8: row k (2i at a + i*step, 2i+1 at b + i*step) times x[xOffset ..];
 *               meanwhile prefetches blocks*span bytes from address pa (and from pb unless 0), span = 0 for none;
 *  PREFIX_rows: out[outOffset + r] = row r times x[xOffset ..] for r in [from, to), rows rowBytes apart from
 *               `base`: eight adjacent rows per pass, each pass prefetching the next one's rows (not past `to`),
 *               then the rest row by row.
 */
#define EXPORTS(PREFIX, F) \
    __attribute__((target("avx512f"))) \
    static float PREFIX##_one(const uint8_t *row, int blocks, const float *x) { \
        float out; \
        rows_of(F, 1, row, row, 0, blocks, x, &out, 0, 0, 0); \
        return out; \
    } \
    __attribute__((target("avx512f"))) \
    static void PREFIX##_eight(const uint8_t *a, const uint8_t *b, int64_t step, int blocks, const float *x, \
                               float *out, const char *pa, const char *pb, int64_t span) { \
        rows_of(F, 8, a, b, step, blocks, x, out, pa, pb, span); \
    } \
    float PREFIX##_dot(int64_t row, int32_t blocks, const float *x, int32_t xOffset) { \
        return PREFIX##_one((const uint8_t *) (intptr_t) row, blocks, x + xOffset); \
    } \
    void PREFIX##_dot8(int64_t a, int64_t b, int64_t step, int32_t blocks, const float *x, int32_t xOffset, \
                       float *out, int32_t outOffset, int64_t pa, int64_t pb, int64_t span) { \
        PREFIX##_eight((const uint8_t *) (intptr_t) a, (const uint8_t *) (intptr_t) b, step, blocks, x + xOffset, \
                       out + outOffset, (const char *) (intptr_t) pa, (const char *) (intptr_t) pb, span); \
    } \
    void PREFIX##_rows(int64_t base, int64_t rowBytes, int32_t from, int32_t to, int32_t blocks, const float *x, \
                       int32_t xOffset, float *out, int32_t outOffset) { \
        const uint8_t *m = (const uint8_t *) (intptr_t) base; \
        const int64_t span = 8 * (F == Q8_0 ? Q8_BLOCK_BYTES : MX_BLOCK_BYTES); \
        x += xOffset; \
        out += outOffset; \
        int passes = (to - from) / 8; \
        for (int p = 0; p < passes; p++) { \
            const uint8_t *a = m + (int64_t) (from + 8 * p) * rowBytes; \
            int last = p + 1 == passes; \
            PREFIX##_eight(a, a + rowBytes, 2 * rowBytes, blocks, x, out + from + 8 * p, \
                           last ? 0 : (const char *) a + 8 * rowBytes, 0, last ? 0 : span); \
        } \
        for (int r = from + 8 * passes; r < to; r++) out[r] = PREFIX##_one(m + (int64_t) r * rowBytes, blocks, x); \
    }

EXPORTS(gptoss_q8_0, Q8_0)
EXPORTS(gptoss_ggml_mxfp4, MXFP4)
#endif
