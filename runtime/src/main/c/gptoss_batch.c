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
 * BF16 copies the call's token rows once, chunk by chunk (all tokens' 32 activations of a chunk together), so that a
 * tile loads every activation from one pointer plus a constant, and splices rows that start off a cache line from
 * aligned loads (README, issue 12, session 7: what limits these tiles, measured).
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
 * R BF16 rows (row r at w + r·ws, one depth block of `chunks` 32-element chunks) × T tokens whose activations are
 * packed (chunk c of token t at xp + c·xcs + t·32: the 16 even elements, then the 16 odd ones). The accumulator of
 * (row r, token t) lives at part + (r·ps + t)·16 between depth blocks: zero at the first block (first), loaded,
 * advanced over this block and stored. R and T are compile-time constants at every call, so the loops unroll and
 * the accumulators stay in registers. All activation loads are one pointer plus a constant: with one pointer per
 * token (T of them) and one per row, GCC ran out of general registers and spilled around the FMAs.
 */
__attribute__((target("avx512f,fma"), always_inline))
static inline void bf16Tile(const uint16_t *w, int64_t ws, int chunks, const float *xp, int64_t xcs, float *part, int ps, int first, int64_t ahead, const int R, const int T, const int S) {
    const __m512i high = _mm512_set1_epi32((int) 0xFFFF0000u);
    /* S: the rows start 4·j bytes past a cache line (0 < j < 16, the same j for every row): each chunk is spliced
     * from the two aligned lines it straddles (vpermt2d) instead of two loads that each cross a line */
    const __m512i splice = _mm512_add_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                            _mm512_set1_epi32((int) (((uintptr_t) w & 63) / 4)));
    __m512 acc[8][TMAX];
    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++)
        _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) acc[r][t] = first ? _mm512_setzero_ps() : _mm512_load_ps(part + (r * ps + t) * 16);
    for (int c = 0; c < chunks; c++) {
        __m512 xv[TMAX];
        /* the even elements of the chunk: the T tokens' activations in registers, each row's weights widened once */
        __m512 wo[8];
        _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) xv[t] = _mm512_load_ps(xp + t * 32);
        _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {
            const uint16_t *p = w + r * ws;
            _mm_prefetch((const char *) p + ahead, BATCH_HINT);
            __m512i raw;
            if (S) {
                const uint16_t *line = (const uint16_t *) ((uintptr_t) p & ~(uintptr_t) 63);
                raw = _mm512_permutex2var_epi32(_mm512_load_si512(line), splice, _mm512_load_si512(line + 32));
                wo[r] = _mm512_castsi512_ps(_mm512_and_si512(raw, high));
            } else {
                raw = _mm512_loadu_si512(p);
            }
            __m512 we = _mm512_castsi512_ps(_mm512_slli_epi32(raw, 16));
            _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) acc[r][t] = _mm512_fmadd_ps(we, xv[t], acc[r][t]);
        }
        /* the odd elements (unspliced: the rows' 64 bytes again, from L1) */
        _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) xv[t] = _mm512_load_ps(xp + t * 32 + 16);
        _Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {
            if (!S) wo[r] = _mm512_castsi512_ps(_mm512_and_si512(_mm512_loadu_si512(w + r * ws), high));
            _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) acc[r][t] = _mm512_fmadd_ps(wo[r], xv[t], acc[r][t]);
        }
        w += 32;
        xp += xcs;
    }
    _Pragma("GCC unroll 8") for (int r = 0; r < R; r++)
        _Pragma("GCC unroll 8") for (int t = 0; t < T; t++) _mm512_store_ps(part + (r * ps + t) * 16, acc[r][t]);
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
#define ROWS_FOR(T) ((T) <= 2 ? 8 : (T) == 3 ? 8 : (T) <= 5 ? 4 : 2)
/* the spliced tiles keep each row's odd weights in a register too */
#define SPLICED_ROWS_FOR(T) ((T) <= 2 ? 8 : (T) <= 5 ? 4 : 2)
#define MX_ROWS_FOR(T) ((T) == 1 ? 8 : (T) == 2 ? 6 : (T) == 3 ? 5 : (T) == 4 ? 4 : (T) == 5 ? 3 : 2)
/* Rows of a row block (their partial accumulators stay in L1 between depth blocks) and elements of a depth block
 * (the tokens' activations for it, ≤ 15 × 2 KiB, stay in L1 while every row of the row block passes over them:
 * over whole rows, 8 tokens' 2880-wide rows (92 KiB) came from L2 at every FMA, about 0.5 FMA per cycle). */
#define ROW_BLOCK 24
#define DEPTH_BLOCK 512

/* BF16: rows of a row block (a power of two, so that the 4- and 8-row tiles leave no row over in whole blocks); the
 * depth blocks of the call's rows prefetch the next row block's (the last one the next call's: the thread's next
 * unit of rows follows these in memory). */
#define BF16_ROW_BLOCK 16

typedef void (*Bf16TileFn)(const uint16_t *, int64_t, int, const float *, int64_t, float *, int, int, int64_t);
typedef void (*Mxfp4TileFn)(const uint8_t *const *, const uint8_t *const *, int, const float *, int, float *, int, int, int64_t);

#define BF16_TILES(T) \
    __attribute__((target("avx512f,fma"))) static void bf16Tile##T(const uint16_t *w, int64_t ws, int chunks, const float *xp, int64_t xcs, float *part, int ps, int first, int64_t ahead) { bf16Tile(w, ws, chunks, xp, xcs, part, ps, first, ahead, ROWS_FOR(T), T, 0); } \
    __attribute__((target("avx512f,fma"))) static void bf16Row##T(const uint16_t *w, int64_t ws, int chunks, const float *xp, int64_t xcs, float *part, int ps, int first, int64_t ahead) { bf16Tile(w, ws, chunks, xp, xcs, part, ps, first, ahead, 1, T, 0); } \
    __attribute__((target("avx512f,fma"))) static void bf16SplicedTile##T(const uint16_t *w, int64_t ws, int chunks, const float *xp, int64_t xcs, float *part, int ps, int first, int64_t ahead) { bf16Tile(w, ws, chunks, xp, xcs, part, ps, first, ahead, SPLICED_ROWS_FOR(T), T, 1); } \
    __attribute__((target("avx512f,fma"))) static void bf16SplicedRow##T(const uint16_t *w, int64_t ws, int chunks, const float *xp, int64_t xcs, float *part, int ps, int first, int64_t ahead) { bf16Tile(w, ws, chunks, xp, xcs, part, ps, first, ahead, 1, T, 1); }
#define MXFP4_TILES(T) \
    __attribute__((target("avx512f,fma"))) static void mxfp4Tile##T(const uint8_t *const *b, const uint8_t *const *s, int nb, const float *x, int xs, float *part, int ps, int first, int64_t ahead) { mxfp4Tile(b, s, nb, x, xs, part, ps, first, ahead, MX_ROWS_FOR(T), T); } \
    __attribute__((target("avx512f,fma"))) static void mxfp4Row##T(const uint8_t *const *b, const uint8_t *const *s, int nb, const float *x, int xs, float *part, int ps, int first, int64_t ahead) { mxfp4Tile(b, s, nb, x, xs, part, ps, first, ahead, 1, T); }
BF16_TILES(1) BF16_TILES(2) BF16_TILES(3) BF16_TILES(4) BF16_TILES(5) BF16_TILES(6) BF16_TILES(7) BF16_TILES(8)
MXFP4_TILES(1) MXFP4_TILES(2) MXFP4_TILES(3) MXFP4_TILES(4) MXFP4_TILES(5) MXFP4_TILES(6) MXFP4_TILES(7) MXFP4_TILES(8)

static const Bf16TileFn BF16_TILE[TMAX + 1] = {0, bf16Tile1, bf16Tile2, bf16Tile3, bf16Tile4, bf16Tile5, bf16Tile6, bf16Tile7, bf16Tile8};
static const Bf16TileFn BF16_ROW[TMAX + 1] = {0, bf16Row1, bf16Row2, bf16Row3, bf16Row4, bf16Row5, bf16Row6, bf16Row7, bf16Row8};
static const Bf16TileFn BF16_SPLICED_TILE[TMAX + 1] = {0, bf16SplicedTile1, bf16SplicedTile2, bf16SplicedTile3, bf16SplicedTile4, bf16SplicedTile5, bf16SplicedTile6, bf16SplicedTile7, bf16SplicedTile8};
static const Bf16TileFn BF16_SPLICED_ROW[TMAX + 1] = {0, bf16SplicedRow1, bf16SplicedRow2, bf16SplicedRow3, bf16SplicedRow4, bf16SplicedRow5, bf16SplicedRow6, bf16SplicedRow7, bf16SplicedRow8};
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

/* The token rows' full chunks to `packed`, chunk after chunk, token after token (see gptoss_batch_bf16). */
__attribute__((target("avx512f")))
static void bf16Pack(const float *x, int xs, int tokens, int chunks, float *packed) {
    for (int c = 0; c < chunks; c++) {
        for (int t = 0; t < tokens; t++) {
            const float *s = x + (int64_t) t * xs + (int64_t) c * 32;
            float *d = packed + ((int64_t) c * tokens + t) * 32;
            _mm512_store_ps(d, _mm512_loadu_ps(s));
            _mm512_store_ps(d + 16, _mm512_loadu_ps(s + 16));
        }
    }
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
 * `tokens` token rows (token t: x + xOffset + t·xStride, SPLIT order) to out[(r − row)·tokens + t]. `packed` (64-byte
 * aligned, tokens·(k / 32)·32 floats) receives the token rows chunk by chunk, token after token (chunk c of token t
 * at (c·tokens + t)·32), once per call, so that the tiles load every activation from one pointer.
 * Row blocks of BF16_ROW_BLOCK rows; within one, depth blocks of DEPTH_BLOCK elements, each applied to every token
 * group and every tile of rows (ROWS_FOR(T) at a time, the rest one by one) before the next; then the tail.
 */
#ifdef GPTOSS_X86
/* AVX-512 for the whole entry (only called where gptoss_batch_lanes says 16): without it the 16-lane folds of the
 * finished accumulators are calls to an out-of-line batchFold16, ≈ 15 % of the unembedding's time at 8 tokens
 * (C harness, 2000 rows from L3, 1 thread: 92 → 102 GFLOP/s median; 201088 rows, 2 threads: 61 → 53 ms). */
__attribute__((target("avx512f,fma")))
#endif
void gptoss_batch_bf16(int64_t data, int64_t first, int32_t k, const float *x, int32_t xOffset, int32_t xStride,
                       int32_t tokens, int32_t row, int32_t count, float *out, float *packed) {
#ifdef GPTOSS_X86
    const uint16_t *D = (const uint16_t *) (intptr_t) data;
    float part[BF16_ROW_BLOCK * 15 * 16] __attribute__((aligned(64)));
    int gFirst[16], gSize[16];
    int groups = tokenGroups(tokens, BF16_GROUP, gFirst, gSize);
    int chunks = k / 32, depth = chunks * 32;
    int64_t xcs = (int64_t) tokens * 32;
    int64_t ahead = (int64_t) BF16_ROW_BLOCK * k * 2;
    x += xOffset;
    bf16Pack(x, xStride, tokens, chunks, packed);
    /* Rows that start 4·j bytes past a cache line, all alike (whole lines per row), take the spliced tiles:
     * bench-m's lm_head starts 32 bytes past one in the mapped checkpoint, and every 64-byte load of it crossed two. */
    uintptr_t misaligned = (uintptr_t) (D + first + (int64_t) row * k) & 63;
    int spliced = misaligned != 0 && misaligned % 4 == 0 && ((int64_t) k * 2) % 64 == 0;
    const Bf16TileFn *tileFn = spliced ? BF16_SPLICED_TILE : BF16_TILE, *rowFn = spliced ? BF16_SPLICED_ROW : BF16_ROW;
    for (int r0 = 0; r0 < count; r0 += BF16_ROW_BLOCK) {
        int rows = count - r0 < BF16_ROW_BLOCK ? count - r0 : BF16_ROW_BLOCK;
        const uint16_t *w0 = D + first + (int64_t) (row + r0) * k;
        if (depth == 0) memset(part, 0, sizeof(float) * 16 * rows * tokens);
        for (int k0 = 0; k0 < depth; k0 += DEPTH_BLOCK) {
            int kc = (depth - k0 < DEPTH_BLOCK ? depth - k0 : DEPTH_BLOCK) / 32;
            for (int g = 0; g < groups; g++) {
                int T = gSize[g], R = spliced ? SPLICED_ROWS_FOR(T) : ROWS_FOR(T), i = 0;
                const float *xg = packed + (int64_t) (k0 / 32) * xcs + gFirst[g] * 32;
                for (; i + R <= rows; i += R) tileFn[T](w0 + (int64_t) i * k + k0, k, kc, xg, xcs, part + (i * tokens + gFirst[g]) * 16, tokens, k0 == 0, ahead);
                for (; i < rows; i++) rowFn[T](w0 + (int64_t) i * k + k0, k, kc, xg, xcs, part + (i * tokens + gFirst[g]) * 16, tokens, k0 == 0, ahead);
            }
        }
        /* SPLIT leaves a tail shorter than 32 in natural order: position p to lane p mod 16. */
        for (int i = 0; i < rows && depth != k; i++) {
            for (int t = 0; t < tokens; t++) {
                float *a = part + (i * tokens + t) * 16;
                for (int p = depth; p < k; p++) {
                    uint32_t bits = (uint32_t) w0[(int64_t) i * k + p] << 16;
                    float w;
                    memcpy(&w, &bits, 4);
                    a[p & 15] = __builtin_fmaf(w, x[(int64_t) t * xStride + p], a[p & 15]);
                }
            }
        }
        for (int i = 0; i < rows * tokens; i++) out[(int64_t) r0 * tokens + i] = batchFold16(part + i * 16);
    }
#else
    (void) data; (void) first; (void) k; (void) x; (void) xOffset; (void) xStride; (void) tokens; (void) row; (void) count; (void) out; (void) packed;
#endif
}

/*
 * Rows [row, row + count) of an MXFP4 matrix (row r: blocksPerRow blocks from block firstBlock + r·blocksPerRow of
 * the tensor at (blocks, scales)) × `tokens` token rows (as gptoss_batch_bf16) to out[(r − row)·tokens + t].
 */
#ifdef GPTOSS_X86
/* AVX-512 for the whole entry, as gptoss_batch_bf16 (only called where gptoss_batch_lanes says 16): the folds inline. */
__attribute__((target("avx512f,fma")))
#endif
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
