/* The project-wide error codes. Functions return 0 on success or a negative
 * code: either -errno passed through from the system (libuv style) or one of
 * the CLEW_E* codes below, which sit far below any errno value. */
#ifndef CLEW_BASE_ERR_H
#define CLEW_BASE_ERR_H

enum clew_err {
	CLEW_EFIRST = -10000,
	CLEW_ENOMEM = -10000,	/* an input-driven allocation failed */
	CLEW_ELIMIT = -10001,	/* a configured size or count limit was exceeded */
	CLEW_EPARSE = -10002,	/* malformed input (wire data, query text) */
	CLEW_ECORRUPT = -10003, /* on-disk data failed a checksum or structure check */
	CLEW_EBUSY = -10004,	/* over a budget right now; the caller may retry */
	CLEW_ENOTFOUND = -10005,
	CLEW_EINVAL = -10006, /* a bad argument from our own caller or the user */
	CLEW_ESTATE = -10007, /* the object is in a state that forbids the call */
	CLEW_EUNSUPPORTED = -10008,
	CLEW_ELAST = -10008,
};

/* A static English description of rc (a CLEW_E* code or -errno). */
const char *err_str(int rc);

#endif
