/* One decode step of attention for a batch of rows, each over its own KV cache (see native_attention.py).
 *
 * For every row: append the step's key and value to the row's cache, then let each query head attend
 * over the row's keys. A row is computed by the same sequential code whatever else is in the batch,
 * so its result is bitwise the same batched or alone. Single-threaded on purpose: at these sizes a
 * parallel region per layer costs more than it saves on a busy 2-core machine.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define VECTOR 1
#endif

#ifdef VECTOR
/* Sum of 8 lanes in a fixed order. */
static inline float lane_sum(__m256 v) {
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_shuffle_ps(x, x, 1));
    return _mm_cvtss_f32(x);
}

/* scores[j] = q . keys[j] * scale; four keys at a time so four accumulators run in parallel.
 * Each key's sum is formed in the same order whether it falls in a group of four or in the tail. */
static void key_scores(const float *q, const float *keys, int64_t n, int64_t dim, float scale, float *scores) {
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) {
        const float *k = keys + j * dim;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int64_t d = 0; d < dim; d += 8) {
            __m256 qv = _mm256_loadu_ps(q + d);
            a0 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k + d), a0);
            a1 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k + dim + d), a1);
            a2 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k + 2 * dim + d), a2);
            a3 = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k + 3 * dim + d), a3);
        }
        scores[j] = lane_sum(a0) * scale;
        scores[j + 1] = lane_sum(a1) * scale;
        scores[j + 2] = lane_sum(a2) * scale;
        scores[j + 3] = lane_sum(a3) * scale;
    }
    for (; j < n; j++) {
        __m256 a = _mm256_setzero_ps();
        for (int64_t d = 0; d < dim; d += 8)
            a = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), _mm256_loadu_ps(keys + j * dim + d), a);
        scores[j] = lane_sum(a) * scale;
    }
}

/* out = sum_j weights[j] * values[j], with the output held in registers (dim = 8 * vectors). */
static inline __attribute__((always_inline)) void weighted_values_fixed(const float *weights,
                                                                        const float *values, int64_t n,
                                                                        float *out, const int vectors) {
    __m256 acc[16];
    for (int v = 0; v < vectors; v++) acc[v] = _mm256_setzero_ps();
    for (int64_t j = 0; j < n; j++) {
        const __m256 p = _mm256_set1_ps(weights[j]);
        const float *row = values + j * vectors * 8;
        for (int v = 0; v < vectors; v++) acc[v] = _mm256_fmadd_ps(p, _mm256_loadu_ps(row + 8 * v), acc[v]);
    }
    for (int v = 0; v < vectors; v++) _mm256_storeu_ps(out + 8 * v, acc[v]);
}
#endif

static float plain_dot(const float *a, const float *b, int64_t n) {
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += a[i] * b[i];
    return sum;
}

static void scores_any(const float *q, const float *keys, int64_t n, int64_t dim, float scale, float *scores) {
#ifdef VECTOR
    if (dim % 8 == 0) {
        key_scores(q, keys, n, dim, scale, scores);
        return;
    }
#endif
    for (int64_t j = 0; j < n; j++) scores[j] = plain_dot(q, keys + j * dim, dim) * scale;
}

static void weighted_values(const float *weights, const float *values, int64_t n, int64_t dim, float *out) {
#ifdef VECTOR
    if (dim == 64) return weighted_values_fixed(weights, values, n, out, 8);
    if (dim == 128) return weighted_values_fixed(weights, values, n, out, 16);
#endif
    memset(out, 0, sizeof(float) * dim);
    for (int64_t j = 0; j < n; j++)
        for (int64_t d = 0; d < dim; d++) out[d] += weights[j] * values[j * dim + d];
}

/* weights[0..n) = softmax(weights[0..n)), as torch does it: exp(x - max) / sum. */
static void softmax(float *weights, int64_t n) {
    float best = -INFINITY, total = 0.0f;
    for (int64_t j = 0; j < n; j++)
        if (weights[j] > best) best = weights[j];
    for (int64_t j = 0; j < n; j++) {
        weights[j] = expf(weights[j] - best);
        total += weights[j];
    }
    for (int64_t j = 0; j < n; j++) weights[j] /= total;
}

/* out = x rotated by the rotary embedding of one position (transformers' rotate_half convention):
 * x * cos + rotate_half(x) * sin, with rotate_half(x) = (-x[half:], x[:half]). */
static void rotate(const float *x, const float *cos, const float *sin, int64_t dim, float *out) {
    const int64_t half = dim / 2;
    for (int64_t i = 0; i < half; i++) {
        out[i] = x[i] * cos[i] - x[i + half] * sin[i];
        out[i + half] = x[i + half] * cos[i + half] + x[i] * sin[i + half];
    }
}

/* query: [batch][heads][dim] with row stride query_stride; new_keys/new_values: [batch][kv_heads][dim]
 * with row strides key_stride/value_stride. keys[b]/values[b]: [kv_heads][capacity[b]][dim], holding
 * length[b] entries (capacity[b] > length[b]). cos/sin: [batch][dim], each row's rotary table at its
 * position, rotating queries and new keys here; NULL when they come rotated. out: [batch][heads][dim],
 * contiguous. window: 0 for none. Returns 0, or -1 when scratch memory could not be allocated. */
int autoglm_decode_attention(int64_t batch, int64_t heads, int64_t kv_heads, int64_t dim,
                             const float *query, int64_t query_stride, const float *new_keys,
                             int64_t key_stride, const float *new_values, int64_t value_stride,
                             float *const *keys, float *const *values, const int64_t *capacity,
                             const int64_t *length, const float *cos, const float *sin, int64_t window,
                             float scale, float *out) {
    int64_t longest = 1;
    for (int64_t b = 0; b < batch; b++)
        if (length[b] + 1 > longest) longest = length[b] + 1;
    float *weights = malloc(sizeof(float) * (size_t)(longest + dim));
    if (weights == NULL) return -1;
    float *rotated = weights + longest; /* one query head, rotated */
    const int64_t group = heads / kv_heads;
    for (int64_t b = 0; b < batch; b++) {
        const int64_t n = length[b] + 1;
        const int64_t start = (window > 0 && n > window) ? n - window : 0;
        for (int64_t g = 0; g < kv_heads; g++) {
            float *row_keys = keys[b] + g * capacity[b] * dim;
            float *row_values = values[b] + g * capacity[b] * dim;
            const float *key = new_keys + b * key_stride + g * dim;
            if (cos != NULL)
                rotate(key, cos + b * dim, sin + b * dim, dim, row_keys + length[b] * dim);
            else
                memcpy(row_keys + length[b] * dim, key, sizeof(float) * dim);
            memcpy(row_values + length[b] * dim, new_values + b * value_stride + g * dim, sizeof(float) * dim);
            for (int64_t h = g * group; h < (g + 1) * group; h++) {
                const float *q = query + b * query_stride + h * dim;
                if (cos != NULL) {
                    rotate(q, cos + b * dim, sin + b * dim, dim, rotated);
                    q = rotated;
                }
                scores_any(q, row_keys + start * dim, n - start, dim, scale, weights);
                softmax(weights, n - start);
                weighted_values(weights, row_values + start * dim, n - start, dim, out + (b * heads + h) * dim);
            }
        }
    }
    free(weights);
    return 0;
}
