/* y = x W^T + bias with 4-bit or 8-bit weights in blocks of 32, computed in fp32 (native_linear.py).
 *
 * Each block of 32 weights of an output row is fma(q, scale, low) with q in 0..15 or 0..255, which
 * restores GGUF's Q4_0, Q4_1 and Q8_0 blocks exactly. 4-bit codes: byte j of a block holds q of weight
 * j in its low nibble and q of weight j + 16 in its high nibble, as GGUF stores them.
 *
 * Work goes in panels of PANEL output rows: a panel's weights are restored into an fp32 buffer once,
 * then every row of x is multiplied against it. Every (row, output) pair is one fp32 chain over the
 * inputs in the same order, 8 lanes at a time, summed across lanes in a fixed order, whatever the
 * number of rows, the tile it falls in or the thread that runs it: a row's result is bitwise the same
 * batched or alone. Panels are shared out between threads (OpenMP, torch's own runtime when loaded
 * into torch's process).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define VECTOR 1
#endif

#define BLOCK 32
#define PANEL 8

#ifdef VECTOR
/* fma(q, s, z) for eight codes held in the low 8 bytes of `codes`. */
static inline __m256 restore8(__m128i codes, __m256 s, __m256 z) {
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(codes)), s, z);
}
#endif

static void restore_block(const uint8_t *q, float s, float z, int bits, float *w) {
#ifdef VECTOR
    const __m256 vs = _mm256_set1_ps(s), vz = _mm256_set1_ps(z);
    if (bits == 4) {
        const __m128i bytes = _mm_loadu_si128((const __m128i *)q), mask = _mm_set1_epi8(0x0F);
        const __m128i lo = _mm_and_si128(bytes, mask), hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), mask);
        _mm256_storeu_ps(w, restore8(lo, vs, vz));
        _mm256_storeu_ps(w + 8, restore8(_mm_srli_si128(lo, 8), vs, vz));
        _mm256_storeu_ps(w + 16, restore8(hi, vs, vz));
        _mm256_storeu_ps(w + 24, restore8(_mm_srli_si128(hi, 8), vs, vz));
    } else {
        for (int j = 0; j < BLOCK; j += 8)
            _mm256_storeu_ps(w + j, restore8(_mm_loadl_epi64((const __m128i *)(q + j)), vs, vz));
    }
#else
    for (int j = 0; j < BLOCK; j++) {
        const int code = bits == 8 ? q[j] : (j < BLOCK / 2 ? q[j] & 0x0F : q[j - BLOCK / 2] >> 4);
        w[j] = fmaf((float)code, s, z);
    }
#endif
}

/* Restores n_out output rows (of `blocks` blocks each) into panel[n_out][blocks * BLOCK]. */
static void restore_panel(const uint8_t *codes, const float *scale, const float *low, int64_t blocks, int bits,
                          int64_t n_out, float *panel) {
    const int64_t block_bytes = BLOCK * bits / 8;
    for (int64_t o = 0; o < n_out; o++)
        for (int64_t b = 0; b < blocks; b++)
            restore_block(codes + (o * blocks + b) * block_bytes, scale[o * blocks + b], low[o * blocks + b],
                          bits, panel + (o * blocks + b) * BLOCK);
}

#ifdef VECTOR
static inline float lane_sum(__m256 v) {
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_shuffle_ps(x, x, 1));
    return _mm_cvtss_f32(x);
}

/* A tile of ROWS rows of x against OUTS restored weight rows: ROWS * OUTS independent chains. */
static inline __attribute__((always_inline)) void tile(const float *x, int64_t x_stride, const float *w,
                                                       int64_t k, float *y, int64_t y_stride, const int rows,
                                                       const int outs) {
    __m256 acc[3][8];
    for (int r = 0; r < rows; r++)
        for (int o = 0; o < outs; o++) acc[r][o] = _mm256_setzero_ps();
    for (int64_t i = 0; i < k; i += 8) {
        __m256 xv[3];
        for (int r = 0; r < rows; r++) xv[r] = _mm256_loadu_ps(x + r * x_stride + i);
        for (int o = 0; o < outs; o++) {
            const __m256 wv = _mm256_loadu_ps(w + o * k + i);
            for (int r = 0; r < rows; r++) acc[r][o] = _mm256_fmadd_ps(xv[r], wv, acc[r][o]);
        }
    }
    for (int r = 0; r < rows; r++)
        for (int o = 0; o < outs; o++) y[r * y_stride + o] = lane_sum(acc[r][o]);
}
#endif

#ifdef VECTOR
/* The 32 restored weights of one block, in registers. */
static inline __attribute__((always_inline)) void restore_registers(const uint8_t *q, float s, float z, int bits,
                                                                    __m256 w[4]) {
    const __m256 vs = _mm256_set1_ps(s), vz = _mm256_set1_ps(z);
    if (bits == 4) {
        const __m128i bytes = _mm_loadu_si128((const __m128i *)q), mask = _mm_set1_epi8(0x0F);
        const __m128i lo = _mm_and_si128(bytes, mask), hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), mask);
        w[0] = restore8(lo, vs, vz);
        w[1] = restore8(_mm_srli_si128(lo, 8), vs, vz);
        w[2] = restore8(hi, vs, vz);
        w[3] = restore8(_mm_srli_si128(hi, 8), vs, vz);
    } else {
        for (int j = 0; j < 4; j++) w[j] = restore8(_mm_loadl_epi64((const __m128i *)(q + 8 * j)), vs, vz);
    }
}

/* One row of x against OUTS output rows, restoring the weights in registers rather than into a panel:
 * for a single row a panel's store and reload cost more than the arithmetic. Same chains, same bits. */
static inline __attribute__((always_inline)) void single_row_tile(const float *x, const uint8_t *codes,
                                                                  const float *scale, const float *low,
                                                                  int64_t blocks, int bits, float *y,
                                                                  const int outs) {
    const int64_t block_bytes = BLOCK * bits / 8;
    __m256 acc[4], w[4];
    for (int o = 0; o < outs; o++) acc[o] = _mm256_setzero_ps();
    for (int64_t b = 0; b < blocks; b++) {
        const float *xb = x + b * BLOCK;
        for (int o = 0; o < outs; o++) {
            restore_registers(codes + (o * blocks + b) * block_bytes, scale[o * blocks + b], low[o * blocks + b],
                              bits, w);
            for (int j = 0; j < 4; j++) acc[o] = _mm256_fmadd_ps(_mm256_loadu_ps(xb + 8 * j), w[j], acc[o]);
        }
    }
    for (int o = 0; o < outs; o++) y[o] = lane_sum(acc[o]);
}
#endif

static void single_row(const float *x, const uint8_t *codes, const float *scale, const float *low, int64_t blocks,
                       int bits, int64_t n_out, float *y) {
    const int64_t block_bytes = BLOCK * bits / 8;
    int64_t o = 0;
#ifdef VECTOR
    for (; o + 4 <= n_out; o += 4)
        single_row_tile(x, codes + o * blocks * block_bytes, scale + o * blocks, low + o * blocks, blocks, bits,
                        y + o, 4);
    for (; o < n_out; o++)
        single_row_tile(x, codes + o * blocks * block_bytes, scale + o * blocks, low + o * blocks, blocks, bits,
                        y + o, 1);
#else
    float w[BLOCK];
    for (; o < n_out; o++) {
        float sum = 0.0f;
        for (int64_t b = 0; b < blocks; b++) {
            restore_block(codes + (o * blocks + b) * block_bytes, scale[o * blocks + b], low[o * blocks + b], bits, w);
            for (int j = 0; j < BLOCK; j++) sum = fmaf(x[b * BLOCK + j], w[j], sum);
        }
        y[o] = sum;
    }
#endif
}

/* One panel of outputs for every row of x. */
static void panel_rows(const float *x, int64_t m, int64_t k, const float *panel, int64_t n_out, float *y,
                       int64_t n) {
    int64_t r = 0;
#ifdef VECTOR
    if (n_out == PANEL) {
        for (; r + 3 <= m; r += 3) {
            tile(x + r * k, k, panel, k, y + r * n, n, 3, 4);
            tile(x + r * k, k, panel + 4 * k, k, y + r * n + 4, n, 3, 4);
        }
        for (; r + 2 <= m; r += 2) {
            tile(x + r * k, k, panel, k, y + r * n, n, 2, 4);
            tile(x + r * k, k, panel + 4 * k, k, y + r * n + 4, n, 2, 4);
        }
        for (; r < m; r++) tile(x + r * k, k, panel, k, y + r * n, n, 1, 8);
        return;
    }
    for (; r < m; r++)
        for (int64_t o = 0; o < n_out; o++) tile(x + r * k, k, panel + o * k, k, y + r * n + o, n, 1, 1);
#else
    for (; r < m; r++)
        for (int64_t o = 0; o < n_out; o++) {
            float sum = 0.0f;
            for (int64_t i = 0; i < k; i++) sum = fmaf(x[r * k + i], panel[o * k + i], sum);
            y[r * n + o] = sum;
        }
#endif
}

/* x: [m][k] contiguous fp32; codes: [n][k * bits / 8]; scale, low: [n][k / BLOCK]; bias: [n] or NULL;
 * y: [m][n]. bits is 4 or 8; k must be a multiple of BLOCK. Returns 0, or -1 when a scratch buffer
 * could not be had. */
int autoglm_linear(int64_t m, int64_t k, int64_t n, const float *x, const uint8_t *codes, int64_t bits,
                   const float *scale, const float *low, const float *bias, float *y, int64_t threads) {
    const int64_t blocks = k / BLOCK, panels = (n + PANEL - 1) / PANEL;
    int failed = 0;
#pragma omp parallel num_threads(threads) if (threads > 1 && panels > 1)
    {
        float *panel = aligned_alloc(64, sizeof(float) * PANEL * k);
        if (panel == NULL) {
#pragma omp atomic write
            failed = 1;
        }
        /* Every thread takes part in the loop (OpenMP wants that); one without a buffer skips its share. */
#pragma omp for schedule(static)
        for (int64_t p = 0; p < panels; p++) {
            const int64_t first = p * PANEL, n_out = (n - first < PANEL) ? n - first : PANEL;
            if (m == 1) {
                single_row(x, codes + first * (k * bits / 8), scale + first * blocks, low + first * blocks, blocks,
                           (int)bits, n_out, y + first);
                continue;
            }
            if (panel == NULL) continue;
            restore_panel(codes + first * (k * bits / 8), scale + first * blocks, low + first * blocks, blocks,
                          (int)bits, n_out, panel);
            panel_rows(x, m, k, panel, n_out, y + first, n);
        }
        free(panel);
    }
    if (failed) return -1;
    if (bias != NULL)
        for (int64_t r = 0; r < m; r++)
            for (int64_t o = 0; o < n; o++) y[r * n + o] += bias[o];
    return 0;
}
