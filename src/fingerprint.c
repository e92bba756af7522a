/* fingerprint.c - JA3 / JA3S strings and hashes (see td_fingerprint.h). */
#include "td_fingerprint.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "td_digest.h"
#include "td_names.h"

struct out_buf {
	char *p;
	size_t n, len;
};

/* s[0..l) appended, cut where the buffer ends (as snprintf() cuts); the
 * text stays NUL-terminated. A byte loop: the pieces are a few bytes. */
static void put_n(struct out_buf *o, const char *s, size_t l)
{
	if (o->n == 0)
		return;
	if (l > o->n - 1 - o->len)
		l = o->n - 1 - o->len;
	for (size_t i = 0; i < l; i++)
		o->p[o->len + i] = s[i];
	o->len += l;
	o->p[o->len] = '\0';
}

static void put(struct out_buf *o, const char *s)
{
	put_n(o, s, strlen(s));
}

/* sep (when not NUL), then v in decimal ("%u") or as four lower-case hex
 * digits ("%04x"): written by hand, a ClientHello's lists are a few
 * hundred numbers and snprintf was most of the fingerprint's cost. */
static void put_u16(struct out_buf *o, char sep, uint16_t v, bool hex)
{
	static const char digits[] = "0123456789abcdef";
	/* the text ends at num + 8: the 8 bytes from q are all in num */
	char num[16] = {0}, *e = num + 8, *q = e;

	if (hex) {
		for (int i = 0; i < 4; i++, v >>= 4)
			*--q = digits[v & 0xf];
	} else {
		do
			*--q = digits[v % 10];
		while (v /= 10);
	}
	if (sep)
		*--q = sep;
	if (o->n > o->len && o->n - 1 - o->len >= 8) {
		/* room for 8 more: one word, the NUL after the text */
		memcpy(o->p + o->len, q, 8);
		o->len += (size_t)(e - q);
		o->p[o->len] = '\0';
		return;
	}
	put_n(o, q, (size_t)(e - q));
}

/* a, '_', b, '_', c into out (n bytes, cut and NUL-terminated as
 * snprintf(out, n, "%s_%s_%s", a, b, c) writes them). */
static void join3(char *out, size_t n, const char *a, const char *b, const char *c)
{
	struct out_buf o = {out, n, 0};

	put(&o, a);
	put_n(&o, "_", 1);
	put(&o, b);
	put_n(&o, "_", 1);
	put(&o, c);
}

/* n is clamped to cap: the lists are the session's fixed arrays. */
static void put_u16_list(struct out_buf *o, const uint16_t *v, size_t n, size_t cap,
			 int skip_grease)
{
	char sep = '\0';
	if (n > cap)
		n = cap;
	for (size_t i = 0; i < n; i++) {
		if (skip_grease && td_names_is_grease(v[i]))
			continue;
		put_u16(o, sep, v[i], false);
		sep = '-';
	}
}

/* Every value a fingerprint reads was kept: JA3 reads the suites,
 * extensions and groups, JA4 the suites, extensions and signature schemes
 * (the vectors of versions and point formats cannot exceed their caps). */
static bool ja3_whole(const struct td_client_hello *ch)
{
	return ch->n_suites == ch->total_suites && ch->n_exts == ch->total_exts &&
	       ch->n_groups == ch->total_groups;
}

static bool ja4_whole(const struct td_client_hello *ch)
{
	return ch->n_suites == ch->total_suites && ch->n_exts == ch->total_exts &&
	       ch->n_sigalgs == ch->total_sigalgs;
}

bool td_ja3_string(const struct td_client_hello *ch, char *out, size_t n)
{
	struct out_buf o = {out, n, 0};
	uint16_t pf[TD_MAX_POINT_FORMATS];

	if (n)
		out[0] = '\0';
	put_u16(&o, '\0', ch->legacy_version, false);
	put_n(&o, ",", 1);
	put_u16_list(&o, ch->suites, ch->n_suites, TD_MAX_SUITES, 1);
	put(&o, ",");
	put_u16_list(&o, ch->exts, ch->n_exts, TD_MAX_EXTS, 1);
	put(&o, ",");
	put_u16_list(&o, ch->groups, ch->n_groups, TD_MAX_GROUPS, 1);
	put(&o, ",");
	size_t npf = ch->n_point_formats < TD_MAX_POINT_FORMATS ? ch->n_point_formats
								 : TD_MAX_POINT_FORMATS;
	for (size_t i = 0; i < npf; i++)
		pf[i] = ch->point_formats[i];
	put_u16_list(&o, pf, npf, TD_MAX_POINT_FORMATS, 0);
	return ja3_whole(ch);
}

bool td_ja3s_string(const struct td_server_hello *sh, char *out, size_t n)
{
	struct out_buf o = {out, n, 0};

	if (n)
		out[0] = '\0';
	put_u16(&o, '\0', sh->legacy_version, false);
	put_u16(&o, ',', sh->suite, false);
	put_n(&o, ",", 1);
	put_u16_list(&o, sh->exts, sh->n_exts, TD_MAX_SH_EXTS, 1);
	return sh->n_exts == sh->total_exts;
}

void td_ja3_hash(const char *str, char out[33])
{
	uint8_t md[TD_MD5_LEN];
	td_md5(str, strlen(str), md);
	td_hex(md, sizeof md, out);
}

/* ---- JA4 / JA4S ---------------------------------------------------------- */

/* Two characters for a version: "13", "12", ..., "s3", "d2"; "00" unknown. */
static const char *ja4_version(uint16_t v)
{
	switch (v) {
	case 0x0304: return "13";
	case 0x0303: return "12";
	case 0x0302: return "11";
	case 0x0301: return "10";
	case 0x0300: return "s3";
	case 0x0002: return "s2";
	case 0xfeff: return "d1";
	case 0xfefd: return "d2";
	case 0xfefc: return "d3";
	default: return "00";
	}
}

static bool alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* A hello's ALPN length, at most what its array holds (the parser never
 * stores more; a session filled otherwise must not make this read past). */
static size_t alpn_kept(size_t len)
{
	return len < TD_ALPN_LEN ? len : TD_ALPN_LEN;
}

/* First and last character of the ALPN value; "99" when either is not
 * alphanumeric; "00" without ALPN. */
static void ja4_alpn(const uint8_t *v, size_t n, char out[3])
{
	if (n == 0) {
		strcpy(out, "00");
		return;
	}
	if (alnum(v[0]) && alnum(v[n - 1])) {
		out[0] = (char)v[0];
		out[1] = (char)v[n - 1];
	} else {
		/* "99", as FoxIO's reference implementation and its published
		 * test results (pcap/tls-non-ascii-alpn) have it; later texts
		 * of the specification print hex digits instead */
		out[0] = out[1] = '9';
	}
	out[2] = '\0';
}

static int cmp_u16(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
	return (x > y) - (x < y);
}

/* v ascending: by insertion for the short lists hellos have (no call per
 * comparison), by qsort() for long ones. */
static void sort_u16(uint16_t *v, size_t n)
{
	if (n > 64) {
		qsort(v, n, sizeof v[0], cmp_u16);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		uint16_t x = v[i];
		size_t j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* Two decimal digits of v (at most 99) at p: "%02u". */
static char *put2(char *p, size_t v)
{
	*p++ = (char)('0' + v / 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

/* Copies v (at most cap) without GREASE and without the values in skip. */
static size_t filtered(const uint16_t *v, size_t n, size_t cap, const uint16_t *skip,
		       size_t n_skip, uint16_t *out)
{
	size_t k = 0;
	if (n > cap)
		n = cap;
	for (size_t i = 0; i < n; i++) {
		bool drop = td_names_is_grease(v[i]);
		for (size_t j = 0; j < n_skip; j++)
			drop |= v[i] == skip[j];
		if (!drop)
			out[k++] = v[i];
	}
	return k;
}

static void put_hex_list(struct out_buf *o, const uint16_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_u16(o, i ? ',' : '\0', v[i], true);
}

/* The first 12 hex digits of the SHA-256 of s; twelve zeros for "". */
static void hash12(const char *s, char out[13])
{
	uint8_t md[TD_SHA256_LEN];
	char hex[2 * TD_SHA256_LEN + 1];
	if (!*s) {
		strcpy(out, "000000000000");
		return;
	}
	td_sha256(s, strlen(s), md);
	td_hex(md, sizeof md, hex);
	memcpy(out, hex, 12);
	out[12] = '\0';
}

struct ja4_parts {
	char a[16];
	char suites[TD_MAX_SUITES * 5 + 1];
	char rest[(TD_MAX_EXTS + TD_MAX_SIGALGS) * 5 + 2];
};

/* JA4 a_b_c: a from the hello's counts, b the sorted suites, c the sorted
 * extensions without SNI and ALPN, "_", the signature algorithms in order. */
static void ja4_parts(const struct td_client_hello *ch, struct ja4_parts *p)
{
	static const uint16_t sni_alpn[] = {0x0000, 0x0010};
	uint16_t suites[TD_MAX_SUITES], exts[TD_MAX_EXTS], sigs[TD_MAX_SIGALGS], vers[TD_MAX_VERSIONS];
	uint16_t top = ch->legacy_version;
	char alpn[3], *q;
	struct out_buf o;

	size_t nv = filtered(ch->versions, ch->n_versions, TD_MAX_VERSIONS, NULL, 0, vers);
	if (nv) {
		top = 0;
		for (size_t i = 0; i < nv; i++)
			if (vers[i] > top && vers[i] <= 0x0304)
				top = vers[i];
	}
	size_t ns = filtered(ch->suites, ch->n_suites, TD_MAX_SUITES, NULL, 0, suites);
	size_t ne_all = filtered(ch->exts, ch->n_exts, TD_MAX_EXTS, NULL, 0, exts);
	size_t ne = filtered(ch->exts, ch->n_exts, TD_MAX_EXTS, sni_alpn, 2, exts);
	size_t ng = filtered(ch->sigalgs, ch->n_sigalgs, TD_MAX_SIGALGS, NULL, 0, sigs);
	ja4_alpn(ch->alpn.n ? ch->alpn.name[0] : NULL, ch->alpn.n ? alpn_kept(ch->alpn.len[0]) : 0,
		 alpn);
	/* "t%s%c%02u%02u%s": 10 characters */
	q = p->a;
	*q++ = 't';
	memcpy(q, ja4_version(top), 2);
	q += 2;
	*q++ = ch->has_sni ? 'd' : 'i';
	q = put2(q, ns > 99 ? 99 : ns);
	q = put2(q, ne_all > 99 ? 99 : ne_all);
	memcpy(q, alpn, 3);
	sort_u16(suites, ns);
	sort_u16(exts, ne);
	o = (struct out_buf){p->suites, sizeof p->suites, 0};
	p->suites[0] = '\0';
	put_hex_list(&o, suites, ns);
	o = (struct out_buf){p->rest, sizeof p->rest, 0};
	p->rest[0] = '\0';
	put_hex_list(&o, exts, ne);
	if (ng) {
		put(&o, "_");
		put_hex_list(&o, sigs, ng);
	}
}

void td_ja4(const struct td_client_hello *ch, char out[TD_JA4_LEN])
{
	struct ja4_parts p;
	char b[13], c[13];
	if (!ja4_whole(ch)) {
		out[0] = '\0';
		return;
	}
	ja4_parts(ch, &p);
	hash12(p.suites, b);
	hash12(p.rest, c);
	join3(out, TD_JA4_LEN, p.a, b, c);
}

void td_ja4_raw(const struct td_client_hello *ch, char *out, size_t n)
{
	struct ja4_parts p;
	ja4_parts(ch, &p);
	join3(out, n, p.a, p.suites, p.rest);
}

/* JA4S a_b_c: version, extension count and ALPN; the chosen suite; the
 * extensions in the order sent. */
static void ja4s_parts(const struct td_server_hello *sh, char a[16], char b[8], char *c,
		       size_t n)
{
	uint16_t exts[TD_MAX_SH_EXTS];
	char alpn[3];
	struct out_buf o = {c, n, 0}, ob = {b, 8, 0};
	size_t ne = filtered(sh->exts, sh->n_exts, TD_MAX_SH_EXTS, NULL, 0, exts);

	ja4_alpn(sh->has_alpn ? sh->alpn : NULL, sh->has_alpn ? alpn_kept(sh->alpn_len) : 0, alpn);
	/* "t%s%02u%s": 7 characters */
	*a++ = 't';
	memcpy(a, ja4_version(sh->selected_version ? sh->selected_version : sh->legacy_version), 2);
	a = put2(a + 2, ne > 99 ? 99 : ne);
	memcpy(a, alpn, 3);
	put_u16(&ob, '\0', sh->suite, true);
	c[0] = '\0';
	put_hex_list(&o, exts, ne);
}

void td_ja4s(const struct td_server_hello *sh, char out[TD_JA4_LEN])
{
	char a[16], b[8], c[TD_MAX_SH_EXTS * 5 + 1], h[13];
	if (sh->n_exts != sh->total_exts) {
		out[0] = '\0';
		return;
	}
	ja4s_parts(sh, a, b, c, sizeof c);
	hash12(c, h);
	join3(out, TD_JA4_LEN, a, b, h);
}

void td_ja4s_raw(const struct td_server_hello *sh, char *out, size_t n)
{
	char a[16], b[8], c[TD_MAX_SH_EXTS * 5 + 1];
	ja4s_parts(sh, a, b, c, sizeof c);
	join3(out, n, a, b, c);
}
