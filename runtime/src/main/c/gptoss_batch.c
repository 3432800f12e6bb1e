/*
 * Native small-batch kernels of the CPU backend (2..15 token rows: a batched decode step, the few tokens routed to
 * one expert), called through the FFM API (gptoss.runtime.cpu.kernel.BatchKernels). Built from this source by
 * build.sh into the same library as gptoss_kernels.c; the Java Vector API kernels (Gemm, Bf16Kernels, and the
 * single-row kernels once per token) are the fallback and give the same bits.
 *
 * Each weight is read from memory once per call for all tokens: a tile of R weight rows × T tokens keeps R·T
 * vector accumulators in registers (R·T ≤ 24 of the 32 AVX-512 registers); per 32 elements a row's weights are
 * decoded once in registers (BF16: one shift and one AND; MXFP4: one widening load, one shift, two table
 * permutes) and applied to the T tokens' activations (loaded as memory operands). Rows stream from memory with
 * software prefetch. The depth is cut into blocks of DEPTH_BLOCK elements so that the tokens' activations for a
 * block stay in L1 while every row of the call passes over them (between blocks the accumulators wait in a small
 * array, unchanged); BF16 runs groups of up to 4 tokens, MXFP4 of up to 8, over the same rows and depth block.
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

/* Each weight load prefetches the same place in the rows of the next call (the thread's next unit of rows, which
 * follow these in memory), into L2: a call's rows are read in depth blocks, row after row, too short a stretch of
 * each for a prefetch a few lines ahead in the same row. */
#ifndef BATCH_HINT
#define BATCH_HINT _MM_HINT_T1
#endif
/* Tokens of one register tile at most; more run as several groups. */
#define TMAX 8
/* Tokens of a BF16 group: 8 tokens as two groups of 4 over the same depth block (the second reads the rows from
 * L1) ran the unembedding of bench-m (201088 × 2880) in 48–50 ms on 2 threads against 54–56 ms as one group of 8
 * (a C harness, 21:40 UTC); the 8-token tile is bound by its loads of activations. */
#define BF16_GROUP 4

#ifdef GPTOSS_X86
__attribute__((target("avx512f,fma")))
static inline float batchFold16(const float *v) {
    float a[16];
    memcpy(a, v, sizeof a);
    for (int w = 8; w >= 1; w /= 2)
        for (int j = 0; j < w; j++) a[j] += a[j + w];
    return a[0];
}

/*
 * R BF16 rows (at b[r], k elements each: one depth block) × T tokens (token t at x + t·xs, SPLIT order). The
 * accumulator of (row r, token t) lives at part + (r·ps + t)·16 between depth blocks: zero at the first block
 * (first), loaded, advanced over this block and stored. R and T are compile-time constants at every call, so the
 * loops unroll and the accumulators stay in registers.
 */
__attribute__((target("avx512f,fma"), always_inline))
static inline void bf16Tile(const uint16_t *const *b, int k, const float *x, int xs, float *part, int ps, int first, int64_t ahead, const int R, const int T) {
    const __m512i high = _mm512_set1_epi32((int) 0xFFFF0000u);
    __m512 acc[8][TMAX];
    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++)
        _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) acc[r][t] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(part + (r * ps + t) * 16);
    int chunks = k / 32;
    for (int c = 0; c < chunks; c++) {
        const float *xc = x + (long) c * 32;
        __m512 xv[TMAX];
        /* the even elements of the chunk: the T tokens' activations in registers, each row's weights widened once */
        _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) xv[t] = _mm512_loadu_ps(xc + (long) t * xs);
        _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {
            const uint16_t *p = b[r] + (long) c * 32;
            _mm_prefetch((const char *) p + ahead, BATCH_HINT);
            __m512 we = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_loadu_si512(p), 16));
            _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) acc[r][t] = _mm512_fmadd_ps(we, xv[t], acc[r][t]);
        }
        /* the odd elements (the rows' 64 bytes again, from L1) */
        _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) xv[t] = _mm512_loadu_ps(xc + (long) t * xs + 16);
        _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {
            __m512 wo = _mm512_castsi512_ps(_mm512_and_si512(_mm512_loadu_si512(b[r] + (long) c * 32), high));
            _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) acc[r][t] = _mm512_fmadd_ps(wo, xv[t], acc[r][t]);
        }
    }
    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++)
        _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) _mm512_storeu_ps(part + (r * ps + t) * 16, acc[r][t]);
    if (chunks * 32 != k) {
        /* SPLIT leaves a tail shorter than 32 (in the last block) in natural order: position p to lane p mod 16. */
        for (int r = 0; r < R; r++) {
            for (int t = 0; t < T; t++) {
                float *a = part + (r * ps + t) * 16;
                for (int p = chunks * 32; p < k; p++) {
                    uint32_t bits = (uint32_t) b[r][p] << 16;
                    float w;
                    memcpy(&w, &bits, 4);
                    a[p & 15] = __builtin_fmaf(w, x[(long) t * xs + p], a[p & 15]);
                }
            }
        }
    }
}

/*
 * R MXFP4 rows (codes at b[r], scales at s[r], nb blocks each: one depth block) × T tokens, accumulators in part
 * as bf16Tile. Per block and row the scaled table (FP4 table × 2^(e−127), exact) is built once and both halves of
 * the block looked up once, then applied to the T tokens.
 */
__attribute__((target("avx512f,fma"), always_inline))
static inline void mxfp4Tile(const uint8_t *const *b, const uint8_t *const *s, int nb, const float *x, int xs, float *part, int ps, int first, int64_t ahead, const int R, const int T) {
    static const float fp4[16] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f,
                                  -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};
    const __m512 table = _mm512_loadu_ps(fp4);
    __m512 acc[8][TMAX];
    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++)
        _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) acc[r][t] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(part + (r * ps + t) * 16);
    for (int j = 0; j < nb; j++) {
        const float *xe = x + (long) j * 32;
        __m512 xv[TMAX], wo[8];
        /* the even elements: the tokens' activations in registers; per row the scaled table and both lookups */
        _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) xv[t] = _mm512_loadu_ps(xe + (long) t * xs);
        _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {
            const uint8_t *p = b[r] + (long) j * 16;
            if ((j & 3) == 0) _mm_prefetch((const char *) p + ahead, BATCH_HINT);
            if ((j & 63) == 0) _mm_prefetch((const char *) s[r] + j + ahead / 16, BATCH_HINT);
            __m512i w = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *) p));
            __m512 scaled = _mm512_mul_ps(table, _mm512_castsi512_ps(_mm512_set1_epi32((int) ((uint32_t) s[r][j] << 23))));
            __m512 we = _mm512_permutexvar_ps(w, scaled);
            wo[r] = _mm512_permutexvar_ps(_mm512_srli_epi32(w, 4), scaled);
            _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) acc[r][t] = _mm512_fmadd_ps(we, xv[t], acc[r][t]);
        }
        /* the odd elements */
        _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) xv[t] = _mm512_loadu_ps(xe + (long) t * xs + 16);
        _Pragma("GCC unroll 8") for (int r = 0; r < R; r++)
            _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) acc[r][t] = _mm512_fmadd_ps(wo[r], xv[t], acc[r][t]);
    }
    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++)
        _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) _mm512_storeu_ps(part + (r * ps + t) * 16, acc[r][t]);
}

/* Rows of a tile for T tokens: R·T accumulators + T activation vectors + a weight vector within the 32 registers,
 * at most 8 rows; the MXFP4 tile also keeps each row's odd weights and a few decode temporaries. */
#define ROWS_FOR(T) ((T) <= 2 ? 8 : (T) == 3 ? 6 : (T) == 4 ? 5 : (T) == 5 ? 4 : (T) <= 7 ? 3 : 2)
#define MX_ROWS_FOR(T) ((T) == 1 ? 8 : (T) == 2 ? 6 : (T) == 3 ? 5 : (T) == 4 ? 4 : (T) == 5 ? 3 : 2)
/* Rows of a row block (their partial accumulators stay in L1 between depth blocks) and elements of a depth block
 * (the tokens' activations for it, ≤ 15 × 2 KiB, stay in L1 while every row of the row block passes over them:
 * over whole rows, 8 tokens' 2880-wide rows (92 KiB) came from L2 at every FMA, about 0.5 FMA per cycle). */
#define ROW_BLOCK 24
#define DEPTH_BLOCK 512

typedef void (*Bf16TileFn)(const uint16_t *const *, int, const float *, int, float *, int, int, int64_t);
typedef void (*Mxfp4TileFn)(const uint8_t *const *, const uint8_t *const *, int, const float *, int, float *, int, int, int64_t);

#define BF16_TILES(T) \
    __attribute__((target("avx512f,fma"))) static void bf16Tile##T(const uint16_t *const *b, int k, const float *x, int xs, float *part, int ps, int first, int64_t ahead) { bf16Tile(b, k, x, xs, part, ps, first, ahead, ROWS_FOR(T), T); } \
    __attribute__((target("avx512f,fma"))) static void bf16Row##T(const uint16_t *const *b, int k, const float *x, int xs, float *part, int ps, int first, int64_t ahead) { bf16Tile(b, k, x, xs, part, ps, first, ahead, 1, T); }
#define MXFP4_TILES(T) \
    __attribute__((target("avx512f,fma"))) static void mxfp4Tile##T(const uint8_t *const *b, const uint8_t *const *s, int nb, const float *x, int xs, float *part, int ps, int first, int64_t ahead) { mxfp4Tile(b, s, nb, x, xs, part, ps, first, ahead, MX_ROWS_FOR(T), T); } \
    __attribute__((target("avx512f,fma"))) static void mxfp4Row##T(const uint8_t *const *b, const uint8_t *const *s, int nb, const float *x, int xs, float *part, int ps, int first, int64_t ahead) { mxfp4Tile(b, s, nb, x, xs, part, ps, first, ahead, 1, T); }
BF16_TILES(1) BF16_TILES(2) BF16_TILES(3) BF16_TILES(4) BF16_TILES(5) BF16_TILES(6) BF16_TILES(7) BF16_TILES(8)
MXFP4_TILES(1) MXFP4_TILES(2) MXFP4_TILES(3) MXFP4_TILES(4) MXFP4_TILES(5) MXFP4_TILES(6) MXFP4_TILES(7) MXFP4_TILES(8)

static const Bf16TileFn BF16_TILE[TMAX + 1] = {0, bf16Tile1, bf16Tile2, bf16Tile3, bf16Tile4, bf16Tile5, bf16Tile6, bf16Tile7, bf16Tile8};
static const Bf16TileFn BF16_ROW[TMAX + 1] = {0, bf16Row1, bf16Row2, bf16Row3, bf16Row4, bf16Row5, bf16Row6, bf16Row7, bf16Row8};
static const Mxfp4TileFn MXFP4_TILE[TMAX + 1] = {0, mxfp4Tile1, mxfp4Tile2, mxfp4Tile3, mxfp4Tile4, mxfp4Tile5, mxfp4Tile6, mxfp4Tile7, mxfp4Tile8};
static const Mxfp4TileFn MXFP4_ROW[TMAX + 1] = {0, mxfp4Row1, mxfp4Row2, mxfp4Row3, mxfp4Row4, mxfp4Row5, mxfp4Row6, mxfp4Row7, mxfp4Row8};

/* Token groups of at most `most` tokens, as even as possible (9 by 8 → 4 + 5): group g starts at token first[g]. */
static int tokenGroups(int tokens, int most, int *first, int *size) {
    int groups = (tokens + most - 1) / most, at = 0;
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
 * Row blocks of ROW_BLOCK rows; within one, depth blocks of DEPTH_BLOCK elements, each applied to every token group
 * and every tile of rows (ROWS_FOR(T) at a time, the rest one by one) before the next.
 */
void gptoss_batch_bf16(int64_t data, int64_t first, int32_t k, const float *x, int32_t xOffset, int32_t xStride,
                       int32_t tokens, int32_t row, int32_t count, float *out) {
#ifdef GPTOSS_X86
    const uint16_t *D = (const uint16_t *) (intptr_t) data;
    const uint16_t *b[ROW_BLOCK];
    float part[ROW_BLOCK * 15 * 16] __attribute__((aligned(64)));
    int gFirst[16], gSize[16];
    int groups = tokenGroups(tokens, BF16_GROUP, gFirst, gSize);
    int64_t ahead = (int64_t) count * k * 2;  /* the same place in the next call's rows (the next unit of the thread) */
    x += xOffset;
    for (int r0 = 0; r0 < count; r0 += ROW_BLOCK) {
        int rows = count - r0 < ROW_BLOCK ? count - r0 : ROW_BLOCK;
        for (int k0 = 0; k0 < k; k0 += DEPTH_BLOCK) {
            int kc = k - k0 < DEPTH_BLOCK ? k - k0 : DEPTH_BLOCK;
            for (int i = 0; i < rows; i++) b[i] = D + first + (int64_t) (row + r0 + i) * k + k0;
            for (int g = 0; g < groups; g++) {
                int T = gSize[g], R = ROWS_FOR(T), i = 0;
                const float *xg = x + (int64_t) gFirst[g] * xStride + k0;
                for (; i + R <= rows; i += R) BF16_TILE[T](b + i, kc, xg, xStride, part + (i * tokens + gFirst[g]) * 16, tokens, k0 == 0, ahead);
                for (; i < rows; i++) BF16_ROW[T](b + i, kc, xg, xStride, part + (i * tokens + gFirst[g]) * 16, tokens, k0 == 0, ahead);
            }
        }
        for (int i = 0; i < rows * tokens; i++) out[(int64_t) r0 * tokens + i] = batchFold16(part + i * 16);
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
    const uint8_t *b[ROW_BLOCK], *s[ROW_BLOCK];
    float part[ROW_BLOCK * 15 * 16] __attribute__((aligned(64)));
    int gFirst[16], gSize[16];
    int groups = tokenGroups(tokens, TMAX, gFirst, gSize);
    int k = blocksPerRow * 32;
    int64_t ahead = (int64_t) count * blocksPerRow * 16;  /* codes; the scales' distance is ahead / 16 */
    x += xOffset;
    for (int r0 = 0; r0 < count; r0 += ROW_BLOCK) {
        int rows = count - r0 < ROW_BLOCK ? count - r0 : ROW_BLOCK;
        for (int k0 = 0; k0 < k; k0 += DEPTH_BLOCK) {
            int kc = k - k0 < DEPTH_BLOCK ? k - k0 : DEPTH_BLOCK;
            for (int i = 0; i < rows; i++) {
                int64_t blk = firstBlock + (int64_t) (row + r0 + i) * blocksPerRow + k0 / 32;
                b[i] = B + blk * 16;
                s[i] = S + blk;
            }
            for (int g = 0; g < groups; g++) {
                int T = gSize[g], R = MX_ROWS_FOR(T), i = 0;
                const float *xg = x + (int64_t) gFirst[g] * xStride + k0;
                for (; i + R <= rows; i += R) MXFP4_TILE[T](b + i, s + i, kc / 32, xg, xStride, part + (i * tokens + gFirst[g]) * 16, tokens, k0 == 0, ahead);
                for (; i < rows; i++) MXFP4_ROW[T](b + i, s + i, kc / 32, xg, xStride, part + (i * tokens + gFirst[g]) * 16, tokens, k0 == 0, ahead);
            }
        }
        for (int i = 0; i < rows * tokens; i++) out[(int64_t) r0 * tokens + i] = batchFold16(part + i * 16);
    }
#else
    (void) blocks; (void) scales; (void) firstBlock; (void) blocksPerRow; (void) x; (void) xOffset; (void) xStride; (void) tokens; (void) row; (void) count; (void) out;
#endif
}
