/* clew gen's statistical models: rng helpers, log-normal latency from p50
 * and p99, daily variation and noise of simulated time, Zipf accounts with
 * tiers and shards, exception stack traces. */
#include "gen/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/hash.h"

/* z of the 99th percentile of the standard normal. */
#define MODEL_Z99 2.326347874

uint64_t model_mix(uint64_t s, uint64_t i)
{
	struct rng r = {s ^ (i * 0xD1B54A32D192ED03ull + 0x8CB92BA72F3D8DD7ull)};
	return rng_next(&r);
}

double model_normal(struct rng *r)
{
	double u1 = rng_unit(r), u2 = rng_unit(r);
	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

double model_lognormal_ms(struct rng *r, double p50_ms, double p99_ms)
{
	double z = model_normal(r);
	if (p50_ms <= 0)
		return 0;
	if (p99_ms <= p50_ms)
		return p50_ms;
	double sigma = (log(p99_ms) - log(p50_ms)) / MODEL_Z99;
	return p50_ms * exp(sigma * z);
}

double model_daily_factor(int64_t t_unix_ns)
{
	int64_t day_ns = 86400LL * 1000000000LL;
	int64_t in_day = t_unix_ns % day_ns;
	if (in_day < 0)
		in_day += day_ns;
	double hour = (double)in_day / 3600e9;
	/* a trough at 03:00 UTC, the peak at 15:00 */
	return 1.0 + 0.175 * (1.0 - cos(6.283185307179586 * (hour - 3.0) / 24.0));
}

double model_minute_noise(uint64_t seed, int64_t t_unix_ns)
{
	int64_t minute = t_unix_ns / 60000000000LL;
	struct rng r = {model_mix(seed ^ 0x6E6F697365ull, (uint64_t)minute)};
	return 0.9 + 0.2 * rng_unit(&r);
}

int zipf_init(struct zipf *z, uint32_t n, double s)
{
	z->cdf = NULL;
	z->n = 0;
	if (n == 0 || !(s > 0))
		return CLEW_EINVAL;
	double *cdf = try_malloc((size_t)n * sizeof *cdf);
	if (!cdf)
		return CLEW_ENOMEM;
	double sum = 0;
	for (uint32_t i = 0; i < n; i++) {
		sum += 1.0 / pow((double)(i + 1), s);
		cdf[i] = sum;
	}
	for (uint32_t i = 0; i < n; i++)
		cdf[i] /= sum;
	cdf[n - 1] = 1.0;
	z->cdf = cdf;
	z->n = n;
	return 0;
}

void zipf_free(struct zipf *z)
{
	free(z->cdf);
	z->cdf = NULL;
	z->n = 0;
}

uint32_t zipf_sample(const struct zipf *z, struct rng *r)
{
	double u = rng_unit(r);
	uint32_t lo = 0, hi = z->n - 1;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (z->cdf[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo + 1;
}

uint32_t model_account_of_rank(uint32_t rank, uint32_t n)
{
	/* 7919 is prime and divides no sane n, so this is a permutation; when
	 * it does divide n fall back to the identity. */
	if (n == 0)
		return 0;
	if (n % 7919 == 0)
		return (rank - 1) % n;
	return (uint32_t)(((uint64_t)(rank - 1) * 7919 + 1013) % n);
}

size_t model_account_id(uint32_t account, char *out)
{
	int n = snprintf(out, 24, "acct-%06u", account);
	return n < 0 ? 0 : (size_t)n;
}

int model_account_parse(const char *s, uint32_t *account)
{
	if (strncmp(s, "acct-", 5) == 0)
		s += 5;
	if (!*s)
		return CLEW_EINVAL;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return CLEW_EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return CLEW_EINVAL;
	}
	*account = (uint32_t)v;
	return 0;
}

const char *model_account_tier(uint32_t account)
{
	uint64_t h = hash64_seed(&account, sizeof account, 0x74696572) % 100;
	if (h < 3)
		return "enterprise";
	if (h < 18)
		return "business";
	if (h < 50)
		return "pro";
	return "free";
}

uint32_t model_account_shard(uint32_t account, uint32_t shards)
{
	if (shards <= 1)
		return 0;
	return (uint32_t)(hash64_seed(&account, sizeof account, 0x7368617264) % shards);
}

/* Java-style package name of a service: "com.example.<service without '-'>". */
static void package_of(const char *service, char *out, size_t cap)
{
	size_t j = 0;
	const char *prefix = "com.example.";
	for (const char *p = prefix; *p && j + 1 < cap; p++)
		out[j++] = *p;
	for (const char *p = service; *p && j + 1 < cap; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
			out[j++] = *p;
	out[j] = 0;
}

/* A method name from a span name: its letters and digits, camel-cased. */
static void method_of(struct slice function, char *out, size_t cap)
{
	size_t j = 0;
	bool up = false;
	for (size_t i = 0; i < function.len && j + 1 < cap; i++) {
		char c = (char)function.p[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum) {
			up = j > 0;
			continue;
		}
		if (j == 0 && c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		else if (up && c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		out[j++] = c;
		up = false;
	}
	if (j == 0 && cap > 6) {
		memcpy(out, "handle", 6);
		j = 6;
	}
	out[j] = 0;
}

struct slice model_stacktrace(struct arena *a, struct rng *r, const char *type, const char *message,
			      const char *service, struct slice function)
{
	/* frames below the handler; the first two live in the service's package */
	static const char *frames[] = {
		"server.Router.dispatch(Router.java:",
		"server.Middleware.around(Middleware.java:",
		"io.opentelemetry.javaagent.instrumentation.TracingHandler.handle(TracingHandler.java:",
		"io.netty.channel.AbstractChannelHandlerContext.invokeChannelRead(AbstractChannelHandlerContext.java:",
		"io.netty.util.concurrent.SingleThreadEventExecutor$4.run(SingleThreadEventExecutor.java:",
		"java.base/java.lang.Thread.run(Thread.java:",
	};
	char pkg[96], meth[96];
	package_of(service, pkg, sizeof pkg);
	method_of(function, meth, sizeof meth);
	struct buf b;
	buf_init(&b, 4096);
	buf_printf(&b, "%s: %s\n\tat %s.handler.Handlers.%s(Handlers.java:%u)\n", type, message, pkg, meth,
		   40 + rng_below(r, 400));
	uint32_t n = 3 + rng_below(r, 4);
	for (uint32_t i = 0; i < n && i < sizeof frames / sizeof frames[0]; i++) {
		if (i < 2)
			buf_printf(&b, "\tat %s.%s%u)\n", pkg, frames[i], 20 + rng_below(r, 300));
		else
			buf_printf(&b, "\tat %s%u)\n", frames[i], 20 + rng_below(r, 900));
	}
	struct slice out = {0};
	if (!b.err) {
		void *p = arena_memdup(a, b.p, b.len);
		if (p)
			out = slice_make(p, b.len);
	}
	buf_free(&b);
	return out;
}
