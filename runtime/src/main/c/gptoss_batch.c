/*
 * Native small-batch kernels of the CPU backend (2..15 token rows: a batched decode step, the few tokens routed to
 * one expert), called through the FFM API (gptoss.runtime.cpu.kernel.BatchKernels). Built from this source by
 * build.sh into the same library as gptoss_kernels.c; the Java Vector API kernels (Gemm, Bf16Kernels, and the
 * single-row kernels once per token) are the fallback and give the same bits.
 *
 * Each weight is read from memory once per call for all tokens: a tile of R weight rows × T tokens keeps R·T
 * vector accumulators in registers (R·T ≤ 24 of the 32 AVX-512 registers); per 32 elements a row's weights are
 * decoded once in registers (BF16: one shift and one AND; MXFP4: one widening load, one shift, two table
 * permutes) and applied to the T tokens' activations (loaded as memory operands, from L1). Rows stream from
 * memory with software prefetch. More than 8 tokens run as token groups over the same R rows, which the second
 * group reads from L1/L2.
 *
 * Summation order (gptoss.runtime.cpu.kernel, package-info.java), exactly as gptoss_kernels.c's single-row
 * kernels: exact fp32 weights, 16 lane accumulators per (row, token) starting at +0, per 32-element chunk of the
 * SPLIT order acc = fma(even weights, even x, acc), then acc = fma(odd weights, odd x, acc); a BF16 tail shorter
 * than 32 in natural order (position p to lane p mod 16); the lanes folded as Lanes.sum (j += j+8, +4, +2, +1).
 * So every output has the bits of the single-row dot of its row and token, whatever T, R or thread.
 */
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define GPTOSS_X86 1
#endif

/* Bytes ahead of the current position each row stream prefetches (as gptoss_kernels.c). */
#define BATCH_BF16_PREFETCH 2048
#define BATCH_MXFP4_PREFETCH 1024
/* Tokens of one register tile at most; more run as several groups. */
#define TMAX 8

#ifdef GPTOSS_X86
__attribute__((target("avx512f,fma")))
static inline float batchFold16(__m512 v) {
    float a[16];
    _mm512_storeu_ps(a, v);
    for (int w = 8; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) a[j] += a[j + w];
    return a[0];
}

/*
 * R BF16 rows (at b[r], k elements each) × T tokens (token t at x + t·xs, SPLIT order): out[r·os + t].
 * R and T are compile-time constants at every call, so the loops unroll and the accumulators stay in registers.
 */
__attribute__((target("avx512f,fma"), always_inline))
static inline void bf16Tile(const uint16_t *const *b, int k, const float *x, int xs, float *out, int os, const int R, const int T) {
    const __m512i high = _mm512_set1_epi32((int) 0xFFFF0000u);
    __m512 acc[8][TMAX];
    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++)
        _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) acc[r][t] = _mm512_setzero_ps();
    int chunks = k / 32;
    for (int c = 0; c < chunks; c++) {
        const float *xc = x + (long) c * 32;
        _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {
            const uint16_t *p = b[r] + (long) c * 32;
            _mm_prefetch((const char *) p + BATCH_BF16_PREFETCH, _MM_HINT_T0);
            __m512i v = _mm512_loadu_si512(p);
            __m512 we = _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
            _Pragma("GCC unroll 8") for (int t = 0; t < T; t++)
                acc[r][t] = _mm512_fmadd_ps(we, _mm512_loadu_ps(xc + (long) t * xs), acc[r][t]);
            __m512 wo = _mm512_castsi512_ps(_mm512_and_si512(v, high));
            _Pragma("GCC unroll 8") for (int t = 0; t < T; t++)
                acc[r][t] = _mm512_fmadd_ps(wo, _mm512_loadu_ps(xc + (long) t * xs + 16), acc[r][t]);
        }
    }
    if (chunks * 32 != k) {
        /* SPLIT leaves a tail shorter than 32 in natural order: position p to lane p mod 16. */
        _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {
            for (int t = 0; t < T; t++) {
                float a[16];
                _mm512_storeu_ps(a, acc[r][t]);
                for (int p = chunks * 32; p < k; p++) {
                    uint32_t bits = (uint32_t) b[r][p] << 16;
                    float w;
                    memcpy(&w, &bits, 4);
                    a[p & 15] = __builtin_fmaf(w, x[(long) t * xs + p], a[p & 15]);
                }
                acc[r][t] = _mm512_loadu_ps(a);
            }
        }
    }
    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++)
        _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) out[r * os + t] = batchFold16(acc[r][t]);
}

/*
 * R MXFP4 rows (codes at b[r], scales at s[r], nb blocks each) × T tokens (token t at x + t·xs): out[r·os + t].
 * Per block and row the scaled table is built once (FP4 table × 2^(e−127), exact) and both halves of the block
 * looked up once, then applied to the T tokens.
 */
__attribute__((target("avx512f,fma"), always_inline))
static inline void mxfp4Tile(const uint8_t *const *b, const uint8_t *const *s, int nb, const float *x, int xs, float *out, int os, const int R, const int T) {
    static const float fp4[16] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f,
                                  -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};
    const __m512 table = _mm512_loadu_ps(fp4);
    __m512 acc[8][TMAX];
    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++)
        _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) acc[r][t] = _mm512_setzero_ps();
    for (int j = 0; j < nb; j++) {
        const float *xe = x + (long) j * 32;
        _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {
            const uint8_t *p = b[r] + (long) j * 16;
            if ((j & 3) == 0) {
                _mm_prefetch((const char *) p + BATCH_MXFP4_PREFETCH, _MM_HINT_T0);
                if ((j & 63) == 0) _mm_prefetch((const char *) s[r] + j + BATCH_MXFP4_PREFETCH / 16, _MM_HINT_T0);
            }
            __m512i w = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *) p));
            __m512 scaled = _mm512_mul_ps(table, _mm512_castsi512_ps(_mm512_set1_epi32((int) ((uint32_t) s[r][j] << 23))));
            __m512 we = _mm512_permutexvar_ps(w, scaled);
            _Pragma("GCC unroll 8") for (int t = 0; t < T; t++)
                acc[r][t] = _mm512_fmadd_ps(we, _mm512_loadu_ps(xe + (long) t * xs), acc[r][t]);
            __m512 wo = _mm512_permutexvar_ps(_mm512_srli_epi32(w, 4), scaled);
            _Pragma("GCC unroll 8") for (int t = 0; t < T; t++)
                acc[r][t] = _mm512_fmadd_ps(wo, _mm512_loadu_ps(xe + (long) t * xs + 16), acc[r][t]);
        }
    }
    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++)
        _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) out[r * os + t] = batchFold16(acc[r][t]);
}

/* Rows of a tile for T tokens: R·T ≤ 24 accumulators, at most 8 rows. */
#define ROWS_FOR(T) ((T) <= 2 ? 8 : (T) == 3 ? 6 : (T) <= 6 ? 4 : 3)

typedef void (*Bf16TileFn)(const uint16_t *const *, int, const float *, int, float *, int);
typedef void (*Mxfp4TileFn)(const uint8_t *const *, const uint8_t *const *, int, const float *, int, float *, int);

#define BF16_TILES(T) \
    __attribute__((target("avx512f,fma"))) static void bf16Tile##T(const uint16_t *const *b, int k, const float *x, int xs, float *out, int os) { bf16Tile(b, k, x, xs, out, os, ROWS_FOR(T), T); } \
    __attribute__((target("avx512f,fma"))) static void bf16Row##T(const uint16_t *const *b, int k, const float *x, int xs, float *out, int os) { bf16Tile(b, k, x, xs, out, os, 1, T); }
#define MXFP4_TILES(T) \
    __attribute__((target("avx512f,fma"))) static void mxfp4Tile##T(const uint8_t *const *b, const uint8_t *const *s, int nb, const float *x, int xs, float *out, int os) { mxfp4Tile(b, s, nb, x, xs, out, os, ROWS_FOR(T), T); } \
    __attribute__((target("avx512f,fma"))) static void mxfp4Row##T(const uint8_t *const *b, const uint8_t *const *s, int nb, const float *x, int xs, float *out, int os) { mxfp4Tile(b, s, nb, x, xs, out, os, 1, T); }
BF16_TILES(1) BF16_TILES(2) BF16_TILES(3) BF16_TILES(4) BF16_TILES(5) BF16_TILES(6) BF16_TILES(7) BF16_TILES(8)
MXFP4_TILES(1) MXFP4_TILES(2) MXFP4_TILES(3) MXFP4_TILES(4) MXFP4_TILES(5) MXFP4_TILES(6) MXFP4_TILES(7) MXFP4_TILES(8)

static const Bf16TileFn BF16_TILE[TMAX + 1] = {0, bf16Tile1, bf16Tile2, bf16Tile3, bf16Tile4, bf16Tile5, bf16Tile6, bf16Tile7, bf16Tile8};
static const Bf16TileFn BF16_ROW[TMAX + 1] = {0, bf16Row1, bf16Row2, bf16Row3, bf16Row4, bf16Row5, bf16Row6, bf16Row7, bf16Row8};
static const Mxfp4TileFn MXFP4_TILE[TMAX + 1] = {0, mxfp4Tile1, mxfp4Tile2, mxfp4Tile3, mxfp4Tile4, mxfp4Tile5, mxfp4Tile6, mxfp4Tile7, mxfp4Tile8};
static const Mxfp4TileFn MXFP4_ROW[TMAX + 1] = {0, mxfp4Row1, mxfp4Row2, mxfp4Row3, mxfp4Row4, mxfp4Row5, mxfp4Row6, mxfp4Row7, mxfp4Row8};

/* Token groups of at most TMAX, as even as possible (9 → 4 + 5, 15 → 7 + 8): group g starts at token first[g]. */
static int tokenGroups(int tokens, int *first, int *size) {
    int groups = (tokens + TMAX - 1) / TMAX, at = 0;
    for (int g = 0; g < groups; g++) {
        int n = (tokens - at) / (groups - g);
        first[g] = at;
        size[g] = n;
        at += n;
    }
    return groups;
}
#endif

/** Float lanes of these kernels on this CPU: 16 (AVX-512) or 0 (none: the Java kernels run). */
int gptoss_batch_lanes(void) {
#ifdef GPTOSS_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 16;
#endif
    return 0;
}

/*
 * Rows [row, row + count) of a BF16 matrix (row r: k elements from element first + r·k of the tensor at data) ×
 * `tokens` token rows (token t: x + xOffset + t·xStride, SPLIT order) to out[(r − row)·tokens + t].
 */
void gptoss_batch_bf16(int64_t data, int64_t first, int32_t k, const float *x, int32_t xOffset, int32_t xStride,
                       int32_t tokens, int32_t row, int32_t count, float *out) {
#ifdef GPTOSS_X86
    const uint16_t *D = (const uint16_t *) (intptr_t) data;
    const uint16_t *b[8];
    int gFirst[16], gSize[16];
    int groups = tokenGroups(tokens, gFirst, gSize);
    x += xOffset;
    int r = 0;
    for (; r < count; ) {
        /* a pass's rows: a tile of the first (smallest) group, or one row at a time at the end */
        int T0 = gSize[0], R = ROWS_FOR(T0);
        if (r + R > count) R = 1;
        for (int i = 0; i < R; i++) b[i] = D + first + (int64_t) (row + r + i) * k;
        for (int g = 0; g < groups; g++) {
            int T = gSize[g];
            const float *xg = x + (int64_t) gFirst[g] * xStride;
            float *o = out + (int64_t) r * tokens + gFirst[g];
            if (R == 1) {
                BF16_ROW[T](b, k, xg, xStride, o, tokens);
            } else {
                /* later groups have T0 or T0 + 1 tokens, so tiles of ROWS_FOR(T) ≤ R rows, any rest row by row */
                int RT = ROWS_FOR(T);
                for (int i = 0; i < R; i += RT) {
                    if (i + RT <= R) BF16_TILE[T](b + i, k, xg, xStride, o + (int64_t) i * tokens, tokens);
                    else for (int j = i; j < R; j++) BF16_ROW[T](b + j, k, xg, xStride, o + (int64_t) j * tokens, tokens);
                }
            }
        }
        r += R;
    }
#else
    (void) data; (void) first; (void) k; (void) x; (void) xOffset; (void) xStride; (void) tokens; (void) row; (void) count; (void) out;
#endif
}

/*
 * Rows [row, row + count) of an MXFP4 matrix (row r: blocksPerRow blocks from block firstBlock + r·blocksPerRow of
 * the tensor at (blocks, scales)) × `tokens` token rows (as gptoss_batch_bf16) to out[(r − row)·tokens + t].
 */
void gptoss_batch_mxfp4(int64_t blocks, int64_t scales, int64_t firstBlock, int32_t blocksPerRow, const float *x,
                        int32_t xOffset, int32_t xStride, int32_t tokens, int32_t row, int32_t count, float *out) {
#ifdef GPTOSS_X86
    const uint8_t *B = (const uint8_t *) (intptr_t) blocks, *S = (const uint8_t *) (intptr_t) scales;
    const uint8_t *b[8], *s[8];
    int gFirst[16], gSize[16];
    int groups = tokenGroups(tokens, gFirst, gSize);
    x += xOffset;
    int r = 0;
    for (; r < count; ) {
        int T0 = gSize[0], R = ROWS_FOR(T0);
        if (r + R > count) R = 1;
        for (int i = 0; i < R; i++) {
            int64_t blk = firstBlock + (int64_t) (row + r + i) * blocksPerRow;
            b[i] = B + blk * 16;
            s[i] = S + blk;
        }
        for (int g = 0; g < groups; g++) {
            int T = gSize[g];
            const float *xg = x + (int64_t) gFirst[g] * xStride;
            float *o = out + (int64_t) r * tokens + gFirst[g];
            if (R == 1) {
                MXFP4_ROW[T](b, s, blocksPerRow, xg, xStride, o, tokens);
            } else {
                int RT = ROWS_FOR(T);
                for (int i = 0; i < R; i += RT) {
                    if (i + RT <= R) MXFP4_TILE[T](b + i, s + i, blocksPerRow, xg, xStride, o + (int64_t) i * tokens, tokens);
                    else for (int j = i; j < R; j++) MXFP4_ROW[T](b + j, s + j, blocksPerRow, xg, xStride, o + (int64_t) j * tokens, tokens);
                }
            }
        }
        r += R;
    }
#else
    (void) blocks; (void) scales; (void) firstBlock; (void) blocksPerRow; (void) x; (void) xOffset; (void) xStride; (void) tokens; (void) row; (void) count; (void) out;
#endif
}
