/*
 * Native decode kernels of the CPU backend, called through the FFM API (gptoss.runtime.cpu.kernel.NativeKernels).
 * Built from this source by runtime/src/main/c/build.sh during the Maven build where a C compiler exists; the
 * Java Vector API kernels are the fallback and compute the same sums in the same order of products.
 *
 * MXFP4 matrix-vector product, exact fp32: every weight is FP4[code] (exact in fp32), multiplied by x in fp32
 * and summed per 32-block; the block sum is multiplied by its scale 2^(e−127) (built as float bits e << 23:
 * byte 0 gives 0 and 255 gives +inf, as in the Java kernel). The activations come in the Java kernel's nibble
 * order (gptoss.runtime.cpu.kernel.VectorLayout.NIBBLE, L = lanes): one L-int load of 4L bytes covers L/4 blocks,
 * position n·L + i of a group of 8L activations holds element 8i + n, the n-th nibble of int lane i. So nibble n
 * of every lane is one shift away, and the table lookup (vpermps) reads only the low bits of each index: no
 * masking, no widening. Per 128 weights with AVX-512: 1 load, 7 shifts, 8 lookups, 8 multiply-adds (x as memory
 * operands), 4 instructions for the scales, 2 to apply them: 30 vector instructions.
 * A row that is not a whole number of groups ends with a group overlapping the previous one (scales of the
 * overlapped blocks zeroed), and x holds that last group once more, as NIBBLE order does.
 */
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define GPTOSS_X86 1
#endif

#define PREFETCH_BYTES 1024
/* The weights are loaded once into a register: without this gcc folds the load into each of the seven shifts,
 * reading every 64 bytes eight times (cheap in cache, about half the speed from memory). */
#define KEEP_IN_REGISTER(v) __asm__("" : "+v"(v))

#ifdef GPTOSS_X86
__attribute__((target("avx512f")))
static float row512(const uint8_t *b, const uint8_t *s, int blocksPerRow, const float *x) {
    static const float fp4[16] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f,
                                  -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};
    const __m512 table = _mm512_loadu_ps(fp4);
    const __m512i shifts = _mm512_set_epi32(24, 24, 24, 24, 16, 16, 16, 16, 8, 8, 8, 8, 0, 0, 0, 0);
    const __m512i byteMask = _mm512_set1_epi32(0xFF);
    int whole = blocksPerRow / 4, overlap = (4 - blocksPerRow % 4) % 4;
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    /* One group: 4 blocks (64 bytes) from block `first`, activations xg, scale bytes ANDed with `keep`. */
#define GROUP512(acc, first, xg, keep) do { \
        const uint8_t *p = b + (long) (first) * 16; \
        _mm_prefetch((const char *) p + PREFETCH_BYTES, _MM_HINT_T0); \
        __m512i w = _mm512_loadu_si512(p); \
        KEEP_IN_REGISTER(w); \
        __m512 s0 = _mm512_mul_ps(_mm512_permutexvar_ps(w, table), _mm512_loadu_ps(xg)); \
        __m512 s1 = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(w, 4), table), _mm512_loadu_ps((xg) + 16)); \
        s0 = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(w, 8), table), _mm512_loadu_ps((xg) + 32), s0); \
        s1 = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(w, 12), table), _mm512_loadu_ps((xg) + 48), s1); \
        s0 = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(w, 16), table), _mm512_loadu_ps((xg) + 64), s0); \
        s1 = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(w, 20), table), _mm512_loadu_ps((xg) + 80), s1); \
        s0 = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(w, 24), table), _mm512_loadu_ps((xg) + 96), s0); \
        s1 = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(w, 28), table), _mm512_loadu_ps((xg) + 112), s1); \
        uint32_t packed; \
        memcpy(&packed, s + (first), 4); \
        __m512i e = _mm512_and_si512(_mm512_srlv_epi32(_mm512_set1_epi32((int) (packed & (keep))), shifts), byteMask); \
        acc = _mm512_fmadd_ps(_mm512_add_ps(s0, s1), _mm512_castsi512_ps(_mm512_slli_epi32(e, 23)), acc); \
    } while (0)
    int g = 0;
    for (; g + 2 <= whole; g += 2) {
        GROUP512(acc0, g * 4, x + (long) g * 128, 0xFFFFFFFFu);
        GROUP512(acc1, g * 4 + 4, x + (long) g * 128 + 128, 0xFFFFFFFFu);
    }
    if (g < whole) GROUP512(acc0, g * 4, x + (long) g * 128, 0xFFFFFFFFu);
    if (overlap) GROUP512(acc1, blocksPerRow - 4, x + (long) whole * 128, 0xFFFFFFFFu << (8 * overlap));
#undef GROUP512
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

/* AVX2: eight int lanes (two blocks per 32-byte load); the 8-entry table holds FP4 magnitudes, the sign bit
 * (bit 3 of the code) is moved to bit 31 and XORed in. */
__attribute__((target("avx2,fma")))
static float row256(const uint8_t *b, const uint8_t *s, int blocksPerRow, const float *x) {
    const __m256 table = _mm256_setr_ps(0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f);
    const __m256i sign = _mm256_set1_epi32((int) 0x80000000u);
    const __m256i shifts = _mm256_setr_epi32(0, 0, 0, 0, 8, 8, 8, 8);
    const __m256i byteMask = _mm256_set1_epi32(0xFF);
    int whole = blocksPerRow / 2, overlap = blocksPerRow % 2;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
#define NIB(n) _mm256_xor_ps(_mm256_permutevar8x32_ps(table, _mm256_srli_epi32(w, 4 * (n))), \
                             _mm256_castsi256_ps(_mm256_and_si256(_mm256_slli_epi32(w, 28 - 4 * (n)), sign)))
#define GROUP256(acc, first, xg, keep) do { \
        const uint8_t *p = b + (long) (first) * 16; \
        _mm_prefetch((const char *) p + PREFETCH_BYTES, _MM_HINT_T0); \
        __m256i w = _mm256_loadu_si256((const __m256i *) p); \
        KEEP_IN_REGISTER(w); \
        __m256 s0 = _mm256_mul_ps(NIB(0), _mm256_loadu_ps(xg)); \
        __m256 s1 = _mm256_mul_ps(NIB(1), _mm256_loadu_ps((xg) + 8)); \
        s0 = _mm256_fmadd_ps(NIB(2), _mm256_loadu_ps((xg) + 16), s0); \
        s1 = _mm256_fmadd_ps(NIB(3), _mm256_loadu_ps((xg) + 24), s1); \
        s0 = _mm256_fmadd_ps(NIB(4), _mm256_loadu_ps((xg) + 32), s0); \
        s1 = _mm256_fmadd_ps(NIB(5), _mm256_loadu_ps((xg) + 40), s1); \
        s0 = _mm256_fmadd_ps(NIB(6), _mm256_loadu_ps((xg) + 48), s0); \
        s1 = _mm256_fmadd_ps(NIB(7), _mm256_loadu_ps((xg) + 56), s1); \
        uint16_t packed; \
        memcpy(&packed, s + (first), 2); \
        __m256i e = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int) (packed & (keep))), shifts), byteMask); \
        acc = _mm256_fmadd_ps(_mm256_add_ps(s0, s1), _mm256_castsi256_ps(_mm256_slli_epi32(e, 23)), acc); \
    } while (0)
    int g = 0;
    for (; g + 2 <= whole; g += 2) {
        GROUP256(acc0, g * 2, x + (long) g * 64, 0xFFFFu);
        GROUP256(acc1, g * 2 + 2, x + (long) g * 64 + 64, 0xFFFFu);
    }
    if (g < whole) GROUP256(acc0, g * 2, x + (long) g * 64, 0xFFFFu);
    if (overlap) GROUP256(acc1, blocksPerRow - 2, x + (long) whole * 64, 0xFF00u);
#undef GROUP256
#undef NIB
    __m256 a = _mm256_add_ps(acc0, acc1);
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}
#endif

/** Float lanes of the MXFP4 kernel this CPU runs: 16 (AVX-512), 8 (AVX2 + FMA) or 0 (none). */
int gptoss_mxfp4_lanes(void) {
#ifdef GPTOSS_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 16;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 8;
#endif
    return 0;
}

/** Row `block / blocksPerRow` (blocks from `block`) times x[xOffset ..] in nibble order for `lanes` lanes. */
float gptoss_mxfp4_dot(int64_t blocks, int64_t scales, int64_t block, int32_t blocksPerRow,
                       const float *x, int32_t xOffset, int32_t lanes) {
#ifdef GPTOSS_X86
    const uint8_t *b = (const uint8_t *) (intptr_t) blocks, *s = (const uint8_t *) (intptr_t) scales;
    return lanes == 16 ? row512(b + block * 16, s + block, blocksPerRow, x + xOffset)
                       : row256(b + block * 16, s + block, blocksPerRow, x + xOffset);
#else
    (void) blocks; (void) scales; (void) block; (void) blocksPerRow; (void) x; (void) xOffset; (void) lanes;
    return 0.0f;
#endif
}

/**
 * out[outOffset + i] = row(row + i·stride) · x for i < count, over the MXFP4 matrix whose row r has blocksPerRow
 * blocks from block firstBlock + r·blocksPerRow of the tensor at (blocks, scales); x from xOffset in nibble order
 * for `lanes` lanes (16 needs AVX-512, 8 AVX2: what gptoss_mxfp4_lanes() reports, or 8 where it reports 16).
 */
void gptoss_mxfp4_dot_rows(int64_t blocks, int64_t scales, int64_t firstBlock, int32_t blocksPerRow,
                           const float *x, int32_t xOffset, int32_t lanes, int32_t row, int32_t count,
                           int32_t stride, float *out, int32_t outOffset) {
    for (int i = 0; i < count; i++) {
        int64_t block = firstBlock + (row + (int64_t) i * stride) * blocksPerRow;
        out[outOffset + i] = gptoss_mxfp4_dot(blocks, scales, block, blocksPerRow, x, xOffset, lanes);
    }
}
