/* check_tls.c - the TLS record and handshake parser on crafted bytes.
 *
 * Messages are written out field by field from the RFC structures by a
 * small builder below (independent of the parser), then parsed; every
 * length field is also tried off by one either way, and the whole stream is
 * fed in every split to check that the result does not depend on it.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "td_fingerprint.h"
#include "td_test_util.h"
#include "td_reader.h"
#include "td_tls.h"

/* ---- a byte builder with length-prefixed blocks ------------------------ */

struct buf {
	uint8_t b[8192];
	size_t n;
	size_t open_at[8]; /* offsets of open length prefixes */
	unsigned open_width[8];
	unsigned depth;
};

static void put8(struct buf *b, unsigned v)
{
	b->b[b->n++] = (uint8_t)v;
}

static void put16(struct buf *b, unsigned v)
{
	put8(b, v >> 8);
	put8(b, v);
}

static void put_bytes(struct buf *b, const void *p, size_t n)
{
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

/* opens a vector whose length prefix has width bytes, filled at close */
static void vec_open(struct buf *b, unsigned width)
{
	b->open_at[b->depth] = b->n;
	b->open_width[b->depth++] = width;
	for (unsigned i = 0; i < width; i++)
		put8(b, 0);
}

static void vec_close(struct buf *b)
{
	b->depth--;
	size_t at = b->open_at[b->depth];
	unsigned w = b->open_width[b->depth];
	size_t len = b->n - at - w;
	for (unsigned i = 0; i < w; i++)
		b->b[at + i] = (uint8_t)(len >> (8 * (w - 1 - i)));
}

/* ---- messages --------------------------------------------------------- */

#define SUITE_ECDHE_RSA_AES128_GCM 0xC02F
#define SUITE_RSA_AES128_GCM 0x009C
#define GREASE_SUITE 0x0A0A

/* RFC 8446 §4.1.2 ClientHello body with SNI, groups, point formats,
 * signature algorithms, ALPN and supported_versions. *ext_start receives
 * the offset where the extensions block starts. */
static void client_hello_body(struct buf *b, size_t *ext_start)
{
	static const uint8_t random[32] = {1, 2, 3};
	put16(b, 0x0303);
	put_bytes(b, random, 32);
	vec_open(b, 1); /* session id */
	for (int i = 0; i < 32; i++)
		put8(b, 0xEE);
	vec_close(b);
	vec_open(b, 2); /* cipher suites */
	put16(b, GREASE_SUITE);
	put16(b, SUITE_ECDHE_RSA_AES128_GCM);
	put16(b, SUITE_RSA_AES128_GCM);
	vec_close(b);
	vec_open(b, 1); /* compression: null */
	put8(b, 0);
	vec_close(b);
	if (ext_start)
		*ext_start = b->n;
	vec_open(b, 2); /* extensions */
	put16(b, 0x1A1A); /* GREASE extension, empty */
	vec_open(b, 2);
	vec_close(b);
	put16(b, 0); /* server_name */
	vec_open(b, 2);
	vec_open(b, 2);
	put8(b, 0);
	vec_open(b, 2);
	put_bytes(b, "server.example", 14);
	vec_close(b);
	vec_close(b);
	vec_close(b);
	put16(b, 10); /* supported_groups: x25519, secp256r1 */
	vec_open(b, 2);
	vec_open(b, 2);
	put16(b, 0x001D);
	put16(b, 0x0017);
	vec_close(b);
	vec_close(b);
	put16(b, 11); /* ec_point_formats: uncompressed */
	vec_open(b, 2);
	vec_open(b, 1);
	put8(b, 0);
	vec_close(b);
	vec_close(b);
	put16(b, 13); /* signature_algorithms */
	vec_open(b, 2);
	vec_open(b, 2);
	put16(b, 0x0804);
	put16(b, 0x0403);
	put16(b, 0x0401);
	vec_close(b);
	vec_close(b);
	put16(b, 16); /* ALPN: h2, http/1.1 */
	vec_open(b, 2);
	vec_open(b, 2);
	vec_open(b, 1);
	put_bytes(b, "h2", 2);
	vec_close(b);
	vec_open(b, 1);
	put_bytes(b, "http/1.1", 8);
	vec_close(b);
	vec_close(b);
	vec_close(b);
	put16(b, 43); /* supported_versions: 1.3, 1.2 */
	vec_open(b, 2);
	vec_open(b, 1);
	put16(b, 0x0304);
	put16(b, 0x0303);
	vec_close(b);
	vec_close(b);
	vec_close(b);
}

/* RFC 8446 §4.1.3 ServerHello body; hrr uses the special random. */
static void server_hello_body(struct buf *b, uint16_t suite, uint16_t selected_version, bool hrr)
{
	static const uint8_t hrr_random[32] = {
		0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C,
		0x02, 0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB,
		0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};
	static const uint8_t random[32] = {9, 9, 9};
	put16(b, 0x0303);
	put_bytes(b, hrr ? hrr_random : random, 32);
	vec_open(b, 1);
	vec_close(b);
	put16(b, suite);
	put8(b, 0);
	vec_open(b, 2);
	put16(b, 0xFF01); /* renegotiation_info */
	vec_open(b, 2);
	put8(b, 0);
	vec_close(b);
	if (selected_version) {
		put16(b, 43);
		vec_open(b, 2);
		put16(b, selected_version);
		vec_close(b);
	}
	put16(b, 16); /* ALPN: http/1.1 */
	vec_open(b, 2);
	vec_open(b, 2);
	vec_open(b, 1);
	put_bytes(b, "http/1.1", 8);
	vec_close(b);
	vec_close(b);
	vec_close(b);
	vec_close(b);
}

/* A TLS 1.2 Certificate body with n fake certificates of len bytes each. */
static void certificate_body(struct buf *b, int n, size_t len)
{
	vec_open(b, 3);
	for (int i = 0; i < n; i++) {
		vec_open(b, 3);
		for (size_t k = 0; k < len; k++)
			put8(b, 0x30 + i);
		vec_close(b);
	}
	vec_close(b);
}

static void handshake_msg(struct buf *b, uint8_t type, const struct buf *body)
{
	put8(b, type);
	vec_open(b, 3);
	put_bytes(b, body->b, body->n);
	vec_close(b);
}

static void record(struct buf *b, uint8_t type, const uint8_t *p, size_t n)
{
	put8(b, type);
	put16(b, 0x0303);
	put16(b, (unsigned)n);
	put_bytes(b, p, n);
}

/* ---- a certificate sink that counts ------------------------------------ */

struct cert_log {
	int n;
	size_t len[8];
};

static const struct td_cert *log_cert(void *user, const uint8_t *der, size_t len)
{
	struct cert_log *l = user;
	(void)der;
	if (l->n < 8)
		l->len[l->n] = len;
	l->n++;
	return NULL; /* nothing kept: the session holds no reference */
}

/* ---- the session's lists, allocated on first use ------------------------- */

/* A fresh session holds nothing; the timeline and the alerts grow to
 * their caps (the true counts go on), the hellos become the session's own
 * when written, td_session_bytes() counts every block, and a copy keeps
 * its lists when the original is cleared. */
START_TEST(test_session_lists)
{
	struct td_session s, c;
	struct td_event ev = {.kind = TD_EV_HANDSHAKE, .count = 1};
	size_t bytes;

	td_session_init(&s);
	ck_assert_uint_eq(td_session_bytes(&s), 0);
	ck_assert_ptr_null(s.events);
	ck_assert_ptr_null(s.alerts);
	ck_assert(!s.ch->seen && !s.sh->seen && !s.chain->checked);
	for (uint32_t i = 0; i < TD_MAX_EVENTS + 6; i++) {
		ev.frame = 100 - i; /* each one earlier: put in front */
		td_session_add_event(&s, &ev);
	}
	ck_assert_uint_eq(s.n_events, TD_MAX_EVENTS);
	ck_assert_uint_eq(s.total_events, TD_MAX_EVENTS + 6);
	for (unsigned i = 1; i < TD_MAX_EVENTS; i++)
		ck_assert_uint_lt(s.events[i - 1].frame, s.events[i].frame);
	ck_assert_uint_ge(td_session_bytes(&s), TD_MAX_EVENTS * sizeof(struct td_event));
	for (uint8_t i = 0; i < TD_MAX_ALERTS + 3; i++) {
		const struct td_alert *a = td_session_add_alert(&s, &(struct td_alert){.desc = i});
		ck_assert(i < TD_MAX_ALERTS ? a && a->desc == i : a == NULL);
	}
	ck_assert_uint_eq(s.n_alerts, TD_MAX_ALERTS);
	ck_assert_uint_eq(s.total_alerts, TD_MAX_ALERTS + 3);
	bytes = td_session_bytes(&s);
	struct td_client_hello *ch = td_session_ch(&s);
	ck_assert_ptr_nonnull(ch);
	ck_assert_ptr_eq(td_session_ch(&s), ch);
	ch->seen = true;
	ck_assert(s.ch->seen && !s.sh->seen);
	ck_assert_uint_ge(td_session_bytes(&s), bytes + sizeof *ch);
	for (int i = 0; i < TD_MAX_TICKETS + 1; i++)
		ck_assert(td_session_add_ticket(&s, (const uint8_t[32]){(uint8_t)i}, 7) ==
			  (i < TD_MAX_TICKETS));
	ck_assert_uint_eq(s.n_new_tickets, TD_MAX_TICKETS);
	/* the server's chain: one entry (8 bytes) per certificate, the
	 * allocator's header once; TD_MAX_CHAIN at most */
	bytes = td_session_bytes(&s);
	ck_assert_ptr_null(s.certs);
	for (unsigned i = 0; i < TD_MAX_CHAIN + 1; i++) {
		ck_assert(td_session_reserve_cert(&s, false) == (i < TD_MAX_CHAIN));
		if (i < TD_MAX_CHAIN)
			s.certs[s.n_certs++] = (const struct td_cert *)&s; /* a fake, never read */
	}
	ck_assert_uint_eq(td_session_bytes(&s), bytes + TD_MAX_CHAIN * sizeof(void *) + 16);
	/* the OCSP staple: the zero instance until written */
	bytes = td_session_bytes(&s);
	ck_assert(!s.ocsp->seen);
	ck_assert_ptr_eq(td_session_ocsp(&s), td_session_ocsp(&s));
	td_session_ocsp(&s)->seen = true;
	ck_assert_uint_eq(td_session_bytes(&s), bytes + sizeof *s.ocsp + 16);
	/* --key matches: an index into the run's paths */
	static const char *const paths[] = {"a.key", "b.key"};
	s.dec.key_files = paths;
	s.dec.n_key_files = 2;
	s.cert_key_match[1] = 2;
	ck_assert_ptr_null(td_session_cert_key(&s, 0));
	ck_assert_str_eq(td_session_cert_key(&s, 1), "b.key");
	ck_assert_ptr_null(td_session_cert_key(&s, TD_MAX_CHAIN));

	ck_assert(td_session_copy(&c, &s));
	ck_assert_ptr_ne(c.certs, s.certs);
	ck_assert_ptr_ne(c.ocsp, s.ocsp);
	ck_assert_ptr_ne(c.events, s.events);
	ck_assert_ptr_ne(c.ch, s.ch);
	td_session_clear(&s, NULL);
	ck_assert_uint_eq(td_session_bytes(&s), 0);
	ck_assert(!s.ch->seen);
	ck_assert_uint_eq(c.n_events, TD_MAX_EVENTS);
	ck_assert_uint_eq(c.events[TD_MAX_EVENTS - 1].frame, 100);
	ck_assert_uint_eq(c.alerts[TD_MAX_ALERTS - 1].desc, TD_MAX_ALERTS - 1);
	ck_assert_uint_eq(c.new_tickets[TD_MAX_TICKETS - 1].sha256[0], TD_MAX_TICKETS - 1);
	ck_assert(c.ch->seen);
	ck_assert(c.ocsp->seen);
	ck_assert(!s.ocsp->seen);
	ck_assert_uint_eq(c.n_certs, TD_MAX_CHAIN);
	ck_assert_ptr_eq(c.certs[TD_MAX_CHAIN - 1], (const struct td_cert *)&s);
	ck_assert_str_eq(td_session_cert_key(&c, 1), "b.key");
	td_session_clear(&c, NULL);
}
END_TEST

/* ---- message parsers ---------------------------------------------------- */

/* Two ClientHellos hold the same: every field, and every list entry. */
static void assert_same_ch(const struct td_client_hello *a, const struct td_client_hello *b)
{
	struct td_client_hello x, y;

	memcpy(&x, a, sizeof x);
	memcpy(&y, b, sizeof y);
#define SAME_LIST(list, n)                                                                 \
	ck_assert_uint_eq(a->n, b->n);                                                     \
	ck_assert_mem_eq(a->list, b->list, a->n * sizeof *a->list);                        \
	x.list = y.list = NULL;
	SAME_LIST(suites, n_suites)
	SAME_LIST(exts, n_exts)
	SAME_LIST(versions, n_versions)
	SAME_LIST(groups, n_groups)
	SAME_LIST(sigalgs, n_sigalgs)
	SAME_LIST(key_shares, n_key_shares)
	SAME_LIST(point_formats, n_point_formats)
	SAME_LIST(sni.bytes, sni.len)
	SAME_LIST(alpn.name, alpn.n)
#undef SAME_LIST
	x.block_bytes = y.block_bytes = 0; /* bookkeeping: the block the session holds */
	ck_assert_mem_eq(&x, &y, sizeof x);
}

START_TEST(test_client_hello_fields)
{
	struct buf b = {0};
	struct td_client_hello_wide chw = {0};
	struct td_client_hello ch = *td_client_hello_wide(&chw);
	struct td_reader r;

	client_hello_body(&b, NULL);
	td_reader_init(&r, b.b, b.n);
	ck_assert_int_eq(td_tls_parse_client_hello(&r, &ch), TD_OK);
	ck_assert_uint_eq(ch.legacy_version, 0x0303);
	ck_assert_uint_eq(ch.session_id_len, 32);
	ck_assert_uint_eq(ch.n_suites, 3);
	ck_assert_uint_eq(ch.suites[0], GREASE_SUITE);
	ck_assert_uint_eq(ch.suites[1], SUITE_ECDHE_RSA_AES128_GCM);
	ck_assert_uint_eq(ch.n_exts, 7);
	ck_assert_uint_eq(ch.exts[0], 0x1A1A);
	ck_assert(ch.has_sni);
	ck_assert_uint_eq(ch.sni.len, 14);
	ck_assert_mem_eq(ch.sni.bytes, "server.example", 14);
	ck_assert_uint_eq(ch.n_groups, 2);
	ck_assert_uint_eq(ch.groups[0], 0x001D);
	ck_assert_uint_eq(ch.n_sigalgs, 3);
	ck_assert_uint_eq(ch.sigalgs[2], 0x0401);
	ck_assert_uint_eq(ch.n_point_formats, 1);
	ck_assert_uint_eq(ch.alpn.n, 2);
	ck_assert_mem_eq(ch.alpn.name[1], "http/1.1", 8);
	ck_assert_uint_eq(ch.n_versions, 2);
	ck_assert_uint_eq(ch.versions[0], 0x0304);
}
END_TEST

/* A session keeps a parsed hello in one block, its lists as long as they
 * hold: the same entries, and the bytes counted for the block are the
 * struct's and the entries' (and the allocator's header, 16), fewer than
 * the parser's room; a second hello replaces the first, a copy has lists
 * of its own. */
START_TEST(test_client_hello_fitted)
{
	struct buf b = {0};
	struct td_client_hello_wide chw = {0};
	struct td_client_hello *ch = td_client_hello_wide(&chw);
	struct td_session s, c;
	struct td_reader r;
	size_t lists, bytes;

	client_hello_body(&b, NULL);
	td_reader_init(&r, b.b, b.n);
	ck_assert_int_eq(td_tls_parse_client_hello(&r, ch), TD_OK);
	lists = 2 * (ch->n_suites + ch->n_exts + ch->n_versions + ch->n_groups + ch->n_sigalgs +
		     ch->n_key_shares) +
		ch->n_point_formats + ch->sni.len + ch->alpn.n * TD_ALPN_LEN;
	td_session_init(&s);
	ck_assert(td_session_set_ch(&s, ch));
	assert_same_ch(s.ch, ch);
	bytes = td_session_bytes(&s);
	ck_assert_uint_eq(bytes, sizeof *ch + lists + 16);
	ck_assert_uint_lt(bytes, sizeof chw);
	ck_assert_ptr_eq(s.ch->suites, (const void *)(s.ch + 1));
	ck_assert_ptr_eq(s.ch->alpn.name[s.ch->alpn.n], (const uint8_t *)(s.ch + 1) + lists);
	ck_assert(td_session_set_ch(&s, ch));
	assert_same_ch(s.ch, ch);
	ck_assert_uint_eq(td_session_bytes(&s), bytes);
	ck_assert(td_session_copy(&c, &s));
	assert_same_ch(c.ch, ch);
	ck_assert_ptr_ne(c.ch->suites, s.ch->suites);
	ck_assert_ptr_ne(c.ch->sni.bytes, s.ch->sni.bytes);
	td_session_clear(&s, NULL);
	td_session_clear(&c, NULL);
}
END_TEST

/* Two ServerHellos hold the same: every field, and every list entry. */
static void assert_same_sh(const struct td_server_hello *a, const struct td_server_hello *b)
{
	struct td_server_hello x, y;

	memcpy(&x, a, sizeof x);
	memcpy(&y, b, sizeof y);
	ck_assert_uint_eq(a->n_exts, b->n_exts);
	ck_assert_mem_eq(a->exts, b->exts, a->n_exts * sizeof *a->exts);
	ck_assert_uint_eq(a->alpn_len, b->alpn_len);
	ck_assert_mem_eq(a->alpn, b->alpn, a->alpn_len);
	x.exts = y.exts = NULL;
	x.alpn = y.alpn = NULL;
	x.block_bytes = y.block_bytes = 0;
	ck_assert_mem_eq(&x, &y, sizeof x);
}

/* The ServerHello as the ClientHello (test_client_hello_fitted): the
 * session's block is the struct, its 3 extensions (2 bytes each) and its
 * 8-byte ALPN name, and the allocator's header (16). An ALPN choice read
 * later (TLS 1.3 EncryptedExtensions) goes through a widened copy: the
 * extensions stay, the block is fitted to the new name. */
START_TEST(test_server_hello_fitted)
{
	struct buf b = {0};
	struct td_server_hello_wide shw = {0}, w;
	struct td_server_hello *sh = td_server_hello_wide(&shw), *x;
	struct td_session s, c;
	struct td_reader r;
	size_t bytes;

	server_hello_body(&b, 0x1301, 0x0304, false);
	td_reader_init(&r, b.b, b.n);
	ck_assert_int_eq(td_tls_parse_server_hello(&r, sh), TD_OK);
	td_session_init(&s);
	ck_assert(td_session_set_sh(&s, sh));
	assert_same_sh(s.sh, sh);
	bytes = td_session_bytes(&s);
	ck_assert_uint_eq(bytes, sizeof *sh + 3 * 2 + 8 + 16);
	ck_assert_uint_lt(bytes, sizeof shw);
	ck_assert_ptr_eq(s.sh->exts, (const void *)(s.sh + 1));
	ck_assert_ptr_eq(s.sh->alpn, (const uint8_t *)(s.sh + 1) + 3 * 2);
	ck_assert(td_session_copy(&c, &s));
	assert_same_sh(c.sh, sh);
	ck_assert_ptr_ne(c.sh->exts, s.sh->exts);

	x = td_server_hello_widen(&w, s.sh);
	assert_same_sh(x, sh);
	x->alpn_len = 2;
	memcpy(x->alpn, "h2", 2);
	ck_assert(td_session_set_sh(&s, x));
	ck_assert_uint_eq(td_session_bytes(&s), sizeof *sh + 3 * 2 + 2 + 16);
	ck_assert_uint_eq(s.sh->n_exts, 3);
	ck_assert_uint_eq(s.sh->exts[0], 0xFF01);
	ck_assert_mem_eq(s.sh->alpn, "h2", 2);
	assert_same_sh(c.sh, sh); /* the copy is its own */
	td_session_clear(&s, NULL);
	td_session_clear(&c, NULL);
}
END_TEST

/* Cut at every length: before the extensions block every cut is an error;
 * exactly at it the hello is a valid extension-less one (SSL 3.0 style);
 * inside it every cut is an error again. Never a crash. */
START_TEST(test_client_hello_truncation_sweep)
{
	struct buf b = {0};
	size_t ext_start;

	client_hello_body(&b, &ext_start);
	for (size_t cut = 0; cut < b.n; cut++) {
		struct td_client_hello_wide chw = {0};
		struct td_client_hello ch = *td_client_hello_wide(&chw);
		struct td_reader r;
		td_reader_init(&r, b.b, cut);
		enum td_err e = td_tls_parse_client_hello(&r, &ch);
		if (cut == ext_start)
			ck_assert_msg(e == TD_OK, "cut %zu: %s", cut, td_err_name(e));
		else
			ck_assert_msg(e != TD_OK, "cut %zu parsed", cut);
	}
}
END_TEST

/* The cipher_suites length off by one either way. */
START_TEST(test_client_hello_length_off_by_one)
{
	struct buf b = {0};
	client_hello_body(&b, NULL);
	size_t at = 2 + 32 + 1 + 32; /* the cipher_suites length field */
	for (int delta = -1; delta <= 1; delta += 2) {
		struct buf c = b;
		unsigned len = (unsigned)(c.b[at] << 8 | c.b[at + 1]) + (unsigned)delta;
		c.b[at] = (uint8_t)(len >> 8);
		c.b[at + 1] = (uint8_t)len;
		struct td_client_hello_wide chw = {0};
		struct td_client_hello ch = *td_client_hello_wide(&chw);
		struct td_reader r;
		td_reader_init(&r, c.b, c.n);
		ck_assert_int_ne(td_tls_parse_client_hello(&r, &ch), TD_OK);
	}
	/* an odd suites length is malformed, not short */
	struct buf c = b;
	c.b[at + 1] ^= 1; /* 6 -> 7 */
	struct td_client_hello_wide chw = {0};
	struct td_client_hello ch = *td_client_hello_wide(&chw);
	struct td_reader r;
	td_reader_init(&r, c.b, c.n);
	ck_assert_int_eq(td_tls_parse_client_hello(&r, &ch), TD_ERR_MALFORMED);
}
END_TEST

/* An extension whose inner list length disagrees with its outer length:
 * the hello parses, the problem is remembered, the other extensions
 * still count. */
START_TEST(test_client_hello_bad_extension_body)
{
	struct buf b = {0};
	size_t ext_start;
	client_hello_body(&b, &ext_start);
	/* ext block: 2 len, GREASE(4), then server_name: type(2) len(2) list-len(2) */
	size_t list_len_at = ext_start + 2 + 4 + 4;
	b.b[list_len_at + 1]++;
	struct td_client_hello_wide chw = {0};
	struct td_client_hello ch = *td_client_hello_wide(&chw);
	struct td_reader r;
	td_reader_init(&r, b.b, b.n);
	ck_assert_int_eq(td_tls_parse_client_hello(&r, &ch), TD_ERR_MALFORMED);
	ck_assert(!ch.has_sni);
	ck_assert_uint_eq(ch.n_exts, 7);
	ck_assert_uint_eq(ch.n_groups, 2);
}
END_TEST

START_TEST(test_server_hello_and_hrr)
{
	struct buf b = {0};
	struct td_server_hello_wide shw = {0}, hrrw = {0};
	struct td_server_hello sh = *td_server_hello_wide(&shw);
	struct td_reader r;

	server_hello_body(&b, 0x1301, 0x0304, false);
	td_reader_init(&r, b.b, b.n);
	ck_assert_int_eq(td_tls_parse_server_hello(&r, &sh), TD_OK);
	ck_assert_uint_eq(sh.suite, 0x1301);
	ck_assert_uint_eq(sh.selected_version, 0x0304);
	ck_assert(!sh.hello_retry_request);
	ck_assert(sh.has_alpn);
	ck_assert_mem_eq(sh.alpn, "http/1.1", 8);
	ck_assert_uint_eq(sh.n_exts, 3);

	struct buf h = {0};
	struct td_server_hello hrr = *td_server_hello_wide(&hrrw);
	server_hello_body(&h, 0x1301, 0x0304, true);
	td_reader_init(&r, h.b, h.n);
	ck_assert_int_eq(td_tls_parse_server_hello(&r, &hrr), TD_OK);
	ck_assert(hrr.hello_retry_request);

	for (size_t cut = 0; cut < b.n; cut++) {
		struct td_server_hello_wide xw = {0};
		struct td_server_hello x = *td_server_hello_wide(&xw);
		td_reader_init(&r, b.b, cut);
		enum td_err e = td_tls_parse_server_hello(&r, &x);
		/* 2 + 32 + 1 + 2 + 1 = 38: a hello without extensions */
		if (cut == 38)
			ck_assert_int_eq(e, TD_OK);
		else
			ck_assert_msg(e != TD_OK, "cut %zu parsed", cut);
	}
}
END_TEST

START_TEST(test_certificate_list)
{
	struct buf b = {0};
	struct td_session s;
	struct cert_log log = {0};
	struct td_tls_cert_sink sink = {log_cert, &log, NULL};
	struct td_reader r;

	td_session_init(&s);
	certificate_body(&b, 3, 100);
	td_reader_init(&r, b.b, b.n);
	ck_assert_int_eq(td_tls_parse_certificate(&r, false, false, &s, &sink), TD_OK);
	ck_assert_int_eq(log.n, 3);
	ck_assert_uint_eq(log.len[2], 100);
	ck_assert_uint_eq(s.total_certs, 3);

	/* a zero-length certificate is malformed (ASN.1Cert<1..2^24-1>) */
	struct buf z = {0};
	certificate_body(&z, 1, 0);
	td_session_clear(&s, NULL);
	td_session_init(&s);
	td_reader_init(&r, z.b, z.n);
	ck_assert_int_eq(td_tls_parse_certificate(&r, false, false, &s, &sink), TD_ERR_MALFORMED);
	/* list length larger than the message: short */
	b.b[2] += 1;
	td_session_clear(&s, NULL);
	td_session_init(&s);
	td_reader_init(&r, b.b, b.n);
	ck_assert_int_eq(td_tls_parse_certificate(&r, false, false, &s, &sink), TD_ERR_SHORT);
	td_session_clear(&s, NULL);
}
END_TEST

START_TEST(test_sslv2_hello)
{
	/* RFC 5246 §E.2 body after msg_type: version 3.1, 2 cipher specs
	 * (one SSLv2-only, one TLS), no session id, 16-byte challenge */
	struct buf b = {0};
	struct td_client_hello_wide chw = {0};
	struct td_client_hello ch = *td_client_hello_wide(&chw);
	struct td_reader r;

	put16(&b, 0x0301);
	put16(&b, 6);
	put16(&b, 0);
	put16(&b, 16);
	put8(&b, 0x07);
	put16(&b, 0x00C0); /* SSL_CK_DES_192_EDE3_CBC_WITH_MD5 */
	put8(&b, 0x00);
	put16(&b, 0x002F);
	for (int i = 0; i < 16; i++)
		put8(&b, i);
	td_reader_init(&r, b.b, b.n);
	ck_assert_int_eq(td_tls_parse_sslv2_hello(&r, &ch), TD_OK);
	ck_assert_uint_eq(ch.legacy_version, 0x0301);
	ck_assert_uint_eq(ch.n_suites, 1);
	ck_assert_uint_eq(ch.suites[0], 0x002F);
}
END_TEST

/* The same hello as it comes on the wire (RFC 5246 §E.2: a two-byte SSLv2
 * record header with the top bit set, msg_type 1), through the push parser:
 * the session's ClientHello with record version SSL 2.0 and the JA3 of
 * "769,47,,," (tshark's and Salesforce's JA3 of such a hello: version,
 * the one TLS suite, no extensions), whose MD5 openssl computes here. */
START_TEST(test_sslv2_hello_stream)
{
	struct buf b = {0};
	struct td_tls t;
	struct td_tls_limits lim = {.max_handshake_msg = 65536};
	static struct cert_log log;
	struct td_tls_cert_sink sink = {log_cert, &log, NULL};
	static struct td_session s;
	char md5[64] = "";
	FILE *f = popen("printf '769,47,,,' | openssl md5 -r", "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(md5, sizeof md5, f));
	pclose(f);
	md5[32] = '\0';
	put16(&b, 0x8000 | 25); /* msg_type, 8 bytes of lengths, 6 + 16 bytes */
	put8(&b, 1);
	put16(&b, 0x0301);
	put16(&b, 6);
	put16(&b, 0);
	put16(&b, 16);
	put8(&b, 0x07);
	put16(&b, 0x00C0);
	put8(&b, 0x00);
	put16(&b, 0x002F);
	for (int i = 0; i < 16; i++)
		put8(&b, i);
	b.b[1] = (uint8_t)(b.n - 2);
	td_session_init(&s);
	td_tls_init(&t, &lim);
	td_tls_feed(&t, &s, &sink, TD_DIR_C2S, b.b, b.n, 7, (struct td_time){1700000000, 0});
	ck_assert(s.ch->seen);
	ck_assert_uint_eq(s.ch->frame, 7);
	ck_assert_uint_eq(s.ch->record_version, 0x0002);
	ck_assert_uint_eq(s.ch->legacy_version, 0x0301);
	ck_assert_uint_eq(s.ch->n_suites, 1);
	ck_assert_uint_eq(s.ch->suites[0], 0x002F);
	ck_assert_str_eq(s.ch->ja3, md5);
	td_tls_free(&t);
	td_session_clear(&s, NULL);
}
END_TEST

/* ---- the push parser on a whole conversation -------------------------- */

struct conversation {
	struct buf c2s, s2c;
};

/* TLS 1.2 full handshake, RSA key exchange, the server answering the
 * client's Finished with a fatal bad_record_mac (the key-mismatch case). */
static void conversation_tls12_bad_record_mac(struct conversation *cv)
{
	struct buf body = {0}, msgs = {0};

	memset(cv, 0, sizeof *cv);
	client_hello_body(&body, NULL);
	handshake_msg(&msgs, 1, &body);
	record(&cv->c2s, 22, msgs.b, msgs.n);

	/* ServerHello + Certificate + ServerHelloDone in one record */
	memset(&msgs, 0, sizeof msgs);
	memset(&body, 0, sizeof body);
	server_hello_body(&body, SUITE_RSA_AES128_GCM, 0, false);
	handshake_msg(&msgs, 2, &body);
	memset(&body, 0, sizeof body);
	certificate_body(&body, 2, 700);
	handshake_msg(&msgs, 11, &body);
	memset(&body, 0, sizeof body);
	handshake_msg(&msgs, 14, &body);
	record(&cv->s2c, 22, msgs.b, msgs.n);

	/* ClientKeyExchange (RSA: 2-byte length + 256 bytes) */
	memset(&msgs, 0, sizeof msgs);
	memset(&body, 0, sizeof body);
	vec_open(&body, 2);
	for (int i = 0; i < 256; i++)
		put8(&body, i);
	vec_close(&body);
	handshake_msg(&msgs, 16, &body);
	record(&cv->c2s, 22, msgs.b, msgs.n);
	static const uint8_t ccs[] = {1};
	record(&cv->c2s, 20, ccs, 1);
	static uint8_t fin[40];
	record(&cv->c2s, 22, fin, sizeof fin); /* encrypted Finished */

	static const uint8_t alert[] = {2, 20};
	record(&cv->s2c, 21, alert, 2);
}

/* TLS 1.2: after both Finished, an encrypted handshake record from the
 * client is a renegotiation (RFC 5246 §7.4.1.1); before them it is not. */
START_TEST(test_renegotiation)
{
	struct conversation cv;
	struct td_tls t;
	struct td_tls_limits lim = {.max_handshake_msg = 65536};
	static struct cert_log log;
	struct td_tls_cert_sink sink = {log_cert, &log, NULL};
	struct td_time ts = {1700000000, 0};
	static struct td_session s;
	struct buf fin = {0}, reneg = {0};
	static const uint8_t ccs[] = {1}, enc[40] = {7};

	conversation_tls12_bad_record_mac(&cv); /* its last record is the server's alert */
	cv.s2c.n -= 7;
	record(&cv.s2c, 20, ccs, 1);
	record(&fin, 22, enc, sizeof enc);
	record(&reneg, 22, enc, sizeof enc);
	size_t ch_len = 5 + (size_t)(cv.c2s.b[3] << 8 | cv.c2s.b[4]);

	td_session_init(&s);
	td_tls_init(&t, &lim);
	td_tls_feed(&t, &s, &sink, TD_DIR_C2S, cv.c2s.b, ch_len, 1, ts);
	td_tls_feed(&t, &s, &sink, TD_DIR_S2C, cv.s2c.b, cv.s2c.n, 2, ts);
	td_tls_feed(&t, &s, &sink, TD_DIR_C2S, cv.c2s.b + ch_len, cv.c2s.n - ch_len, 3, ts);
	ck_assert_uint_eq(s.reneg_frame, 0); /* the client's Finished only */
	td_tls_feed(&t, &s, &sink, TD_DIR_S2C, fin.b, fin.n, 4, ts);
	ck_assert(td_session_handshake_complete(&s));
	ck_assert_uint_eq(s.reneg_frame, 0);
	td_tls_feed(&t, &s, &sink, TD_DIR_C2S, reneg.b, reneg.n, 5, ts);
	ck_assert_uint_eq(s.reneg_frame, 5);
	ck_assert_int_eq(s.reneg_by, TD_DIR_C2S);
	td_tls_feed(&t, &s, &sink, TD_DIR_S2C, reneg.b, reneg.n, 6, ts);
	ck_assert_uint_eq(s.reneg_frame, 5); /* the first one is kept */
	td_tls_free(&t);
	td_session_clear(&s, NULL);
}
END_TEST

/* The start of a TLS 1.2 ECDHE handshake: c2s gets the ClientHello record,
 * msgs the ServerHello and a one-certificate Certificate (cert_len bytes)
 * for the caller to add to; s2c and body are emptied. */
static void tls12_opening(struct buf *c2s, struct buf *s2c, struct buf *msgs, struct buf *body,
			  size_t cert_len)
{
	memset(c2s, 0, sizeof *c2s);
	memset(s2c, 0, sizeof *s2c);
	memset(msgs, 0, sizeof *msgs);
	memset(body, 0, sizeof *body);
	client_hello_body(body, NULL);
	handshake_msg(msgs, 1, body);
	record(c2s, 22, msgs->b, msgs->n);
	memset(msgs, 0, sizeof *msgs);
	memset(body, 0, sizeof *body);
	server_hello_body(body, SUITE_ECDHE_RSA_AES128_GCM, 0, false);
	handshake_msg(msgs, 2, body);
	memset(body, 0, sizeof *body);
	certificate_body(body, 1, cert_len);
	handshake_msg(msgs, 11, body);
	memset(body, 0, sizeof *body);
}

/* TLS 1.2 with a client certificate: the CertificateRequest's signature
 * schemes and CA names (RFC 5246 §7.4.4: the first TD_MAX_CA_NAMES kept as
 * DER, a name above TD_CA_NAME_LEN counted but not kept) and the scheme of
 * the client's CertificateVerify (§7.4.8). delta moves the
 * supported_signature_algorithms length by one either way: the message is
 * then malformed, which is an anomaly. */
static void client_cert_conversation(int delta, struct td_session *s)
{
	static struct buf body, msgs, c2s, s2c;
	struct td_tls t;
	struct td_tls_limits lim = {.max_handshake_msg = 65536};
	static struct cert_log log;
	struct td_tls_cert_sink sink = {log_cert, &log, NULL};
	struct td_time ts = {1700000000, 0};

	tls12_opening(&c2s, &s2c, &msgs, &body, 300);
	vec_open(&body, 1); /* ClientCertificateType certificate_types<1..2^8-1> */
	put8(&body, 1);
	put8(&body, 64);
	vec_close(&body);
	size_t sig_len_at = body.n + 1; /* low byte of the 2-byte length */
	vec_open(&body, 2);
	put16(&body, 0x0403);
	put16(&body, 0x0804);
	put16(&body, 0x0401);
	vec_close(&body);
	body.b[sig_len_at] = (uint8_t)(body.b[sig_len_at] + delta);
	vec_open(&body, 2); /* DistinguishedName certificate_authorities<0..2^16-1> */
	for (int i = 0; i < 6; i++) {
		vec_open(&body, 2);
		size_t len = i == 1 ? TD_CA_NAME_LEN + 1 : 10 + (size_t)i;
		for (size_t k = 0; k < len; k++)
			put8(&body, 0x40 + i);
		vec_close(&body);
	}
	vec_close(&body);
	handshake_msg(&msgs, 13, &body);
	memset(&body, 0, sizeof body);
	handshake_msg(&msgs, 14, &body);
	record(&s2c, 22, msgs.b, msgs.n);

	memset(&msgs, 0, sizeof msgs);
	memset(&body, 0, sizeof body);
	certificate_body(&body, 1, 200);
	handshake_msg(&msgs, 11, &body);
	memset(&body, 0, sizeof body);
	vec_open(&body, 1);
	for (int i = 0; i < 65; i++)
		put8(&body, 4);
	vec_close(&body);
	handshake_msg(&msgs, 16, &body);
	memset(&body, 0, sizeof body);
	put16(&body, 0x0403); /* the signature scheme, then signature<0..2^16-1> */
	vec_open(&body, 2);
	for (int i = 0; i < 70; i++)
		put8(&body, i);
	vec_close(&body);
	handshake_msg(&msgs, 15, &body);
	record(&c2s, 22, msgs.b, msgs.n);

	size_t ch_len = 5 + (size_t)(c2s.b[3] << 8 | c2s.b[4]);
	td_session_clear(s, NULL);
	td_session_init(s);
	td_tls_init(&t, &lim);
	td_tls_feed(&t, s, &sink, TD_DIR_C2S, c2s.b, ch_len, 1, ts);
	td_tls_feed(&t, s, &sink, TD_DIR_S2C, s2c.b, s2c.n, 2, ts);
	td_tls_feed(&t, s, &sink, TD_DIR_C2S, c2s.b + ch_len, c2s.n - ch_len, 3, ts);
	td_tls_free(&t);
}

START_TEST(test_certificate_request_and_verify)
{
	static struct td_session s;

	client_cert_conversation(0, &s);
	ck_assert(s.client_cert_requested);
	ck_assert_uint_eq(s.anomalies[TD_DIR_S2C], 0);
	ck_assert_uint_eq(s.cr_n_sigalgs, 3);
	ck_assert_uint_eq(s.cr_sigalgs[0], 0x0403);
	ck_assert_uint_eq(s.cr_sigalgs[1], 0x0804);
	ck_assert_uint_eq(s.cr_sigalgs[2], 0x0401);
	ck_assert_uint_eq(s.cr_n_cas, 6);
	ck_assert_uint_eq(s.cr_n_ca_names, TD_MAX_CA_NAMES);
	ck_assert_uint_eq(s.cr_ca_len[0], 10);
	ck_assert_uint_eq(s.cr_ca_der[0][9], 0x40);
	ck_assert_uint_eq(s.cr_ca_len[1], 0); /* too long: counted, not kept */
	ck_assert_uint_eq(s.cr_ca_len[2], 12);
	ck_assert_uint_eq(s.cr_ca_der[2][0], 0x42);
	ck_assert_uint_eq(s.total_client_certs, 1);
	ck_assert_uint_eq(s.cv_sigalg, 0x0403);
	ck_assert_uint_eq(s.anomalies[TD_DIR_C2S], 0);

	for (int delta = -1; delta <= 1; delta += 2) {
		client_cert_conversation(delta, &s);
		ck_assert_msg(s.anomalies[TD_DIR_S2C] > 0, "delta %d: no anomaly", delta);
		ck_assert(s.client_cert_requested);
	}
}
END_TEST

/* A hello with this 32-byte session ID and nothing else optional
 * (RFC 5246 §7.4.1.2/§7.4.1.3: no extensions), as one record. */
static void hello_with_session_id(struct buf *rec, uint8_t type, uint8_t last_id_byte)
{
	struct buf body = {0}, msg = {0};
	put16(&body, 0x0303);
	for (int i = 0; i < 32; i++)
		put8(&body, 0x11);
	vec_open(&body, 1);
	for (int i = 0; i < 31; i++)
		put8(&body, 0xA0 + i);
	put8(&body, last_id_byte);
	vec_close(&body);
	if (type == 1) {
		vec_open(&body, 2);
		put16(&body, SUITE_ECDHE_RSA_AES128_GCM);
		vec_close(&body);
		vec_open(&body, 1);
		put8(&body, 0);
		vec_close(&body);
	} else {
		put16(&body, SUITE_ECDHE_RSA_AES128_GCM);
		put8(&body, 0);
	}
	handshake_msg(&msg, type, &body);
	record(rec, 22, msg.b, msg.n);
}

/* The session IDs are kept as bytes: "echoed" means the same bytes, not
 * only the same length (RFC 5246 §7.4.1.3). */
START_TEST(test_session_id_echo_compares_bytes)
{
	struct td_tls_limits lim = {.max_handshake_msg = 65536};
	static struct cert_log log;
	struct td_tls_cert_sink sink = {log_cert, &log, NULL};
	struct td_time ts = {1700000000, 0};
	static struct td_session s;

	for (int same = 0; same <= 1; same++) {
		struct buf ch = {0}, sh = {0};
		struct td_tls t;
		hello_with_session_id(&ch, 1, 0x77);
		hello_with_session_id(&sh, 2, same ? 0x77 : 0x78);
		td_session_clear(&s, NULL);
		td_session_init(&s);
		td_tls_init(&t, &lim);
		td_tls_feed(&t, &s, &sink, TD_DIR_C2S, ch.b, ch.n, 1, ts);
		td_tls_feed(&t, &s, &sink, TD_DIR_S2C, sh.b, sh.n, 2, ts);
		td_tls_free(&t);
		ck_assert_uint_eq(s.ch->session_id_len, 32);
		ck_assert_uint_eq(s.ch->session_id[0], 0xA0);
		ck_assert_uint_eq(s.ch->session_id[31], 0x77);
		ck_assert_uint_eq(s.sh->session_id_len, 32);
		ck_assert_uint_eq(s.sh->session_id[31], same ? 0x77 : 0x78);
		ck_assert_msg(s.sh->session_id_echoed == (same == 1), "same %d", same);
	}
}
END_TEST

/* CertificateStatus (RFC 6066 §8): status_type ocsp(1) and a 24-bit
 * length-prefixed response, handed to the sink; the response length off
 * by one either way is malformed (an anomaly, nothing handed over), an
 * unknown status type is skipped without an anomaly. */
struct ocsp_log {
	struct cert_log certs; /* first: the certificate sink shares the user pointer */
	int calls;
	size_t len;
	uint8_t first;
};

static void log_ocsp(void *user, const uint8_t *der, size_t len, struct td_ocsp_facts *out)
{
	struct ocsp_log *l = user;
	l->calls++;
	l->len = len;
	l->first = der[0];
	out->parsed = true;
}

static void certificate_status_run(int delta, uint8_t type, struct td_session *s,
				   struct ocsp_log *l)
{
	static struct buf body, msgs, c2s, s2c;
	struct td_tls t;
	struct td_tls_limits lim = {.max_handshake_msg = 65536};
	struct td_tls_cert_sink sink = {log_cert, l, log_ocsp};
	struct td_time ts = {1700000000, 0};

	memset(l, 0, sizeof *l);
	tls12_opening(&c2s, &s2c, &msgs, &body, 100);
	put8(&body, type);
	size_t len_at = body.n + 2; /* low byte of the 3-byte length */
	vec_open(&body, 3);
	put8(&body, 0x30);
	for (int i = 0; i < 40; i++)
		put8(&body, i);
	vec_close(&body);
	body.b[len_at] = (uint8_t)(body.b[len_at] + delta);
	handshake_msg(&msgs, 22, &body);
	memset(&body, 0, sizeof body);
	handshake_msg(&msgs, 14, &body);
	record(&s2c, 22, msgs.b, msgs.n);

	td_session_clear(s, NULL);
	td_session_init(s);
	td_tls_init(&t, &lim);
	td_tls_feed(&t, s, &sink, TD_DIR_C2S, c2s.b, c2s.n, 1, ts);
	td_tls_feed(&t, s, &sink, TD_DIR_S2C, s2c.b, s2c.n, 2, ts);
	td_tls_free(&t);
}

START_TEST(test_certificate_status)
{
	static struct td_session s;
	struct ocsp_log l;

	certificate_status_run(0, 1, &s, &l);
	ck_assert(s.ocsp->seen);
	ck_assert_uint_eq(s.ocsp->frame, 2);
	ck_assert_uint_eq(s.ocsp->length, 41);
	ck_assert_int_eq(l.calls, 1);
	ck_assert_uint_eq(l.len, 41);
	ck_assert_uint_eq(l.first, 0x30);
	ck_assert(s.ocsp->parsed); /* what the sink said */
	ck_assert_uint_eq(s.anomalies[TD_DIR_S2C], 0);
	for (int delta = -1; delta <= 1; delta += 2) {
		certificate_status_run(delta, 1, &s, &l);
		ck_assert_msg(s.anomalies[TD_DIR_S2C] > 0, "delta %d: no anomaly", delta);
		ck_assert_int_eq(l.calls, 0);
		ck_assert(!s.ocsp->seen);
	}
	certificate_status_run(0, 2, &s, &l); /* not ocsp(1) */
	ck_assert(!s.ocsp->seen);
	ck_assert_int_eq(l.calls, 0);
	ck_assert_uint_eq(s.anomalies[TD_DIR_S2C], 0);
}
END_TEST

struct split_result {
	struct td_session s;
	struct cert_log log;
};

/* Feeds both directions in the conversation's natural order, each cut
 * into chunks of the given size (0: one chunk). */
static void run_conversation(const struct conversation *cv, size_t chunk, unsigned seed,
			     struct split_result *out)
{
	struct td_tls t;
	struct td_tls_limits lim = {.max_handshake_msg = 65536};
	struct td_tls_cert_sink sink = {log_cert, &out->log, NULL};
	struct td_time ts = {1700000000, 0};

	memset(out, 0, sizeof *out);
	td_session_init(&out->s);
	td_tls_init(&t, &lim);
	/* order: client hello record, server flight, client rest */
	size_t ch_len = 5 + (size_t)(cv->c2s.b[3] << 8 | cv->c2s.b[4]);
	const struct {
		int dir;
		const uint8_t *p;
		size_t n;
	} parts[] = {
		{TD_DIR_C2S, cv->c2s.b, ch_len},
		{TD_DIR_S2C, cv->s2c.b, cv->s2c.n - 7},
		{TD_DIR_C2S, cv->c2s.b + ch_len, cv->c2s.n - ch_len},
		{TD_DIR_S2C, cv->s2c.b + cv->s2c.n - 7, 7},
	};
	uint32_t frame = 1;
	srand(seed);
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		size_t off = 0;
		while (off < parts[i].n) {
			size_t n = parts[i].n - off;
			size_t c = chunk ? chunk : n;
			if (seed)
				c = 1 + (size_t)rand() % 300;
			if (c < n)
				n = c;
			td_tls_feed(&t, &out->s, &sink, parts[i].dir, parts[i].p + off, n, frame++, ts);
			off += n;
		}
	}
	td_tls_end(&t, &out->s, TD_DIR_C2S);
	td_tls_end(&t, &out->s, TD_DIR_S2C);
	td_tls_free(&t);
}

START_TEST(test_conversation_facts)
{
	struct conversation cv;
	struct split_result r;

	conversation_tls12_bad_record_mac(&cv);
	run_conversation(&cv, 0, 0, &r);
	ck_assert(r.s.is_tls);
	ck_assert(r.s.ch->seen);
	ck_assert(r.s.sh->seen);
	ck_assert_uint_eq(r.s.sh->suite, SUITE_RSA_AES128_GCM);
	ck_assert_int_eq(r.log.n, 2);
	ck_assert_uint_eq(r.s.total_certs, 2);
	ck_assert(r.s.ccs_seen[TD_DIR_C2S]);
	ck_assert(!r.s.ccs_seen[TD_DIR_S2C]);
	ck_assert(r.s.finished_seen[TD_DIR_C2S]);
	ck_assert_uint_eq(r.s.n_alerts, 1);
	ck_assert_uint_eq(r.s.alerts[0].dir, TD_DIR_S2C);
	ck_assert_uint_eq(r.s.alerts[0].level, 2);
	ck_assert_uint_eq(r.s.alerts[0].desc, 20);
	ck_assert(!r.s.alerts[0].encrypted);
	ck_assert_uint_eq(r.s.alerts[0].phase, TD_PHASE_AFTER_CLIENT_FINISHED);
	ck_assert_uint_eq(r.s.stage, TD_STAGE_CLIENT_FINISHED);
	/* CH, SH, Cert, SHD, CKE, CCS, encrypted Finished, alert */
	ck_assert_uint_eq(r.s.n_events, 8);
	r.s.end = TD_END_FIN;
	r.s.end_by = TD_DIR_S2C;
	td_session_finish(&r.s);
	ck_assert_uint_eq(r.s.outcome, TD_OUTCOME_FAILED);
	ck_assert_int_eq(r.s.aborted_by, TD_DIR_S2C);
	ck_assert_uint_eq(r.s.aborted_how, TD_ABORT_ALERT);
	td_session_clear(&r.s, NULL);
}
END_TEST

/* The same facts however the stream is split (STYLE.md rule 13). */
START_TEST(test_split_invariance)
{
	struct conversation cv;
	struct split_result whole, part;

	conversation_tls12_bad_record_mac(&cv);
	run_conversation(&cv, 0, 0, &whole);
	for (size_t chunk = 1; chunk <= 64; chunk++) {
		run_conversation(&cv, chunk, 0, &part);
		/* the frame a message starts in depends on the split; all
		 * else must not */
		td_session_ch(&part.s)->frame = whole.s.ch->frame;
		assert_same_ch(part.s.ch, whole.s.ch);
		ck_assert_uint_eq(part.s.sh->suite, whole.s.sh->suite);
		ck_assert_int_eq(part.log.n, whole.log.n);
		ck_assert_uint_eq(part.s.n_alerts, whole.s.n_alerts);
		ck_assert_uint_eq(part.s.alerts[0].desc, whole.s.alerts[0].desc);
		ck_assert_uint_eq(part.s.n_events, whole.s.n_events);
		ck_assert_uint_eq(part.s.stage, whole.s.stage);
		td_session_clear(&part.s, NULL);
	}
	for (unsigned seed = 1; seed <= 200; seed++) {
		run_conversation(&cv, 0, seed, &part);
		ck_assert_str_eq(part.s.ch->ja3, whole.s.ch->ja3);
		ck_assert_uint_eq(part.s.sh->suite, whole.s.sh->suite);
		ck_assert_int_eq(part.log.n, whole.log.n);
		ck_assert_uint_eq(part.s.alerts[0].desc, whole.s.alerts[0].desc);
		ck_assert_uint_eq(part.s.n_events, whole.s.n_events);
		td_session_clear(&part.s, NULL);
	}
	td_session_clear(&whole.s, NULL);
}
END_TEST

/* A handshake message split across two records is reassembled. */
START_TEST(test_message_across_records)
{
	struct buf body = {0}, msg = {0}, stream = {0};
	struct td_session s;
	struct td_tls t;
	struct td_tls_limits lim = {.max_handshake_msg = 65536};
	struct td_time ts = {0, 0};

	client_hello_body(&body, NULL);
	handshake_msg(&msg, 1, &body);
	record(&stream, 22, msg.b, 10);
	record(&stream, 22, msg.b + 10, msg.n - 10);
	td_session_init(&s);
	td_tls_init(&t, &lim);
	td_tls_feed(&t, &s, NULL, TD_DIR_C2S, stream.b, stream.n, 1, ts);
	ck_assert(s.ch->seen);
	ck_assert_uint_eq(s.ch->frame, 1);
	ck_assert(s.ch->has_sni);
	ck_assert_uint_eq(s.records[TD_DIR_C2S], 2);
	td_tls_free(&t);
	td_session_clear(&s, NULL);
}
END_TEST

/* Non-TLS bytes and oversized records stop the direction with the exact
 * error; a message above the cap is skipped and counted. */
START_TEST(test_desync_and_caps)
{
	struct td_session s;
	struct td_tls t;
	struct td_tls_limits lim = {.max_handshake_msg = 64};
	struct td_time ts = {0, 0};
	static const uint8_t http[] = "GET / HTTP/1.1\r\n\r\n";

	td_session_init(&s);
	td_tls_init(&t, &lim);
	td_tls_feed(&t, &s, NULL, TD_DIR_C2S, http, sizeof http - 1, 3, ts);
	ck_assert(!s.is_tls);
	ck_assert_int_eq(s.desync[TD_DIR_C2S], TD_ERR_MALFORMED);
	ck_assert_uint_eq(s.desync_frame[TD_DIR_C2S], 3);
	td_tls_free(&t);

	/* record length 2^14 + 2048 + 1 */
	static const uint8_t big[] = {22, 3, 3, 0x48, 0x01};
	td_session_clear(&s, NULL);
	td_session_init(&s);
	td_tls_init(&t, &lim);
	td_tls_feed(&t, &s, NULL, TD_DIR_S2C, big, sizeof big, 1, ts);
	ck_assert_int_eq(s.desync[TD_DIR_S2C], TD_ERR_TOO_BIG);
	td_tls_free(&t);

	/* a ClientHello larger than the 64-byte cap */
	struct buf body = {0}, msg = {0}, stream = {0};
	client_hello_body(&body, NULL);
	handshake_msg(&msg, 1, &body);
	record(&stream, 22, msg.b, msg.n);
	td_session_clear(&s, NULL);
	td_session_init(&s);
	td_tls_init(&t, &lim);
	td_tls_feed(&t, &s, NULL, TD_DIR_C2S, stream.b, stream.n, 1, ts);
	ck_assert_uint_eq(s.hs_too_big[TD_DIR_C2S], 1);
	ck_assert(!s.ch->seen);
	ck_assert_uint_eq(s.n_events, 1);
	ck_assert_uint_eq(s.events[0].len, body.n);
	ck_assert_int_eq(s.desync[TD_DIR_C2S], 0);
	td_tls_free(&t);
	td_session_clear(&s, NULL);
}
END_TEST

/* TLS 1.3: after the ServerHello everything is encrypted; a client record
 * of alert size instead of Finished is a probable encrypted alert. */
START_TEST(test_tls13_probable_alert)
{
	struct buf body = {0}, msg = {0}, c2s = {0}, s2c = {0};
	struct td_session s;
	struct td_tls t;
	struct td_tls_limits lim = {.max_handshake_msg = 65536};
	struct td_time ts = {0, 0};
	static uint8_t enc[300], small[19];
	static const uint8_t ccs[] = {1};

	client_hello_body(&body, NULL);
	handshake_msg(&msg, 1, &body);
	record(&c2s, 22, msg.b, msg.n);
	memset(&body, 0, sizeof body);
	memset(&msg, 0, sizeof msg);
	server_hello_body(&body, 0x1301, 0x0304, false);
	handshake_msg(&msg, 2, &body);
	record(&s2c, 22, msg.b, msg.n);
	record(&s2c, 20, ccs, 1);
	record(&s2c, 23, enc, sizeof enc);
	td_session_init(&s);
	td_tls_init(&t, &lim);
	td_tls_feed(&t, &s, NULL, TD_DIR_C2S, c2s.b, c2s.n, 1, ts);
	td_tls_feed(&t, &s, NULL, TD_DIR_S2C, s2c.b, s2c.n, 2, ts);
	ck_assert(s.certs_encrypted);
	ck_assert_uint_eq(td_session_version(&s), 0x0304);
	memset(&c2s, 0, sizeof c2s);
	record(&c2s, 20, ccs, 1);
	record(&c2s, 23, small, sizeof small);
	td_tls_feed(&t, &s, NULL, TD_DIR_C2S, c2s.b, c2s.n, 3, ts);
	ck_assert_uint_eq(s.n_alerts, 1);
	ck_assert(s.alerts[0].encrypted);
	ck_assert(s.alerts[0].probable);
	ck_assert_uint_eq(s.alerts[0].dir, TD_DIR_C2S);
	ck_assert_uint_eq(s.alerts[0].phase, TD_PHASE_AFTER_SERVER_FLIGHT);
	ck_assert(!s.finished_seen[TD_DIR_C2S]);
	td_tls_free(&t);
	td_session_clear(&s, NULL);
}
END_TEST

/* The JA3 README's example string and hash (github.com/salesforce/ja3). */
START_TEST(test_ja3_published_example)
{
	static const uint16_t suites[] = {47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4};
	struct td_client_hello_wide chw = {0};
	struct td_client_hello ch = *td_client_hello_wide(&chw);
	char str[TD_JA3_MAX], md5[33];

	ch.legacy_version = 769;
	memcpy(ch.suites, suites, sizeof suites);
	ch.n_suites = sizeof suites / sizeof suites[0];
	ch.exts[0] = 0;
	ch.exts[1] = 10;
	ch.exts[2] = 11;
	ch.n_exts = 3;
	ch.groups[0] = 23;
	ch.groups[1] = 24;
	ch.groups[2] = 25;
	ch.n_groups = 3;
	ch.point_formats[0] = 0;
	ch.n_point_formats = 1;
	td_ja3_string(&ch, str, sizeof str);
	ck_assert_str_eq(str, "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0");
	td_ja3_hash(str, md5);
	ck_assert_str_eq(md5, "ada70206e40642a3e4461f35503241d5");
	/* GREASE values are left out of every list */
	ch.suites[ch.n_suites++] = 0x2A2A;
	ch.exts[ch.n_exts++] = 0xFAFA;
	ch.groups[ch.n_groups++] = 0x0A0A;
	td_ja3_string(&ch, str, sizeof str);
	ck_assert_str_eq(str, "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0");
}
END_TEST

/* The fingerprint strings cut at every length are what snprintf() makes
 * of the whole string: its first n - 1 bytes; nothing for n == 0. The
 * JA4 raw form written out by hand from its definition (FoxIO): sorted
 * suites, sorted extensions without SNI and ALPN, the signature schemes
 * in order. */
START_TEST(test_fingerprint_strings_cut)
{
	static const uint16_t suites[] = {0x1302, 0x1301, 0xc02f, 0x2a2a};
	static const uint16_t exts[] = {0x0010, 0x000d, 0x0000, 0x002b};
	static const char ja4_r[] = "t13d0304h2_1301,1302,c02f_000d,002b_0403";
	struct td_client_hello_wide chw = {0};
	struct td_client_hello ch = *td_client_hello_wide(&chw);
	struct td_server_hello_wide shw = {0};
	struct td_server_hello sh = *td_server_hello_wide(&shw);
	char full[TD_JA4_RAW_MAX], got[TD_JA4_RAW_MAX], want[TD_JA4_RAW_MAX];

	ch.legacy_version = 0x0303;
	memcpy(ch.suites, suites, sizeof suites);
	ch.n_suites = ch.total_suites = 4;
	memcpy(ch.exts, exts, sizeof exts);
	ch.n_exts = ch.total_exts = 4;
	ch.versions[0] = 0x0304;
	ch.n_versions = 1;
	ch.has_sni = true;
	ch.sigalgs[0] = 0x0403;
	ch.n_sigalgs = ch.total_sigalgs = 1;
	ch.alpn.n = 1;
	memcpy(ch.alpn.name[0], "h2", 2);
	ch.alpn.len[0] = 2;
	sh.legacy_version = 0x0303;
	sh.selected_version = 0x0304;
	sh.suite = 0x1301;
	sh.exts[0] = 0x002b;
	sh.n_exts = sh.total_exts = 1;
	td_ja4_raw(&ch, full, sizeof full);
	ck_assert_str_eq(full, ja4_r);
	for (int kind = 0; kind < 4; kind++) {
		if (kind == 0)
			td_ja4_raw(&ch, full, sizeof full);
		else if (kind == 1)
			td_ja3_string(&ch, full, sizeof full);
		else if (kind == 2)
			td_ja4s_raw(&sh, full, sizeof full);
		else
			td_ja3s_string(&sh, full, sizeof full);
		for (size_t n = 0; n <= strlen(full) + 1; n++) {
			memset(got, 'x', sizeof got);
			memset(want, 'x', sizeof want);
			if (kind == 0)
				td_ja4_raw(&ch, got, n);
			else if (kind == 1)
				td_ja3_string(&ch, got, n);
			else if (kind == 2)
				td_ja4s_raw(&sh, got, n);
			else
				td_ja3s_string(&sh, got, n);
			if (n)
				snprintf(want, n, "%s", full);
			ck_assert_msg(memcmp(got, want, n + 1) == 0, "kind %d n %zu", kind, n);
		}
	}
	td_ja3s_string(&sh, full, sizeof full);
	ck_assert_str_eq(full, "771,4865,43");
	td_ja4s_raw(&sh, full, sizeof full);
	ck_assert_str_eq(full, "t130100_1301_002b");
}
END_TEST

/* An extension of type whose body is a u16 vector of first, first + 1,
 * ..., n values. */
static void ext_u16_run(struct buf *b, unsigned type, unsigned first, int n)
{
	put16(b, type);
	vec_open(b, 2);
	vec_open(b, 2);
	for (int i = 0; i < n; i++)
		put16(b, first + i);
	vec_close(b);
	vec_close(b);
}

/* A scanner's ClientHello (TLS 1.2, no SNI, no ALPN): n_suites suites
 * 1, 2, ..., the extensions supported_groups (n_groups groups 0x0100 +
 * i), ec_point_formats (uncompressed), signature_algorithms (n_sigs
 * schemes 0x0400 + i) and n_exts - 3 empty ones of types 0x3000 + i; no
 * GREASE value among them. */
static void scanner_hello(struct buf *b, int n_suites, int n_exts, int n_groups, int n_sigs)
{
	put16(b, 0x0303);
	for (int i = 0; i < 32; i++)
		put8(b, 0);
	put8(b, 0); /* no session id */
	vec_open(b, 2);
	for (int i = 0; i < n_suites; i++)
		put16(b, 1 + i);
	vec_close(b);
	put8(b, 1); /* compression: null */
	put8(b, 0);
	vec_open(b, 2);
	ext_u16_run(b, 10, 0x0100, n_groups);
	put16(b, 11);
	put16(b, 2);
	put8(b, 1);
	put8(b, 0);
	ext_u16_run(b, 13, 0x0400, n_sigs);
	for (int i = 0; i < n_exts - 3; i++) {
		put16(b, 0x3000 + i);
		put16(b, 0);
	}
	vec_close(b);
}

/* The session's ClientHello after scanner_hello() went through the push
 * parser in one record. */
static void feed_scanner_hello(struct td_session *s, int n_suites, int n_exts, int n_groups,
			       int n_sigs)
{
	struct buf body = {0}, msg = {0}, rec = {0};
	struct td_tls t;
	struct td_tls_limits lim = {.max_handshake_msg = 65536};
	static struct cert_log log;
	struct td_tls_cert_sink sink = {log_cert, &log, NULL};

	scanner_hello(&body, n_suites, n_exts, n_groups, n_sigs);
	handshake_msg(&msg, 1, &body);
	record(&rec, 22, msg.b, msg.n);
	td_session_init(s);
	td_tls_init(&t, &lim);
	td_tls_feed(&t, s, &sink, TD_DIR_C2S, rec.b, rec.n, 1, (struct td_time){1700000000, 0});
	td_tls_free(&t);
}

/* What `openssl dgst -MD` prints for str, its first n hex digits. */
static void openssl_digest(const char *md, const char *str, char *out, size_t n)
{
	char *got = td_test_sh(NULL, "printf '%%s' '%s' | openssl dgst -%s -r", str, md);
	ck_assert_uint_ge(strlen(got), n);
	memcpy(out, got, n);
	out[n] = '\0';
	free(got);
}

/* Appends v to s (at *len) as "%u" or "%04x", after sep when not first. */
static void append_u16(char *s, size_t *len, bool first, char sep, unsigned v, bool hex)
{
	*len += (size_t)sprintf(s + *len, hex ? "%s%04x" : "%s%u", first ? "" : (char[]){sep, 0},
				v);
}

/* Scanners offer hundreds of suites (this one 350, as ndpi's
 * ja3_lots_of_cipher_suites.pcap), and 100 extensions, 200 groups, 100
 * signature schemes: every list longer than tlsdiag kept before. JA3 and
 * JA4 cover every value: the test writes both strings from its own lists
 * (JA3: decimal, in wire order; JA4: "t12i999900", the suites sorted, the
 * extensions sorted then the schemes in order, as hex) and openssl
 * hashes them. One suite over TD_MAX_SUITES and the hello has no JA3 or
 * JA4 at all, rather than ones that lack values; one group over its cap
 * takes only the JA3, one signature scheme over only the JA4. */
START_TEST(test_ja3_ja4_long_lists)
{
	static struct td_session s;
	static char ja3[8192], suites[4096], rest[4096], want[64], b[16], c[16];
	size_t n3 = 0, ns = 0, nr = 0;

	n3 = (size_t)sprintf(ja3, "771,");
	for (int i = 0; i < 350; i++) {
		append_u16(ja3, &n3, i == 0, '-', 1 + i, false);
		append_u16(suites, &ns, i == 0, ',', 1 + i, true);
	}
	n3 += (size_t)sprintf(ja3 + n3, ",10-11-13");
	/* sorted: 000a, 000b, 000d, then 0x3000 + i */
	nr = (size_t)sprintf(rest, "000a,000b,000d");
	for (int i = 0; i < 97; i++) {
		append_u16(ja3, &n3, false, '-', 0x3000 + i, false);
		append_u16(rest, &nr, false, ',', 0x3000 + i, true);
	}
	ja3[n3++] = ',';
	for (int i = 0; i < 200; i++)
		append_u16(ja3, &n3, i == 0, '-', 0x0100 + i, false);
	n3 += (size_t)sprintf(ja3 + n3, ",0");
	rest[nr++] = '_';
	for (int i = 0; i < 100; i++)
		append_u16(rest, &nr, i == 0, ',', 0x0400 + i, true);

	feed_scanner_hello(&s, 350, 100, 200, 100);
	ck_assert_uint_eq(s.ch->n_suites, 350);
	ck_assert_uint_eq(s.ch->n_exts, 100);
	ck_assert_uint_eq(s.ch->n_groups, 200);
	ck_assert_uint_eq(s.ch->n_sigalgs, 100);
	openssl_digest("md5", ja3, want, 32);
	ck_assert_str_eq(s.ch->ja3, want);
	openssl_digest("sha256", suites, b, 12);
	openssl_digest("sha256", rest, c, 12);
	snprintf(want, sizeof want, "t12i999900_%s_%s", b, c);
	ck_assert_str_eq(s.ch->ja4, want);
	td_session_clear(&s, NULL);

	feed_scanner_hello(&s, TD_MAX_SUITES + 1, 4, 2, 2);
	ck_assert(s.ch->seen);
	ck_assert_uint_eq(s.ch->n_suites, TD_MAX_SUITES);
	ck_assert_uint_eq(s.ch->total_suites, TD_MAX_SUITES + 1);
	ck_assert_str_eq(s.ch->ja3, "");
	ck_assert_str_eq(s.ch->ja4, "");
	td_session_clear(&s, NULL);

	/* a list only one of them reads: JA3 reads the groups, JA4 the
	 * signature schemes */
	feed_scanner_hello(&s, 4, 4, TD_MAX_GROUPS + 1, 2);
	ck_assert_str_eq(s.ch->ja3, "");
	ck_assert_uint_eq(strlen(s.ch->ja4), 36);
	td_session_clear(&s, NULL);
	feed_scanner_hello(&s, 4, 4, 2, TD_MAX_SIGALGS + 1);
	ck_assert_uint_eq(strlen(s.ch->ja3), 32);
	ck_assert_str_eq(s.ch->ja4, "");
	td_session_clear(&s, NULL);
}
END_TEST

/* client_hello_body() from the client, or server_hello_body(suite, TLS
 * 1.3, hrr) from the server, in a record of its own, through the push
 * parser as frame. */
static void feed_hello(struct td_tls *t, struct td_session *s, int dir, uint16_t suite, bool hrr,
		       uint32_t frame)
{
	struct buf body = {0}, msg = {0}, rec = {0};
	static struct cert_log log;
	struct td_tls_cert_sink sink = {log_cert, &log, NULL};

	if (dir == TD_DIR_C2S)
		client_hello_body(&body, NULL);
	else
		server_hello_body(&body, suite, 0x0304, hrr);
	handshake_msg(&msg, dir == TD_DIR_C2S ? 1 : 2, &body);
	record(&rec, 22, msg.b, msg.n);
	td_tls_feed(t, s, &sink, dir, rec.b, rec.n, frame, (struct td_time){1700000000, (int32_t)frame});
}

/* A HelloRetryRequest (RFC 8446 §4.1.4), the second ClientHello and the
 * ServerHello, through the push parser: the JA3S of the HelloRetryRequest
 * and the JA3 of the second hello are kept beside those of the final
 * ServerHello and the first hello, each as the test writes its string
 * (version, suite, extensions renegotiation_info 65281, supported_versions
 * 43, ALPN 16; the hello's suites and extensions without GREASE) and
 * openssl hashes it. */
START_TEST(test_hello_retry_fingerprints)
{
	struct td_tls t;
	struct td_tls_limits lim = {.max_handshake_msg = 65536};
	static struct td_session s;
	char hrr[33], sh[33], ch[33];

	openssl_digest("md5", "771,4866,65281-43-16", hrr, 32);
	openssl_digest("md5", "771,4865,65281-43-16", sh, 32);
	openssl_digest("md5", "771,49199-156,0-10-11-13-16-43,29-23,0", ch, 32);
	td_session_init(&s);
	td_tls_init(&t, &lim);
	feed_hello(&t, &s, TD_DIR_C2S, 0, false, 4);
	feed_hello(&t, &s, TD_DIR_S2C, 0x1302, true, 5);
	ck_assert(s.hrr_seen);
	ck_assert_uint_eq(s.hrr_frame, 5);
	ck_assert_str_eq(s.retry->ja3s, hrr);
	feed_hello(&t, &s, TD_DIR_C2S, 0, false, 6);
	feed_hello(&t, &s, TD_DIR_S2C, 0x1301, false, 7);
	ck_assert_uint_eq(s.ch2_frame, 6);
	ck_assert(!s.sh->hello_retry_request);
	ck_assert_uint_eq(s.sh->frame, 7);
	ck_assert_str_eq(s.sh->ja3s, sh);
	ck_assert_str_eq(s.retry->ja3s, hrr);
	ck_assert_str_eq(s.ch->ja3, ch);
	ck_assert_str_eq(s.retry->ja3, ch);
	ck_assert_str_eq(s.retry->ja4, s.ch->ja4);
	ck_assert(s.retry->ja4s[0] != '\0' && strcmp(s.retry->ja4s, s.sh->ja4s) != 0);
	td_tls_free(&t);
	td_session_clear(&s, NULL);
}
END_TEST

START_TEST(test_sniff_hello)
{
	struct buf body = {0}, msg = {0}, rec = {0};
	client_hello_body(&body, NULL);
	handshake_msg(&msg, 1, &body);
	record(&rec, 22, msg.b, msg.n);
	ck_assert_int_eq(td_tls_sniff_hello(rec.b, rec.n), 1);
	rec.b[5] = 2;
	ck_assert_int_eq(td_tls_sniff_hello(rec.b, rec.n), 2);
	ck_assert_int_eq(td_tls_sniff_hello(rec.b, 5), 0);
	ck_assert_int_eq(td_tls_sniff_hello((const uint8_t *)"GET /", 5), 0);
}
END_TEST

/* RFC 8422 §5.4 ServerKeyExchange for ECDHE, and RFC 5246 §7.4.3 for DHE
 * with a 2048-bit prime (a leading zero byte does not count). */
START_TEST(test_server_key_exchange)
{
	struct buf b = {0};
	struct td_session s;
	struct td_reader r;

	put8(&b, 3);       /* named_curve */
	put16(&b, 0x001d); /* x25519 */
	vec_open(&b, 1);
	for (int i = 0; i < 32; i++)
		put8(&b, i);
	vec_close(&b);
	put16(&b, 0x0804); /* rsa_pss_rsae_sha256 */
	vec_open(&b, 2);
	for (int i = 0; i < 256; i++)
		put8(&b, i);
	vec_close(&b);
	td_session_init(&s);
	td_reader_init(&r, b.b, b.n);
	ck_assert_int_eq(td_tls_parse_server_key_exchange(&r, "ECDHE", true, true, &s), TD_OK);
	ck_assert_uint_eq(s.ske_group, 0x001d);
	ck_assert_uint_eq(s.ske_sigalg, 0x0804);
	/* TLS 1.0/1.1: no SignatureAndHashAlgorithm, so these bytes are the
	 * signature's length and do not fit */
	td_session_init(&s);
	td_reader_init(&r, b.b, b.n);
	ck_assert_int_ne(td_tls_parse_server_key_exchange(&r, "ECDHE", true, false, &s), TD_OK);
	/* every truncation fails */
	for (size_t cut = 0; cut < b.n; cut++) {
		td_session_init(&s);
		td_reader_init(&r, b.b, cut);
		ck_assert_int_ne(td_tls_parse_server_key_exchange(&r, "ECDHE", true, true, &s), TD_OK);
	}

	struct buf d = {0};
	vec_open(&d, 2); /* p: 0x00 then 256 bytes */
	put8(&d, 0);
	for (int i = 0; i < 256; i++)
		put8(&d, 0x80 | i);
	vec_close(&d);
	vec_open(&d, 2);
	put8(&d, 2);
	vec_close(&d);
	vec_open(&d, 2);
	put8(&d, 7);
	vec_close(&d);
	vec_open(&d, 2); /* anonymous: no signature at all; here one with TLS 1.1 form */
	put8(&d, 1);
	vec_close(&d);
	td_session_init(&s);
	td_reader_init(&r, d.b, d.n);
	ck_assert_int_eq(td_tls_parse_server_key_exchange(&r, "DHE", true, false, &s), TD_OK);
	ck_assert_uint_eq(s.ske_dh_bits, 2048);
	ck_assert_uint_eq(s.ske_group, 0);
	td_reader_init(&r, b.b, b.n);
	ck_assert_int_eq(td_tls_parse_server_key_exchange(&r, "RSA", true, true, &s),
			 TD_ERR_UNSUPPORTED);
}
END_TEST

/* Extension facts of both hellos: key shares, PSK modes, the SCSVs, the
 * RFC 8446 §4.1.3 downgrade sentinel, the server's key_share group. */
START_TEST(test_hello_extension_facts)
{
	struct buf b = {0};
	struct td_client_hello_wide chw = {0};
	struct td_client_hello ch = *td_client_hello_wide(&chw);
	struct td_server_hello_wide shw = {0};
	struct td_server_hello sh = *td_server_hello_wide(&shw);
	struct td_reader r;
	uint8_t random[32] = {0};

	put16(&b, 0x0303);
	put_bytes(&b, random, 32);
	vec_open(&b, 1);
	vec_close(&b);
	vec_open(&b, 2);
	put16(&b, 0x1301);
	put16(&b, 0x00FF);
	put16(&b, 0x5600);
	vec_close(&b);
	vec_open(&b, 1);
	put8(&b, 0);
	vec_close(&b);
	vec_open(&b, 2);
	put16(&b, 51); /* key_share: x25519 and secp256r1 entries */
	vec_open(&b, 2);
	vec_open(&b, 2);
	put16(&b, 0x001d);
	vec_open(&b, 2);
	put8(&b, 1);
	vec_close(&b);
	put16(&b, 0x0017);
	vec_open(&b, 2);
	put8(&b, 4);
	vec_close(&b);
	vec_close(&b);
	vec_close(&b);
	put16(&b, 45); /* psk_key_exchange_modes: psk_dhe_ke */
	vec_open(&b, 2);
	vec_open(&b, 1);
	put8(&b, 1);
	vec_close(&b);
	vec_close(&b);
	put16(&b, 23); /* extended_master_secret, empty */
	vec_open(&b, 2);
	vec_close(&b);
	put16(&b, 35); /* session_ticket with a 3-byte ticket */
	vec_open(&b, 2);
	put8(&b, 1);
	put8(&b, 2);
	put8(&b, 3);
	vec_close(&b);
	vec_close(&b);
	td_reader_init(&r, b.b, b.n);
	ck_assert_int_eq(td_tls_parse_client_hello(&r, &ch), TD_OK);
	ck_assert_uint_eq(ch.n_key_shares, 2);
	ck_assert_uint_eq(ch.key_shares[1], 0x0017);
	ck_assert_uint_eq(ch.psk_modes, 2);
	ck_assert_uint_eq(ch.ticket_len, 3);
	ck_assert(ch.ext_flags & TD_EXT_EMS);
	ck_assert(ch.ext_flags & TD_EXT_SCSV_RENEGOTIATION);
	ck_assert(ch.ext_flags & TD_EXT_SCSV_FALLBACK);
	ck_assert(!(ch.ext_flags & TD_EXT_ETM));

	struct buf h = {0};
	memcpy(random + 24, "DOWNGRD\x01", 8);
	put16(&h, 0x0303);
	put_bytes(&h, random, 32);
	vec_open(&h, 1);
	vec_close(&h);
	put16(&h, 0xc02f);
	put8(&h, 0);
	vec_open(&h, 2);
	put16(&h, 51);
	vec_open(&h, 2);
	put16(&h, 0x001d);
	vec_open(&h, 2);
	put8(&h, 9);
	vec_close(&h);
	vec_close(&h);
	vec_close(&h);
	td_reader_init(&r, h.b, h.n);
	ck_assert_int_eq(td_tls_parse_server_hello(&r, &sh), TD_OK);
	ck_assert_uint_eq(sh.downgrade, 12);
	ck_assert_uint_eq(sh.key_share, 0x001d);
	ck_assert(sh.ext_flags & TD_EXT_KEY_SHARE);
}
END_TEST

/* TLS 1.3 drafts before -22 wrote no session id echo and no compression
 * method (version, random, suite, extensions), under 0x7f00 + draft or,
 * in early drafts, 0x0304 itself: a draft-14 server's hello has suite
 * 0xc02b right after the random, which the final layout would read as a
 * 192-byte session id. A final-layout hello with 0x0304 still reads as
 * the final layout. */
START_TEST(test_server_hello_draft_layout)
{
	static const uint16_t versions[] = {0x0304, 0x7f0e};
	for (size_t v = 0; v < 2; v++) {
		struct buf h = {0};
		struct td_server_hello_wide w = {0};
		struct td_server_hello *sh = td_server_hello_wide(&w);
		struct td_reader r;
		static const uint8_t random[32] = {7};

		put16(&h, versions[v]);
		put_bytes(&h, random, 32);
		put16(&h, 0xc02b);
		vec_open(&h, 2);
		put16(&h, 40); /* key_share's draft code point */
		vec_open(&h, 2);
		put16(&h, 23);
		vec_open(&h, 2);
		put8(&h, 4);
		vec_close(&h);
		vec_close(&h);
		vec_close(&h);
		td_reader_init(&r, h.b, h.n);
		ck_assert_int_eq(td_tls_parse_server_hello(&r, sh), TD_OK);
		ck_assert_uint_eq(sh->legacy_version, versions[v]);
		ck_assert_uint_eq(sh->suite, 0xc02b);
		ck_assert_uint_eq(sh->session_id_len, 0);
		ck_assert_uint_eq(sh->n_exts, 1);
		ck_assert_uint_eq(sh->exts[0], 40);
		ck_assert_uint_eq(td_reader_left(&r), 0);
	}
	struct buf h = {0};
	struct td_server_hello_wide w = {0};
	struct td_server_hello *sh = td_server_hello_wide(&w);
	struct td_reader r;
	server_hello_body(&h, 0x1301, 0x0304, false);
	h.b[0] = 0x03;
	h.b[1] = 0x04;
	td_reader_init(&r, h.b, h.n);
	ck_assert_int_eq(td_tls_parse_server_hello(&r, sh), TD_OK);
	ck_assert_uint_eq(sh->suite, 0x1301);
	ck_assert_uint_eq(sh->n_exts, 3);
}
END_TEST

/* A connection picked up mid-stream: the bytes start inside a record. The
 * parser finds the next record boundary, counts the resync, and after
 * three whole records calls the stream TLS. Without midstream the same
 * bytes are given up on (a stream that must start with a record). */
START_TEST(test_midstream_resync)
{
	struct buf stream = {0};
	static uint8_t app[100];
	struct td_session s;
	struct td_tls t;
	struct td_tls_limits lim = {.max_handshake_msg = 65536};
	struct td_time ts = {0, 0};

	for (int i = 0; i < 37; i++)
		put8(&stream, 0xA5); /* the tail of a record whose start was missed */
	for (int i = 0; i < 4; i++)
		record(&stream, 23, app, sizeof app);
	td_session_init(&s);
	td_tls_init(&t, &lim);
	t.midstream = true;
	td_tls_feed(&t, &s, NULL, TD_DIR_S2C, stream.b, stream.n, 1, ts);
	ck_assert_uint_eq(s.resyncs[TD_DIR_S2C], 1);
	ck_assert_uint_eq(s.appdata_records[TD_DIR_S2C], 4);
	ck_assert(s.is_tls);
	ck_assert(!t.d[TD_DIR_S2C].dead);
	td_tls_free(&t);

	td_session_clear(&s, NULL);
	td_session_init(&s);
	td_tls_init(&t, &lim);
	td_tls_feed(&t, &s, NULL, TD_DIR_S2C, stream.b, stream.n, 1, ts);
	ck_assert(t.d[TD_DIR_S2C].dead);
	ck_assert_uint_eq(s.appdata_records[TD_DIR_S2C], 0);
	ck_assert(!s.is_tls);
	td_tls_free(&t);
	td_session_clear(&s, NULL);
}
END_TEST

/* Bytes lost inside a handshake message: the parser loses the boundary,
 * then finds it again at the next record and still sees the alert. */
START_TEST(test_gap_resync)
{
	struct conversation cv;
	struct td_session s;
	struct td_tls t;
	struct td_tls_limits lim = {.max_handshake_msg = 65536};
	struct td_time ts = {0, 0};
	static const uint8_t alert[] = {21, 3, 3, 0, 2, 2, 40}; /* fatal handshake_failure */

	conversation_tls12_bad_record_mac(&cv);
	td_session_init(&s);
	td_tls_init(&t, &lim);
	/* the server's flight: the first 100 bytes, then 300 lost, the rest */
	td_tls_feed(&t, &s, NULL, TD_DIR_S2C, cv.s2c.b, 100, 1, ts);
	td_tls_gap(&t, &s, TD_DIR_S2C, 300, 2, ts);
	td_tls_feed(&t, &s, NULL, TD_DIR_S2C, cv.s2c.b + 400, cv.s2c.n - 400 - 7, 3, ts);
	td_tls_feed(&t, &s, NULL, TD_DIR_S2C, alert, sizeof alert, 4, ts);
	ck_assert_uint_ge(s.resyncs[TD_DIR_S2C], 1);
	ck_assert_int_eq(s.desync[TD_DIR_S2C], TD_ERR_SHORT);
	ck_assert_uint_eq(s.desync_frame[TD_DIR_S2C], 2);
	ck_assert_uint_eq(s.n_alerts, 1);
	ck_assert_uint_eq(s.alerts[0].desc, 40);
	ck_assert_uint_eq(s.alerts[0].frame, 4);
	td_tls_free(&t);
	td_session_clear(&s, NULL);
}
END_TEST

/* A capture that begins after the hellos, at the server's Certificate
 * record (nDPI's riot.pcapng): a Certificate message whose lengths all
 * add up makes the connection TLS, with its chain; one whose list length
 * is one byte off does not. */
START_TEST(test_certificate_without_hello)
{
	for (int off = 0; off < 2; off++) {
		struct buf body = {0}, msg = {0}, rec = {0};
		struct td_session s;
		struct td_tls t;
		struct td_tls_limits lim = {.max_handshake_msg = 65536};
		struct cert_log log = {0};
		struct td_tls_cert_sink sink = {.user = &log, .cert = log_cert};

		certificate_body(&body, 2, 300);
		body.b[2] += (uint8_t)off; /* certificate_list's length */
		handshake_msg(&msg, 11, &body);
		record(&rec, 22, msg.b, msg.n);
		td_session_init(&s);
		td_tls_init(&t, &lim);
		t.midstream = true;
		td_tls_feed(&t, &s, &sink, TD_DIR_S2C, rec.b, rec.n, 1, (struct td_time){0, 0});
		ck_assert_int_eq(s.is_tls, off == 0);
		if (off == 0) {
			ck_assert_uint_eq(s.total_certs, 2);
			ck_assert_int_eq(log.n, 2);
		}
		td_tls_free(&t);
		td_session_clear(&s, NULL);
	}
}
END_TEST

/* ---- a server answering in plain text ------------------------------------ */

/* A ClientHello, then the server's bytes in chunks of at most chunk bytes,
 * chunk k in frame 100 + k. */
static void plain_reply_run(struct td_session *s, const char *server, size_t len, size_t chunk,
			    bool midstream)
{
	struct buf ch = {0}, body = {0}, msg = {0};
	struct td_tls t;
	struct td_tls_limits lim = {.max_handshake_msg = 65536};
	struct td_time ts = {1700000000, 0};

	client_hello_body(&body, NULL);
	handshake_msg(&msg, 1, &body);
	record(&ch, 22, msg.b, msg.n);
	td_session_init(s);
	td_tls_init(&t, &lim);
	t.midstream = midstream;
	td_tls_feed(&t, s, NULL, TD_DIR_C2S, ch.b, ch.n, 4, ts);
	for (size_t off = 0, k = 0; off < len; off += chunk, k++)
		td_tls_feed(&t, s, NULL, TD_DIR_S2C, (const uint8_t *)server + off,
			    len - off < chunk ? len - off : chunk, (uint32_t)(100 + k), ts);
	td_tls_free(&t);
}

/* The server's first line of text is kept whole however the bytes are
 * split (frame: where it began), with a timeline entry; its cap, a byte
 * that is not text and a missing end each show; binary bytes and a
 * connection picked up mid-stream keep nothing. */
START_TEST(test_plain_text_reply)
{
	static const struct {
		const char *bytes;
		size_t len;
		const char *line; /* NULL: nothing kept */
		bool cut, open;
	} cases[] = {
		{"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n", 43, "HTTP/1.1 400 Bad Request",
		 false, false},
		{"502 5.5.2 Error: command not recognized\r\n", 41,
		 "502 5.5.2 Error: command not recognized", false, false},
		{"OK\r\n\x00\x01", 6, "OK", false, false},
		{"SSH-2.0-x\x00\x00\x01", 12, "SSH-2.0-x", true, false},
		{"220 half a line", 15, "220 half a line", false, true},
		{"\x00\x00\x00\x0a\x0aSome binary greeting", 25, NULL, false, false},
		{"A\x01" "BCDEF", 7, NULL, false, false},
	};
	char longline[300];
	struct td_session s;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (size_t chunk = 1; chunk <= cases[i].len; chunk++) {
			plain_reply_run(&s, cases[i].bytes, cases[i].len, chunk, false);
			const struct td_plain_line *l = &s.plain->reply;
			ck_assert(s.desync[TD_DIR_S2C] != 0);
			if (!cases[i].line) {
				ck_assert_uint_eq(l->frame, 0);
				td_session_clear(&s, NULL);
				continue;
			}
			ck_assert_msg(l->frame == 100, "case %zu chunk %zu: frame %u", i, chunk,
				      (unsigned)l->frame);
			ck_assert_uint_eq(l->len, strlen(cases[i].line));
			ck_assert(memcmp(l->text, cases[i].line, l->len) == 0);
			ck_assert_int_eq(l->cut, cases[i].cut);
			ck_assert_int_eq(l->open, cases[i].open);
			ck_assert(s.ch->seen);
			ck_assert_uint_eq(s.n_events, 2); /* the ClientHello, the text */
			ck_assert_uint_eq(s.events[1].kind, TD_EV_PLAIN_TEXT);
			ck_assert_uint_eq(s.events[1].dir, TD_DIR_S2C);
			ck_assert_uint_eq(s.events[1].frame, 100);
			ck_assert_uint_eq(s.plain->greeting.frame, 0);
			td_session_clear(&s, NULL);
		}
	}
	/* longer than the cap: the first TD_PLAIN_LINE_LEN bytes, cut */
	memset(longline, 'x', sizeof longline);
	memcpy(longline, "HTTP/1.1 414 ", 13);
	memcpy(longline + 250, "\r\n", 2);
	for (size_t chunk = 1; chunk <= 300; chunk += 37) {
		plain_reply_run(&s, longline, sizeof longline, chunk, false);
		ck_assert_uint_eq(s.plain->reply.len, TD_PLAIN_LINE_LEN);
		ck_assert(s.plain->reply.cut && !s.plain->reply.open);
		ck_assert(memcmp(s.plain->reply.text, longline, TD_PLAIN_LINE_LEN) == 0);
		td_session_clear(&s, NULL);
	}
	/* mid-stream: the first bytes need not start anything */
	plain_reply_run(&s, cases[0].bytes, cases[0].len, 64, true);
	ck_assert_uint_eq(s.plain->reply.frame, 0);
	td_session_clear(&s, NULL);
}
END_TEST

Suite *td_tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("messages");
	tcase_add_test(tc, test_client_hello_fields);
	tcase_add_test(tc, test_client_hello_fitted);
	tcase_add_test(tc, test_server_hello_fitted);
	tcase_add_test(tc, test_client_hello_truncation_sweep);
	tcase_add_test(tc, test_client_hello_length_off_by_one);
	tcase_add_test(tc, test_client_hello_bad_extension_body);
	tcase_add_test(tc, test_server_hello_and_hrr);
	tcase_add_test(tc, test_certificate_list);
	tcase_add_test(tc, test_sslv2_hello);
	tcase_add_test(tc, test_sslv2_hello_stream);
	tcase_add_test(tc, test_ja3_published_example);
	tcase_add_test(tc, test_fingerprint_strings_cut);
	tcase_add_test(tc, test_ja3_ja4_long_lists);
	tcase_add_test(tc, test_hello_retry_fingerprints);
	tcase_add_test(tc, test_sniff_hello);
	tcase_add_test(tc, test_server_key_exchange);
	tcase_add_test(tc, test_hello_extension_facts);
	suite_add_tcase(s, tc);
	TCase *st = tcase_create("stream");
	tcase_add_test(st, test_conversation_facts);
	tcase_add_test(st, test_renegotiation);
	tcase_add_test(st, test_certificate_request_and_verify);
	tcase_add_test(st, test_certificate_status);
	tcase_add_test(st, test_session_id_echo_compares_bytes);
	tcase_add_test(st, test_split_invariance);
	tcase_add_test(st, test_message_across_records);
	tcase_add_test(st, test_desync_and_caps);
	tcase_add_test(st, test_tls13_probable_alert);
	tcase_add_test(st, test_midstream_resync);
	tcase_add_test(st, test_gap_resync);
	tcase_add_test(st, test_plain_text_reply);
	tcase_add_test(st, test_certificate_without_hello);
	tcase_add_test(st, test_server_hello_draft_layout);
	tcase_add_test(st, test_session_lists);
	suite_add_tcase(s, st);
	return s;
}
