/* report_json.c - the JSON Lines report, schema_version 1 (td_report.h).
 *
 * One object per connection mirroring struct td_session, and a summary
 * object last. Each object has one builder, written against the emitter
 * below: --json writes its text straight into the output buffer, and
 * td_report_session_json() / td_report_summary_json() build the same
 * object as a jansson tree. An object that cannot be made (out of memory)
 * becomes an error line rather than a line that breaks the schema.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "td_decode.h"
#include "td_decompress.h"
#include "td_decrypt.h"
#include "td_diagnose.h"
#include "td_digest.h"
#include "td_error.h"
#include "td_names.h"
#include "td_report.h"
#include "td_fingerprint.h"
#include "td_report_util.h"
#include "td_starttls.h"
#include "td_x509.h"

/* The writer: the same bytes json_dumpf(v, out, TD_REPORT_JSON_FLAGS)
 * writes (compact, insertion order, %.15g reals with ".0" added and the
 * exponent's '+' and leading zeros dropped, strings escaped as jansson
 * escapes them: '"', '\\', and control characters below 0x20, \u with
 * upper-case hex), but into a td_report_buf written with one fwrite() per
 * line instead of jansson's callback per token, which took 45 % of a --json run
 * (bench/README.md). The emitter's text backend (below) writes each value
 * with these; td_report_json_dump() writes a whole tree with jw_value().
 * The tree is ours: its depth is the builders', not the wire's, so the
 * recursion is bounded. test/check_report.c compares with json_dumps() on
 * generated trees and, through the emitter, on every sample. */
/* Whether one of the 8 bytes of x is below 0x20, '"' or '\\': the exact
 * word tests "has a byte below n" ((x - n*ones) & ~x & highs, n <= 128)
 * and "has a zero byte" (the same with n = 1) on x and on x xor the
 * character. */
static bool jw_word_special(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');

	return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs;
}

static void jw_string(struct td_report_buf *w, const char *s, size_t len)
{
	size_t run = 0, i = 0;

	td_report_buf_putc(w, '"');
	while (i < len) {
		unsigned char c;
		char esc[8];
		const char *e;
		uint64_t x;

		if (len - i >= 8) {
			memcpy(&x, s + i, 8);
			if (!jw_word_special(x)) {
				i += 8;
				continue;
			}
		}
		c = (unsigned char)s[i++];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		td_report_buf_put(w, s + run, i - 1 - run);
		run = i;
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default:
			snprintf(esc, sizeof esc, "\\u%04X", c);
			e = esc;
		}
		td_report_buf_put(w, e, strlen(e));
	}
	td_report_buf_put(w, s + run, len - run);
	td_report_buf_putc(w, '"');
}

/* Room for a real as jw_real_fmt() writes it ("%.15g", ".0" added). */
#define JW_REAL_MAX 48

/* v as jansson writes it when v is a whole number of thousandths
 * (offset_ms: microseconds / 1000), without snprintf(), into out;
 * returns the length, 0 for any other v. Why it is the same text:
 * td_report_thousandths() puts v within 3.4e-16 relative of k/1000 with
 * |k| < 10^15, while 15-digit decimals near v are more than 1e-15
 * relative apart: rounded to 15 significant digits v is k/1000, which has
 * at most 15 of them. "%.15g" writes it in plain notation (the exponent
 * is between -3 and 11) without trailing zeros, and jansson adds ".0"
 * when no '.' is left. -0.0 goes the slow way. test/check_report.c
 * compares with jansson on such values and on their neighbours. */
static size_t jw_real_ms(char out[JW_REAL_MAX], double v)
{
	char b[32];
	size_t len = sizeof b;
	long long k;
	unsigned long long u, frac;
	const char *start;

	if (!td_report_thousandths(v, &k))
		return 0;
	u = k < 0 ? 0ULL - (unsigned long long)k : (unsigned long long)k;
	frac = u % 1000;
	u /= 1000;
	if (frac == 0) {
		b[--len] = '0';
	} else {
		int digits = 3;

		while (frac % 10 == 0) {
			frac /= 10;
			digits--;
		}
		while (digits-- > 0) {
			b[--len] = (char)('0' + frac % 10);
			frac /= 10;
		}
	}
	b[--len] = '.';
	start = td_report_dec(b + len, u, k < 0);
	len = (size_t)(b + sizeof b - start);
	memcpy(out, start, len);
	return len;
}

/* jansson's jsonp_dtostr() with precision 15, in the "C" locale, into b;
 * returns the length, 0 when snprintf() failed. */
static size_t jw_real_fmt(char b[JW_REAL_MAX], double v)
{
	int len;
	char *e;
	size_t n = jw_real_ms(b, v);

	if (n)
		return n;
	len = snprintf(b, JW_REAL_MAX - 3, "%.15g", v);
	if (len < 0 || (size_t)len >= JW_REAL_MAX - 3)
		return 0;
	if (!strchr(b, '.') && !strchr(b, 'e')) {
		memcpy(b + len, ".0", 3);
		len += 2;
	}
	e = strchr(b, 'e');
	if (e) {
		char *start = e + 1, *end = e + 2;

		if (*start == '-')
			start++;
		while (*end == '0')
			end++;
		if (end != start) {
			memmove(start, end, (size_t)len - (size_t)(end - b) + 1);
			len -= (int)(end - start);
		}
	}
	return (size_t)len;
}

static void jw_real(struct td_report_buf *w, double v)
{
	char b[JW_REAL_MAX];
	size_t len = jw_real_fmt(b, v);

	if (len == 0)
		w->err = true;
	else
		td_report_buf_put(w, b, len);
}

/* The most jw_dec() writes: INT64_MIN, 19 digits and the sign. */
#define JW_DEC_MAX 20

/* i in decimal at p, no snprintf() (integers are most values); returns
 * the end. */
static char *jw_dec(char *p, json_int_t i)
{
	unsigned long long u = i < 0 ? 0ULL - (unsigned long long)i : (unsigned long long)i;

	if (i >= 0 && i < 10) { /* counts, flags, versions: most are one digit */
		*p = (char)('0' + i);
		return p + 1;
	}
	return td_report_dec_at(p, u, i < 0);
}

static void jw_int(struct td_report_buf *w, json_int_t i)
{
	char num[JW_DEC_MAX];

	td_report_buf_put(w, num, (size_t)(jw_dec(num, i) - num));
}

/* Whether the 8 bytes of x hold one that is not plain: below 0x20, '"',
 * '\\' or above 0x7f. */
static inline bool jw_word_bad(uint64_t x)
{
	return (x & 0x8080808080808080ULL) || jw_word_special(x);
}

/* The same for the 16 bytes at s. */
static inline bool jw_bad16(const char *s)
{
	return td_report_bad16(s, 0x7f, '"', '\\');
}

/* Whether s[0..len) goes into a JSON string as it is and is UTF-8 that
 * json_string() takes: ASCII without control bytes (NUL among them), '"'
 * or '\\'. One pass, 16 bytes at a time, the last 16 overlapping the
 * ones before; a short string in one or two words. A word test that errs
 * can only say "not plain", and the writers then take the byte-by-byte
 * way to the same text. */
static inline __attribute__((always_inline)) bool jw_plain(const char *s, size_t len)
{
	uint64_t x, y;

	if (len >= 16) {
		for (size_t i = 0; len - i > 16; i += 16)
			if (jw_bad16(s + i))
				return false;
		return !jw_bad16(s + len - 16);
	}
	if (len >= 8) {
		memcpy(&x, s, 8);
		memcpy(&y, s + len - 8, 8);
		return !jw_word_bad(x) && !jw_word_bad(y);
	}
	if (len >= 4) {
		uint32_t lo, hi;

		memcpy(&lo, s, 4);
		memcpy(&hi, s + len - 4, 4);
		x = lo | (uint64_t)hi << 32;
	} else if (len > 0) {
		/* the bytes 0, len / 2 and len - 1 cover all three; spaces
		 * (plain) in the rest of the word */
		x = 0x2020202020000000ULL | (uint8_t)s[0] | (uint64_t)(uint8_t)s[len / 2] << 8 |
		    (uint64_t)(uint8_t)s[len - 1] << 16;
	} else {
		return true;
	}
	return !jw_word_bad(x);
}

static void jw_bool(struct td_report_buf *w, bool v)
{
	if (v)
		td_report_buf_put(w, "true", 4);
	else
		td_report_buf_put(w, "false", 5);
}

static void jw_value(struct td_report_buf *w, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		bool first = true;

		td_report_buf_putc(w, '{');
		/* json_object_foreach() with the key's stored length */
		for (void *it = json_object_iter((json_t *)v); it;
		     it = json_object_iter_next((json_t *)v, it)) {
			if (!first)
				td_report_buf_putc(w, ',');
			first = false;
			jw_string(w, json_object_iter_key(it), json_object_iter_key_len(it));
			td_report_buf_putc(w, ':');
			jw_value(w, json_object_iter_value(it));
		}
		td_report_buf_putc(w, '}');
		break;
	}
	case JSON_ARRAY:
		td_report_buf_putc(w, '[');
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				td_report_buf_putc(w, ',');
			jw_value(w, json_array_get(v, i));
		}
		td_report_buf_putc(w, ']');
		break;
	case JSON_STRING:
		jw_string(w, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		jw_int(w, json_integer_value(v));
		break;
	case JSON_REAL:
		jw_real(w, json_real_value(v));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		jw_bool(w, json_is_true(v));
		break;
	case JSON_NULL:
		td_report_buf_put(w, "null", 4);
		break;
	}
}

int td_report_json_dump(FILE *out, const json_t *v)
{
	char mem[TD_REPORT_BUF_LEN];
	struct td_report_buf w;

	td_report_buf_init(&w, out, mem, sizeof mem);
	jw_value(&w, v);
	return td_report_buf_end(&w);
}

/* The emitter. Each builder below says what its object holds, member by
 * member in schema order, and one of two backends makes it: the text
 * backend writes the JSON text into a td_report_buf as it goes (--json:
 * no tree is built, which took a quarter of a --json run on the
 * handshake-heavy workload), the tree backend builds the jansson tree
 * that td_report_session_json() and td_report_summary_json() return
 * (index.json, tests, fuzz targets). One builder per object gives both,
 * so the line and the tree cannot disagree; test/check_report.c compares
 * the line with json_dumps() of the tree on every sample and on garbage
 * sessions.
 *
 * key is the member's name inside an object and NULL inside an array.
 * Keys are ours (ASCII without '"', '\\' or control bytes): the text
 * backend writes them as they are, which is what the escape gives.
 * A value the tree backend cannot make (out of memory, a string jansson
 * refuses) clears ok; the text backend clears it for the same strings
 * and reals, and the caller then writes an error line instead. */
#define JE_DEPTH 8 /* the builders nest 6 deep at most */

struct je {
	struct td_report_buf *w; /* the text backend; NULL: the tree backend */
	bool comma;		 /* text: the open container has a member */
	unsigned depth;		 /* tree: containers open, open[] the innermost */
	json_t *open[JE_DEPTH];	 /* borrowed: their parents hold them */
	json_t *root;
	bool ok;
	struct td_report_time_cache times; /* the second je_time() wrote last */
};

/* The primitives below take the key with its length klen (0 for NULL).
 * The builders call them through the macros that follow them, which add
 * je_klen(key): at nearly every call the key is a literal, and once this
 * is inlined there strlen() of it is a constant. */
static inline __attribute__((always_inline)) size_t je_klen(const char *key)
{
	return key ? strlen(key) : 0;
}

/* memcpy(d, s, n) for the few bytes of a key, inline: the first and the
 * last 8 (or 4) bytes, overlapping, for 4 to 16 bytes; the first, middle
 * and last byte for 1 to 3. */
static inline void jw_copy(char *d, const char *s, size_t n)
{
	if (n >= 8 && n <= 16) {
		uint64_t a, b;

		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4 && n < 8) {
		uint32_t a, b;

		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		memcpy(d, &a, 4);
		memcpy(d + n - 4, &b, 4);
	} else if (n > 0 && n < 4) {
		d[0] = s[0];
		d[n / 2] = s[n / 2];
		d[n - 1] = s[n - 1];
	} else if (n) {
		memcpy(d, s, n);
	}
}

/* text, the fast way: writes the separator and "key": and returns where
 * the value goes, with room for extra more bytes there; the caller writes
 * them and ends with je_text_end(). NULL, with nothing written, when the
 * buffer lacks the room: the caller then goes the slow way, je_key() and
 * the td_report_buf writers, which write the same bytes (they hand the
 * buffer's text to the FILE when full). One capacity check per member
 * rather than one per punctuation byte. */
static inline char *je_text_key(struct je *e, const char *key, size_t klen, size_t extra)
{
	struct td_report_buf *w = e->w;
	char *p;

	if (extra > w->cap - w->n || klen + 4 > w->cap - w->n - extra)
		return NULL;
	p = w->p + w->n;
	*p = ',';
	p += e->comma;
	e->comma = true;
	if (key) {
		*p++ = '"';
		jw_copy(p, key, klen);
		p += klen;
		*p++ = '"';
		*p++ = ':';
	}
	return p;
}

static inline void je_text_end(struct je *e, char *p)
{
	e->w->n = (size_t)(p - e->w->p);
}

/* text, the slow way: the separator and "key": before a value */
static void je_key(struct je *e, const char *key, size_t klen)
{
	struct td_report_buf *w = e->w;

	if (e->comma)
		td_report_buf_putc(w, ',');
	e->comma = true;
	if (key) {
		td_report_buf_putc(w, '"');
		td_report_buf_put(w, key, klen);
		td_report_buf_put(w, "\":", 2);
	}
}

/* tree: v (a new reference, NULL when it could not be made) as member
 * key of the innermost open container; false when it was not added (v is
 * then released). */
static bool je_add(struct je *e, const char *key, size_t klen, json_t *v)
{
	json_t *top;

	if (!v) {
		e->ok = false;
		return false;
	}
	if (e->depth == 0) {
		if (!e->root) {
			e->root = v;
			return true;
		}
		top = NULL;
	} else {
		top = e->depth <= JE_DEPTH ? e->open[e->depth - 1] : NULL;
	}
	if (!top || (key ? json_object_setn_new_nocheck(top, key, klen, v)
			 : json_array_append_new(top, v)) != 0) {
		if (!top)
			json_decref(v);
		e->ok = false;
		return false;
	}
	return true;
}

static void je_open(struct je *e, const char *key, size_t klen, bool array)
{
	json_t *c;

	if (e->w) {
		char *p = je_text_key(e, key, klen, 1);

		if (p) {
			*p++ = array ? '[' : '{';
			je_text_end(e, p);
		} else {
			je_key(e, key, klen);
			td_report_buf_putc(e->w, array ? '[' : '{');
		}
		e->comma = false;
		return;
	}
	c = array ? json_array() : json_object();
	if (!je_add(e, key, klen, c))
		c = NULL;
	if (e->depth < JE_DEPTH)
		e->open[e->depth] = c;
	else
		e->ok = false;
	e->depth++;
}

static void je_close(struct je *e, bool array)
{
	if (e->w) {
		td_report_buf_putc(e->w, array ? ']' : '}');
		e->comma = true;
		return;
	}
	if (e->depth)
		e->depth--;
}

static void je_obj(struct je *e, const char *key, size_t klen)
{
	je_open(e, key, klen, false);
}

static void je_end(struct je *e)
{
	je_close(e, false);
}

static void je_arr(struct je *e, const char *key, size_t klen)
{
	je_open(e, key, klen, true);
}

static void je_end_arr(struct je *e)
{
	je_close(e, true);
}

/* The scalars but strings and reals: null, true/false, integers. */
enum je_scalar { JE_NULL, JE_BOOL, JE_INT };

static void je_scalar(struct je *e, const char *key, size_t klen, enum je_scalar kind,
		      json_int_t v)
{
	char *p;

	if (!e->w) {
		je_add(e, key, klen,
		       kind == JE_NULL	 ? json_null()
		       : kind == JE_BOOL ? json_boolean(v)
					 : json_integer(v));
		return;
	}
	p = je_text_key(e, key, klen, JW_DEC_MAX);
	if (!p) {
		je_key(e, key, klen);
		if (kind == JE_NULL)
			td_report_buf_put(e->w, "null", 4);
		else if (kind == JE_BOOL)
			jw_bool(e->w, v);
		else
			jw_int(e->w, v);
		return;
	}
	if (kind == JE_NULL) {
		memcpy(p, "null", 4);
		p += 4;
	} else if (kind == JE_BOOL && v) {
		memcpy(p, "true", 4);
		p += 4;
	} else if (kind == JE_BOOL) {
		memcpy(p, "false", 5);
		p += 5;
	} else {
		p = jw_dec(p, v);
	}
	je_text_end(e, p);
}

static void je_null(struct je *e, const char *key, size_t klen)
{
	je_scalar(e, key, klen, JE_NULL, 0);
}

/* Opens object key when present and returns true; writes null for it
 * otherwise: the "object or null" members. */
static bool je_obj_if(struct je *e, const char *key, size_t klen, bool present)
{
	if (!present) {
		je_null(e, key, klen);
		return false;
	}
	je_obj(e, key, klen);
	return true;
}

static void je_bool(struct je *e, const char *key, size_t klen, bool v)
{
	je_scalar(e, key, klen, JE_BOOL, v);
}

static void je_int(struct je *e, const char *key, size_t klen, json_int_t v)
{
	je_scalar(e, key, klen, JE_INT, v);
}

/* json_int_t is long long: counters never reach 2^63. */
static json_int_t je_clamp(uint64_t v)
{
	return (json_int_t)(v > INT64_MAX ? INT64_MAX : v);
}

static void je_u64(struct je *e, const char *key, size_t klen, uint64_t v)
{
	je_int(e, key, klen, je_clamp(v));
}

static void je_real(struct je *e, const char *key, size_t klen, double v)
{
	if (e->w) {
		char b[JW_REAL_MAX], *p;
		size_t len = jw_real_fmt(b, v);

		/* json_real() refuses NaN and infinities */
		if (!isfinite(v))
			e->ok = false;
		if (len && (p = je_text_key(e, key, klen, len))) {
			memcpy(p, b, len);
			je_text_end(e, p + len);
			return;
		}
		je_key(e, key, klen);
		if (len)
			td_report_buf_put(e->w, b, len);
		else
			e->w->err = true;
	} else {
		je_add(e, key, klen, json_real(v));
	}
}

/* Whether s[0..len) is UTF-8 that json_string() takes (no NUL). */
static bool je_utf8(const char *s, size_t len)
{
	size_t i = 0;

	/* ASCII 8 bytes at a time, as most of ours are (no NUL: the length
	 * is the strlen()) */
	for (; len - i >= 8; i += 8) {
		uint64_t x;

		memcpy(&x, s + i, 8);
		if (x & 0x8080808080808080ULL)
			break;
	}
	while (i < len) {
		size_t n;

		if ((unsigned char)s[i] - 1u < 0x7fu) {
			i++;
			continue;
		}
		n = s[i] ? td_report_utf8_seq((const uint8_t *)s + i, len - i) : 0;
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/* text: s[0..len) as member key when it goes into the JSON string as it
 * is (jw_plain()) and the buffer has the room, in one pass over s and
 * one copy; false, with nothing written, otherwise. Most strings we
 * write are names, ids, hex digits and times. */
static inline __attribute__((always_inline)) bool je_text_plain(struct je *e, const char *key,
								 size_t klen, const char *s,
								 size_t len)
{
	char *p;

	if (!jw_plain(s, len) || !(p = je_text_key(e, key, klen, len + 2)))
		return false;
	*p++ = '"';
	memcpy(p, s, len);
	p += len;
	*p++ = '"';
	je_text_end(e, p);
	return true;
}

/* A string of ours (names, ids, hex, paths given to tlsdiag) of length
 * len (its strlen()): as json_string() takes it. */
static void je_strn(struct je *e, const char *key, size_t klen, const char *s, size_t len)
{
	if (!e->w) {
		je_add(e, key, klen, json_stringn(s, len));
		return;
	}
	if (je_text_plain(e, key, klen, s, len))
		return;
	if (!je_utf8(s, len))
		e->ok = false;
	je_key(e, key, klen);
	jw_string(e->w, s, len);
}

static void je_str(struct je *e, const char *key, size_t klen, const char *s)
{
	je_strn(e, key, klen, s, strlen(s));
}

static void je_str_or_null(struct je *e, const char *key, size_t klen, const char *s)
{
	if (s)
		je_str(e, key, klen, s);
	else
		je_null(e, key, klen);
}

/* Bytes from the wire, through the JSON escape (td_report_util.h). */
static void je_wire(struct je *e, const char *key, size_t klen, const uint8_t *p, size_t len)
{
	const char *v;
	size_t n;
	char *heap;

	if (!e->w) {
		je_add(e, key, klen, td_report_json_wire(p, len));
		return;
	}
	/* plain bytes are what the escape gives back as they are */
	if (je_text_plain(e, key, klen, (const char *)p, len))
		return;
	if (!td_report_json_escape(p, len, &v, &n, &heap)) {
		e->ok = false;
		v = "";
		n = 0;
	}
	je_key(e, key, klen);
	jw_string(e->w, v, n);
	free(heap);
}

/* A NUL-terminated string from the wire; NULL gives null. */
static void je_cstr(struct je *e, const char *key, size_t klen, const char *s)
{
	if (s)
		je_wire(e, key, klen, (const uint8_t *)s, strlen(s));
	else
		je_null(e, key, klen);
}

static void je_frame(struct je *e, const char *key, size_t klen, uint32_t frame)
{
	/* Frames count from 1; 0 means "none". */
	if (frame)
		je_int(e, key, klen, frame);
	else
		je_null(e, key, klen);
}

static void je_time(struct je *e, const char *key, size_t klen, struct td_time t)
{
	char buf[TD_REPORT_TIME_LEN];

	je_str(e, key, klen, td_report_time_utc_cached(&e->times, t, buf));
}

static void je_hex(struct je *e, const char *key, size_t klen, const uint8_t *data, size_t len)
{
	char buf[2 * 64 + 1];

	if (len > 64)
		e->ok = false;
	else
		je_strn(e, key, klen, td_hex(data, len, buf), 2 * len);
}

/* {"client": c, "server": s} */
static void je_pair_u64(struct je *e, const char *key, size_t klen, uint64_t c, uint64_t s)
{
	char *p;

	/* text: the whole object with one capacity check (there are a dozen
	 * per connection) */
	if (e->w && (p = je_text_key(e, key, klen, 2 * JW_DEC_MAX + 21))) {
		memcpy(p, "{\"client\":", 10);
		p = jw_dec(p + 10, je_clamp(c));
		memcpy(p, ",\"server\":", 10);
		p = jw_dec(p + 10, je_clamp(s));
		*p++ = '}';
		je_text_end(e, p);
		return;
	}
	je_obj(e, key, klen);
	je_u64(e, "client", 6, c);
	je_u64(e, "server", 6, s);
	je_end(e);
}

static void je_dir(struct je *e, const char *key, size_t klen, int dir)
{
	if (dir < 0)
		je_null(e, key, klen);
	else
		je_str(e, key, klen, td_dir_name(dir));
}

/* A code point name as td_names_fmt16 writes it: the name, "GREASE
 * (0x1a1a)" or "unknown (0x1234)", so nothing from the wire is lost. */
static void je_name16(struct je *e, const char *key, size_t klen, const char *(*lookup)(uint16_t),
		      uint16_t v)
{
	char buf[TD_NAMES_FMT_LEN];

	je_str(e, key, klen, td_names_str16(buf, sizeof buf, lookup, v));
}

/* The same, null for 0 (not sent). */
static void je_name16_or_null(struct je *e, const char *key, size_t klen,
			      const char *(*lookup)(uint16_t), uint16_t v)
{
	if (v)
		je_name16(e, key, klen, lookup, v);
	else
		je_null(e, key, klen);
}

static void je_epoch_or_null(struct je *e, const char *key, size_t klen, int64_t sec)
{
	if (sec)
		je_time(e, key, klen, (struct td_time){ sec, 0 });
	else
		je_null(e, key, klen);
}

static void je_names16(struct je *e, const char *key, size_t klen, const uint16_t *v, size_t n,
		       const char *(*lookup)(uint16_t))
{
	je_arr(e, key, klen);
	for (size_t i = 0; i < n; i++)
		je_name16(e, NULL, 0, lookup, v[i]);
	je_end_arr(e);
}

/* An array of NUL-terminated wire strings (NULL list: empty array). */
static void je_cstrs(struct je *e, const char *key, size_t klen, char *const *items, size_t n)
{
	je_arr(e, key, klen);
	for (size_t i = 0; items && i < n; i++)
		je_cstr(e, NULL, 0, items[i]);
	je_end_arr(e);
}

/* An integer, null for 0 (not sent). */
static void je_int_or_null(struct je *e, const char *key, size_t klen, json_int_t v)
{
	if (v)
		je_int(e, key, klen, v);
	else
		je_null(e, key, klen);
}

/* The builders' calls: each primitive above with je_klen(key) added
 * (variadic: a compound literal's commas are the macro's too). */
#define je_obj(e, key) je_obj(e, key, je_klen(key))
#define je_arr(e, key) je_arr(e, key, je_klen(key))
#define je_obj_if(e, key, ...) je_obj_if(e, key, je_klen(key), __VA_ARGS__)
#define je_null(e, key) je_null(e, key, je_klen(key))
#define je_bool(e, key, ...) je_bool(e, key, je_klen(key), __VA_ARGS__)
#define je_int(e, key, ...) je_int(e, key, je_klen(key), __VA_ARGS__)
#define je_u64(e, key, ...) je_u64(e, key, je_klen(key), __VA_ARGS__)
#define je_real(e, key, ...) je_real(e, key, je_klen(key), __VA_ARGS__)
#define je_str(e, key, ...) je_str(e, key, je_klen(key), __VA_ARGS__)
#define je_str_or_null(e, key, ...) je_str_or_null(e, key, je_klen(key), __VA_ARGS__)
#define je_wire(e, key, ...) je_wire(e, key, je_klen(key), __VA_ARGS__)
#define je_cstr(e, key, ...) je_cstr(e, key, je_klen(key), __VA_ARGS__)
#define je_frame(e, key, ...) je_frame(e, key, je_klen(key), __VA_ARGS__)
#define je_time(e, key, ...) je_time(e, key, je_klen(key), __VA_ARGS__)
#define je_hex(e, key, ...) je_hex(e, key, je_klen(key), __VA_ARGS__)
#define je_pair_u64(e, key, ...) je_pair_u64(e, key, je_klen(key), __VA_ARGS__)
#define je_dir(e, key, ...) je_dir(e, key, je_klen(key), __VA_ARGS__)
#define je_name16(e, key, ...) je_name16(e, key, je_klen(key), __VA_ARGS__)
#define je_name16_or_null(e, key, ...) je_name16_or_null(e, key, je_klen(key), __VA_ARGS__)
#define je_epoch_or_null(e, key, ...) je_epoch_or_null(e, key, je_klen(key), __VA_ARGS__)
#define je_names16(e, key, ...) je_names16(e, key, je_klen(key), __VA_ARGS__)
#define je_cstrs(e, key, ...) je_cstrs(e, key, je_klen(key), __VA_ARGS__)
#define je_int_or_null(e, key, ...) je_int_or_null(e, key, je_klen(key), __VA_ARGS__)

/* RFC 6066 §8: the stapled OCSP response, as the x509 module read it. */
static void j_ocsp(struct je *e, const char *key, const struct td_ocsp_facts *o)
{
	if (!je_obj_if(e, key, o->seen))
		return;
	je_frame(e, "frame", o->frame);
	je_int(e, "length", (json_int_t)o->length);
	je_bool(e, "parsed", o->parsed);
	if (o->parsed)
		je_str_or_null(e, "response_status",
			       td_ocsp_response_status_name(o->response_status));
	else
		je_null(e, "response_status");
	je_str_or_null(e, "cert_status",
		       td_ocsp_cert_status_name((enum td_ocsp_cert_status)o->cert_status));
	if (o->revocation_reason >= 0)
		je_int(e, "revocation_reason", o->revocation_reason);
	else
		je_null(e, "revocation_reason");
	je_int(e, "responses", (json_int_t)o->n_responses);
	je_epoch_or_null(e, "produced_at", o->produced_at);
	je_epoch_or_null(e, "this_update", o->this_update);
	je_epoch_or_null(e, "next_update", o->next_update);
	je_epoch_or_null(e, "revoked_at", o->revoked_at);
	je_end(e);
}

/* The CertificateRequest's first CA names as the subjects print; null for
 * one too long to keep or that does not decode. */
static void j_ca_names(struct je *e, const char *key, const struct td_session *s)
{
	je_arr(e, key);
	for (unsigned i = 0; i < s->cr_n_ca_names && i < TD_MAX_CA_NAMES; i++) {
		char *name = td_report_ca_name(s, i);

		je_cstr(e, NULL, name);
		free(name);
	}
	je_end_arr(e);
}

static void j_version(struct je *e, const char *key, uint16_t v)
{
	je_name16(e, key, td_names_version, v);
}

static void j_endpoint(struct je *e, const char *key, const struct td_addr *a, uint16_t port)
{
	char buf[64];

	je_obj(e, key);
	je_str(e, "ip", td_addr_str(a, buf, sizeof buf));
	je_int(e, "port", port);
	je_end(e);
}

/* ["vlan", "gre", ...]: td_encap_name() of each bit set, in bit order. */
static void j_encap(struct je *e, const char *key, uint16_t encap)
{
	je_arr(e, key);
	for (unsigned i = 0; i < TD_ENCAP_COUNT; i++)
		if (encap >> i & 1)
			je_str(e, NULL, td_encap_name(i));
	je_end_arr(e);
}

static void j_tcp(struct je *e, const char *key, const struct td_tcp_evidence *t)
{
	je_obj(e, key);
	je_pair_u64(e, "retransmissions", t->retransmissions[0], t->retransmissions[1]);
	je_pair_u64(e, "out_of_order", t->out_of_order[0], t->out_of_order[1]);
	je_pair_u64(e, "gaps", t->gaps[0], t->gaps[1]);
	je_pair_u64(e, "bytes_missing", t->bytes_missing[0], t->bytes_missing[1]);
	je_u64(e, "overlaps_differ", t->overlaps_differ);
	je_pair_u64(e, "zero_windows", t->zero_windows[0], t->zero_windows[1]);
	je_pair_u64(e, "largest_segment", t->largest_segment[0], t->largest_segment[1]);
	je_pair_u64(e, "rsts", t->rsts[0], t->rsts[1]);
	je_pair_u64(e, "keepalives", t->keepalives[0], t->keepalives[1]);
	je_pair_u64(e, "zero_window_probes", t->zero_window_probes[0], t->zero_window_probes[1]);
	je_pair_u64(e, "out_of_window", t->out_of_window[0], t->out_of_window[1]);
	je_end(e);
}

static void j_alpn_list(struct je *e, const char *key, const struct td_alpn_list *l)
{
	size_t n = l->n < TD_MAX_ALPN ? l->n : TD_MAX_ALPN;

	je_arr(e, key);
	for (size_t i = 0; i < n; i++) {
		size_t len = l->len[i] < TD_ALPN_LEN ? l->len[i] : TD_ALPN_LEN;

		je_wire(e, NULL, l->name[i], len);
	}
	je_end_arr(e);
}

/* Extensions whose presence is the fact (RFC numbers in tls.c). */
static void j_ext_facts(struct je *e, uint32_t f)
{
	je_bool(e, "extended_master_secret", f & TD_EXT_EMS);
	je_bool(e, "encrypt_then_mac", f & TD_EXT_ETM);
	je_bool(e, "session_ticket", f & TD_EXT_TICKET);
	je_bool(e, "status_request", f & TD_EXT_STATUS_REQUEST);
	je_bool(e, "signed_certificate_timestamp", f & TD_EXT_SCT);
	je_bool(e, "pre_shared_key", f & TD_EXT_PSK);
	je_bool(e, "early_data", f & TD_EXT_EARLY_DATA);
	je_bool(e, "heartbeat", f & TD_EXT_HEARTBEAT);
	je_bool(e, "encrypted_client_hello", f & TD_EXT_ECH);
}

static void j_client_hello(struct je *e, const char *key, const struct td_client_hello *ch)
{
	size_t n;

	if (!je_obj_if(e, key, ch->seen))
		return;
	je_int(e, "frame", ch->frame);
	je_time(e, "time", ch->ts);
	j_version(e, "record_version", ch->record_version);
	j_version(e, "legacy_version", ch->legacy_version);
	je_names16(e, "supported_versions", ch->versions,
		   ch->n_versions < TD_MAX_VERSIONS ? ch->n_versions : TD_MAX_VERSIONS,
		   td_names_version);
	je_names16(e, "cipher_suites", ch->suites,
		   ch->n_suites < TD_MAX_SUITES ? ch->n_suites : TD_MAX_SUITES, td_names_cipher_name);
	je_int(e, "cipher_suites_total", ch->total_suites);
	je_int(e, "compression_methods", ch->n_compression);
	je_names16(e, "extensions", ch->exts, ch->n_exts < TD_MAX_EXTS ? ch->n_exts : TD_MAX_EXTS,
		   td_names_extension);
	if (ch->has_sni) {
		n = ch->sni.len < TD_SNI_LEN ? ch->sni.len : TD_SNI_LEN;
		je_wire(e, "sni", ch->sni.bytes, n);
	} else {
		je_null(e, "sni");
	}
	j_alpn_list(e, "alpn", &ch->alpn);
	je_names16(e, "supported_groups", ch->groups,
		   ch->n_groups < TD_MAX_GROUPS ? ch->n_groups : TD_MAX_GROUPS, td_names_group);
	je_names16(e, "signature_algorithms", ch->sigalgs,
		   ch->n_sigalgs < TD_MAX_SIGALGS ? ch->n_sigalgs : TD_MAX_SIGALGS,
		   td_names_sigscheme);
	je_arr(e, "ec_point_formats");
	n = ch->n_point_formats < TD_MAX_POINT_FORMATS ? ch->n_point_formats : TD_MAX_POINT_FORMATS;
	for (size_t i = 0; i < n; i++)
		je_int(e, NULL, ch->point_formats[i]);
	je_end_arr(e);
	je_int(e, "session_id_length", ch->session_id_len);
	j_ext_facts(e, ch->ext_flags);
	je_names16(e, "key_share_groups", ch->key_shares,
		   ch->n_key_shares < TD_MAX_KEY_SHARES ? ch->n_key_shares : TD_MAX_KEY_SHARES,
		   td_names_group);
	/* RFC 8446 §4.2.9 PskKeyExchangeMode values 0 and 1 */
	je_arr(e, "psk_modes");
	if (ch->psk_modes & 1)
		je_str(e, NULL, "psk_ke");
	if (ch->psk_modes & 2)
		je_str(e, NULL, "psk_dhe_ke");
	je_end_arr(e);
	je_int(e, "session_ticket_length", ch->ticket_len);
	je_int_or_null(e, "record_size_limit", ch->record_size_limit);
	je_int_or_null(e, "max_fragment_length", ch->max_fragment_length);
	je_bool(e, "secure_renegotiation",
		ch->ext_flags & (TD_EXT_RENEGOTIATION_INFO | TD_EXT_SCSV_RENEGOTIATION));
	je_bool(e, "fallback_scsv", ch->ext_flags & TD_EXT_SCSV_FALLBACK);
	je_end(e);
}

static void j_server_hello(struct je *e, const char *key, const struct td_server_hello *sh)
{
	if (!je_obj_if(e, key, sh->seen))
		return;
	je_int(e, "frame", sh->frame);
	je_time(e, "time", sh->ts);
	j_version(e, "legacy_version", sh->legacy_version);
	je_name16_or_null(e, "selected_version", td_names_version, sh->selected_version);
	je_name16(e, "cipher_suite", td_names_cipher_name, sh->suite);
	je_int(e, "compression_method", sh->compression);
	je_names16(e, "extensions", sh->exts,
		   sh->n_exts < TD_MAX_SH_EXTS ? sh->n_exts : TD_MAX_SH_EXTS,
		   td_names_extension);
	if (sh->has_alpn)
		je_wire(e, "alpn", sh->alpn, sh->alpn_len < TD_ALPN_LEN ? sh->alpn_len : TD_ALPN_LEN);
	else
		je_null(e, "alpn");
	je_int(e, "session_id_length", sh->session_id_len);
	je_bool(e, "session_id_echoed", sh->session_id_echoed);
	je_bool(e, "hello_retry_request", sh->hello_retry_request);
	j_ext_facts(e, sh->ext_flags);
	je_name16_or_null(e, "key_share_group", td_names_group, sh->key_share);
	je_bool(e, "secure_renegotiation", sh->ext_flags & TD_EXT_RENEGOTIATION_INFO);
	je_str_or_null(e, "downgrade_sentinel", sh->downgrade == 12   ? "TLS 1.2"
						: sh->downgrade == 11 ? "TLS 1.1 or below"
								      : NULL);
	je_end(e);
}

/* A fingerprint and its string before hashing, both null when the hello
 * was not seen (fp empty). */
static void j_fingerprint(struct je *e, const char *key, const char *key_string, const char *fp,
			  const char *str)
{
	if (fp[0]) {
		je_str(e, key, fp);
		je_str(e, key_string, str);
	} else {
		je_null(e, key);
		je_null(e, key_string);
	}
}

static void j_tls(struct je *e, const char *key, const struct td_session *s)
{
	const struct td_cipher_info *ci = NULL;
	char str[TD_JA3_MAX > TD_JA4_RAW_MAX ? TD_JA3_MAX : TD_JA4_RAW_MAX];

	je_obj(e, key);
	if (s->sh->seen) {
		uint16_t v = td_session_version(s);

		ci = td_names_cipher(s->sh->suite);
		j_version(e, "version", v);
		je_int(e, "version_code", v);
		je_name16(e, "cipher_suite", td_names_cipher_name, s->sh->suite);
		je_int(e, "cipher_suite_code", s->sh->suite);
	} else {
		je_null(e, "version");
		je_null(e, "version_code");
		je_null(e, "cipher_suite");
		je_null(e, "cipher_suite_code");
	}
	je_str_or_null(e, "key_exchange", ci ? ci->kx : NULL);
	j_client_hello(e, "client_hello", s->ch);
	j_server_hello(e, "server_hello", s->sh);
	td_ja3_string(s->ch, str, sizeof str);
	j_fingerprint(e, "ja3", "ja3_string", s->ch->ja3, str);
	td_ja3s_string(s->sh, str, sizeof str);
	j_fingerprint(e, "ja3s", "ja3s_string", s->sh->ja3s, str);
	td_ja4_raw(s->ch, str, sizeof str);
	j_fingerprint(e, "ja4", "ja4_r", s->ch->ja4, str);
	td_ja4s_raw(s->sh, str, sizeof str);
	j_fingerprint(e, "ja4s", "ja4s_r", s->sh->ja4s, str);
	if (je_obj_if(e, "hello_retry_request", s->hrr_seen)) {
		je_int(e, "frame", s->hrr_frame);
		je_str_or_null(e, "ja3s", s->retry->ja3s[0] ? s->retry->ja3s : NULL);
		je_str_or_null(e, "ja4s", s->retry->ja4s[0] ? s->retry->ja4s : NULL);
		je_end(e);
	}
	if (je_obj_if(e, "client_hello_retry", s->ch2_frame != 0)) {
		je_int(e, "frame", s->ch2_frame);
		je_str_or_null(e, "ja3", s->retry->ja3[0] ? s->retry->ja3 : NULL);
		je_str_or_null(e, "ja4", s->retry->ja4[0] ? s->retry->ja4 : NULL);
		je_end(e);
	}
	je_bool(e, "resumed", s->resumed);
	if (s->resumed) {
		je_obj(e, "resumption");
		je_str(e, "how", td_resumption_name((enum td_resumption)s->resumption));
		if (s->full_handshake_in_capture < 0)
			je_null(e, "full_handshake_in_capture");
		else
			je_bool(e, "full_handshake_in_capture", s->full_handshake_in_capture > 0);
		je_int_or_null(e, "full_handshake_connection", (json_int_t)s->full_handshake_conn);
		je_frame(e, "full_handshake_frame", s->full_handshake_frame);
		je_end(e);
	} else {
		je_null(e, "resumption");
	}
	if (s->reneg_frame && (s->reneg_by == 0 || s->reneg_by == 1)) {
		je_obj(e, "renegotiation");
		je_str(e, "by", td_dir_name(s->reneg_by));
		je_frame(e, "frame", s->reneg_frame);
		je_bool(e, "secure", td_session_reneg_secure(s));
		je_end(e);
	} else {
		je_null(e, "renegotiation");
	}
	if (s->ske_group || s->ske_dh_bits) {
		je_obj(e, "server_key_exchange");
		je_name16_or_null(e, "group", td_names_group, s->ske_group);
		je_int_or_null(e, "dh_bits", s->ske_dh_bits);
		je_name16_or_null(e, "signature_scheme", td_names_sigscheme, s->ske_sigalg);
		je_end(e);
	} else {
		je_null(e, "server_key_exchange");
	}
	if (s->client_cert_requested) {
		je_obj(e, "certificate_request");
		je_int(e, "certificate_authorities", s->cr_n_cas);
		je_int(e, "signature_algorithms", s->cr_n_sigalgs);
		j_ca_names(e, "ca_names", s);
		je_names16(e, "signature_schemes", s->cr_sigalgs,
			   s->cr_n_sigalgs < TD_MAX_CR_SIGALGS ? s->cr_n_sigalgs
							       : TD_MAX_CR_SIGALGS,
			   td_names_sigscheme);
		je_end(e);
	} else {
		je_null(e, "certificate_request");
	}
	j_ocsp(e, "ocsp_staple", s->ocsp);
	je_name16_or_null(e, "certificate_verify_scheme", td_names_sigscheme, s->cv_sigalg);
	je_int_or_null(e, "client_key_exchange_length", s->cke_len);
	if (s->new_ticket_len) {
		je_obj(e, "new_session_ticket");
		je_int(e, "lifetime", (json_int_t)s->ticket_lifetime);
		je_int(e, "length", s->new_ticket_len);
		je_end(e);
	} else {
		je_null(e, "new_session_ticket");
	}
	je_bool(e, "certificates_visible", s->n_certs > 0);
	je_str_or_null(e, "certificates_note",
		       !s->certs_encrypted ? NULL
		       : s->n_certs	   ? "decrypted with the secrets given"
		       : s->resumed	   ? "none sent: resumed with a pre-shared key"
		       : s->cert_compressed && s->cert_compression_err
			       ? "compressed certificate not read"
					   : "certificate not visible without keys");
	je_frame(e, "certificate_frame", s->cert_frame);
	je_int(e, "certificates_total", s->total_certs);
	if (s->cert_compressed) {
		je_obj(e, "certificate_compression");
		je_str_or_null(e, "algorithm", td_cert_compression_name(s->cert_compression));
		je_int(e, "algorithm_code", s->cert_compression);
		je_int(e, "uncompressed_length", s->cert_uncompressed_len);
		je_str_or_null(e, "error", td_report_cert_compression_error(s->cert_compression_err));
		je_end(e);
	} else {
		je_null(e, "certificate_compression");
	}
	je_obj(e, "encryption_started");
	je_frame(e, "client", s->encrypted[0] ? s->encrypted_frame[0] : 0);
	je_frame(e, "server", s->encrypted[1] ? s->encrypted_frame[1] : 0);
	je_end(e);
	je_pair_u64(e, "records", s->records[0], s->records[1]);
	je_obj(e, "application_data");
	for (int d = 0; d < 2; d++) {
		je_obj(e, d ? "server" : "client");
		je_u64(e, "records", s->appdata_records[d]);
		je_u64(e, "bytes", s->appdata_bytes[d]);
		je_end(e);
	}
	je_end(e);
	je_str(e, "stage", td_stage_name(s->stage));
	je_str(e, "outcome", td_outcome_name(s->outcome));
	je_bool(e, "handshake_completed", s->outcome == TD_OUTCOME_COMPLETED);
	je_dir(e, "aborted_by", s->aborted_by);
	je_str_or_null(e, "aborted_how", td_report_abort_name(s->aborted_how));
	je_end(e);
}

static void j_cert_key(struct je *e, const char *key, const struct td_cert_key *k)
{
	je_obj(e, key);
	je_cstr(e, "algorithm", k->algorithm[0] ? k->algorithm : NULL);
	je_int(e, "bits", k->bits);
	if (k->rsa_exponent)
		je_u64(e, "rsa_exponent", k->rsa_exponent);
	else
		je_null(e, "rsa_exponent");
	je_cstr(e, "curve", k->curve[0] ? k->curve : NULL);
	je_cstr(e, "curve_nist", k->curve_nist[0] ? k->curve_nist : NULL);
	je_hex(e, "spki_sha256", k->spki_sha256, sizeof k->spki_sha256);
	je_str_or_null(e, "spki_sha256_b64", k->spki_sha256_b64[0] ? k->spki_sha256_b64 : NULL);
	if (k->has_modulus)
		je_hex(e, "rsa_modulus_sha256", k->rsa_modulus_sha256, sizeof k->rsa_modulus_sha256);
	else
		je_null(e, "rsa_modulus_sha256");
	je_end(e);
}

/* The extensions of td_cert_ext, flat in the certificate object. */
static void j_cert_ext(struct je *e, const struct td_cert_ext *x)
{
	if (x->has_key_usage) {
		je_arr(e, "key_usage");
		for (unsigned i = 0; i < TD_KU_COUNT; i++)
			if (x->key_usage & (1u << i))
				je_str(e, NULL, td_x509_key_usage_name(i));
		je_end_arr(e);
	} else {
		je_null(e, "key_usage");
	}
	if (x->n_eku)
		je_cstrs(e, "extended_key_usage", x->eku, x->n_eku);
	else
		je_null(e, "extended_key_usage");
	if (x->has_basic_constraints) {
		je_obj(e, "basic_constraints");
		je_bool(e, "ca", x->is_ca);
		if (x->path_len >= 0)
			je_int(e, "path_len", x->path_len);
		else
			je_null(e, "path_len");
		je_end(e);
	} else {
		je_null(e, "basic_constraints");
	}
	je_str_or_null(e, "subject_key_id", x->subject_key_id);
	je_str_or_null(e, "authority_key_id", x->authority_key_id);
	je_cstrs(e, "crl_urls", x->crl_urls, x->n_crl_urls);
	je_cstrs(e, "ocsp_urls", x->ocsp_urls, x->n_ocsp_urls);
	if (x->has_scts)
		je_int(e, "sct_count", x->n_scts);
	else
		je_null(e, "sct_count");
	je_int(e, "bad_extensions", x->bad_extensions);
}

/* The members of certificate pos of a chain; the caller opens and closes
 * the object (the server's chain adds the key match and checks). */
static void j_cert(struct je *e, size_t pos, const struct td_cert *c)
{
	je_int(e, "position", (json_int_t)pos);
	if (!c) {
		/* The x509 cache could not give a reference (out of memory). */
		je_null(e, "sha256");
		je_null(e, "sha1");
		je_bool(e, "parsed", false);
		je_str(e, "error", "certificate facts not available");
		return;
	}
	je_hex(e, "sha256", c->sha256, sizeof c->sha256);
	je_hex(e, "sha1", c->sha1, sizeof c->sha1);
	je_bool(e, "parsed", c->parsed);
	je_cstr(e, "error", c->parsed || !c->error[0] ? NULL : c->error);
	if (!c->parsed)
		return;
	je_int(e, "version", c->version);
	je_cstr(e, "subject", c->subject);
	je_cstr(e, "issuer", c->issuer);
	je_cstr(e, "serial", c->serial_hex);
	je_time(e, "not_before", (struct td_time){ c->not_before, 0 });
	je_time(e, "not_after", (struct td_time){ c->not_after, 0 });
	je_cstrs(e, "san", c->sans, c->n_sans);
	je_cstr(e, "signature_algorithm", c->sig_alg[0] ? c->sig_alg : NULL);
	je_bool(e, "self_signed", c->self_signed);
	j_cert_ext(e, &c->ext);
	j_cert_key(e, "public_key", &c->key);
}

static void j_alert(struct je *e, const struct td_alert *a)
{
	bool known = !a->encrypted && !a->probable;

	je_obj(e, NULL);
	je_frame(e, "frame", a->frame);
	je_time(e, "time", a->ts);
	je_str(e, "from", td_dir_name(a->dir));
	je_str_or_null(e, "level", known ? td_report_alert_level(a->level) : NULL);
	je_str_or_null(e, "description", known ? td_names_alert(a->desc) : NULL);
	if (known)
		je_int(e, "code", a->desc);
	else
		je_null(e, "code");
	je_bool(e, "encrypted", a->encrypted || a->probable);
	je_bool(e, "probable", a->probable);
	je_bool(e, "decrypted", a->decrypted);
	je_str(e, "phase", td_phase_name(a->phase));
	je_int(e, "record_length", a->record_len);
	je_end(e);
}

static void j_event(struct je *e, struct td_report_events *w, const struct td_session *s,
		    const struct td_event *ev)
{
	char what[128];

	je_obj(e, NULL);
	je_frame(e, "frame", ev->frame);
	je_time(e, "time", td_event_ts(ev));
	je_real(e, "offset_ms", td_report_ms(s->first_ts, td_event_ts(ev)));
	je_str(e, "from", td_dir_name(ev->dir));
	je_str(e, "what", td_report_event_what(w, ev, what, sizeof what));
	je_u64(e, "length", ev->len);
	if (ev->kind == TD_EV_APPDATA)
		je_int(e, "count", ev->count);
	if (ev->kind == TD_EV_HANDSHAKE)
		je_bool(e, "decrypted", ev->decrypted);
	je_end(e);
}

/* [decrypt]: null when no secrets were given (man/tlsdiag.1, "decryption"). */
static void j_decryption(struct je *e, const char *key, const struct td_session *s)
{
	const struct td_decrypt_facts *d = &s->dec;

	if (!je_obj_if(e, key, d->status != TD_DECRYPT_OFF))
		return;
	je_str(e, "status", td_decrypt_status_name(d->status));
	je_str_or_null(e, "source", d->source ? td_decrypt_source_name(d->source) : NULL);
	je_str_or_null(e, "key_file",
		       d->source == TD_SRC_RSA_KEY && d->key_index >= 0 && d->key_index < TD_MAX_KEYS
			       ? td_decrypt_key_file(d, d->key_index)
			       : NULL);
	je_arr(e, "pre_master_secret");
	for (unsigned i = 0; i < d->n_keys_tried && i < TD_MAX_KEYS; i++) {
		je_obj(e, NULL);
		je_str_or_null(e, "key_file", td_decrypt_key_file(d, (int)i));
		je_str(e, "result", td_pms_result_name(d->pms[i]));
		je_end(e);
	}
	je_end_arr(e);
	je_bool(e, "extended_master_secret", d->ems);
	je_bool(e, "encrypt_then_mac", d->etm);
	je_obj(e, "finished");
	for (int dir = 0; dir < 2; dir++) {
		je_obj(e, dir ? "server" : "client");
		je_str(e, "check", td_finished_check_name(d->finished[dir]));
		je_frame(e, "frame",
			 d->finished[dir] == TD_FIN_NOT_SEEN ? 0 : d->finished_frame[dir]);
		je_end(e);
	}
	je_end(e);
	je_pair_u64(e, "records_opened", d->records[0], d->records[1]);
	je_pair_u64(e, "records_not_opened", d->skipped[0], d->skipped[1]);
	if (d->failed) {
		je_obj(e, "first_failure");
		je_frame(e, "frame", d->fail_frame);
		je_str(e, "from", td_dir_name(d->fail_dir));
		je_str(e, "what", td_dec_result_name(d->fail_what));
		je_int(e, "record_length", d->fail_len);
		je_end(e);
	} else {
		je_null(e, "first_failure");
	}
	je_end(e);
}

/* {"frame", "text", "truncated"}, or null. */
static void j_plain_line(struct je *e, const char *key, const struct td_plain_line *pl)
{
	if (!je_obj_if(e, key, pl->frame))
		return;
	je_frame(e, "frame", pl->frame);
	je_wire(e, "text", pl->text, td_plain_len(pl));
	je_bool(e, "truncated", pl->cut || pl->open);
	je_end(e);
}

static void j_desync(struct je *e, const struct td_session *s, int dir)
{
	const char *key = dir ? "server" : "client";

	if (!je_obj_if(e, key, s->desync[dir]))
		return;
	je_str(e, "error", td_err_name((enum td_err)s->desync[dir]));
	je_frame(e, "frame", s->desync_frame[dir]);
	je_end(e);
}

static void j_strings(struct je *e, const char *key, const char (*list)[TD_EVIDENCE_LEN],
		      unsigned n)
{
	je_arr(e, key);
	for (unsigned i = 0; i < n; i++)
		je_cstr(e, NULL, list[i]);
	je_end_arr(e);
}

/* {"problem": "...", "causes": [{"id", "likelihood", "likelihood_word",
 * "summary", "evidence_for", "evidence_against", "next_step", "basis"}]},
 * or null when nothing needed explaining. */
static void j_diagnosis(struct je *e, const char *key, const struct td_diagnosis *d)
{
	if (!je_obj_if(e, key, d && d->n > 0))
		return;
	je_cstr(e, "problem", d->problem);
	je_arr(e, "causes");
	for (unsigned i = 0; i < d->n; i++) {
		const struct td_cause *c = &d->causes[i];

		je_obj(e, NULL);
		je_str(e, "id", c->id);
		je_int(e, "likelihood", c->likelihood);
		je_str(e, "likelihood_word", td_likelihood_word(c->likelihood));
		je_str(e, "summary", c->summary);
		j_strings(e, "evidence_for", c->evidence_for, c->n_for);
		j_strings(e, "evidence_against", c->evidence_against, c->n_against);
		je_cstr(e, "next_step", c->next_step[0] ? c->next_step : NULL);
		je_str_or_null(e, "basis", c->basis);
		je_end(e);
	}
	je_end_arr(e);
	je_end(e);
}

/* [{"id", "severity", "message", "frame", "explain"}], most severe first;
 * empty when the rules did not run or found nothing. */
static void j_findings(struct je *e, const char *key, const struct td_findings *f)
{
	je_arr(e, key);
	for (unsigned i = 0; f && i < f->n && i < TD_MAX_FINDINGS; i++) {
		const struct td_finding *x = &f->f[i];

		je_obj(e, NULL);
		je_cstr(e, "id", x->id);
		je_str(e, "severity", td_severity_name(x->severity));
		je_cstr(e, "message", x->message);
		je_frame(e, "frame", x->frame);
		je_cstr(e, "explain", x->explain && x->explain[0] ? x->explain : NULL);
		je_end(e);
	}
	je_end_arr(e);
}

/* {"protocol", "category", "risks": [names]} or null without nDPI. */
static void j_ndpi(struct je *e, const char *key, const struct td_classify_facts *n)
{
	if (!je_obj_if(e, key, n->done))
		return;
	je_cstr(e, "protocol", n->protocol);
	je_cstr(e, "category", n->category);
	je_arr(e, "risks");
	for (unsigned i = 0; i < 64; i++) {
		const char *name = (n->risks >> i & 1) ? td_classify_risk_name(i) : NULL;

		if (name)
			je_str(e, NULL, name);
	}
	je_end_arr(e);
	je_int(e, "packets", n->packets);
	je_end(e);
}

/* The capture-time checks of certificate i: "checks" (ids) and
 * "days_left" (whole days from the capture to notAfter). */
static void j_cert_checks(struct je *e, const struct td_session *s, size_t i)
{
	const struct td_chain_facts *f = s->chain;
	const struct td_cert *cert = s->certs[i];
	int64_t d;

	if (!f->checked || !cert || !cert->parsed)
		return;
	je_arr(e, "checks");
	for (unsigned k = 0; k < TD_CHK_COUNT; k++)
		if (f->checks[i] & (1u << k))
			je_str(e, NULL, td_chain_check_id(k));
	je_end_arr(e);
	d = cert->not_after - f->at;
	d = d >= 0 ? d / 86400 : -((-d + 86399) / 86400);
	je_int(e, "days_left", (json_int_t)d);
}

/* --cert: {"file", "match", "same_key", "sha256", "spki_sha256"}. */
static void j_expected(struct je *e, const char *key, const struct td_chain_facts *f)
{
	if (!je_obj_if(e, key, f->expected_checked && f->expected_path))
		return;
	je_cstr(e, "file", f->expected_path);
	je_bool(e, "match", f->expected_match);
	je_bool(e, "same_key", f->expected_match || f->expected_same_key);
	je_hex(e, "sha256", f->expected_sha256, 32);
	je_hex(e, "spki_sha256", f->expected_spki_sha256, 32);
	je_end(e);
}

/* A leaf remembered across connections: {"sha256", "spki_sha256",
 * "connections", "first_connection", "first_frame"}. */
static void j_consist_leaf(struct je *e, const char *key, const struct td_consist_leaf *l)
{
	je_obj(e, key);
	je_hex(e, "sha256", l->sha256, 32);
	je_hex(e, "spki_sha256", l->spki_sha256, 32);
	je_u64(e, "connections", l->connections);
	je_u64(e, "first_connection", l->first_connection);
	je_frame(e, "first_frame", l->first_frame);
	je_end(e);
}

/* What earlier connections with the same SNI presented (td_sni_history);
 * null for the first connection of a name, without SNI, or untracked. */
static void j_sni_history(struct je *e, const char *key, const struct td_sni_history *h)
{
	if (!je_obj_if(e, key, h->known))
		return;
	je_bool(e, "changed", h->changed);
	je_bool(e, "public_key_changed", h->key_changed);
	je_u64(e, "earlier_connections", h->earlier_connections);
	je_int(e, "earlier_certificates", h->earlier_leaves);
	je_bool(e, "at_least", h->at_least);
	j_consist_leaf(e, "most_presented", &h->earlier);
	je_end(e);
}

/* Chain facts (td_chain.h); null when no chain was visible. "problems"
 * lists the chain's problem ids, then each certificate check id that
 * applies to some certificate, once. */
static void j_chain(struct je *e, const char *key, const struct td_session *s)
{
	const struct td_chain_facts *f = s->chain;
	unsigned n = s->n_certs < TD_MAX_CHAIN ? s->n_certs : TD_MAX_CHAIN, any = 0;

	if (!je_obj_if(e, key, f->checked))
		return;
	je_time(e, "checked_at", (struct td_time){ f->at, 0 });
	je_bool(e, "order_ok", f->order_ok);
	if (f->order_ok)
		je_null(e, "unchained_at");
	else
		je_int(e, "unchained_at", f->unchained_at);
	je_bool(e, "missing_intermediate", f->missing_intermediate);
	je_int(e, "top", f->top);
	je_bool(e, "broken", f->broken);
	if (f->broken)
		je_int(e, "broken_at", f->broken_at);
	else
		je_null(e, "broken_at");
	je_bool(e, "root_sent", f->root_sent);
	je_int(e, "duplicates", f->duplicates);
	je_bool(e, "self_signed_leaf", f->self_signed_leaf);
	je_bool(e, "leaf_is_ca", f->leaf_is_ca);
	if (f->sni_match < 0)
		je_null(e, "sni_matches");
	else
		je_bool(e, "sni_matches", f->sni_match == 1);
	je_arr(e, "problems");
	for (unsigned k = 0; k < TD_CHAIN_PROBLEM_COUNT; k++)
		if (f->problems & (1u << k))
			je_str(e, NULL, td_chain_problem_id(k));
	for (unsigned i = 0; i < n; i++)
		any |= f->checks[i];
	for (unsigned k = 0; k < TD_CHK_COUNT; k++)
		if (any & (1u << k))
			je_str(e, NULL, td_chain_check_id(k));
	je_end_arr(e);
	if (f->ca_checked) {
		je_bool(e, "ca_ok", f->ca_ok);
		je_wire(e, "ca_verdict", (const uint8_t *)f->ca_verdict,
			strnlen(f->ca_verdict, sizeof f->ca_verdict));
	} else {
		je_null(e, "ca_ok");
		je_null(e, "ca_verdict");
	}
	if (f->ca_checked && f->ca_depth >= 0)
		je_int(e, "ca_error_depth", f->ca_depth);
	else
		je_null(e, "ca_error_depth");
	j_expected(e, "expected_certificate", f);
	j_sni_history(e, "sni_history", &f->sni_history);
	je_end(e);
}

/* The connection object (td_report_session_json()). */
static void j_session(struct je *e, const struct td_session *s)
{
	struct td_report_events w;
	size_t n;

	je_obj(e, NULL);
	je_str(e, "type", "connection");
	je_int(e, "schema_version", TD_REPORT_SCHEMA_VERSION);
	je_u64(e, "id", s->id);
	j_endpoint(e, "client", &s->client, s->client_port);
	j_endpoint(e, "server", &s->server, s->server_port);
	je_int(e, "ip_version", s->client.family);
	if (s->encap & TD_ENCAP_VLAN)
		je_int(e, "vlan", s->vlan_id);
	j_encap(e, "encapsulation", s->encap);
	je_str(e, "roles", td_report_roles_name(s));
	je_bool(e, "midstream", s->midstream);
	je_str(e, "seen", !s->packets[0]   ? "server only"
			  : !s->packets[1] ? "client only"
					   : "both");
	je_str_or_null(e, "starttls", s->starttls ? td_starttls_name(s->starttls) : NULL);
	je_frame(e, "starttls_frame", s->starttls ? s->starttls_frame : 0);
	if (je_obj_if(e, "proxy", s->proxy->version)) {
		je_int(e, "version", s->proxy->version);
		je_str(e, "command", s->proxy->local ? "local" : "proxy");
		je_frame(e, "frame", s->proxy->frame);
		if (s->proxy->client.family) {
			j_endpoint(e, "client", &s->proxy->client, s->proxy->client_port);
			j_endpoint(e, "server", &s->proxy->server, s->proxy->server_port);
		} else {
			je_null(e, "client");
			je_null(e, "server");
		}
		je_end(e);
	}
	if (je_obj_if(e, "plain_text", s->plain->reply.frame || s->plain->greeting.frame)) {
		j_plain_line(e, "greeting", &s->plain->greeting);
		j_plain_line(e, "reply", &s->plain->reply);
		je_end(e);
	}
	j_ndpi(e, "ndpi", &s->ndpi);
	je_time(e, "first_ts", s->first_ts);
	je_time(e, "last_ts", s->last_ts);
	je_frame(e, "first_frame", s->first_frame);
	je_frame(e, "last_frame", s->last_frame);
	je_pair_u64(e, "packets", s->packets[0], s->packets[1]);
	je_pair_u64(e, "payload_bytes", s->payload_bytes[0], s->payload_bytes[1]);
	j_tcp(e, "tcp", &s->tcp);
	j_tls(e, "tls", s);

	je_arr(e, "certificates");
	n = s->n_certs < TD_MAX_CHAIN ? s->n_certs : TD_MAX_CHAIN;
	for (size_t i = 0; i < n; i++) {
		je_obj(e, NULL);
		j_cert(e, i, s->certs[i]);
		/* with --key: the matching key file, or null for none */
		if (s->keys_given)
			je_str_or_null(e, "key_match", td_session_cert_key(s, i));
		j_cert_checks(e, s, i);
		je_end(e);
	}
	je_end_arr(e);
	j_chain(e, "chain", s);

	/* the client's chain (mutual TLS), in the order sent */
	je_arr(e, "client_certificates");
	n = s->n_client_certs < TD_MAX_CHAIN ? s->n_client_certs : TD_MAX_CHAIN;
	for (size_t i = 0; i < n; i++) {
		je_obj(e, NULL);
		j_cert(e, i, s->client_certs[i]);
		je_end(e);
	}
	je_end_arr(e);
	je_frame(e, "client_certificate_frame", s->client_cert_frame);

	je_arr(e, "alerts");
	n = s->n_alerts < TD_MAX_ALERTS ? s->n_alerts : TD_MAX_ALERTS;
	for (size_t i = 0; i < n; i++)
		j_alert(e, &s->alerts[i]);
	je_end_arr(e);
	je_int(e, "alerts_total", s->total_alerts);
	j_decryption(e, "decryption", s);

	je_arr(e, "timeline");
	n = s->n_events < TD_MAX_EVENTS ? s->n_events : TD_MAX_EVENTS;
	td_report_events_init(&w, s);
	for (size_t i = 0; i < n; i++)
		j_event(e, &w, s, &s->events[i]);
	je_end_arr(e);
	je_int(e, "timeline_total", s->total_events);

	je_str(e, "end", td_report_end_name(s->end));
	je_dir(e, "end_by", s->end_by);
	je_frame(e, "end_frame", s->end_by >= 0 ? s->end_frame : 0);
	je_pair_u64(e, "anomalies", s->anomalies[0], s->anomalies[1]);
	je_pair_u64(e, "resyncs", s->resyncs[0], s->resyncs[1]);
	j_findings(e, "findings", s->findings);
	je_int(e, "findings_total", s->findings ? s->findings->total : 0);
	j_diagnosis(e, "diagnosis", s->diagnosis);
	je_obj(e, "desync");
	j_desync(e, s, 0);
	j_desync(e, s, 1);
	je_end(e);
	je_pair_u64(e, "handshake_too_big", s->hs_too_big[0], s->hs_too_big[1]);
	je_end(e);
}

/* One (description, sender) pair of the summary's alert table. */
struct alert_count {
	uint8_t desc, dir;
	uint64_t count;
};

/* Most frequent first; ties by description code, then client first, so
 * the order does not depend on qsort's stability. */
static int alert_count_cmp(const void *pa, const void *pb)
{
	const struct alert_count *a = pa, *b = pb;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	if (a->desc != b->desc)
		return a->desc < b->desc ? -1 : 1;
	return (int)a->dir - (int)b->dir;
}

static void j_summary_alerts(struct je *e, const char *key, const struct td_summary *sum)
{
	struct alert_count rows[512];
	size_t n = 0;
	char buf[32];

	for (int d = 0; d < 256; d++)
		for (int dir = 0; dir < 2; dir++)
			if (sum->alerts_by_desc_sender[d][dir])
				rows[n++] = (struct alert_count){ (uint8_t)d, (uint8_t)dir,
								  sum->alerts_by_desc_sender[d][dir] };
	qsort(rows, n, sizeof rows[0], alert_count_cmp);
	je_obj(e, key);
	je_u64(e, "total", sum->alerts_total);
	je_arr(e, "by_description");
	for (size_t i = 0; i < n; i++) {
		const char *name = td_names_alert(rows[i].desc);

		if (!name) {
			snprintf(buf, sizeof buf, "unknown (%u)", (unsigned)rows[i].desc);
			name = buf;
		}
		je_obj(e, NULL);
		je_str(e, "description", name);
		je_str(e, "from", td_dir_name(rows[i].dir));
		je_u64(e, "count", rows[i].count);
		je_end(e);
	}
	je_end_arr(e);
	je_pair_u64(e, "encrypted", sum->alerts_encrypted[0], sum->alerts_encrypted[1]);
	je_end(e);
}

/* How the packets were read: live (the interface, the drop counters) or
 * from files (live false, the rest null). */
static void j_summary_capture(struct je *e, const char *key, const struct td_summary *sum)
{
	je_obj(e, key);
	je_bool(e, "live", sum->live);
	je_cstr(e, "interface", sum->live ? sum->interface : NULL);
	if (sum->live) {
		je_u64(e, "dropped_kernel", sum->dropped_kernel);
		je_u64(e, "dropped_interface", sum->dropped_iface);
	} else {
		je_null(e, "dropped_kernel");
		je_null(e, "dropped_interface");
	}
	je_end(e);
}

/* Every SNI and server endpoint that presented more than one leaf:
 * [{"sni" | "server", "connections", "distinct_certificates",
 * "distinct_public_keys", "at_least", "certificates": [{"sha256",
 * "spki_sha256", "connections"}]}]. */
static void j_consistency(struct je *e, const char *key, const struct td_consistency *c)
{
	size_t n;
	const struct td_consist_entry *x = td_consistency_entries(c, &n);

	je_arr(e, key);
	for (size_t i = 0; i < n; i++) {
		if (x[i].n_leaves < 2)
			continue;
		je_obj(e, NULL);
		je_wire(e, x[i].kind == TD_CONSIST_SNI ? "sni" : "server", x[i].key, x[i].key_len);
		je_u64(e, "connections", x[i].connections);
		je_int(e, "distinct_certificates", x[i].n_leaves);
		je_int(e, "distinct_public_keys", x[i].distinct_keys);
		je_bool(e, "at_least", x[i].overflow);
		je_arr(e, "certificates");
		for (unsigned k = 0; k < x[i].n_leaves; k++)
			j_consist_leaf(e, NULL, &x[i].leaves[k]);
		je_end_arr(e);
		je_end(e);
	}
	je_end_arr(e);
}

/* [decrypt]: null without secrets; else connections per status (every
 * status, zeros included) and the Finished checks. */
static void j_summary_decryption(struct je *e, const char *key, const struct td_summary *sum)
{
	if (!je_obj_if(e, key, sum->decrypt_on))
		return;
	je_obj(e, "connections");
	for (int i = TD_DECRYPT_DONE; i < TD_DECRYPT_STATUS_COUNT; i++)
		je_u64(e, td_decrypt_status_name((enum td_decrypt_status)i), sum->decrypt_by_status[i]);
	je_end(e);
	je_u64(e, "finished_verified", sum->finished_verified);
	je_u64(e, "finished_failed", sum->finished_failed);
	je_end(e);
}

/* --save-evidence's counters, or null when it was not asked for. */
static void j_summary_evidence(struct je *e, const char *key, const struct td_summary *sum)
{
	if (!je_obj_if(e, key, sum->evidence.file))
		return;
	je_cstr(e, "file", sum->evidence.file);
	je_str(e, "min_severity", td_severity_name(sum->evidence.min_severity));
	je_u64(e, "max_bytes_per_connection", sum->evidence.max_bytes);
	je_u64(e, "connections", sum->evidence.connections);
	je_u64(e, "frames", sum->evidence.frames);
	je_u64(e, "connections_capped", sum->evidence.connections_capped);
	je_u64(e, "frames_over_cap", sum->evidence.frames_over_cap);
	je_u64(e, "fragmented_segments_not_kept", sum->evidence.segments_fragments_lost);
	je_u64(e, "frames_other_link_type", sum->evidence.frames_other_link);
	je_end(e);
}

/* The not-decoded rows of the summary: [{"what": "ethertype 0x88cc",
 * "packets": 3}, ...], and "other" for fields past the table. */
static void j_not_decoded(struct je *e, const char *key, const struct td_summary *sum)
{
	je_arr(e, key);
	for (size_t i = 0; i < sum->n_not_decoded; i++) {
		char what[64];
		const struct td_not_decoded *nd = &sum->not_decoded[i];

		td_decode_unknown_str(nd->kind, nd->value, what, sizeof what);
		je_obj(e, NULL);
		je_str(e, "what", what);
		je_u64(e, "packets", nd->packets);
		je_end(e);
	}
	if (sum->not_decoded_other) {
		je_obj(e, NULL);
		je_str(e, "what", "other");
		je_u64(e, "packets", sum->not_decoded_other);
		je_end(e);
	}
	je_end_arr(e);
}

static void j_defrag(struct je *e, const char *key, const struct td_defrag_stats *st)
{
	je_obj(e, key);
	je_u64(e, "fragments", st->fragments);
	je_u64(e, "reassembled", st->reassembled);
	je_u64(e, "pending", st->pending);
	je_u64(e, "timed_out", st->timed_out);
	je_u64(e, "overlaps", st->overlaps);
	je_u64(e, "oversized", st->oversized);
	je_u64(e, "too_many_fragments", st->too_many);
	je_u64(e, "inconsistent", st->inconsistent);
	je_u64(e, "evicted", st->evicted);
	je_u64(e, "truncated", st->truncated);
	je_end(e);
}

/* The summary object (td_report_summary_json()). */
static void j_summary(struct je *e, const struct td_summary *sum)
{
	uint64_t total = 0;

	je_obj(e, NULL);
	je_str(e, "type", "summary");
	je_int(e, "schema_version", TD_REPORT_SCHEMA_VERSION);
	je_arr(e, "inputs");
	for (size_t i = 0; sum->inputs && i < sum->n_inputs; i++)
		je_cstr(e, NULL, sum->inputs[i]);
	je_end_arr(e);
	je_u64(e, "packets", sum->packets);
	je_u64(e, "bytes", sum->bytes);
	if (sum->have_ts) {
		je_time(e, "first_ts", sum->first_ts);
		je_time(e, "last_ts", sum->last_ts);
	} else {
		je_null(e, "first_ts");
		je_null(e, "last_ts");
	}
	j_summary_capture(e, "capture", sum);

	je_obj(e, "decode");
	je_u64(e, "tcp", sum->tcp_packets);
	je_u64(e, "not_tcp", sum->not_tcp);
	je_u64(e, "truncated", sum->truncated);
	je_u64(e, "malformed", sum->malformed);
	je_u64(e, "fragments", sum->fragments);
	je_u64(e, "unsupported_link", sum->unsupported_link);
	je_u64(e, "filtered_out", sum->filtered_out);
	j_not_decoded(e, "not_decoded", sum);
	j_defrag(e, "ip_reassembly", &sum->defrag);
	je_end(e);

	je_obj(e, "connections");
	je_u64(e, "tls", sum->connections_tls);
	je_u64(e, "not_tls", sum->connections_not_tls);
	je_u64(e, "completed", sum->by_outcome[TD_OUTCOME_COMPLETED]);
	je_u64(e, "failed", sum->by_outcome[TD_OUTCOME_FAILED]);
	je_u64(e, "incomplete", sum->by_outcome[TD_OUTCOME_INCOMPLETE]);
	je_end(e);
	j_summary_alerts(e, "alerts", sum);
	je_obj(e, "findings");
	for (int i = TD_SEV_COUNT - 1; i >= 0; i--) {
		je_u64(e, td_severity_name((unsigned)i), sum->findings_by_severity[i]);
		total += sum->findings_by_severity[i];
	}
	je_u64(e, "total", total);
	je_end(e);

	je_obj(e, "certificates");
	je_u64(e, "distinct", sum->certs_distinct);
	je_u64(e, "parsed", sum->x509_parses);
	je_u64(e, "cache_hits", sum->x509_hits);
	je_end(e);
	je_arr(e, "keys");
	for (size_t i = 0; i < sum->n_keys; i++) {
		je_obj(e, NULL);
		je_cstr(e, "file", sum->keys[i].path);
		je_int(e, "certificates_matched", (json_int_t)sum->keys[i].certificates_matched);
		je_end(e);
	}
	je_end_arr(e);
	j_consistency(e, "certificate_consistency", sum->consistency);
	je_u64(e, "certificate_consistency_untracked", td_consistency_untracked(sum->consistency));
	je_u64(e, "certificate_consistency_bytes", td_consistency_bytes(sum->consistency));
	j_summary_decryption(e, "decryption", sum);
	je_bool(e, "ndpi", sum->ndpi);
	je_u64(e, "flows_evicted", sum->flows_evicted);
	je_u64(e, "flows_evicted_memory", sum->flows_evicted_memory);
	je_u64(e, "memory_cap", sum->memory_cap);
	je_u64(e, "memory_peak", sum->memory_peak);
	je_u64(e, "handshake_too_big", sum->hs_too_big);
	je_u64(e, "desyncs", sum->desyncs);
	j_summary_evidence(e, "evidence", sum);
	je_cstr(e, "stopped", sum->stopped);
	je_end(e);
}

/* The tree backend's result: the root, or NULL when a value could not be
 * made (out of memory). */
static json_t *je_tree(struct je *e)
{
	if (!e->ok) {
		json_decref(e->root);
		return NULL;
	}
	return e->root;
}

json_t *td_report_session_json(const struct td_session *s)
{
	struct je e = { .ok = true };

	j_session(&e, s);
	return je_tree(&e);
}

json_t *td_report_summary_json(const struct td_summary *sum)
{
	struct je e = { .ok = true };

	j_summary(&e, sum);
	return je_tree(&e);
}

/* Writes one line through the text backend. A line that could not be
 * made (a string jansson would refuse) becomes an error line of its own
 * type, as the tree's NULL did, so a reader sees the gap; a line longer
 * than the buffer has been partly written by then and is ended as it is. */
static void write_line(struct je *e, const char *type)
{
	struct td_report_buf *w = e->w;

	if (!e->ok && !w->spilled) {
		w->n = 0;
		td_report_buf_printf(w,
				     "{\"type\":\"error\",\"schema_version\":%d,\"error\":\"out "
				     "of memory building the %s object\"}",
				     TD_REPORT_SCHEMA_VERSION, type);
	}
	td_report_buf_putc(w, '\n');
	td_report_buf_end(w);
}

void td_report_json_session(FILE *out, const struct td_session *s)
{
	char mem[TD_REPORT_BUF_LEN];
	struct td_report_buf w;
	struct je e = { .w = &w, .ok = true };

	td_report_buf_init(&w, out, mem, sizeof mem);
	j_session(&e, s);
	write_line(&e, "connection");
}

void td_report_json_summary(FILE *out, const struct td_summary *sum)
{
	char mem[TD_REPORT_BUF_LEN];
	struct td_report_buf w;
	struct je e = { .w = &w, .ok = true };

	td_report_buf_init(&w, out, mem, sizeof mem);
	j_summary(&e, sum);
	write_line(&e, "summary");
}
