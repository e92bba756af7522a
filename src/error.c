/* error.c - names and messages for enum td_err, from the X-macro list, and
 * the one formatter for callers' message buffers. */
#include "td_error.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const err_names[] = {
#define TD_X_NAME(name, msg) #name,
	TD_ERRORS(TD_X_NAME)
#undef TD_X_NAME
};

static const char *const err_msgs[] = {
#define TD_X_MSG(name, msg) msg,
	TD_ERRORS(TD_X_MSG)
#undef TD_X_MSG
};

const char *td_err_name(enum td_err e)
{
	if ((unsigned)e >= TD_ERR_COUNT)
		return "TD_ERR_UNKNOWN";
	return err_names[e];
}

const char *td_err_msg(enum td_err e)
{
	if ((unsigned)e >= TD_ERR_COUNT)
		return "unknown error";
	return err_msgs[e];
}

void td_err_format(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (!dst || n == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}
