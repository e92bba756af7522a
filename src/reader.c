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

enum td_err td_reader_find_u8(const struct td_reader *r, uint8_t c, size_t *at)
{
	size_t left = td_reader_left(r);
	const uint8_t *q = left ? memchr(r->data + r->off, c, left) : NULL;

	if (!q)
		return TD_ERR_SHORT;
	*at = (size_t)(q - (r->data + r->off));
	return TD_OK;
}

size_t td_reader_span(const struct td_reader *r, const char *set, bool member)
{
	uint64_t in[4] = {0}; /* the set as 256 bits */
	size_t n = 0, left = td_reader_left(r);
	uint8_t c;

	if (!member) {
		/* up to the first byte of the set: memchr for each */
		for (; *set; set++) {
			const uint8_t *q = left ? memchr(r->data + r->off, *set, left) : NULL;

			if (q)
				left = (size_t)(q - (r->data + r->off));
		}
		return left;
	}
	for (; *set; set++) {
		c = (uint8_t)*set;
		in[c >> 6] |= (uint64_t)1 << (c & 63);
	}
	for (; n < left; n++) {
		c = r->data[r->off + n];
		if (!((in[c >> 6] >> (c & 63)) & 1))
			break;
	}
	return n;
}

/* A hex digit's value plus one; 0 for any other byte. */
static const uint8_t hex_digit[256] = {
	['0'] = 1,  ['1'] = 2,	['2'] = 3,  ['3'] = 4,	['4'] = 5,  ['5'] = 6,	['6'] = 7,
	['7'] = 8,  ['8'] = 9,	['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14,
	['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15,
	['F'] = 16,
};

size_t td_reader_hex_span(const struct td_reader *r)
{
	size_t n = 0, left = td_reader_left(r);

	while (n < left && hex_digit[r->data[r->off + n]])
		n++;
	return n;
}

enum td_err td_read_hex(struct td_reader *r, uint8_t *out, size_t n)
{
	const uint8_t *p = r->data + r->off;

	if (n > td_reader_left(r) / 2)
		return TD_ERR_SHORT;
	for (size_t i = 0; i < n; i++) {
		unsigned hi = hex_digit[p[2 * i]], lo = hex_digit[p[2 * i + 1]];

		if (!hi || !lo)
			return TD_ERR_MALFORMED;
		out[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
	}
	r->off += 2 * n;
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
