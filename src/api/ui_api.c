/* Static files of the web UI on the query port (see ui_api.h). The request
 * path is percent-decoded and checked segment by segment (no "..", no
 * hidden names, no NUL or backslash), then the resolved file must still lie
 * inside the UI directory: two independent guards against path traversal.
 * Files are small (the build is three of them), so each is read per request;
 * revalidation goes by ETag (size and mtime) and answers 304. */
#include "api/ui_api.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "api/api_util.h"
#include "base/codec.h"
#include "base/err.h"

#define UI_MAX_FILE_BYTES (32u << 20)
#define UI_MAX_PATH_BYTES 1024
#define UI_GZIP_MIN_BYTES 1024

static char ui_dir[PATH_MAX];

static const char not_built_page[] =
	"<!doctype html><html><head><meta charset=\"utf-8\"><title>clew</title></head>"
	"<body style=\"font-family:sans-serif;margin:3em;max-width:40em\">"
	"<h1>clew</h1><p>The web UI is not built. Build it with <code>make ui</code> (or <code>make</code>), "
	"which writes it to <code>build/ui</code>, or point <code>clew serve --ui-dir DIR</code> at a built copy.</p>"
	"<p>The query APIs answer meanwhile: <a href=\"/api/search\">/api/search</a>, "
	"<a href=\"/api/v1/service-graph\">/api/v1/service-graph</a>, <a href=\"/metrics\">/metrics</a>.</p>"
	"</body></html>\n";

int ui_api_set_dir(const char *dir)
{
	if (dir) {
		size_t n = strlen(dir);
		if (n == 0 || n >= sizeof ui_dir)
			return CLEW_EINVAL;
		memcpy(ui_dir, dir, n + 1);
		while (n > 1 && ui_dir[n - 1] == '/')
			ui_dir[--n] = 0;
		return 0;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0) {
		memcpy(ui_dir, "build/ui", sizeof "build/ui");
		return 0;
	}
	exe[n] = 0;
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = 0;
	char joined[PATH_MAX + 8];
	snprintf(joined, sizeof joined, "%s/../ui", exe);
	char real[PATH_MAX];
	const char *use = realpath(joined, real) ? real : joined;
	if (strlen(use) >= sizeof ui_dir)
		return CLEW_EINVAL;
	memcpy(ui_dir, use, strlen(use) + 1);
	return 0;
}

const char *ui_api_dir(void)
{
	if (!ui_dir[0])
		ui_api_set_dir(NULL);
	return ui_dir;
}

/* Paths the APIs own: an unknown one among them is the router's JSON 404,
 * never the UI's index.html. */
static bool is_api_path(struct slice p)
{
	static const char *const prefixes[] = {"/api", "/jaeger", "/zipkin", "/v1/", "/metrics", "/ready", "/flush"};
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		size_t n = strlen(prefixes[i]);
		if (p.len >= n && memcmp(p.p, prefixes[i], n) == 0 &&
		    (p.len == n || p.p[n] == '/' || prefixes[i][n - 1] == '/'))
			return true;
	}
	return false;
}

/* The request path as a relative file name under the UI directory, in out
 * (NUL-terminated, "" for /). false when the path is not acceptable: bad
 * escapes, NUL, backslash, a segment "." or ".." or any segment starting
 * with a dot (after decoding, so %2e%2e is caught too), or too long. */
static bool ui_rel_path(struct slice path, char *out, size_t outlen)
{
	char dec[UI_MAX_PATH_BYTES];
	size_t n = 0;
	if (path.len == 0 || path.p[0] != '/' || path.len >= sizeof dec)
		return false;
	for (size_t i = 0; i < path.len; i++) {
		uint8_t c = path.p[i];
		if (c == '%') {
			if (i + 2 >= path.len)
				return false;
			int h = hex_digit_value(path.p[i + 1]);
			int l = hex_digit_value(path.p[i + 2]);
			if (h < 0 || l < 0)
				return false;
			c = (uint8_t)(h * 16 + l);
			i += 2;
		}
		if (c == 0 || c == '\\')
			return false;
		dec[n++] = (char)c;
	}
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		while (i < n && dec[i] == '/')
			i++;
		size_t s = i;
		while (i < n && dec[i] != '/')
			i++;
		if (i == s)
			break;
		if (dec[s] == '.')
			return false; /* ".", "..", and hidden files */
		if (o + (o ? 1 : 0) + (i - s) >= outlen)
			return false;
		if (o)
			out[o++] = '/';
		memcpy(out + o, dec + s, i - s);
		o += i - s;
	}
	out[o] = 0;
	return true;
}

static const char *content_type_of(const char *name, bool *compressible /* out */)
{
	static const struct {
		const char *ext, *type;
		bool text;
	} types[] = {
		{".html", "text/html; charset=utf-8", true},
		{".js", "text/javascript; charset=utf-8", true},
		{".mjs", "text/javascript; charset=utf-8", true},
		{".css", "text/css; charset=utf-8", true},
		{".json", "application/json", true},
		{".map", "application/json", true},
		{".svg", "image/svg+xml", true},
		{".txt", "text/plain; charset=utf-8", true},
		{".png", "image/png", false},
		{".ico", "image/x-icon", false},
		{".woff2", "font/woff2", false},
	};
	const char *dot = strrchr(name, '.');
	const char *slash = strrchr(name, '/');
	*compressible = false;
	if (!dot || (slash && dot < slash))
		return NULL;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		if (strcmp(dot, types[i].ext) == 0) {
			*compressible = types[i].text;
			return types[i].type;
		}
	}
	return NULL;
}

static bool accepts_gzip(const struct http_request *req)
{
	const struct slice *ae = http_request_header(req, "accept-encoding");
	if (!ae)
		return false;
	for (size_t i = 0; i + 4 <= ae->len; i++)
		if (memcmp(ae->p + i, "gzip", 4) == 0)
			return true;
	return false;
}

/* data gzipped into out (cleared first). 0, or CLEW_ENOMEM / the buffer's
 * sticky error. */
static int gzip_into(struct buf *out, const uint8_t *data, size_t len)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return CLEW_ENOMEM;
	int rc = 0;
	size_t bound = deflateBound(&z, (uLong)len) + 64;
	buf_clear(out);
	if ((rc = buf_reserve(out, bound)) < 0)
		goto out;
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	z.next_out = out->p;
	z.avail_out = (uInt)bound;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		rc = CLEW_ENOMEM;
		goto out;
	}
	out->len = z.total_out;
out:
	deflateEnd(&z);
	return rc;
}

/* Read the regular file at full into a fresh malloc'd buffer (*data, owned
 * by the caller). 0, -errno, CLEW_ENOTFOUND (not a regular file) or
 * CLEW_ELIMIT (too large). */
static int read_file(const char *full, uint8_t **data /* out */, size_t *len /* out */, struct stat *st /* out */)
{
	int rc = 0;
	uint8_t *p = NULL;
	int fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? CLEW_ENOTFOUND : -errno;
	if (fstat(fd, st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st->st_mode)) {
		rc = CLEW_ENOTFOUND;
		goto out;
	}
	if ((uint64_t)st->st_size > UI_MAX_FILE_BYTES) {
		rc = CLEW_ELIMIT;
		goto out;
	}
	size_t size = (size_t)st->st_size;
	p = malloc(size ? size : 1);
	if (!p) {
		rc = CLEW_ENOMEM;
		goto out;
	}
	size_t got = 0;
	while (got < size) {
		ssize_t r = read(fd, p + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? -errno : CLEW_ECORRUPT;
			goto out;
		}
		got += (size_t)r;
	}
	*data = p;
	*len = size;
	p = NULL;
out:
	free(p);
	close(fd);
	return rc;
}

/* Whether full resolves to a path inside the UI directory (symlinks
 * followed): the second guard after ui_rel_path. */
static bool inside_dir(const char *full)
{
	char rdir[PATH_MAX], rfile[PATH_MAX];
	if (!realpath(ui_api_dir(), rdir) || !realpath(full, rfile))
		return false;
	size_t n = strlen(rdir);
	return strncmp(rfile, rdir, n) == 0 && (rfile[n] == '/' || (n == 1 && rdir[0] == '/'));
}

/* Serve one file; false if it does not exist (nothing written to resp). */
static bool serve_file(struct http_request *req, struct http_response *resp, const char *rel, bool is_index)
{
	char full[PATH_MAX];
	int n = snprintf(full, sizeof full, "%s/%s", ui_api_dir(), rel);
	if (n < 0 || (size_t)n >= sizeof full || !inside_dir(full))
		return false;
	bool gz_ok;
	const char *type = content_type_of(rel, &gz_ok);
	uint8_t *data = NULL;
	size_t len = 0;
	struct stat st;
	int rc = read_file(full, &data, &len, &st);
	if (rc == CLEW_ENOTFOUND)
		return false;
	if (rc < 0) {
		char msg[160];
		snprintf(msg, sizeof msg, "cannot read UI file %s: %s", rel, err_str(rc));
		api_error(resp, req, 500, msg);
		return true;
	}
	char etag[64];
	int elen = snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)st.st_size,
			    (unsigned long long)st.st_mtim.tv_sec * 1000000000ull + (unsigned long long)st.st_mtim.tv_nsec);
	struct slice tag = slice_make(etag, (size_t)elen);
	http_response_header(resp, req, "ETag", tag);
	/* index.html names no hashed files, so every file is revalidated */
	http_response_header(resp, req, "Cache-Control", SLICE_LIT("no-cache"));
	http_response_header(resp, req, "X-Content-Type-Options", SLICE_LIT("nosniff"));
	if (is_index)
		http_response_header(resp, req, "Referrer-Policy", SLICE_LIT("same-origin"));
	const struct slice *inm = http_request_header(req, "if-none-match");
	if (inm && slice_eq(*inm, tag)) {
		resp->status = 304;
		buf_clear(&resp->body);
		goto out;
	}
	const char *ct = type ? type : "application/octet-stream";
	if (gz_ok && len >= UI_GZIP_MIN_BYTES && accepts_gzip(req) && gzip_into(&resp->body, data, len) == 0) {
		http_response_header(resp, req, "Content-Encoding", SLICE_LIT("gzip"));
		http_response_header(resp, req, "Vary", SLICE_LIT("Accept-Encoding"));
		api_ok(resp, req, ct);
		goto out;
	}
	http_response_text(resp, req, 200, ct, slice_make(data, len));
	if (resp->body.err)
		api_error(resp, req, 500, "UI file larger than a response may be");
out:
	free(data);
	return true;
}

bool ui_api_handle(struct query_api *q, struct http_request *req, struct http_response *resp)
{
	(void)q;
	if (is_api_path(req->path))
		return false;
	char rel[UI_MAX_PATH_BYTES];
	if (!ui_rel_path(req->path, rel, sizeof rel)) {
		api_error(resp, req, 404, "not found");
		return true;
	}
	if (rel[0] && serve_file(req, resp, rel, strcmp(rel, "index.html") == 0))
		return true;
	bool unused;
	if (rel[0] && content_type_of(rel, &unused)) {
		/* a missing asset is a 404, not the application page */
		api_error(resp, req, 404, "not found");
		return true;
	}
	if (serve_file(req, resp, "index.html", true))
		return true;
	http_response_header(resp, req, "Cache-Control", SLICE_LIT("no-cache"));
	http_response_text(resp, req, 200, "text/html; charset=utf-8",
			   slice_make(not_built_page, sizeof not_built_page - 1));
	return true;
}
