#include "verdict.h"

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_APPROVED:
		return "approved";
	case VERDICT_REFUSED:
		return "refused";
	case VERDICT_PENDING:
		return "pending";
	case VERDICT_UNKNOWN:
		break;
	}
	return "unknown";
}
