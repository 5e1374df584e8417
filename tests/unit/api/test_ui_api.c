/* The UI's static file handler: files with content types and ETags,
 * index.html for application routes, 404 for missing assets, API paths left
 * to the router, the not-built page, and path traversal in every spelling. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "api/ui_api.h"
#include "base/arena.h"
#include "base/buf.h"
#include "../../testlib.h"

struct ui_call {
	struct arena arena;
	struct http_request req;
	struct http_response resp;
	struct http_header hdr[2];
	bool handled;
};

static void ui_write(const char *dir, const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Run the handler on path with optional header (name, value). */
static void ui_call(struct ui_call *c, const char *path, const char *hname, const char *hval)
{
	memset(c, 0, sizeof *c);
	arena_init(&c->arena, 1 << 20);
	buf_init(&c->resp.body, 1 << 24);
	c->resp.status = 200;
	c->req.proto = HTTP_PROTO_1;
	c->req.method = slice_cstr("GET");
	c->req.path = slice_cstr(path);
	c->req.arena = &c->arena;
	if (hname) {
		c->hdr[0].name = slice_cstr(hname);
		c->hdr[0].value = slice_cstr(hval);
		c->req.headers = c->hdr;
		c->req.n_headers = 1;
	}
	c->handled = ui_api_handle(NULL, &c->req, &c->resp);
}

static void ui_done(struct ui_call *c)
{
	buf_free(&c->resp.body);
	arena_reset(&c->arena);
}

static const char *ui_header(struct ui_call *c, const char *name)
{
	static char v[256];
	for (uint32_t i = 0; i < c->resp.n_headers; i++) {
		if (c->resp.headers[i].name.len == strlen(name) &&
		    strncasecmp((const char *)c->resp.headers[i].name.p, name, strlen(name)) == 0) {
			size_t n = c->resp.headers[i].value.len < sizeof v - 1 ? c->resp.headers[i].value.len : sizeof v - 1;
			memcpy(v, c->resp.headers[i].value.p, n);
			v[n] = 0;
			return v;
		}
	}
	return NULL;
}

static bool ui_body_is(struct ui_call *c, const char *text)
{
	return c->resp.body.len == strlen(text) && memcmp(c->resp.body.p, text, c->resp.body.len) == 0;
}

/* A UI directory inside the test's tmpdir, with a secret file beside it. */
static const char *ui_fixture(void)
{
	static char dir[512];
	const char *t = test_tmpdir();
	snprintf(dir, sizeof dir, "%s/ui", t);
	mkdir(dir, 0755);
	ui_write(t, "secret.txt", "SECRET");
	ui_write(dir, "index.html", "<!doctype html><title>clew</title>");
	ui_write(dir, "app.js", "console.log(1)");
	ui_write(dir, "app.css", "body{}");
	ui_write(dir, ".hidden.js", "hidden");
	ui_api_set_dir(dir);
	return dir;
}

TEST(ui_serves_files_with_types_and_etags)
{
	ui_fixture();
	struct ui_call c;
	ui_call(&c, "/", NULL, NULL);
	CHECK(c.handled);
	CHECK_INT(c.resp.status, ==, 200);
	CHECK(ui_body_is(&c, "<!doctype html><title>clew</title>"));
	CHECK_STR(ui_header(&c, "Content-Type"), "text/html; charset=utf-8");
	CHECK(ui_header(&c, "Cache-Control") != NULL);
	ui_done(&c);

	ui_call(&c, "/app.js", NULL, NULL);
	CHECK_INT(c.resp.status, ==, 200);
	CHECK(ui_body_is(&c, "console.log(1)"));
	CHECK_STR(ui_header(&c, "Content-Type"), "text/javascript; charset=utf-8");
	char etag[128];
	const char *e = ui_header(&c, "ETag");
	CHECK(e != NULL && e[0] == '"');
	snprintf(etag, sizeof etag, "%s", e);
	ui_done(&c);

	ui_call(&c, "/app.js", "If-None-Match", etag);
	CHECK_INT(c.resp.status, ==, 304);
	CHECK_INT(c.resp.body.len, ==, 0);
	ui_done(&c);

	ui_call(&c, "/app.js", "If-None-Match", "\"other\"");
	CHECK_INT(c.resp.status, ==, 200);
	ui_done(&c);

	ui_call(&c, "/app.css", NULL, NULL);
	CHECK_STR(ui_header(&c, "Content-Type"), "text/css; charset=utf-8");
	ui_done(&c);
}

TEST(ui_routes_get_index_and_assets_404)
{
	ui_fixture();
	static const char *const routes[] = {"/trace/0af7651916cd43dd8448eb211c80319c", "/explore", "/service/checkout",
					     "/service/api.gateway", "/customers", "//explore//"};
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		struct ui_call c;
		ui_call(&c, routes[i], NULL, NULL);
		CHECK(c.handled);
		CHECK_INT(c.resp.status, ==, 200);
		CHECK(ui_body_is(&c, "<!doctype html><title>clew</title>"));
		ui_done(&c);
	}
	static const char *const missing[] = {"/missing.js", "/x/app.css", "/favicon.ico"};
	for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
		struct ui_call c;
		ui_call(&c, missing[i], NULL, NULL);
		CHECK(c.handled);
		CHECK_INT(c.resp.status, ==, 404);
		ui_done(&c);
	}
}

TEST(ui_leaves_api_paths_to_the_router)
{
	ui_fixture();
	static const char *const api[] = {"/api/nope", "/api", "/api/v1/unknown", "/jaeger/api/x", "/zipkin/x",
					  "/metrics", "/ready", "/v1/traces"};
	for (size_t i = 0; i < sizeof api / sizeof api[0]; i++) {
		struct ui_call c;
		ui_call(&c, api[i], NULL, NULL);
		CHECK(!c.handled);
		CHECK_INT(c.resp.n_headers, ==, 0);
		ui_done(&c);
	}
	struct ui_call c;
	ui_call(&c, "/apix", NULL, NULL); /* not an API prefix */
	CHECK(c.handled);
	ui_done(&c);
}

TEST(ui_path_traversal_is_impossible)
{
	ui_fixture();
	static const char *const bad[] = {
		"/../secret.txt",	  "/..%2fsecret.txt",	"/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
		"/x/../../secret.txt", "/%2e%2e%2fsecret.txt", "/..\\secret.txt",	"/%5c..%5csecret.txt",
		"/.hidden.js",	  "/%2ehidden.js",	"/app.js%00.css",     "/%zz",
		"/%2",		  "/.",			"/./app.js",	      "/..",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ui_call c;
		ui_call(&c, bad[i], NULL, NULL);
		CHECK(c.handled);
		if (c.resp.status != 404)
			test_fail(__FILE__, __LINE__, "%s answered %d", bad[i], c.resp.status);
		CHECK(memmem(c.resp.body.p ? (const void *)c.resp.body.p : "", c.resp.body.len, "SECRET", 6) == NULL);
		CHECK(memmem(c.resp.body.p ? (const void *)c.resp.body.p : "", c.resp.body.len, "hidden", 6) == NULL);
		ui_done(&c);
	}
}

TEST(ui_symlink_out_of_the_directory_is_refused)
{
	const char *dir = ui_fixture();
	char link[600], target[600];
	snprintf(link, sizeof link, "%s/leak.txt", dir);
	snprintf(target, sizeof target, "%s/secret.txt", test_tmpdir());
	CHECK(symlink(target, link) == 0);
	struct ui_call c;
	ui_call(&c, "/leak.txt", NULL, NULL);
	CHECK_INT(c.resp.status, ==, 404);
	ui_done(&c);
}

TEST(ui_gzip_when_accepted)
{
	const char *dir = ui_fixture();
	char big[8192];
	for (size_t i = 0; i < sizeof big - 1; i++)
		big[i] = (char)('a' + i % 7);
	big[sizeof big - 1] = 0;
	ui_write(dir, "big.js", big);
	struct ui_call c;
	ui_call(&c, "/big.js", "Accept-Encoding", "br, gzip");
	CHECK_INT(c.resp.status, ==, 200);
	CHECK(ui_header(&c, "Content-Encoding") != NULL);
	CHECK_STR(ui_header(&c, "Content-Encoding"), "gzip");
	CHECK(c.resp.body.len < sizeof big / 4);
	char out[sizeof big];
	z_stream z;
	memset(&z, 0, sizeof z);
	CHECK(inflateInit2(&z, 15 + 16) == Z_OK);
	z.next_in = c.resp.body.p;
	z.avail_in = (uInt)c.resp.body.len;
	z.next_out = (Bytef *)out;
	z.avail_out = sizeof out;
	int zr = inflate(&z, Z_FINISH);
	size_t n = z.total_out;
	inflateEnd(&z);
	CHECK(zr == Z_STREAM_END);
	CHECK_INT(n, ==, sizeof big - 1);
	CHECK(memcmp(out, big, n) == 0);
	ui_done(&c);

	ui_call(&c, "/big.js", NULL, NULL);
	CHECK(ui_header(&c, "Content-Encoding") == NULL);
	CHECK_INT(c.resp.body.len, ==, sizeof big - 1);
	ui_done(&c);
}

TEST(ui_not_built_page)
{
	char dir[600];
	snprintf(dir, sizeof dir, "%s/nothing-here", test_tmpdir());
	CHECK_INT(ui_api_set_dir(dir), ==, 0);
	struct ui_call c;
	ui_call(&c, "/", NULL, NULL);
	CHECK(c.handled);
	CHECK_INT(c.resp.status, ==, 200);
	CHECK(memmem(c.resp.body.p, c.resp.body.len, "make ui", 7) != NULL);
	ui_done(&c);
	ui_call(&c, "/trace/abc", NULL, NULL);
	CHECK(memmem(c.resp.body.p, c.resp.body.len, "make ui", 7) != NULL);
	ui_done(&c);
	CHECK_INT(ui_api_set_dir(""), <, 0);
	CHECK_INT(ui_api_set_dir(NULL), ==, 0);
	CHECK(strstr(ui_api_dir(), "ui") != NULL);
}
