/* report_util.c - escapes, timestamps and names shared by the report
 * writers (td_report_util.h). */
#include "td_report_util.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "td_decrypt.h"
#include "td_names.h"
#include "td_diagnose.h"
#include "td_report.h"
#include "td_x509.h"

static const char hexdig[] = "0123456789abcdef";

/* "00" to "99": decimal digits two at a time */
static const char dec_pairs[] = "00010203040506070809101112131415161718192021222324"
				"25262728293031323334353637383940414243444546474849"
				"50515253545556575859606162636465666768697071727374"
				"75767778798081828384858687888990919293949596979899";

size_t td_report_utf8_seq(const uint8_t *p, size_t n)
{
	/* RFC 3629 §4, the well-formed byte sequences. */
	uint8_t b = p[0];
	uint8_t lo = 0x80, hi = 0xbf;
	size_t len;

	if (b < 0x80)
		return 1;
	if (b >= 0xc2 && b <= 0xdf) {
		len = 2;
	} else if (b >= 0xe0 && b <= 0xef) {
		len = 3;
		if (b == 0xe0)
			lo = 0xa0; /* overlong */
		else if (b == 0xed)
			hi = 0x9f; /* UTF-16 surrogates */
	} else if (b >= 0xf0 && b <= 0xf4) {
		len = 4;
		if (b == 0xf0)
			lo = 0x90; /* overlong */
		else if (b == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* A valid sequence a terminal would act on rather than show: C1 controls
 * (some terminals take U+009B as CSI), line/paragraph separators and the
 * bidi controls that reorder what follows them on the line. */
static bool term_unsafe_seq(const uint8_t *p, size_t len)
{
	if (len == 2)
		return p[0] == 0xc2 && p[1] <= 0x9f;
	if (len == 3 && p[0] == 0xe2 && p[1] == 0x80)
		return p[2] == 0x8e || p[2] == 0x8f || (p[2] >= 0xa8 && p[2] <= 0xae);
	if (len == 3 && p[0] == 0xe2 && p[1] == 0x81)
		return p[2] >= 0xa6 && p[2] <= 0xa9;
	return false;
}

/* Whether one of the 16 bytes at p is not printable ASCII, or is '\\'. */
static inline bool term_bad16(const uint8_t *p)
{
	return td_report_bad16(p, 0x7e, '\\', '\\');
}

/* The length of the run of printable ASCII but '\\' (what the terminal
 * escape leaves as it is) at the start of p[0..len): 16 bytes at a time,
 * then byte by byte. */
static inline size_t term_plain_run(const uint8_t *p, size_t len)
{
	size_t run = 0;

	while (len - run >= 16 && !term_bad16(p + run))
		run += 16;
	while (run < len && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '\\')
		run++;
	return run;
}

bool td_report_term_plain(const char *s, size_t len)
{
	return term_plain_run((const uint8_t *)s, len) == len;
}

/* One step of the terminal escape: consumes 1-4 input bytes, writes at most
 * 16 bytes (4 x "\xNN") into out; returns the bytes written. */
static size_t term_step(const uint8_t *p, size_t n, char out[16], size_t *consumed)
{
	size_t len = td_report_utf8_seq(p, n);
	size_t o = 0;

	if (len == 1 && p[0] >= 0x20 && p[0] != 0x7f) {
		*consumed = 1;
		if (p[0] == '\\') {
			out[0] = '\\';
			out[1] = '\\';
			return 2;
		}
		out[0] = (char)p[0];
		return 1;
	}
	if (len > 1 && !term_unsafe_seq(p, len)) {
		memcpy(out, p, len);
		*consumed = len;
		return len;
	}
	if (len == 0)
		len = 1; /* an invalid byte: escape it alone, resume after it */
	for (size_t i = 0; i < len; i++) {
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hexdig[p[i] >> 4];
		out[o++] = hexdig[p[i] & 0xf];
	}
	*consumed = len;
	return o;
}

size_t td_report_escape_term(char *buf, size_t n, const uint8_t *p, size_t len)
{
	size_t need = 0, used = 0, off = 0;
	bool full = false;
	char tmp[16];

	while (off < len) {
		size_t c, w;

		if (!full) {
			/* a run of printable ASCII but '\\' as it is, up to the room */
			size_t room = n - used - 1;
			size_t run, max = len - off < room ? len - off : room;

			run = off + term_plain_run(p + off, max);
			if (run > off) {
				memcpy(buf + used, p + off, run - off);
				used += run - off;
				need += run - off;
				off = run;
				continue;
			}
		}
		w = term_step(p + off, len - off, tmp, &c);
		off += c;
		if (!full && w < n - used) {
			memcpy(buf + used, tmp, w);
			used += w;
		} else {
			full = true; /* never cut an escape: stop at the first miss */
		}
		need += w;
	}
	buf[used] = '\0';
	return need;
}

void td_report_buf_init(struct td_report_buf *b, FILE *out, char *mem, size_t len)
{
	b->out = out;
	b->p = mem;
	b->n = 0;
	b->cap = mem ? len : 0;
	b->err = false;
	b->spilled = false;
	b->cut = 0;
}

static void buf_flush(struct td_report_buf *b)
{
	if (!b->out)
		return; /* a string (td_report_snprintf()): nowhere to write */
	if (b->n && fwrite(b->p, 1, b->n, b->out) != b->n)
		b->err = true;
	b->spilled |= b->n > 0;
	b->n = 0;
}

int td_report_buf_end(struct td_report_buf *b)
{
	buf_flush(b);
	return b->err ? -1 : 0;
}

/* Room for len more bytes, after writing what is held if need be. false
 * when len does not fit even in the empty buffer. */
static bool buf_room(struct td_report_buf *b, size_t len)
{
	if (len <= b->cap - b->n)
		return true;
	if (!b->out)
		return false;
	buf_flush(b);
	return len <= b->cap;
}

void td_report_buf_put_more(struct td_report_buf *b, const void *p, size_t len)
{
	if (len == 0)
		return;
	if (!b->out) {
		/* a string: keep what fits, count the rest (snprintf's cut) */
		size_t keep = len < b->cap - b->n ? len : b->cap - b->n;

		if (keep)
			memcpy(b->p + b->n, p, keep);
		b->n += keep;
		b->cut += len - keep;
		return;
	}
	if (!buf_room(b, len)) {
		if (fwrite(p, 1, len, b->out) != len)
			b->err = true;
		b->spilled = true;
		return;
	}
	memcpy(b->p + b->n, p, len);
	b->n += len;
}

void td_report_buf_puts(struct td_report_buf *b, const char *s)
{
	td_report_buf_put(b, s, strlen(s));
}

void td_report_buf_fill(struct td_report_buf *b, char c, int n)
{
	if (n <= 0)
		return;
	if (!buf_room(b, (size_t)n)) {
		while (n-- > 0)
			td_report_buf_put(b, &c, 1);
		return;
	}
	memset(b->p + b->n, c, (size_t)n);
	b->n += (size_t)n;
}

/* The length modifier and conversion of the directive at f (just after
 * its '%') when it is one fmt_put() writes: "s" "c" "%", and "d" "i" "u"
 * with no length, "l", "ll" or "z" (not "zd"). Returns the conversion
 * character and sets *len to 0, 'l', 'L' (ll) or 'z', and *next past
 * the directive; 0 for any other directive (flags, width, precision,
 * other lengths and conversions, or '%' at the end). */
static inline char fmt_directive(const char *f, char *len, const char **next)
{
	char c = *f, l = 0;

	if (c == 'l') {
		l = 'l';
		c = *++f;
		if (c == 'l') {
			l = 'L';
			c = *++f;
		}
	} else if (c == 'z') {
		l = 'z';
		c = *++f;
	}
	switch (c) {
	case 'd':
	case 'i':
		if (l == 'z')
			return 0;
		break;
	case 'u':
		break;
	case 's':
	case 'c':
	case '%':
		if (l)
			return 0;
		break;
	default:
		return 0;
	}
	*len = l;
	*next = f + 1;
	return c;
}

/* The most directives fmt_split() takes: the writers' formats have at
 * most 8; a format with more goes to vsnprintf. */
#define FMT_MAX 16

/* A literal run of a format and the directive after it (conv 0: the
 * format's end). */
struct fmt_part {
	const char *lit;
	size_t lit_len;
	char conv, len;
};

/* fmt as literal runs, each followed by a directive fmt_directive()
 * takes, in one pass: the number of directives (part[that] holds the
 * last run), or -1 when one is not taken or there are more than
 * FMT_MAX. */
static int fmt_split(const char *fmt, struct fmt_part part[FMT_MAX + 1])
{
	const char *lit = fmt, *f = fmt;
	int k = 0;

	for (; *f; f++) {
		if (*f != '%')
			continue;
		if (k == FMT_MAX)
			return -1;
		part[k].lit = lit;
		part[k].lit_len = (size_t)(f - lit);
		part[k].conv = fmt_directive(f + 1, &part[k].len, &lit);
		if (!part[k].conv)
			return -1;
		f = lit - 1;
		k++;
	}
	part[k].lit = lit;
	part[k].lit_len = (size_t)(f - lit);
	part[k].conv = 0;
	return k;
}

size_t td_report_buf_dec(struct td_report_buf *b, unsigned long long v, bool neg)
{
	char tmp[TD_REPORT_DEC_MAX];
	size_t len;

	if (b->cap - b->n >= TD_REPORT_DEC_MAX) {
		len = (size_t)(td_report_dec_at(b->p + b->n, v, neg) - (b->p + b->n));
		b->n += len;
		return len;
	}
	len = (size_t)(td_report_dec_at(tmp, v, neg) - tmp);
	td_report_buf_put_more(b, tmp, len);
	return len;
}

void td_report_buf_vprintf(struct td_report_buf *b, const char *fmt, va_list ap)
{
	struct fmt_part part[FMT_MAX + 1];
	va_list again;
	int len, k;

	if (fmt[0] == '%' && fmt[1] == 's' && fmt[2] == '\0') {
		/* the most common format of all: a string as it is */
		const char *str = va_arg(ap, const char *);

		td_report_buf_puts(b, str ? str : "(null)"); /* as glibc */
		return;
	}
	/* The writers' formats hold only these directives (fmt_directive()):
	 * written here, without vsnprintf's stream set-up per call; anything
	 * else (a width, "%.3f", "%04x") goes to vsnprintf as before. */
	if ((k = fmt_split(fmt, part)) >= 0) {
		for (int i = 0; i < k; i++) {
			char l = part[i].len, c = part[i].conv;

			td_report_buf_put(b, part[i].lit, part[i].lit_len);
			if (c == 's') {
				const char *str = va_arg(ap, const char *);

				td_report_buf_puts(b, str ? str : "(null)"); /* as glibc */
			} else if (c == 'c') {
				td_report_buf_putc(b, (char)(unsigned char)va_arg(ap, int));
			} else if (c == '%') {
				td_report_buf_putc(b, '%');
			} else if (c == 'u') {
				unsigned long long v = l == 'L'	  ? va_arg(ap, unsigned long long)
						       : l == 'l' ? va_arg(ap, unsigned long)
						       : l == 'z' ? va_arg(ap, size_t)
								  : va_arg(ap, unsigned);

				td_report_buf_dec(b, v, false);
			} else {
				long long v = l == 'L'	 ? va_arg(ap, long long)
					      : l == 'l' ? va_arg(ap, long)
							 : va_arg(ap, int);
				/* the magnitude in unsigned arithmetic: LLONG_MIN too */
				unsigned long long m = v < 0 ? 0ULL - (unsigned long long)v
							     : (unsigned long long)v;

				td_report_buf_dec(b, m, v < 0);
			}
		}
		td_report_buf_put(b, part[k].lit, part[k].lit_len);
		return;
	}
	if (!b->out) {
		/* a string: the byte after the storage holds the NUL */
		len = vsnprintf(b->p + b->n, b->cap - b->n + 1, fmt, ap);
		if (len < 0) {
			b->err = true;
		} else if ((size_t)len <= b->cap - b->n) {
			b->n += (size_t)len;
		} else {
			b->cut += (size_t)len - (b->cap - b->n);
			b->n = b->cap;
		}
		return;
	}
	va_copy(again, ap);
	len = vsnprintf(b->p ? b->p + b->n : NULL, b->cap - b->n, fmt, ap);
	if (len < 0) {
		b->err = true;
	} else if ((size_t)len < b->cap - b->n) {
		b->n += (size_t)len;
	} else if (buf_room(b, (size_t)len + 1)) {
		vsnprintf(b->p + b->n, b->cap - b->n, fmt, again);
		b->n += (size_t)len;
	} else if (vfprintf(b->out, fmt, again) < 0) {
		b->err = true;
	}
	va_end(again);
}

void td_report_buf_printf(struct td_report_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	td_report_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void td_report_buf_str(struct td_report_buf *b, char *buf, size_t n)
{
	/* storage of n - 1 bytes and no FILE: the buffer's cut mode */
	td_report_buf_init(b, NULL, buf, n - 1);
}

size_t td_report_buf_str_end(struct td_report_buf *b)
{
	b->p[b->n] = '\0';
	return b->n;
}

int td_report_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
	struct td_report_buf b;

	if (n == 0 || n > INT_MAX)
		return vsnprintf(buf, n, fmt, ap);
	td_report_buf_str(&b, buf, n);
	td_report_buf_vprintf(&b, fmt, ap);
	td_report_buf_str_end(&b);
	if (b.err || b.n + b.cut > INT_MAX)
		return -1;
	return (int)(b.n + b.cut);
}

int td_report_snprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = td_report_vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return len;
}

void td_report_buf_term(struct td_report_buf *b, const uint8_t *p, size_t len)
{
	size_t off = 0;
	char tmp[16];

	while (off < len) {
		size_t run = off, c, w;

		/* printable ASCII but the backslash goes through as it is */
		run += term_plain_run(p + off, len - off);
		if (run > off) {
			td_report_buf_put(b, p + off, run - off);
			off = run;
			continue;
		}
		w = term_step(p + off, len - off, tmp, &c);
		td_report_buf_put(b, tmp, w);
		off += c;
	}
}

void td_report_put_term(FILE *out, const uint8_t *p, size_t len)
{
	struct td_report_buf b;

	td_report_buf_init(&b, out, NULL, 0);
	td_report_buf_term(&b, p, len);
	td_report_buf_end(&b);
}

bool td_report_json_escape(const uint8_t *p, size_t len, const char **value, size_t *value_len,
			   char **heap)
{
	char *buf;
	size_t o = 0, off = 0;

	*heap = NULL;
	for (off = 0; off < len && p[off] >= 0x01 && p[off] < 0x80; off++)
		;
	if (off == len) { /* ASCII without NUL, most names: as it is, valid */
		*value = len ? (const char *)p : "";
		*value_len = len;
		return true;
	}
	off = 0;
	if (len > (SIZE_MAX - 1) / 6)
		return false;
	buf = malloc(len * 6 + 1); /* worst case: every byte as \u00XX */
	if (!buf)
		return false;
	while (off < len) {
		size_t seq = td_report_utf8_seq(p + off, len - off);

		if (seq == 0 || p[off] == 0) {
			buf[o++] = '\\';
			buf[o++] = 'u';
			buf[o++] = '0';
			buf[o++] = '0';
			buf[o++] = hexdig[p[off] >> 4];
			buf[o++] = hexdig[p[off] & 0xf];
			off++;
			continue;
		}
		memcpy(buf + o, p + off, seq);
		o += seq;
		off += seq;
	}
	*value = *heap = buf;
	*value_len = o;
	return true;
}

json_t *td_report_json_wire(const uint8_t *p, size_t len)
{
	const char *v;
	size_t n;
	char *heap;
	json_t *j;

	if (!td_report_json_escape(p, len, &v, &n, &heap))
		return NULL;
	if (!heap)
		return json_stringn_nocheck(v, n);
	/* Checked anyway: what we built is valid UTF-8 without NUL by
	 * construction, and jansson verifies it again. */
	j = json_stringn(v, n);
	free(heap);
	return j;
}

json_t *td_report_json_cstr(const char *s)
{
	if (!s)
		return json_null();
	return td_report_json_wire((const uint8_t *)s, strlen(s));
}

/* Seconds and microseconds with usec in [0, 1e6). */
static void time_norm(struct td_time *t)
{
	int64_t carry = t->usec / 1000000;

	t->usec %= 1000000;
	if (t->usec < 0) {
		t->usec += 1000000;
		carry--;
	}
	/* carry is within +-2148: only the extremes of int64 can overflow. */
	if ((carry > 0 && t->sec > INT64_MAX - carry) || (carry < 0 && t->sec < INT64_MIN - carry))
		return;
	t->sec += carry;
}

char *td_report_dec(char *end, unsigned long long v, bool neg)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (neg)
		*--end = '-';
	return end;
}

char *td_report_dec_at(char *p, unsigned long long v, bool neg)
{
	unsigned long long pow10 = 10;
	unsigned digits = 1;
	char *q;

	if (neg)
		*p++ = '-';
	while (digits < 20 && v >= pow10) {
		digits++;
		pow10 = digits < 20 ? pow10 * 10 : 0;
	}
	q = p + digits;
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		q -= 2;
		memcpy(q, dec_pairs + 2 * r, 2);
	}
	if (v >= 10)
		memcpy(q - 2, dec_pairs + 2 * v, 2);
	else
		q[-1] = (char)('0' + v);
	return p + digits;
}

/* n (even) decimal digits of v, zero-padded, at p; returns p + n. */
static char *put_digits(char *p, unsigned v, int n)
{
	for (int i = n - 2; i >= 0; i -= 2) {
		memcpy(p + i, dec_pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	return p + n;
}

/* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" for t (normalised) in years 1970-9999:
 * the text gmtime_r() + strftime() + snprintf() below give, without them
 * (the JSON has a timestamp per timeline event and alert). Days to civil
 * date: H. Hinnant's civil_from_days (proleptic Gregorian, as gmtime).
 * false outside those years. */
static bool time_utc_fast(struct td_time t, char buf[TD_REPORT_TIME_LEN])
{
	int64_t days, sod, z, era, doe, yoe, doy, mp, y;
	unsigned m, d;
	char *p = buf;

	if (t.sec < 0 || t.sec >= INT64_C(253402300800))
		return false;
	days = t.sec / 86400;
	sod = t.sec % 86400;
	z = days + 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	y = yoe + era * 400 + (m <= 2);
	p = put_digits(p, (unsigned)y, 4);
	*p++ = '-';
	p = put_digits(p, m, 2);
	*p++ = '-';
	p = put_digits(p, d, 2);
	*p++ = 'T';
	p = put_digits(p, (unsigned)(sod / 3600), 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)(sod / 60 % 60), 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)(sod % 60), 2);
	*p++ = '.';
	p = put_digits(p, (unsigned)t.usec, 6);
	*p++ = 'Z';
	*p = '\0';
	return true;
}

static char *time_fmt(struct td_time t, char buf[TD_REPORT_TIME_LEN], bool utc)
{
	struct tm tm;
	time_t tt;
	size_t len;

	time_norm(&t);
	if (utc && time_utc_fast(t, buf))
		return buf;
	tt = (time_t)t.sec;
	if ((int64_t)tt != t.sec || !(utc ? gmtime_r(&tt, &tm) : localtime_r(&tt, &tm)))
		goto raw;
	if (tm.tm_year >= 1000 - 1900 && tm.tm_year <= 9999 - 1900) {
		/* what strftime() and snprintf() below write, by hand: local
		 * times are two per connection and two per certificate */
		char *p = put_digits(buf, (unsigned)(tm.tm_year + 1900), 4);

		*p++ = '-';
		p = put_digits(p, (unsigned)tm.tm_mon + 1, 2);
		*p++ = '-';
		p = put_digits(p, (unsigned)tm.tm_mday, 2);
		*p++ = utc ? 'T' : ' ';
		p = put_digits(p, (unsigned)tm.tm_hour, 2);
		*p++ = ':';
		p = put_digits(p, (unsigned)tm.tm_min, 2);
		*p++ = ':';
		p = put_digits(p, (unsigned)tm.tm_sec, 2);
		*p++ = '.';
		p = put_digits(p, (unsigned)t.usec, 6);
		if (utc)
			*p++ = 'Z';
		*p = '\0';
		return buf;
	}
	len = strftime(buf, TD_REPORT_TIME_LEN, utc ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S",
		       &tm);
	if (len == 0)
		goto raw;
	snprintf(buf + len, TD_REPORT_TIME_LEN - len, ".%06d%s", (int)t.usec, utc ? "Z" : "");
	return buf;
raw:
	snprintf(buf, TD_REPORT_TIME_LEN, "@%lld.%06d", (long long)t.sec, (int)t.usec);
	return buf;
}

char *td_report_time_utc(struct td_time t, char buf[TD_REPORT_TIME_LEN])
{
	return time_fmt(t, buf, true);
}

char *td_report_time_utc_cached(struct td_report_time_cache *c, struct td_time t,
				char buf[TD_REPORT_TIME_LEN])
{
	char *p;

	time_norm(&t);
	if (!c->valid || c->sec != t.sec) {
		if (!time_utc_fast(t, buf))
			return time_fmt(t, buf, true); /* not kept: the slow forms */
		c->valid = true;
		c->sec = t.sec;
		memcpy(c->head, buf, sizeof c->head);
		return buf;
	}
	memcpy(buf, c->head, sizeof c->head);
	p = put_digits(buf + sizeof c->head, (unsigned)t.usec, 6);
	*p++ = 'Z';
	*p = '\0';
	return buf;
}

char *td_report_time_local(struct td_time t, char buf[TD_REPORT_TIME_LEN])
{
	return time_fmt(t, buf, false);
}

char *td_report_zone_local(struct td_time t, char buf[TD_REPORT_TIME_LEN])
{
	struct tm tm;
	time_t tt;

	time_norm(&t);
	tt = (time_t)t.sec;
	buf[0] = '\0';
	if ((int64_t)tt == t.sec && localtime_r(&tt, &tm))
		if (strftime(buf, TD_REPORT_TIME_LEN, "%Z", &tm) == 0)
			buf[0] = '\0';
	return buf;
}

char *td_report_hex_colon(const uint8_t *data, size_t len, char *out)
{
	static const char up[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (i)
			out[o++] = ':';
		out[o++] = up[data[i] >> 4];
		out[o++] = up[data[i] & 0xf];
	}
	out[o] = '\0';
	return out;
}

/* RFC 8446 §4 HandshakeType and the RFCs that added the others, written as
 * their prose and Wireshark's Info column do. Kept here rather than in the
 * names module because these are display names, not IANA's identifiers. */
static const char *const hs_names[256] = {
	[0] = "HelloRequest",
	[1] = "ClientHello",
	[2] = "ServerHello",
	[3] = "HelloVerifyRequest",
	[4] = "NewSessionTicket",
	[5] = "EndOfEarlyData",
	[6] = "HelloRetryRequest",
	[8] = "EncryptedExtensions",
	[9] = "RequestConnectionId",
	[10] = "NewConnectionId",
	[11] = "Certificate",
	[12] = "ServerKeyExchange",
	[13] = "CertificateRequest",
	[14] = "ServerHelloDone",
	[15] = "CertificateVerify",
	[16] = "ClientKeyExchange",
	[17] = "ClientCertificateRequest",
	[20] = "Finished",
	[21] = "CertificateURL",
	[22] = "CertificateStatus",
	[23] = "SupplementalData",
	[24] = "KeyUpdate",
	[25] = "CompressedCertificate",
	[26] = "EKTKey",
	[254] = "MessageHash",
};

const char *td_report_handshake_name(uint8_t type, char *buf, size_t n)
{
	if (hs_names[type])
		return hs_names[type];
	td_report_snprintf(buf, n, "handshake type %u", (unsigned)type);
	return buf;
}

const char *td_report_end_name(uint8_t end)
{
	static const char *const names[TD_END_COUNT] = {
		[TD_END_OPEN] = "open", [TD_END_FIN] = "fin",         [TD_END_RST] = "rst",
		[TD_END_IDLE] = "idle", [TD_END_EVICTED] = "evicted",
	};
	return end < TD_END_COUNT ? names[end] : "open";
}

const char *td_report_abort_name(uint8_t how)
{
	switch (how) {
	case TD_ABORT_ALERT:
		return "alert";
	case TD_ABORT_RST:
		return "rst";
	case TD_ABORT_FIN:
		return "fin";
	case TD_ABORT_SILENCE:
		return "silence";
	default:
		return NULL;
	}
}

const char *td_report_roles_name(const struct td_session *s)
{
	if (s->syn_seen)
		return "syn";
	if (s->roles_guessed)
		return "ports";
	return "tls";
}

const char *td_report_encap_str(const struct td_session *s, char *buf, size_t n)
{
	size_t used = 0;

	if (n == 0)
		return buf;
	buf[0] = '\0';
	for (unsigned i = 0; i < TD_ENCAP_COUNT && used < n; i++) {
		if (!(s->encap >> i & 1))
			continue;
		if ((1u << i) == TD_ENCAP_VLAN)
			used += (size_t)snprintf(buf + used, n - used, "%s%s %u", used ? ", " : "",
						 td_encap_name(i), (unsigned)s->vlan_id);
		else
			used += (size_t)snprintf(buf + used, n - used, "%s%s", used ? ", " : "",
						 td_encap_name(i));
	}
	return buf;
}

char *td_report_ca_name(const struct td_session *s, unsigned i)
{
	char *name = NULL;

	if (i >= s->cr_n_ca_names || i >= TD_MAX_CA_NAMES || !s->cr_ca_len[i] ||
	    s->cr_ca_len[i] > TD_CA_NAME_LEN ||
	    td_x509_name_string(s->cr_ca_der[i], s->cr_ca_len[i], &name) != TD_OK) {
		free(name);
		return NULL;
	}
	return name;
}

const char *td_report_alert_level(uint8_t level)
{
	if (level == 2)
		return "fatal";
	if (level == 1)
		return "warning";
	return NULL;
}


const char *td_report_alert_words(const struct td_alert *a, char *buf, size_t n)
{
	const char *level, *desc;
	char lvbuf[16];

	if (a->probable)
		return "probable encrypted alert";
	if (a->encrypted)
		return "encrypted alert";
	level = td_report_alert_level(a->level);
	if (!level) {
		td_report_snprintf(lvbuf, sizeof lvbuf, "level %u", (unsigned)a->level);
		level = lvbuf;
	}
	desc = td_names_alert(a->desc);
	if (desc)
		td_report_snprintf(buf, n, "%s %s", level, desc);
	else
		td_report_snprintf(buf, n, "%s unknown (%u)", level, (unsigned)a->desc);
	return buf;
}

void td_report_events_init(struct td_report_events *w, const struct td_session *s)
{
	memset(w, 0, sizeof *w);
	w->s = s;
	w->tls13 = td_session_is_tls13(s);
}

const char *td_report_event_what(struct td_report_events *w, const struct td_event *ev, char *buf,
				 size_t n)
{
	int d = ev->dir ? 1 : 0;
	char tmp[64];

	/* the constant names come back as they are, without snprintf():
	 * there is one per timeline event of every connection */
	switch (ev->kind) {
	case TD_EV_HANDSHAKE:
		if (!ev->decrypted && hs_names[ev->type])
			return hs_names[ev->type];
		snprintf(buf, n, "%s%s", td_report_handshake_name(ev->type, tmp, sizeof tmp),
			 ev->decrypted ? " (decrypted)" : "");
		break;
	case TD_EV_ENCRYPTED_HANDSHAKE: {
		/* RFC 5246 §7.4.9: in TLS 1.2 the message right after CCS is the
		 * Finished. In TLS 1.3 the CCS is only middlebox camouflage
		 * (RFC 8446 Appendix D.4) and tells nothing. */
		bool finished = w->after_ccs[d] && !w->tls13;

		w->after_ccs[d] = false;
		return finished ? "encrypted handshake (Finished)" : "encrypted handshake message";
	}
	case TD_EV_CCS:
		w->after_ccs[d] = true;
		return "ChangeCipherSpec";
	case TD_EV_ALERT:
		if (ev->type < w->s->n_alerts && ev->type < TD_MAX_ALERTS) {
			const struct td_alert *a = &w->s->alerts[ev->type];

			if (a->probable)
				return "probable encrypted Alert";
			if (a->encrypted)
				return "encrypted Alert";
			td_report_snprintf(buf, n, "Alert %s%s",
					   td_report_alert_words(a, tmp, sizeof tmp),
					   a->decrypted ? " (decrypted)" : "");
			break;
		}
		return "Alert";
	case TD_EV_APPDATA:
		return "application data";
	case TD_EV_TCP_FIN:
		return "FIN";
	case TD_EV_TCP_RST:
		return "RST";
	case TD_EV_GAP:
		td_report_snprintf(buf, n, "gap: %lu bytes missing", (unsigned long)ev->len);
		break;
	case TD_EV_PLAIN_TEXT:
		return "plain text, not TLS";
	default:
		td_report_snprintf(buf, n, "event %u", (unsigned)ev->kind);
		break;
	}
	return buf;
}

bool td_report_thousandths(double v, long long *k)
{
	if (!(v > -1e12 && v < 1e12))
		return false;
	double d;

	*k = llround(v * 1000.0);
	/* |k| < 10^15 < 2^53: (double)*k is exact, d the double nearest k/1000 */
	d = (double)*k / 1000.0;
	if (*k == 0) /* +0.0 only: 0's neighbours are denormals, not 0.000 */
		return v == 0 && !signbit(v);
	/* td_report_ms() adds seconds and microseconds apart: one rounding
	 * more than k/1000, so its result may be d's neighbour */
	return v == d || v == nextafter(d, 1e300) || v == nextafter(d, -1e300);
}

double td_report_ms(struct td_time a, struct td_time b)
{
	/* In double rather than td_time_diff_us(): timestamps come from the
	 * capture file, and a crafted one must not overflow int64. Exact for
	 * any real capture (seconds well below 2^53). */
	return ((double)b.sec - (double)a.sec) * 1000.0 + ((double)b.usec - (double)a.usec) / 1000.0;
}

/* The alert that ended a failed handshake, chosen as td_session_finish()
 * chooses it: the first fatal alert in clear or encrypted alert before the
 * handshake completed, from the aborting side. NULL if none is stored. */
static const struct td_alert *aborting_alert(const struct td_session *s)
{
	size_t n = s->n_alerts < TD_MAX_ALERTS ? s->n_alerts : TD_MAX_ALERTS;

	for (size_t i = 0; i < n; i++) {
		const struct td_alert *a = &s->alerts[i];

		if (s->aborted_by >= 0 && a->dir != s->aborted_by)
			continue;
		if (a->phase == TD_PHASE_APPLICATION)
			continue;
		if (a->level == 2 || a->encrypted || a->probable)
			return a;
	}
	return NULL;
}

/* Why the handshake failed, in a few words for the header line. */
void td_report_failure_reason(const struct td_session *s, char *buf, size_t n)
{
	const char *who = s->aborted_by >= 0 ? td_dir_name(s->aborted_by) : NULL;
	const struct td_alert *a;
	char words[64];

	switch (s->aborted_how) {
	case TD_ABORT_ALERT:
		a = aborting_alert(s);
		if (a)
			td_report_snprintf(buf, n, "%s sent %s", td_dir_name(a->dir),
					   td_report_alert_words(a, words, sizeof words));
		else
			td_report_snprintf(buf, n, "%s sent an alert", who ? who : "a peer");
		break;
	case TD_ABORT_RST:
		td_report_snprintf(buf, n, "RST from %s", who ? who : "a peer");
		break;
	case TD_ABORT_FIN:
		td_report_snprintf(buf, n, "%s closed the connection (FIN)", who ? who : "a peer");
		break;
	case TD_ABORT_SILENCE:
		if (who)
			td_report_snprintf(buf, n, "%s went silent after %s", who,
					   td_stage_name(s->stage));
		else
			td_report_snprintf(buf, n, "went idle after %s", td_stage_name(s->stage));
		break;
	default:
		td_report_snprintf(buf, n, "after %s", td_stage_name(s->stage));
		break;
	}
}

/* ---- the handshake ladder ------------------------------------------------ */

#define LADDER_COLS 100     /* no line longer (WRAP_COL of the text report) */
#define LADDER_LANE_MAX 64  /* the arrow lane: label and shaft */
#define LADDER_LANE_MIN 36
#define LADDER_SHAFT_MIN 4

#define ANSI_RED "\033[1;31m"
#define ANSI_YELLOW "\033[33m"
#define ANSI_RESET "\033[0m"

static int ladder_digits(uint32_t v)
{
	int w = 1;

	while (v >= 10) {
		v /= 10;
		w++;
	}
	return w;
}

static bool ladder_encrypted_ev(const struct td_session *s, const struct td_event *ev)
{
	switch (ev->kind) {
	case TD_EV_ENCRYPTED_HANDSHAKE:
	case TD_EV_APPDATA:
		return true;
	case TD_EV_HANDSHAKE:
		return ev->decrypted; /* sent encrypted, shown decrypted */
	case TD_EV_ALERT:
		return ev->type < s->n_alerts && ev->type < TD_MAX_ALERTS &&
		       (s->alerts[ev->type].encrypted || s->alerts[ev->type].probable ||
			s->alerts[ev->type].decrypted);
	default:
		return false;
	}
}

/* The label of one arrow, its shaft character and its colour: alerts get
 * '=' and "ALERT" in capitals so they stand out without colour too (in a
 * ticket), gaps '~' (bytes that were never seen). */
static void ladder_len(struct td_report_buf *b, const char *what, uint32_t len)
{
	/* "%s (%lu)" */
	td_report_buf_puts(b, what);
	td_report_buf_put(b, " (", 2);
	td_report_buf_dec(b, len, false);
	td_report_buf_putc(b, ')');
}

/* Returns the label's length. */
static size_t ladder_label(struct td_report_events *w, const struct td_event *ev, char *buf,
			   size_t n, char *shaft, const char **color)
{
	const struct td_session *s = w->s;
	char what[128];
	const char *wh = td_report_event_what(w, ev, what, sizeof what);
	struct td_report_buf lb;
	char *al;

	/* built in buf and cut as snprintf(buf, n, ...) cuts, without it:
	 * there is one per timeline event */
	td_report_buf_str(&lb, buf, n);
	*shaft = '-';
	*color = "";
	switch (ev->kind) {
	case TD_EV_ALERT:
		if (wh != what)
			td_report_snprintf(what, sizeof what, "%s", wh);
		al = strstr(what, "Alert");
		if (al)
			memcpy(al, "ALERT", 5);
		*shaft = '=';
		*color = ANSI_YELLOW;
		if (ev->type < s->n_alerts && ev->type < TD_MAX_ALERTS &&
		    !s->alerts[ev->type].encrypted && !s->alerts[ev->type].probable &&
		    s->alerts[ev->type].level == 2)
			*color = ANSI_RED;
		ladder_len(&lb, what, ev->len);
		break;
	case TD_EV_APPDATA:
		/* "%s (%u record%s, %lu bytes)" */
		td_report_buf_puts(&lb, wh);
		td_report_buf_put(&lb, " (", 2);
		td_report_buf_dec(&lb, ev->count, false);
		td_report_buf_puts(&lb, ev->count == 1 ? " record, " : " records, ");
		td_report_buf_dec(&lb, ev->len, false);
		td_report_buf_put(&lb, " bytes)", 7);
		break;
	case TD_EV_GAP:
		*shaft = '~';
		*color = ANSI_YELLOW;
		td_report_buf_puts(&lb, wh);
		break;
	case TD_EV_PLAIN_TEXT:
		*shaft = '~';
		*color = ANSI_RED;
		ladder_len(&lb, wh, ev->len);
		break;
	case TD_EV_TCP_RST:
		*color = ANSI_YELLOW;
		/* fall through */
	case TD_EV_TCP_FIN:
		td_report_buf_put(&lb, "TCP ", 4);
		td_report_buf_puts(&lb, wh);
		break;
	default:
		ladder_len(&lb, wh, ev->len);
		break;
	}
	return td_report_buf_str_end(&lb);
}

/* "---- client encrypts from here ----" at the side of the lane that
 * encrypts: under the client's column or the server's. */
static void ladder_marker(struct td_report_buf *b, int pad, int lane, int dir)
{
	char m[64];
	int len = td_report_snprintf(m, sizeof m, "---- %s encrypts from here ----",
				     td_dir_name(dir));

	td_report_buf_fill(b, ' ', pad + (dir == TD_DIR_S2C && lane > len ? lane - len : 0));
	td_report_buf_puts(b, m);
	td_report_buf_putc(b, '\n');
}

int td_report_fixed3(double v, bool plus, char buf[48])
{
	long long k;
	unsigned long long u;
	char tmp[32];
	const char *start;
	int len, o = 0;

	/* rounded to 3 decimals such a v is k/1000 (td_report_thousandths():
	 * it is within 1.5 ulp of it, below 2^-12 for |v| < 10^12) */
	if (!td_report_thousandths(v, &k))
		return snprintf(buf, 48, plus ? "%+.3f" : "%.3f", v);
	u = k < 0 ? 0ULL - (unsigned long long)k : (unsigned long long)k;
	tmp[sizeof tmp - 1] = (char)('0' + u % 10);
	tmp[sizeof tmp - 2] = (char)('0' + u / 10 % 10);
	tmp[sizeof tmp - 3] = (char)('0' + u / 100 % 10);
	tmp[sizeof tmp - 4] = '.';
	start = td_report_dec(tmp + sizeof tmp - 4, u / 1000, false);
	if (k < 0 || plus)
		buf[o++] = k < 0 ? '-' : '+';
	len = (int)(tmp + sizeof tmp - start);
	memcpy(buf + o, start, (size_t)len);
	buf[o + len] = '\0';
	return o + len;
}

void td_report_buf_ladder(struct td_report_buf *b, const struct td_session *s, int indent,
			  bool color)
{
	size_t n = s->n_events < TD_MAX_EVENTS ? s->n_events : TD_MAX_EVENTS;
	struct td_report_events w;
	/* each event's "+T" (its width is the widest one's) */
	char off_s[TD_MAX_EVENTS][48];
	int olen[TD_MAX_EVENTS];
	char label[192], c[96], sv[96], num[24];
	bool marked[2] = { false, false };
	uint32_t maxf = 0;
	int fw, ow = 0, pad, lane;

	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		double ms = td_report_ms(s->first_ts, td_event_ts(&s->events[i]));

		olen[i] = td_report_fixed3(ms, true, off_s[i]);
		if (olen[i] > ow)
			ow = olen[i];
		if (s->events[i].frame > maxf)
			maxf = s->events[i].frame;
	}
	fw = ladder_digits(maxf);
	/* indent, "frame N", two spaces, "+T ms", two spaces, then the lane */
	pad = indent + 6 + fw + 2 + ow + 3 + 2;
	lane = LADDER_COLS - pad;
	if (lane > LADDER_LANE_MAX)
		lane = LADDER_LANE_MAX;
	if (lane < LADDER_LANE_MIN)
		lane = LADDER_LANE_MIN;
	td_addr_port_str(&s->client, s->client_port, c, sizeof c);
	td_addr_port_str(&s->server, s->server_port, sv, sizeof sv);
	{
		int cl = (int)strlen(c) + 7, sl = (int)strlen(sv) + 7;
		int gap = lane - cl - sl > 2 ? lane - cl - sl : 2;

		td_report_buf_fill(b, ' ', pad);
		td_report_buf_puts(b, "client ");
		td_report_buf_puts(b, c);
		td_report_buf_fill(b, ' ', gap);
		td_report_buf_puts(b, "server ");
		td_report_buf_puts(b, sv);
		td_report_buf_putc(b, '\n');
	}
	td_report_events_init(&w, s);
	for (size_t i = 0; i < n; i++) {
		const struct td_event *ev = &s->events[i];
		int dir = ev->dir == TD_DIR_S2C ? TD_DIR_S2C : TD_DIR_C2S;
		const char *col, *f;
		char shaft;
		int len, dashes;

		if (s->encrypted[dir] && !marked[dir] && ladder_encrypted_ev(s, ev)) {
			ladder_marker(b, pad, lane, dir);
			marked[dir] = true;
		}
		len = (int)ladder_label(&w, ev, label, sizeof label, &shaft, &col);
		dashes = lane - len - 2;
		if (dashes < LADDER_SHAFT_MIN)
			dashes = LADDER_SHAFT_MIN;
		/* "%*sframe %-*lu  %*s ms  %s" */
		f = td_report_dec(num + sizeof num, ev->frame, false);
		td_report_buf_fill(b, ' ', indent);
		td_report_buf_put(b, "frame ", 6);
		td_report_buf_put(b, f, (size_t)(num + sizeof num - f));
		td_report_buf_fill(b, ' ', fw - (int)(num + sizeof num - f) + 2);
		td_report_buf_fill(b, ' ', ow - olen[i]);
		td_report_buf_put(b, off_s[i], (size_t)olen[i]);
		td_report_buf_put(b, " ms  ", 5);
		if (color)
			td_report_buf_puts(b, col);
		if (dir == TD_DIR_C2S) {
			td_report_buf_put(b, label, (size_t)len);
			td_report_buf_putc(b, ' ');
			td_report_buf_fill(b, shaft, dashes);
			td_report_buf_putc(b, '>');
		} else {
			td_report_buf_putc(b, '<');
			td_report_buf_fill(b, shaft, dashes);
			td_report_buf_putc(b, ' ');
			td_report_buf_put(b, label, (size_t)len);
		}
		if (color && *col)
			td_report_buf_puts(b, ANSI_RESET);
		td_report_buf_putc(b, '\n');
	}
	if (s->total_events > n)
		td_report_buf_printf(b, "%*s(%zu of %u events shown)\n", indent, "", n,
				     (unsigned)s->total_events);
}

void td_report_ladder(FILE *out, const struct td_session *s, int indent, bool color)
{
	char mem[TD_REPORT_BUF_LEN];
	struct td_report_buf b;

	td_report_buf_init(&b, out, mem, sizeof mem);
	td_report_buf_ladder(&b, s, indent, color);
	td_report_buf_end(&b);
}

bool td_report_is_failure(const struct td_session *s)
{
	return s->outcome == TD_OUTCOME_FAILED || (s->diagnosis && s->diagnosis->n > 0);
}

/* ---- decryption facts in words ([decrypt]; text and Markdown) --------- */

const char *td_report_decrypt_status_words(uint8_t status)
{
	switch (status) {
	case TD_DECRYPT_DONE:
		return "decrypted";
	case TD_DECRYPT_NO_HELLOS:
		return "not possible: the ClientHello or ServerHello is not in the capture "
		       "(their randoms index the key log)";
	case TD_DECRYPT_NO_SECRETS:
		return "no key log line for this connection's client random";
	case TD_DECRYPT_DHE_NO_KEYLOG:
		return "the key exchange is (EC)DHE: a private key cannot decrypt it; give a "
		       "key log (--keylog) from the client or the server";
	case TD_DECRYPT_PMS_FAILED:
		return "the RSA pre-master secret does not decrypt under any --key given";
	case TD_DECRYPT_TLS13_MISSING:
		return "the key log lacks this connection's TLS 1.3 handshake secrets "
		       "(CLIENT_/SERVER_HANDSHAKE_TRAFFIC_SECRET)";
	case TD_DECRYPT_RESUMED:
		return "resumed session with no key log line: its full handshake is not in the "
		       "capture";
	case TD_DECRYPT_SUITE:
		return "cipher suite not supported for decryption";
	case TD_DECRYPT_VERSION:
		return "protocol version not supported for decryption (SSL 3.0, TLS 1.3 drafts)";
	case TD_DECRYPT_NOT_REACHED:
		return "nothing to decrypt: the handshake ended before encryption began";
	default:
		return "off";
	}
}

const char *td_report_pms_words(uint8_t result)
{
	switch (result) {
	case TD_PMS_DECRYPTED:
		return "decrypts it (PKCS#1 v1.5 padding and client version right)";
		/* RFC 5246 §7.4.7.1: the padding only checks out under the
		 * private key whose public half encrypted it */
	case TD_PMS_WRONG_KEY:
		return "does NOT decrypt it (PKCS#1 v1.5 padding check fails): the client "
		       "encrypted the pre-master secret to a different public key";
	case TD_PMS_WRONG_VERSION:
		return "decrypts it, but the first two bytes are not the ClientHello's version "
		       "(client bug or version rollback)";
	case TD_PMS_WRONG_LENGTH:
		return "decrypts it to a secret that is not 48 bytes";
	case TD_PMS_NOT_RSA:
		return "is not an RSA key: it cannot decrypt an RSA key exchange";
	default:
		return "not tried";
	}
}

const char *td_report_cert_compression_error(uint8_t err)
{
	switch (err) {
	case TD_OK:
		return NULL;
	case TD_ERR_UNSUPPORTED:
		return "unknown compression algorithm";
	case TD_ERR_TOO_BIG:
		return "uncompressed length above the 256 KiB handshake message cap";
	case TD_ERR_NOMEM:
		return "out of memory";
	default:
		return "does not decompress to the length it announces";
	}
}

const char *td_report_finished_words(uint8_t check)
{
	switch (check) {
	case TD_FIN_VERIFIED:
		return "verified: verify_data matches the handshake transcript";
	case TD_FIN_MISMATCH:
		return "verify_data does NOT match the handshake transcript";
	case TD_FIN_UNREADABLE:
		return "its record did not decrypt";
	case TD_FIN_NO_KEYS:
		return "not checked: no keys for this side";
	case TD_FIN_NO_TRANSCRIPT:
		return "not checked: handshake messages missing from the capture";
	default:
		return "not seen";
	}
}
