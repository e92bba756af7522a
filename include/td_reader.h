/* td_reader.h - the one bounds-checked reader under every parser.
 *
 * A reader is a borrowed view (pointer, length, offset) over bytes owned by
 * someone else; it never allocates. Every read checks the remaining length
 * first with a test that cannot overflow (n > len - off). On failure the
 * reader is left unchanged and TD_ERR_SHORT is returned, so a push parser
 * can retry when more bytes arrive.
 *
 * Length-prefixed vectors (RFC 8446 §3.4) are opened as sub-readers over
 * exactly their bytes (the picotls ptls_decode_open_block idea); a parser
 * that finishes a vector calls td_reader_close() to assert it consumed it
 * all: leftover bytes are TD_ERR_TRAILING, an error of its own.
 *
 * Integers are read in network byte order.
 */
#ifndef TD_READER_H
#define TD_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "td_error.h"

struct td_reader {
	const uint8_t *data; /* borrowed; lives as long as the caller says */
	size_t len;
	size_t off;
};

/* Starts a reader over data[0..len). data may be NULL when len is 0. */
void td_reader_init(struct td_reader *r, const uint8_t *data, size_t len);

static inline size_t td_reader_left(const struct td_reader *r)
{
	return r->len - r->off;
}

TD_MUST_CHECK enum td_err td_read_u8(struct td_reader *r, uint8_t *v);
TD_MUST_CHECK enum td_err td_read_u16(struct td_reader *r, uint16_t *v);
TD_MUST_CHECK enum td_err td_read_u24(struct td_reader *r, uint32_t *v);
TD_MUST_CHECK enum td_err td_read_u32(struct td_reader *r, uint32_t *v);
/* Copies n bytes into out. */
TD_MUST_CHECK enum td_err td_read_bytes(struct td_reader *r, void *out, size_t n);
/* Borrows n bytes: *p points into the reader's data, valid as long as it. */
TD_MUST_CHECK enum td_err td_read_ptr(struct td_reader *r, const uint8_t **p, size_t n);
TD_MUST_CHECK enum td_err td_read_skip(struct td_reader *r, size_t n);
/* Looks at the byte at offset off + at without consuming it. */
TD_MUST_CHECK enum td_err td_peek_u8(const struct td_reader *r, size_t at, uint8_t *v);

/* Text (key logs, rule files): scans without consuming.
 * The offset, from off, of the first byte c in what is left: TD_ERR_SHORT
 * when there is none (*at unchanged). */
TD_MUST_CHECK enum td_err td_reader_find_u8(const struct td_reader *r, uint8_t c, size_t *at);
/* How many bytes from off on are in set (member) or not in it (!member);
 * set is a NUL-terminated list of the bytes (so it cannot hold NUL). */
size_t td_reader_span(const struct td_reader *r, const char *set, bool member);
/* How many bytes from off on are hex digits (0-9, a-f, A-F). */
size_t td_reader_hex_span(const struct td_reader *r);
/* Decodes 2n hex digits of either case into n bytes of out. TD_ERR_SHORT
 * when fewer than 2n bytes are left, TD_ERR_MALFORMED when one of them is
 * not a hex digit; either way r is unchanged (out may be written). */
TD_MUST_CHECK enum td_err td_read_hex(struct td_reader *r, uint8_t *out, size_t n);

/* Opens a sub-reader over the next n bytes and consumes them from r. */
TD_MUST_CHECK enum td_err td_read_sub(struct td_reader *r, size_t n, struct td_reader *sub);
/* Reads a length prefix of 1, 2 or 3 bytes and opens a sub-reader over that
 * many bytes. */
TD_MUST_CHECK enum td_err td_read_vec8(struct td_reader *r, struct td_reader *sub);
TD_MUST_CHECK enum td_err td_read_vec16(struct td_reader *r, struct td_reader *sub);
TD_MUST_CHECK enum td_err td_read_vec24(struct td_reader *r, struct td_reader *sub);
/* TD_OK when every byte of r was consumed, TD_ERR_TRAILING otherwise. */
TD_MUST_CHECK enum td_err td_reader_close(const struct td_reader *r);

/* Guard macro (one of the few, STYLE.md rule 6): evaluates expr, an
 * enum td_err expression, and returns it from the calling function when it
 * is not TD_OK. */
#define TD_TRY(expr)                                                        \
	do {                                                                \
		enum td_err td_try_err_ = (expr);                           \
		if (td_try_err_ != TD_OK)                                   \
			return td_try_err_;                                 \
	} while (0)

#endif
