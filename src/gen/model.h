/* clew gen's statistical models: a small deterministic random number
 * generator, log-normal latencies given by their p50 and p99, the daily
 * load curve and per-minute noise of simulated time, the Zipf sampler of
 * customer accounts with their stable tier and shard, and exception stack
 * traces. Used by tracegen; depends on base only. */
#ifndef CLEW_GEN_MODEL_H
#define CLEW_GEN_MODEL_H

#include <stdint.h>

#include "base/arena.h"
#include "base/slice.h"

/* splitmix64 state. Every span draws from its own rng seeded from its
 * parent's, so a change in one place (a fault) moves no other draw. */
struct rng {
	uint64_t s;
};

/* The next 64 random bits. */
static inline uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static inline double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform in [0, n); n > 0. */
static inline uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* A seed for child number i of a node with seed s (stable, well mixed). */
uint64_t model_mix(uint64_t s, uint64_t i);

/* A standard normal draw (Box-Muller, one value per call). */
double model_normal(struct rng *r);

/* A log-normal draw in milliseconds whose median is p50_ms and whose 99th
 * percentile is p99_ms (p99 <= p50 gives a constant p50). */
double model_lognormal_ms(struct rng *r, double p50_ms, double p99_ms);

/* The load factor of the time of day of t (UTC): 1 at night, about 1.35 in
 * the afternoon peak; latencies are multiplied by it. */
double model_daily_factor(int64_t t_unix_ns);

/* A noise factor between 0.9 and 1.1, constant within one simulated minute
 * and seed. */
double model_minute_noise(uint64_t seed, int64_t t_unix_ns);

/* Zipf distribution over ranks 1..n with exponent s (a cumulative table,
 * sampled by binary search). */
struct zipf {
	double *cdf; /* cdf[i] = P(rank <= i + 1); owned */
	uint32_t n;
};

/* Build the table; 0, or CLEW_EINVAL for n == 0 or s <= 0, CLEW_ENOMEM. */
int zipf_init(struct zipf *z, uint32_t n, double s);
void zipf_free(struct zipf *z);
/* A rank in 1..n. */
uint32_t zipf_sample(const struct zipf *z, struct rng *r);

/* The account number (0..n-1) of Zipf rank (1..n): a fixed permutation,
 * so the busiest account is not account 0. */
uint32_t model_account_of_rank(uint32_t rank, uint32_t n);
/* The customer.id of an account number: "acct-" and 6 or more digits,
 * written to out (at least 24 bytes); returns the length. */
size_t model_account_id(uint32_t account, char *out);
/* Parse "acct-NNNNNN" or a bare number into an account number; 0 or
 * CLEW_EINVAL. */
int model_account_parse(const char *s, uint32_t *account);
/* The customer.tier of an account (a stable hash): "enterprise" (3%),
 * "business" (15%), "pro" (32%) or "free". Static string. */
const char *model_account_tier(uint32_t account);
/* The database shard (0..shards-1) an account lives on. */
uint32_t model_account_shard(uint32_t account, uint32_t shards);

/* An exception.stacktrace as a runtime of the language would print it,
 * in a, for an exception of type thrown in function (a span name) of
 * service. Empty slice when a refuses. */
struct slice model_stacktrace(struct arena *a, struct rng *r, const char *type, const char *message,
			      const char *service, struct slice function);

#endif
