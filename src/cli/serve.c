/* clew serve: parse the options, open the store (replaying the WAL), start
 * the receivers and the query port on the HTTP server, then wait for SIGTERM
 * or SIGINT and stop gracefully: stop accepting, finish requests in flight,
 * sync the WAL, exit 0. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert/alert_engine.h"
#include "alert/dashboard_store.h"
#include "analysis/service_graph.h"
#include "api/alert_api.h"
#include "api/query_api.h"
#include "api/receivers.h"
#include "api/ui_api.h"
#include "base/budget.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/units.h"
#include "cli/cli.h"
#include "net/http.h"
#include "query/exec.h"
#include "store/store.h"

struct serve_options {
	const char *data_dir;
	const char *http_addr, *grpc_addr, *otlp_http_addr, *zipkin_addr;
	enum wal_sync_mode wal_sync;
	uint64_t max_body_bytes;
	uint64_t memory_limit;
	uint64_t io_threads;
	uint64_t max_connections;
	int64_t idle_timeout_ns, request_timeout_ns;
	int64_t retention_ns, block_interval_ns;
	uint64_t max_disk_bytes, head_max_bytes;
	int64_t query_timeout_ns;
	uint64_t query_max_bytes;
	uint64_t column_cache_bytes; /* 0: block_cache_default_budget(memory_limit) */
	uint64_t compaction_mb_per_sec;
	const char *ui_dir; /* NULL: ../ui beside the binary */
	const char *public_url;	  /* NULL: http://<--http, 0.0.0.0 as localhost> */
	const char *catalog_file; /* merged into the catalog at start; may be NULL */
};

static void serve_usage(FILE *f)
{
	fputs("usage: clew serve [options]\n"
	      "\n"
	      "Runs the clew server: OTLP and Zipkin receivers, the embedded store, the\n"
	      "query APIs and the web UI.\n"
	      "\n"
	      "  --data-dir DIR          data directory (WAL, blocks, state) [./clew-data]\n"
	      "  --http HOST:PORT        query APIs and UI [0.0.0.0:3200]\n"
	      "  --otlp-grpc HOST:PORT   OTLP/gRPC receiver [0.0.0.0:4317]\n"
	      "  --otlp-http HOST:PORT   OTLP/HTTP receiver [0.0.0.0:4318]\n"
	      "  --zipkin HOST:PORT      Zipkin v2 receiver [0.0.0.0:9411]\n"
	      "                          (port 0 picks a free port; the chosen ports are logged)\n"
	      "  --wal-sync MODE         group (default: fsync before acknowledging, shared by\n"
	      "                          concurrent requests), always (one fsync per request),\n"
	      "                          none (no fsync: benchmarks only, loses data on a crash)\n"
	      "  --max-body-bytes SIZE   largest request body after decompression [64MiB]\n"
	      "  --memory-limit SIZE     memory budget for requests in flight and the head;\n"
	      "                          over it ingest answers 503/UNAVAILABLE [4GiB]\n"
	      "  --io-threads N          I/O threads [2 x CPUs, at least 4]\n"
	      "  --max-connections N     open connections at most [10000]\n"
	      "  --idle-timeout DUR      close idle keep-alive connections after [120s]\n"
	      "  --request-timeout DUR   a request must arrive whole within [30s]\n"
	      "  --retention DUR         delete blocks whose spans all ended longer ago; 0 keeps\n"
	      "                          everything [7d]\n"
	      "  --max-disk SIZE         past this (blocks + WAL) the oldest blocks are deleted;\n"
	      "                          0 = no limit [0]\n"
	      "  --head-max-bytes SIZE   cut the in-memory head into a block past this [256MiB]\n"
	      "  --block-interval DUR    or this long after its first span [2m]\n"
	      "  --compaction-mb-per-sec N  read rate of block compaction in MiB/s, so merges\n"
	      "                          leave disk bandwidth to ingest and queries; 0 = no\n"
	      "                          limit [64]\n"
	      "  --query-timeout DUR     time budget of each query; past it the query answers\n"
	      "                          504 and stops [30s]\n"
	      "  --query-max-bytes SIZE  memory budget of each query; past it the query answers\n"
	      "                          413 and stops [512MiB]\n"
	      "  --column-cache SIZE     decompressed block columns kept for queries, shared by\n"
	      "                          all of them; size it to the columns your queries read\n"
	      "                          (about 4 bytes a span for service, name and status)\n"
	      "                          [a quarter of --memory-limit, at least 64MiB]\n"
	      "  --ui-dir DIR            the built web UI served at / [../ui beside the binary,\n"
	      "                          i.e. build/ui; build it with make ui]\n"
	      "  --public-url URL        clew's address in alert notification links\n"
	      "                          [http://<--http address, 0.0.0.0 as localhost>]\n"
	      "  --catalog FILE          a service catalog (JSON: services, accounts) merged into\n"
	      "                          the saved catalog at start (alert routing)\n"
	      "  --log-level LEVEL       debug, info, warn or error [info]\n"
	      "  -h, --help              show this text\n"
	      "\n"
	      "SIZE takes k, M, G suffixes (powers of 1024); DUR takes ms, s, m, h, d.\n",
	      f);
}

static int bad_option(const char *opt, const char *val, const char *what)
{
	fprintf(stderr, "clew serve: invalid %s '%s': %s\n", opt, val, what);
	return 2;
}

static int parse_options(int argc, char **argv, struct serve_options *o)
{
	enum {
		O_DATA = 1000, O_HTTP, O_GRPC, O_OTLP_HTTP, O_ZIPKIN, O_SYNC, O_BODY, O_MEM, O_IO, O_CONNS,
		O_IDLE, O_REQ, O_LOG, O_RETENTION, O_MAX_DISK, O_HEAD_MAX, O_BLOCK_INTERVAL, O_COMPACTION_RATE,
		O_QUERY_TIMEOUT, O_QUERY_MAX_BYTES, O_COLUMN_CACHE, O_UI_DIR, O_PUBLIC_URL, O_CATALOG
	};
	static const struct option longopts[] = {
		{"data-dir", required_argument, NULL, O_DATA},
		{"http", required_argument, NULL, O_HTTP},
		{"otlp-grpc", required_argument, NULL, O_GRPC},
		{"otlp-http", required_argument, NULL, O_OTLP_HTTP},
		{"zipkin", required_argument, NULL, O_ZIPKIN},
		{"wal-sync", required_argument, NULL, O_SYNC},
		{"max-body-bytes", required_argument, NULL, O_BODY},
		{"memory-limit", required_argument, NULL, O_MEM},
		{"io-threads", required_argument, NULL, O_IO},
		{"max-connections", required_argument, NULL, O_CONNS},
		{"idle-timeout", required_argument, NULL, O_IDLE},
		{"request-timeout", required_argument, NULL, O_REQ},
		{"log-level", required_argument, NULL, O_LOG},
		{"retention", required_argument, NULL, O_RETENTION},
		{"max-disk", required_argument, NULL, O_MAX_DISK},
		{"head-max-bytes", required_argument, NULL, O_HEAD_MAX},
		{"block-interval", required_argument, NULL, O_BLOCK_INTERVAL},
		{"compaction-mb-per-sec", required_argument, NULL, O_COMPACTION_RATE},
		{"query-timeout", required_argument, NULL, O_QUERY_TIMEOUT},
		{"query-max-bytes", required_argument, NULL, O_QUERY_MAX_BYTES},
		{"column-cache", required_argument, NULL, O_COLUMN_CACHE},
		{"ui-dir", required_argument, NULL, O_UI_DIR},
		{"public-url", required_argument, NULL, O_PUBLIC_URL},
		{"catalog", required_argument, NULL, O_CATALOG},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	opterr = 0; /* our own messages, prefixed "clew serve:" */
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_DATA:
			o->data_dir = optarg;
			break;
		case O_HTTP:
			o->http_addr = optarg;
			break;
		case O_GRPC:
			o->grpc_addr = optarg;
			break;
		case O_OTLP_HTTP:
			o->otlp_http_addr = optarg;
			break;
		case O_ZIPKIN:
			o->zipkin_addr = optarg;
			break;
		case O_SYNC:
			if (strcmp(optarg, "group") == 0)
				o->wal_sync = WAL_SYNC_GROUP;
			else if (strcmp(optarg, "always") == 0)
				o->wal_sync = WAL_SYNC_ALWAYS;
			else if (strcmp(optarg, "none") == 0)
				o->wal_sync = WAL_SYNC_NONE;
			else
				return bad_option("--wal-sync", optarg, "expected group, always or none");
			break;
		case O_BODY:
			if (units_parse_size(optarg, &o->max_body_bytes) < 0 || o->max_body_bytes < 1024)
				return bad_option("--max-body-bytes", optarg, "expected a size of at least 1k");
			break;
		case O_MEM:
			if (units_parse_size(optarg, &o->memory_limit) < 0 || o->memory_limit < (1u << 20))
				return bad_option("--memory-limit", optarg, "expected a size of at least 1M");
			break;
		case O_IO:
			if (units_parse_u64(optarg, &o->io_threads) < 0 || o->io_threads < 1 || o->io_threads > 256)
				return bad_option("--io-threads", optarg, "expected 1 to 256");
			break;
		case O_CONNS:
			if (units_parse_u64(optarg, &o->max_connections) < 0 || o->max_connections < 1)
				return bad_option("--max-connections", optarg, "expected a positive number");
			break;
		case O_IDLE:
			if (units_parse_duration_ns(optarg, &o->idle_timeout_ns) < 0 || o->idle_timeout_ns < 1000000)
				return bad_option("--idle-timeout", optarg, "expected a duration such as 120s");
			break;
		case O_REQ:
			if (units_parse_duration_ns(optarg, &o->request_timeout_ns) < 0 ||
			    o->request_timeout_ns < 1000000)
				return bad_option("--request-timeout", optarg, "expected a duration such as 30s");
			break;
		case O_RETENTION:
			if (strcmp(optarg, "0") == 0)
				o->retention_ns = 0;
			else if (units_parse_duration_ns(optarg, &o->retention_ns) < 0 || o->retention_ns < 60000000000)
				return bad_option("--retention", optarg, "expected a duration of at least 1m, or 0");
			break;
		case O_MAX_DISK:
			if (units_parse_size(optarg, &o->max_disk_bytes) < 0 ||
			    (o->max_disk_bytes && o->max_disk_bytes < (1u << 20)))
				return bad_option("--max-disk", optarg, "expected a size of at least 1M, or 0");
			break;
		case O_HEAD_MAX:
			if (units_parse_size(optarg, &o->head_max_bytes) < 0 || o->head_max_bytes < (64u << 10))
				return bad_option("--head-max-bytes", optarg, "expected a size of at least 64k");
			break;
		case O_BLOCK_INTERVAL:
			if (units_parse_duration_ns(optarg, &o->block_interval_ns) < 0 || o->block_interval_ns < 1000000000)
				return bad_option("--block-interval", optarg, "expected a duration of at least 1s");
			break;
		case O_COMPACTION_RATE:
			if (units_parse_u64(optarg, &o->compaction_mb_per_sec) < 0 || o->compaction_mb_per_sec > 1000000)
				return bad_option("--compaction-mb-per-sec", optarg,
						  "expected MiB per second, 0 (no limit) to 1000000");
			break;
		case O_QUERY_TIMEOUT:
			if (units_parse_duration_ns(optarg, &o->query_timeout_ns) < 0 || o->query_timeout_ns < 1000000)
				return bad_option("--query-timeout", optarg, "expected a duration of at least 1ms, such as 30s");
			break;
		case O_QUERY_MAX_BYTES:
			if (units_parse_size(optarg, &o->query_max_bytes) < 0 || o->query_max_bytes < (64u << 10) ||
			    o->query_max_bytes > SIZE_MAX / 2)
				return bad_option("--query-max-bytes", optarg, "expected a size of at least 64k, such as 512M");
			break;
		case O_COLUMN_CACHE:
			if (units_parse_size(optarg, &o->column_cache_bytes) < 0 || o->column_cache_bytes < (1u << 20) ||
			    o->column_cache_bytes > SIZE_MAX / 2)
				return bad_option("--column-cache", optarg, "expected a size of at least 1M, such as 1G");
			break;
		case O_UI_DIR:
			if (ui_api_set_dir(optarg) < 0)
				return bad_option("--ui-dir", optarg, "expected a directory path");
			o->ui_dir = optarg;
			break;
		case O_PUBLIC_URL:
			if (strncmp(optarg, "http://", 7) != 0 && strncmp(optarg, "https://", 8) != 0)
				return bad_option("--public-url", optarg, "expected http://HOST[:PORT] or https://...");
			o->public_url = optarg;
			break;
		case O_CATALOG:
			if (access(optarg, R_OK) != 0)
				return bad_option("--catalog", optarg, "cannot read the file");
			o->catalog_file = optarg;
			break;
		case O_LOG:
			if (strcmp(optarg, "debug") == 0)
				log_set_level(LOG_DEBUG);
			else if (strcmp(optarg, "info") == 0)
				log_set_level(LOG_INFO);
			else if (strcmp(optarg, "warn") == 0)
				log_set_level(LOG_WARN);
			else if (strcmp(optarg, "error") == 0)
				log_set_level(LOG_ERROR);
			else
				return bad_option("--log-level", optarg, "expected debug, info, warn or error");
			break;
		case 'h':
			serve_usage(stdout);
			return 1;
		default:
			fprintf(stderr, "clew serve: unknown option or missing value: '%s' (see clew serve --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "clew serve: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	return 0;
}

static int listen_on(struct http_server *srv, const char *name, const char *addr, http_handler_fn fn, void *ctx,
		     uint64_t max_body)
{
	char err[512];
	struct http_listener_config l = {
		.name = name, .addr = addr, .handler = fn, .ctx = ctx, .max_body_bytes = max_body};
	int rc = http_server_listen(srv, &l, err, sizeof err);
	if (rc < 0) {
		fprintf(stderr, "clew serve: %s\n", err);
		if (rc == -EADDRINUSE)
			fprintf(stderr, "clew serve: another program uses that port; stop it or pass --%s HOST:PORT\n",
				name);
	}
	return rc;
}

/* --public-url, or http://HOST:PORT of the query port with 0.0.0.0 (or
 * an empty host, or ::) shown as localhost and the port it got. */
static void default_public_url(const struct serve_options *o, int port, char *out, size_t cap)
{
	if (o->public_url) {
		snprintf(out, cap, "%s", o->public_url);
		return;
	}
	const char *a = o->http_addr, *colon = strrchr(a, ':');
	size_t hl = colon ? (size_t)(colon - a) : strlen(a);
	char host[256];
	snprintf(host, sizeof host, "%.*s", (int)(hl < sizeof host ? hl : sizeof host - 1), a);
	if (host[0] == 0 || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "[::]") == 0 || strcmp(host, "::") == 0)
		snprintf(host, sizeof host, "localhost");
	snprintf(out, cap, "http://%s:%d", host, port);
}

int cli_serve(int argc, char **argv)
{
	struct serve_options o = {
		.data_dir = "./clew-data",
		.http_addr = "0.0.0.0:3200",
		.grpc_addr = "0.0.0.0:4317",
		.otlp_http_addr = "0.0.0.0:4318",
		.zipkin_addr = "0.0.0.0:9411",
		.wal_sync = WAL_SYNC_GROUP,
		.max_body_bytes = 64ull << 20,
		.memory_limit = 4ull << 30,
		.max_connections = 10000,
		.idle_timeout_ns = 120ll * 1000000000,
		.request_timeout_ns = 30ll * 1000000000,
		.retention_ns = 7ll * 86400 * 1000000000,
		.block_interval_ns = 120ll * 1000000000,
		.head_max_bytes = 256ull << 20,
		.query_timeout_ns = EXEC_DEFAULT_TIME_NS,
		.query_max_bytes = EXEC_DEFAULT_MEM_BYTES,
		.compaction_mb_per_sec = 64,
	};
	int prc = parse_options(argc, argv, &o);
	if (prc == 1)
		return 0;
	if (prc)
		return prc;

	/* Block the stop signals in every thread; main waits for them below. */
	sigset_t stop_signals;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Request bodies and decode arenas are a few hundred KiB each: keep them
	 * on the heap and reuse the pages instead of an mmap, fault and zeroing
	 * of fresh pages per request. */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);

	struct budget memory;
	budget_init(&memory, o.memory_limit);
	char err[1024];
	int rc;
	struct store_options so = {
		.data_dir = o.data_dir,
		.wal_sync = o.wal_sync,
		.memory = &memory,
		.head_max_bytes = o.head_max_bytes,
		.block_interval_ns = o.block_interval_ns,
		.retention_ns = o.retention_ns,
		.max_disk_bytes = o.max_disk_bytes,
		.compaction_bytes_per_sec = o.compaction_mb_per_sec << 20,
	};
	if (!o.column_cache_bytes)
		o.column_cache_bytes = block_cache_default_budget(o.memory_limit);
	block_cache_set_budget((size_t)o.column_cache_bytes);
	struct store *store = store_open(&so, &rc, err, sizeof err);
	if (!store) {
		fprintf(stderr, "clew serve: %s\n", err);
		return 1;
	}
	if (o.wal_sync == WAL_SYNC_NONE)
		log_warn("--wal-sync=none: acknowledged spans are lost on a crash; use it for benchmarks only");

	/* the live service graph is complete from now on, or from the start if the store is empty */
	struct store_stats sst;
	store_get_stats(store, &sst);
	struct sg_live_options sgo = {.covers_from_ns = sst.head_spans || sst.blocks ? clock_now_unix_ns() : 0};
	struct service_graph_live *graph = sg_live_new(&sgo); /* NULL: graph queries scan the store */
	struct receivers recv = {.store = store, .memory = &memory, .max_body_bytes = o.max_body_bytes, .graph = graph};
	receivers_init(&recv);
	struct query_api qapi = {.store = store,
				 .memory = &memory,
				 .graph = graph,
				 .query_mem_bytes = (size_t)o.query_max_bytes,
				 .query_time_ns = o.query_timeout_ns};
	query_api_init(&qapi);
	if (!o.ui_dir)
		ui_api_set_dir(NULL);

	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int io = o.io_threads ? (int)o.io_threads : (int)(cpus > 0 ? cpus * 2 : 4);
	if (!o.io_threads && io < 4)
		io = 4;
	struct http_server_config hc = {
		.io_threads = io,
		.max_connections = (uint32_t)o.max_connections,
		.idle_timeout_ms = (uint32_t)(o.idle_timeout_ns / 1000000),
		.request_timeout_ms = (uint32_t)(o.request_timeout_ns / 1000000),
		.memory = &memory,
	};
	struct http_server *srv = http_server_new(&hc);
	int http_listener = -1;
	/* the raw body may be compressed: allow it up to the decompressed limit */
	if (listen_on(srv, "otlp-grpc", o.grpc_addr, receivers_otlp_grpc, &recv, o.max_body_bytes) < 0 ||
	    listen_on(srv, "otlp-http", o.otlp_http_addr, receivers_otlp_http, &recv, o.max_body_bytes) < 0 ||
	    listen_on(srv, "zipkin", o.zipkin_addr, receivers_zipkin, &recv, o.max_body_bytes) < 0 ||
	    (http_listener = listen_on(srv, "http", o.http_addr, query_api_handle, &qapi, 1 << 20)) < 0) {
		http_server_free(srv);
		store_close(store);
		sg_live_free(graph);
		return 1;
	}
	/* the alert engine: after the store, before the first request */
	char public_url[600];
	default_public_url(&o, http_server_port(srv, http_listener), public_url, sizeof public_url);
	struct alert_engine_options ao = {
		.data_dir = o.data_dir,
		.public_url = public_url,
		.catalog_file = o.catalog_file,
		.notify = {.enrich = alert_api_enrich},
		.enrich_ctx = &qapi,
	};
	struct alert_engine *alerts = alert_engine_open(&ao, &rc, err, sizeof err);
	if (!alerts) {
		fprintf(stderr, "clew serve: alerting: %s\n", err);
		http_server_free(srv);
		store_close(store);
		sg_live_free(graph);
		return 1;
	}
	recv.alerts = alerts;
	qapi.alerts = alerts;
	struct dashboard_store *dashboards = dashboard_store_open(o.data_dir, &rc, err, sizeof err);
	if (!dashboards) {
		fprintf(stderr, "clew serve: dashboards: %s\n", err);
		http_server_free(srv);
		alert_engine_close(alerts);
		store_close(store);
		sg_live_free(graph);
		return 1;
	}
	qapi.dashboards = dashboards;
	if ((rc = http_server_start(srv)) < 0) {
		fprintf(stderr, "clew serve: cannot start the I/O threads: %s\n", err_str(rc));
		http_server_free(srv);
		alert_engine_close(alerts);
		dashboard_store_close(dashboards);
		store_close(store);
		sg_live_free(graph);
		return 1;
	}
	log_info("ready: data dir %s, %d I/O threads, WAL sync %s, memory limit %llu MiB, column cache %llu MiB",
		 o.data_dir, io,
		 o.wal_sync == WAL_SYNC_GROUP ? "group" : o.wal_sync == WAL_SYNC_ALWAYS ? "always" : "none",
		 (unsigned long long)(o.memory_limit >> 20), (unsigned long long)(o.column_cache_bytes >> 20));

	int sig = 0;
	sigwait(&stop_signals, &sig);
	log_info("received %s: stopping (finishing requests in flight)", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	http_server_stop(srv, 10000);
	http_server_free(srv);
	alert_engine_close(alerts);
	dashboard_store_close(dashboards);
	sg_live_free(graph);
	rc = store_close(store);
	if (rc < 0) {
		log_error("final WAL sync failed: %s", err_str(rc));
		return 1;
	}
	log_info("stopped cleanly");
	return 0;
}
