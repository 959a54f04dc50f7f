/* Decoder layers of a decode step, one call for many layers (native_decoder.py).
 *
 * A decode step of the lean Llama decoder is, per layer: the q/k/v product (after the input norm),
 * attention over each row's cache, the output product plus the residual, the gate/up product (after
 * the post-attention norm), SiLU(gate) * up, and the down product plus the residual. Each of those is
 * a C kernel already (native_linear.c, native_attention.c, built into the same library); calling them
 * from here rather than from Python spares a step the Python, ctypes and torch work between them,
 * which at one row was a third of the step.
 *
 * SiLU uses its own exp (a Cephes-style polynomial) rather than libm's, so that it vectorises and
 * every element is computed by the same instructions wherever it falls: a row's result is bitwise the
 * same batched or alone, and the same in the prefill path (autoglm_silu_mul).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define VECTOR 1
#endif

int autoglm_linear(int64_t m, int64_t k, int64_t n, const float *x, const float *norm, float eps,
                   const uint8_t *weights, int64_t bits, int64_t header, const float *bias,
                   const float *residual, float *y, int64_t threads);
int autoglm_decode_attention(int64_t batch, int64_t heads, int64_t kv_heads, int64_t dim,
                             const float *query, int64_t query_stride, const float *new_keys,
                             int64_t key_stride, const float *new_values, int64_t value_stride,
                             float *const *keys, float *const *values, const int64_t *capacity,
                             const int64_t *length, const float *cos, const float *sin, int64_t window,
                             float scale, float *out);

/* One layer's weights as native_decoder.py lays them out (a ctypes Structure of the same fields). */
typedef struct {
    const uint8_t *qkv, *o, *gate_up, *down; /* block weights, as native_linear.c reads them */
    const float *qkv_bias, *o_bias;          /* or NULL */
    const float *norm_in, *norm_post;
    int64_t qkv_bits, o_bits, gate_up_bits, down_bits;
    int64_t qkv_header, o_header, gate_up_header, down_header; /* bytes of a block's scale and low */
    int64_t window; /* 0: none */
    float eps, scaling;
} layer_weights;

typedef struct {
    int64_t hidden, heads, kv_heads, dim, intermediate;
} decoder_shape;

/* Bounds within which exp's result is a normal float (2^-126 .. 2^127). */
#define EXP_LOW -87.33654475f
#define EXP_HIGH 88.0f

#ifdef VECTOR
static inline __m256 exp8(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(EXP_LOW)), _mm256_set1_ps(EXP_HIGH));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504089f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    const __m256i exponent = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    const __m256i scale = _mm256_slli_epi32(exponent, 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(scale));
}

/* gate / (1 + exp(-gate)) * up for 8 values, as torch computes silu(gate) * up. */
static inline __m256 silu_mul8(__m256 gate, __m256 up) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), gate));
    return _mm256_mul_ps(_mm256_div_ps(gate, _mm256_add_ps(_mm256_set1_ps(1.0f), e)), up);
}
#else
static inline float exp1(float x) {
    x = fminf(fmaxf(x, EXP_LOW), EXP_HIGH);
    const float n = nearbyintf(x * 1.44269504089f);
    float r = fmaf(-n, 0.693359375f, x);
    r = fmaf(-n, -2.12194440e-4f, r);
    float p = 1.9875691500e-4f;
    p = fmaf(p, r, 1.3981999507e-3f);
    p = fmaf(p, r, 8.3334519073e-3f);
    p = fmaf(p, r, 4.1665795894e-2f);
    p = fmaf(p, r, 1.6666665459e-1f);
    p = fmaf(p, r, 5.0000001201e-1f);
    p = fmaf(p, r * r, r + 1.0f);
    const int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}
#endif

/* out[r][i] = silu(gate_up[r][i]) * gate_up[r][width + i] for `rows` rows of 2 * width values. */
static void silu_mul_rows(const float *gate_up, int64_t rows, int64_t width, float *out) {
    for (int64_t r = 0; r < rows; r++) {
        const float *gate = gate_up + r * 2 * width, *up = gate + width;
        float *y = out + r * width;
#ifdef VECTOR
        int64_t i = 0;
        for (; i + 8 <= width; i += 8)
            _mm256_storeu_ps(y + i, silu_mul8(_mm256_loadu_ps(gate + i), _mm256_loadu_ps(up + i)));
        if (i < width) { /* the tail through the same instructions, padded */
            float g[8] = {0}, u[8] = {0}, v[8];
            memcpy(g, gate + i, sizeof(float) * (width - i));
            memcpy(u, up + i, sizeof(float) * (width - i));
            _mm256_storeu_ps(v, silu_mul8(_mm256_loadu_ps(g), _mm256_loadu_ps(u)));
            memcpy(y + i, v, sizeof(float) * (width - i));
        }
#else
        for (int64_t i = 0; i < width; i++) y[i] = gate[i] / (1.0f + exp1(-gate[i])) * up[i];
#endif
    }
}

/* The prefill path's SiLU(gate) * up: gate_up [rows][2 * width] -> out [rows][width]. */
int autoglm_silu_mul(int64_t rows, int64_t width, const float *gate_up, float *out, int64_t threads) {
    const int64_t per_chunk = 64, chunks = (rows + per_chunk - 1) / per_chunk;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && chunks > 1)
    for (int64_t c = 0; c < chunks; c++) {
        const int64_t first = c * per_chunk, n = rows - first < per_chunk ? rows - first : per_chunk;
        silu_mul_rows(gate_up + first * 2 * width, n, width, out + first * width);
    }
    return 0;
}

/* Runs `n_layers` decoder layers over one new token per row: x [batch][hidden] is replaced by the
 * last layer's output. keys/values/capacity/length: [n_layers][batch], each row's cache of each layer
 * (see autoglm_decode_attention; every entry must have room for one more, and the caller adds 1 to
 * each length after). cos/sin: [batch][head dim], each row's rotary table at its position. Returns 0,
 * or -1 when scratch memory could not be had (x is then undefined). */
int autoglm_decode_layers(int64_t batch, int64_t n_layers, const decoder_shape *shape,
                          const layer_weights *layers, float *x, float *const *keys, float *const *values,
                          const int64_t *capacity, const int64_t *length, const float *cos, const float *sin,
                          int64_t threads) {
    const int64_t hidden = shape->hidden, heads = shape->heads, kv_heads = shape->kv_heads;
    const int64_t dim = shape->dim, width = shape->intermediate;
    const int64_t qkv_n = (heads + 2 * kv_heads) * dim;
    float *scratch = malloc(sizeof(float) * batch * (qkv_n + heads * dim + 3 * width + hidden));
    if (scratch == NULL) return -1;
    float *qkv = scratch, *attended = qkv + batch * qkv_n, *gate_up = attended + batch * heads * dim;
    float *mixed = gate_up + batch * 2 * width, *middle = mixed + batch * width;
    int status = 0;
    for (int64_t l = 0; l < n_layers && status == 0; l++) {
        const layer_weights *w = layers + l;
        const int64_t at = l * batch;
        status |= autoglm_linear(batch, hidden, qkv_n, x, w->norm_in, w->eps, w->qkv, w->qkv_bits,
                                 w->qkv_header, w->qkv_bias, NULL, qkv, threads);
        status |= autoglm_decode_attention(batch, heads, kv_heads, dim, qkv, qkv_n, qkv + heads * dim, qkv_n,
                                           qkv + (heads + kv_heads) * dim, qkv_n, keys + at, values + at,
                                           capacity + at, length + at, cos, sin, w->window, w->scaling,
                                           attended);
        status |= autoglm_linear(batch, heads * dim, hidden, attended, NULL, 0.0f, w->o, w->o_bits, w->o_header,
                                 w->o_bias, x, middle, threads);
        status |= autoglm_linear(batch, hidden, 2 * width, middle, w->norm_post, w->eps, w->gate_up,
                                 w->gate_up_bits, w->gate_up_header, NULL, NULL, gate_up, threads);
        silu_mul_rows(gate_up, batch, width, mixed);
        status |= autoglm_linear(batch, width, hidden, mixed, NULL, 0.0f, w->down, w->down_bits, w->down_header,
                                 NULL, middle, x, threads);
    }
    free(scratch);
    return status == 0 ? 0 : -1;
}
