/* y = x W^T + bias with 4-bit or 8-bit weights in blocks of 32, computed in fp32 (native_linear.py).
 *
 * A block of 32 weights of an output row is stored as its scale and low, then its codes q (16 bytes
 * of 4-bit codes or 32 bytes of 8-bit ones); weight = fma(q, scale, low), which restores GGUF's Q4_0,
 * Q4_1 and Q8_0 blocks exactly. Scale and low are fp32 (an 8-byte header) or fp16 (4 bytes, which
 * native_linear.py uses for 8-bit blocks whose scales are fp16 values: there the product is bound by
 * the bytes it reads). 4-bit codes: byte j holds q of weight j in its low nibble and q of weight j + 16 in
 * its high nibble, as GGUF stores them. Header and codes side by side make one memory stream per
 * output row.
 *
 * Around the product, what a pre-norm decoder layer does next to it: an RMS norm of the input rows
 * (x / rms(x) * norm, as transformers' LlamaRMSNorm) and a residual added to the output. Each is one
 * torch op less per call, and at one row a step is mostly such calls.
 *
 * Every (row, output) pair is one fp32 chain over the inputs in the same order, 8 lanes at a time,
 * summed across lanes in a fixed order, whatever the number of rows, the tile it falls in or the
 * thread that runs it: a row's result is bitwise the same batched or alone. Several rows: a panel of
 * PANEL output rows is restored into an fp32 buffer once, then every row of x is multiplied against
 * it. One row: the weights are restored in registers instead. Panels are shared out between threads
 * (OpenMP; torch's own runtime when loaded into torch's process).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__AVX2__) || defined(__F16C__)
#include <immintrin.h>
#endif
#if defined(__AVX2__) && defined(__FMA__)
#define VECTOR 1
#endif

#define BLOCK 32
#define PANEL 8
#define PREFETCH_TILES 2

/* header: the bytes of a block's scale and low, 4 (two fp16) or 8 (two fp32). */
static inline int64_t block_bytes(int bits, int header) { return header + BLOCK * bits / 8; }

static inline float half_to_float(uint16_t h) {
#ifdef __F16C__
    return _cvtsh_ss(h);
#else
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
    uint32_t bits;
    if (exponent == 0x1F) {
        bits = sign | 0x7F800000 | (mantissa << 13);
    } else if (exponent != 0) {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        bits = sign;
    } else { /* subnormal: exactly mantissa * 2^-24 */
        const float value = (float)mantissa * 0x1p-24f;
        memcpy(&bits, &value, sizeof bits);
        bits |= sign;
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
#endif
}

static inline float header_value(const uint8_t *block, int header, int index) {
    if (header == 4) {
        uint16_t h;
        memcpy(&h, block + 2 * index, sizeof h);
        return half_to_float(h);
    }
    float f;
    memcpy(&f, block + sizeof(float) * index, sizeof f);
    return f;
}

static inline float block_scale(const uint8_t *block, int header) { return header_value(block, header, 0); }

static inline float block_low(const uint8_t *block, int header) { return header_value(block, header, 1); }

#ifdef VECTOR
/* fma(q, s, z) for eight codes held in the low 8 bytes of `codes`. */
static inline __m256 restore8(__m128i codes, __m256 s, __m256 z) {
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(codes)), s, z);
}

/* The 32 weights of one block, in registers. */
static inline __attribute__((always_inline)) void restore_registers(const uint8_t *block, int bits, int header,
                                                                    __m256 w[4]) {
    const __m256 s = _mm256_set1_ps(block_scale(block, header)), z = _mm256_set1_ps(block_low(block, header));
    const uint8_t *q = block + header;
    if (bits == 4) {
        const __m128i bytes = _mm_loadu_si128((const __m128i *)q), mask = _mm_set1_epi8(0x0F);
        const __m128i lo = _mm_and_si128(bytes, mask), hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), mask);
        w[0] = restore8(lo, s, z);
        w[1] = restore8(_mm_srli_si128(lo, 8), s, z);
        w[2] = restore8(hi, s, z);
        w[3] = restore8(_mm_srli_si128(hi, 8), s, z);
    } else {
        for (int j = 0; j < 4; j++) w[j] = restore8(_mm_loadl_epi64((const __m128i *)(q + 8 * j)), s, z);
    }
}

static inline float lane_sum(__m256 v) {
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_shuffle_ps(x, x, 1));
    return _mm_cvtss_f32(x);
}
#endif

/* The 32 weights of one block, into w. */
static void restore_block(const uint8_t *block, int bits, int header, float *w) {
#ifdef VECTOR
    __m256 v[4];
    restore_registers(block, bits, header, v);
    for (int j = 0; j < 4; j++) _mm256_storeu_ps(w + 8 * j, v[j]);
#else
    const float s = block_scale(block, header), z = block_low(block, header);
    const uint8_t *q = block + header;
    for (int j = 0; j < BLOCK; j++) {
        const int code = bits == 8 ? q[j] : (j < BLOCK / 2 ? q[j] & 0x0F : q[j - BLOCK / 2] >> 4);
        w[j] = fmaf((float)code, s, z);
    }
#endif
}

#ifdef VECTOR
/* A tile of ROWS rows of x against OUTS restored weight rows of the panel: ROWS * OUTS chains. */
static inline __attribute__((always_inline)) void tile(const float *x, int64_t k, const float *w, float *y,
                                                       int64_t n, const int rows, const int outs) {
    __m256 acc[3][8];
    for (int r = 0; r < rows; r++)
        for (int o = 0; o < outs; o++) acc[r][o] = _mm256_setzero_ps();
    for (int64_t i = 0; i < k; i += 8) {
        __m256 xv[3];
        for (int r = 0; r < rows; r++) xv[r] = _mm256_loadu_ps(x + r * k + i);
        for (int o = 0; o < outs; o++) {
            const __m256 wv = _mm256_loadu_ps(w + o * k + i);
            for (int r = 0; r < rows; r++) acc[r][o] = _mm256_fmadd_ps(xv[r], wv, acc[r][o]);
        }
    }
    for (int r = 0; r < rows; r++)
        for (int o = 0; o < outs; o++) y[r * n + o] = lane_sum(acc[r][o]);
}

/* One row of x against OUTS output rows, restoring their weights in registers. */
static inline __attribute__((always_inline)) void single_row_tile(const float *x, const uint8_t *weights,
                                                                  int64_t blocks, int bits, int header,
                                                                  float *y, const int outs) {
    const int64_t size = block_bytes(bits, header);
    __m256 acc[4], w[4];
    for (int o = 0; o < outs; o++) acc[o] = _mm256_setzero_ps();
    for (int64_t b = 0; b < blocks; b++) {
        const float *xb = x + b * BLOCK;
        for (int o = 0; o < outs; o++) {
            /* The hardware prefetcher does not follow several short rows read side by side: ask for
             * the rows two tiles on (a prefetch past the end of the weights is harmless). */
            __builtin_prefetch(weights + ((o + PREFETCH_TILES * outs) * blocks + b) * size);
            restore_registers(weights + (o * blocks + b) * size, bits, header, w);
            for (int j = 0; j < 4; j++) acc[o] = _mm256_fmadd_ps(_mm256_loadu_ps(xb + 8 * j), w[j], acc[o]);
        }
    }
    for (int o = 0; o < outs; o++) y[o] = lane_sum(acc[o]);
}
#endif

/* One row of x against n_out output rows. */
static void single_row(const float *x, const uint8_t *weights, int64_t blocks, int bits, int header, int64_t n_out,
                       float *y) {
    const int64_t row_bytes = blocks * block_bytes(bits, header);
    int64_t o = 0;
#ifdef VECTOR
    /* The header size picks one of two copies of the loop, so neither tests it per block. */
    if (header == 4) {
        for (; o + 4 <= n_out; o += 4) single_row_tile(x, weights + o * row_bytes, blocks, bits, 4, y + o, 4);
        for (; o < n_out; o++) single_row_tile(x, weights + o * row_bytes, blocks, bits, 4, y + o, 1);
    } else {
        for (; o + 4 <= n_out; o += 4) single_row_tile(x, weights + o * row_bytes, blocks, bits, 8, y + o, 4);
        for (; o < n_out; o++) single_row_tile(x, weights + o * row_bytes, blocks, bits, 8, y + o, 1);
    }
#else
    float w[BLOCK];
    for (; o < n_out; o++) {
        float sum = 0.0f;
        for (int64_t b = 0; b < blocks; b++) {
            restore_block(weights + o * row_bytes + b * block_bytes(bits, header), bits, header, w);
            for (int j = 0; j < BLOCK; j++) sum = fmaf(x[b * BLOCK + j], w[j], sum);
        }
        y[o] = sum;
    }
#endif
}

/* Every row of x against a restored panel of n_out output rows. */
static void panel_rows(const float *x, int64_t m, int64_t k, const float *panel, int64_t n_out, float *y,
                       int64_t n) {
    int64_t r = 0;
#ifdef VECTOR
    if (n_out == PANEL) {
        for (; r + 3 <= m; r += 3) {
            tile(x + r * k, k, panel, y + r * n, n, 3, 4);
            tile(x + r * k, k, panel + 4 * k, y + r * n + 4, n, 3, 4);
        }
        for (; r + 2 <= m; r += 2) {
            tile(x + r * k, k, panel, y + r * n, n, 2, 4);
            tile(x + r * k, k, panel + 4 * k, y + r * n + 4, n, 2, 4);
        }
        for (; r < m; r++) tile(x + r * k, k, panel, y + r * n, n, 1, 8);
        return;
    }
    for (; r < m; r++)
        for (int64_t o = 0; o < n_out; o++) tile(x + r * k, k, panel + o * k, y + r * n + o, n, 1, 1);
#else
    for (; r < m; r++)
        for (int64_t o = 0; o < n_out; o++) {
            float sum = 0.0f;
            for (int64_t i = 0; i < k; i++) sum = fmaf(x[r * k + i], panel[o * k + i], sum);
            y[r * n + o] = sum;
        }
#endif
}

/* Rows of x normalised as transformers' LlamaRMSNorm: x * rsqrt(mean(x^2) + eps) * norm. */
static void rms_norm(const float *x, int64_t m, int64_t k, const float *norm, float eps, float *out) {
    for (int64_t r = 0; r < m; r++) {
        const float *row = x + r * k;
        float squares = 0.0f;
        for (int64_t i = 0; i < k; i++) squares = fmaf(row[i], row[i], squares);
        const float scale = 1.0f / sqrtf(squares / (float)k + eps);
        for (int64_t i = 0; i < k; i++) out[r * k + i] = norm[i] * (row[i] * scale);
    }
}

/* y = [rms_norm](x) W^T + bias [+ residual]. x: [m][k] contiguous fp32; norm: [k] or NULL (no norm);
 * weights: [n][k / BLOCK] blocks (see above); bias: [n] or NULL; residual: [m][n] or NULL (may be y);
 * y: [m][n]. bits is 4 or 8, header 4 or 8; k must be a multiple of BLOCK. Returns 0, or -1 when
 * scratch memory could not be had. */
int autoglm_linear(int64_t m, int64_t k, int64_t n, const float *x, const float *norm, float eps,
                   const uint8_t *weights, int64_t bits, int64_t header, const float *bias, const float *residual,
                   float *y, int64_t threads) {
    const int64_t blocks = k / BLOCK, panels = (n + PANEL - 1) / PANEL;
    const int64_t row_bytes = blocks * block_bytes((int)bits, (int)header);
    float *normed = NULL;
    if (norm != NULL) {
        normed = malloc(sizeof(float) * m * k);
        if (normed == NULL) return -1;
        rms_norm(x, m, k, norm, eps, normed);
        x = normed;
    }
    int failed = 0;
#pragma omp parallel num_threads(threads) if (threads > 1 && panels > 1)
    {
        float *panel = m > 1 ? aligned_alloc(64, sizeof(float) * PANEL * k) : NULL;
        if (m > 1 && panel == NULL) {
#pragma omp atomic write
            failed = 1;
        }
        /* Every thread takes part in the loop (OpenMP wants that); one without a buffer skips its share. */
#pragma omp for schedule(static)
        for (int64_t p = 0; p < panels; p++) {
            const int64_t first = p * PANEL, n_out = (n - first < PANEL) ? n - first : PANEL;
            const uint8_t *rows = weights + first * row_bytes;
            if (m == 1) {
                single_row(x, rows, blocks, (int)bits, (int)header, n_out, y + first);
            } else if (panel != NULL) {
                for (int64_t o = 0; o < n_out; o++)
                    for (int64_t b = 0; b < blocks; b++)
                        restore_block(rows + o * row_bytes + b * block_bytes((int)bits, (int)header), (int)bits,
                                      (int)header, panel + o * k + b * BLOCK);
                panel_rows(x, m, k, panel, n_out, y + first, n);
            }
        }
        free(panel);
    }
    free(normed);
    if (failed) return -1;
    for (int64_t r = 0; r < m; r++)
        for (int64_t o = 0; o < n; o++) {
            float value = y[r * n + o];
            if (bias != NULL) value += bias[o];
            if (residual != NULL) value = residual[r * n + o] + value;
            y[r * n + o] = value;
        }
    return 0;
}
