/* rng.h — the small deterministic random number generator of the RL layer.
 *
 * SplitMix64: one 64-bit word of state, so a generator is trivially copied,
 * stored in a struct of arrays (one per env) or reseeded.  The same seed gives
 * the same stream on every platform.  Not for cryptography.
 *
 * Header-only: every function is static inline and touches only its argument. */
#ifndef RL_RNG_H
#define RL_RNG_H

#include <math.h>
#include <stdint.h>

struct rl_rng {
    uint64_t s; /* state: any value is valid */
};

static inline struct rl_rng rl_rng_make(uint64_t seed)
{
    struct rl_rng r = {seed};
    return r;
}

/* Next 64 random bits. */
static inline uint64_t rl_rng_u64(struct rl_rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform float in [0, 1): the top 24 bits, so every value is exact. */
static inline float rl_rng_float(struct rl_rng *r)
{
    return (float)(rl_rng_u64(r) >> 40) * (1.0f / 16777216.0f);
}

/* Uniform double in [0, 1) from the top 53 bits. */
static inline double rl_rng_double(struct rl_rng *r)
{
    return (double)(rl_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [0, n), n >= 1 (Lemire's multiply-shift; the bias is
 * below 2^-32 for the n this project uses). */
static inline uint32_t rl_rng_below(struct rl_rng *r, uint32_t n)
{
    return (uint32_t)(((rl_rng_u64(r) >> 32) * (uint64_t)n) >> 32);
}

/* Standard normal (Box-Muller, one value per call; the second is dropped so
 * the state stays one word). */
static inline double rl_rng_normal(struct rl_rng *r)
{
    double u1 = rl_rng_double(r), u2 = rl_rng_double(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Derives an independent seed for stream k of a run (env k, worker k, ...). */
static inline uint64_t rl_rng_derive(uint64_t seed, uint64_t k)
{
    struct rl_rng r = {seed ^ (k * UINT64_C(0xd1b54a32d192ed03))};
    rl_rng_u64(&r);
    return rl_rng_u64(&r);
}

#endif
