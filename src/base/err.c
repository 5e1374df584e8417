/* Text for the project-wide error codes. */
#include "base/err.h"

#include <string.h>

const char *err_str(int rc)
{
	switch (rc) {
	case 0:
		return "success";
	case CLEW_ENOMEM:
		return "out of memory";
	case CLEW_ELIMIT:
		return "limit exceeded";
	case CLEW_EPARSE:
		return "malformed input";
	case CLEW_ECORRUPT:
		return "corrupt data";
	case CLEW_EBUSY:
		return "over budget, retry later";
	case CLEW_ENOTFOUND:
		return "not found";
	case CLEW_EINVAL:
		return "invalid argument";
	case CLEW_ESTATE:
		return "invalid state";
	case CLEW_EUNSUPPORTED:
		return "unsupported";
	}
	if (rc < 0 && rc > CLEW_EFIRST)
		return strerror(-rc);
	return "unknown error";
}
