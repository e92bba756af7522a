/* td_error.h - the one error enum of tlsdiag.
 *
 * Names and messages come from one X-macro list, so a new error is one line.
 * "Need more data" (TD_ERR_SHORT) is kept apart from "malformed"
 * (TD_ERR_MALFORMED): a push parser waits on the first and gives up on the
 * second (tcpdump keeps "truncated" apart from "invalid" the same way).
 */
#ifndef TD_ERROR_H
#define TD_ERROR_H

#include <stddef.h>

#define TD_ERRORS(X)                                                        \
	X(TD_OK, "ok")                                                      \
	X(TD_ERR_SHORT, "need more data (input ends inside a field)")       \
	X(TD_ERR_MALFORMED, "malformed")                                    \
	X(TD_ERR_TRAILING, "bytes left over at the end of a block")         \
	X(TD_ERR_TOO_BIG, "length above the configured cap")                \
	X(TD_ERR_NOMEM, "out of memory")                                    \
	X(TD_ERR_IO, "input/output error")                                  \
	X(TD_ERR_UNSUPPORTED, "unsupported")                                \
	X(TD_ERR_ARG, "invalid argument")                                   \
	X(TD_ERR_EXISTS, "file exists with other content")                  \
	X(TD_ERR_CRYPTO, "libcrypto rejected the input")

enum td_err {
#define TD_X_ENUM(name, msg) name,
	TD_ERRORS(TD_X_ENUM)
#undef TD_X_ENUM
	TD_ERR_COUNT
};

/* Symbolic name ("TD_ERR_SHORT"); never NULL. */
const char *td_err_name(enum td_err e);
/* Human message ("need more data ..."); never NULL. */
const char *td_err_msg(enum td_err e);

/* Formats like snprintf into a caller's message buffer (dst, n bytes, always
 * NUL-terminated, cut at n - 1). Does nothing when dst is NULL or n is 0,
 * so entry points whose err buffer is optional ("err may be NULL when
 * errlen is 0") can write their message unconditionally. */
void td_err_format(char *dst, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Result attribute for every function whose return value must be checked
 * (STYLE.md rule 6). */
#define TD_MUST_CHECK __attribute__((warn_unused_result))

#endif
