/* reader.c - bounds-checked reads (see td_reader.h for the contract). */
#include "td_reader.h"

#include <string.h>

void td_reader_init(struct td_reader *r, const uint8_t *data, size_t len)
{
	r->data = data;
	r->len = data ? len : 0;
	r->off = 0;
}

/* The one bounds check: written as n > len - off so it cannot overflow;
 * off <= len always holds because every consumer goes through here. */
static enum td_err need(const struct td_reader *r, size_t n)
{
	if (n > r->len - r->off)
		return TD_ERR_SHORT;
	return TD_OK;
}

enum td_err td_read_u8(struct td_reader *r, uint8_t *v)
{
	TD_TRY(need(r, 1));
	*v = r->data[r->off];
	r->off += 1;
	return TD_OK;
}

enum td_err td_read_u16(struct td_reader *r, uint16_t *v)
{
	TD_TRY(need(r, 2));
	const uint8_t *p = r->data + r->off;
	*v = (uint16_t)((unsigned)p[0] << 8 | p[1]);
	r->off += 2;
	return TD_OK;
}

enum td_err td_read_u24(struct td_reader *r, uint32_t *v)
{
	TD_TRY(need(r, 3));
	const uint8_t *p = r->data + r->off;
	*v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
	r->off += 3;
	return TD_OK;
}

enum td_err td_read_u32(struct td_reader *r, uint32_t *v)
{
	TD_TRY(need(r, 4));
	const uint8_t *p = r->data + r->off;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	r->off += 4;
	return TD_OK;
}

enum td_err td_read_bytes(struct td_reader *r, void *out, size_t n)
{
	TD_TRY(need(r, n));
	if (n)
		memcpy(out, r->data + r->off, n);
	r->off += n;
	return TD_OK;
}

enum td_err td_read_ptr(struct td_reader *r, const uint8_t **p, size_t n)
{
	TD_TRY(need(r, n));
	*p = r->data + r->off;
	r->off += n;
	return TD_OK;
}

enum td_err td_read_skip(struct td_reader *r, size_t n)
{
	TD_TRY(need(r, n));
	r->off += n;
	return TD_OK;
}

enum td_err td_peek_u8(const struct td_reader *r, size_t at, uint8_t *v)
{
	if (at >= r->len - r->off)
		return TD_ERR_SHORT;
	*v = r->data[r->off + at];
	return TD_OK;
}

enum td_err td_read_sub(struct td_reader *r, size_t n, struct td_reader *sub)
{
	TD_TRY(need(r, n));
	td_reader_init(sub, r->data + r->off, n);
	r->off += n;
	return TD_OK;
}

/* Reads a big-endian length of width bytes (1..3) and opens a sub-reader
 * over that many bytes. A vector whose length prefix is readable but whose
 * body is not is TD_ERR_SHORT too, and r is left where it was, so a caller
 * may retry. */
static enum td_err read_vec(struct td_reader *r, unsigned width, struct td_reader *sub)
{
	struct td_reader save = *r;
	size_t n = 0;
	for (unsigned i = 0; i < width; i++) {
		uint8_t b;
		enum td_err e = td_read_u8(r, &b);
		if (e != TD_OK) {
			*r = save;
			return e;
		}
		n = n << 8 | b;
	}
	enum td_err e = td_read_sub(r, n, sub);
	if (e != TD_OK)
		*r = save;
	return e;
}

enum td_err td_read_vec8(struct td_reader *r, struct td_reader *sub)
{
	return read_vec(r, 1, sub);
}

enum td_err td_read_vec16(struct td_reader *r, struct td_reader *sub)
{
	return read_vec(r, 2, sub);
}

enum td_err td_read_vec24(struct td_reader *r, struct td_reader *sub)
{
	return read_vec(r, 3, sub);
}

enum td_err td_reader_close(const struct td_reader *r)
{
	return r->off == r->len ? TD_OK : TD_ERR_TRAILING;
}
