#include "content.h"

#include <string.h>

const char *content_status_text(const struct content *c)
{
	switch (c->status) {
	case CONTENT_OK:
		return "read";
	case CONTENT_MISSING:
		return "does not exist";
	case CONTENT_NOT_FILE:
		return "is not a regular file";
	case CONTENT_TOO_BIG:
		return "is larger than 1 MiB";
	case CONTENT_OUTSIDE:
		return "is a symbolic link out of the directory, not followed";
	case CONTENT_FAILED:
		break;
	}
	return strerror(c->err);
}
