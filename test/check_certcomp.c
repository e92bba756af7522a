/* check_certcomp.c - RFC 8879 certificate compression.
 *
 * The chain of samples/keys/server.example-chain.pem (read with libcrypto,
 * not with tlsdiag) is written as a Certificate message, compressed by
 * each algorithm's own encoder (zlib's compress2, libbrotlienc, libzstd),
 * wrapped in a CompressedCertificate and fed to the TLS parser. The
 * certificates the parser hands on must be the PEM file's, byte for byte
 * (SHA-256 of each DER, computed here); the lengths off by one, an
 * unknown algorithm, a length above the cap, a cut or padded stream, and
 * a small stream that decodes to far more than it announces must all
 * leave the chain unread, with the reason the report gives.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <brotli/encode.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <zlib.h>
#include <zstd.h>

#include "td_decompress.h"
#include "td_report_util.h"
#include "td_session.h"
#include "td_test_util.h"
#include "td_tls.h"

#define MAX_CERTS 4
#define MSG_MAX (64 * 1024)

/* The chain's DER, from the PEM file. */
struct chain {
	unsigned char *der[MAX_CERTS];
	int len[MAX_CERTS];
	unsigned char sha[MAX_CERTS][32];
	int n;
};

static void load_chain(struct chain *c)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/keys/server.example-chain.pem", td_test_samples());
	FILE *f = fopen(path, "r");
	X509 *x;

	ck_assert_msg(f != NULL, "%s", path);
	memset(c, 0, sizeof *c);
	while (c->n < MAX_CERTS && (x = PEM_read_X509(f, NULL, NULL, NULL))) {
		c->der[c->n] = NULL;
		c->len[c->n] = i2d_X509(x, &c->der[c->n]);
		ck_assert_int_gt(c->len[c->n], 0);
		ck_assert_int_eq(EVP_Digest(c->der[c->n], (size_t)c->len[c->n], c->sha[c->n], NULL,
					    EVP_sha256(), NULL),
				 1);
		X509_free(x);
		c->n++;
	}
	fclose(f);
	ck_assert_int_eq(c->n, 2);
}

static void free_chain(struct chain *c)
{
	for (int i = 0; i < c->n; i++)
		OPENSSL_free(c->der[i]);
}

static size_t put24(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
	return 3;
}

/* RFC 5246 §7.4.2 Certificate (no TLS 1.3 context: the parser reads the
 * format of the session's version, and no ServerHello is fed). */
static size_t certificate_message(const struct chain *c, uint8_t *out)
{
	size_t n = 3;
	for (int i = 0; i < c->n; i++) {
		n += put24(out + n, (size_t)c->len[i]);
		memcpy(out + n, c->der[i], (size_t)c->len[i]);
		n += (size_t)c->len[i];
	}
	put24(out, n - 3);
	return n;
}

/* Compresses with the algorithm's own encoder; returns the length. */
static size_t compress_with(uint16_t alg, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	uLongf zl = cap;
	size_t bl = cap, zs;

	switch (alg) {
	case TD_CERT_COMPRESSION_ZLIB:
		ck_assert_int_eq(compress2(out, &zl, in, len, 9), Z_OK);
		return zl;
	case TD_CERT_COMPRESSION_BROTLI:
		ck_assert(BrotliEncoderCompress(BROTLI_DEFAULT_QUALITY, BROTLI_DEFAULT_WINDOW,
					       BROTLI_MODE_GENERIC, len, in, &bl, out));
		return bl;
	default:
		zs = ZSTD_compress(out, cap, in, len, 3);
		ck_assert(!ZSTD_isError(zs));
		return zs;
	}
}

/* A handshake record holding a CompressedCertificate (type 25). */
static size_t compressed_record(uint16_t alg, size_t announced, const uint8_t *comp, size_t n,
				uint8_t *rec)
{
	size_t body = 2 + 3 + 3 + n, k = 0;
	rec[k++] = 22;
	rec[k++] = 3;
	rec[k++] = 3;
	rec[k++] = (uint8_t)((body + 4) >> 8);
	rec[k++] = (uint8_t)(body + 4);
	rec[k++] = 25;
	k += put24(rec + k, body);
	rec[k++] = (uint8_t)(alg >> 8);
	rec[k++] = (uint8_t)alg;
	k += put24(rec + k, announced);
	k += put24(rec + k, n);
	memcpy(rec + k, comp, n);
	return k + n;
}

/* The certificates the parser hands on, by SHA-256 of their DER. */
struct seen {
	int n;
	unsigned char sha[MAX_CERTS][32];
};

static const struct td_cert *see_cert(void *user, const uint8_t *der, size_t len)
{
	struct seen *s = user;
	if (s->n < MAX_CERTS)
		ck_assert_int_eq(EVP_Digest(der, len, s->sha[s->n], NULL, EVP_sha256(), NULL), 1);
	s->n++;
	return NULL;
}

/* Feeds the record to a fresh parser (mid-stream, server to client), all
 * at once or a byte at a time (the message then gathered in pieces). */
static void feed(const uint8_t *rec, size_t n, bool bytewise, struct td_session *s,
		 struct seen *seen)
{
	struct td_tls t;
	struct td_tls_limits lim = {.max_handshake_msg = MSG_MAX};
	struct td_tls_cert_sink sink = {.user = seen, .cert = see_cert};

	memset(seen, 0, sizeof *seen);
	td_session_init(s);
	td_tls_init(&t, &lim);
	t.midstream = true;
	if (bytewise)
		for (size_t i = 0; i < n; i++)
			td_tls_feed(&t, s, &sink, TD_DIR_S2C, rec + i, 1, 1, (struct td_time){0, 0});
	else
		td_tls_feed(&t, s, &sink, TD_DIR_S2C, rec, n, 1, (struct td_time){0, 0});
	td_tls_free(&t);
}

static const uint16_t algs[] = {TD_CERT_COMPRESSION_ZLIB, TD_CERT_COMPRESSION_BROTLI,
				TD_CERT_COMPRESSION_ZSTD};

/* Each algorithm: the chain comes out whole, in order, and the facts name
 * the algorithm and the length. */
START_TEST(test_compressed_chain)
{
	static uint8_t msg[MSG_MAX], comp[MSG_MAX], rec[MSG_MAX + 64];
	struct chain c;
	struct td_session s;
	struct seen seen;

	load_chain(&c);
	size_t len = certificate_message(&c, msg);
	for (size_t a = 0; a < sizeof algs / sizeof algs[0]; a++) {
		size_t n = compress_with(algs[a], msg, len, comp, sizeof comp);
		size_t r = compressed_record(algs[a], len, comp, n, rec);
		for (int bytewise = 0; bytewise < 2; bytewise++) {
			feed(rec, r, bytewise, &s, &seen);
			ck_assert_msg(seen.n == c.n, "%s: %d certificates",
				      td_cert_compression_name(algs[a]), seen.n);
			for (int i = 0; i < c.n; i++)
				ck_assert_msg(memcmp(seen.sha[i], c.sha[i], 32) == 0,
					      "%s: certificate %d differs",
					      td_cert_compression_name(algs[a]), i);
			ck_assert(s.cert_compressed);
			ck_assert_uint_eq(s.cert_compression, algs[a]);
			ck_assert_uint_eq(s.cert_uncompressed_len, len);
			ck_assert_uint_eq(s.cert_compression_err, TD_OK);
			ck_assert_uint_eq(s.total_certs, 2);
			ck_assert_uint_eq(s.cert_frame, 1);
			ck_assert_uint_eq(s.anomalies[TD_DIR_S2C], 0);
			ck_assert(s.is_tls);
			char when[64];
			snprintf(when, sizeof when, "certs.compression == \"%s\"",
				 td_cert_compression_name(algs[a]));
			ck_assert_msg(td_test_rule_holds(when, &s), "%s does not hold", when);
			ck_assert(!td_test_rule_holds("certs.compression == \"unknown\"", &s));
			td_session_clear(&s, NULL);
		}
	}
	ck_assert_str_eq(td_cert_compression_name(1), "zlib");
	ck_assert_str_eq(td_cert_compression_name(2), "brotli");
	ck_assert_str_eq(td_cert_compression_name(3), "zstd");
	ck_assert_ptr_null(td_cert_compression_name(0));
	ck_assert_ptr_null(td_cert_compression_name(4));
	free_chain(&c);
}
END_TEST

/* Feeds one broken variant and checks that no certificate came out, with
 * the reason recorded. */
static void assert_refused(const uint8_t *rec, size_t n, uint8_t err, const char *what)
{
	struct td_session s;
	struct seen seen;

	feed(rec, n, false, &s, &seen);
	ck_assert_msg(seen.n == 0, "%s: %d certificates read", what, seen.n);
	ck_assert_msg(s.cert_compressed, "%s: not recorded", what);
	ck_assert_msg(s.cert_compression_err == err, "%s: error %d, want %d", what,
		      s.cert_compression_err, err);
	ck_assert_ptr_nonnull(td_report_cert_compression_error(s.cert_compression_err));
	if (err == TD_ERR_TOO_BIG) {
		ck_assert_uint_eq(s.hs_too_big[TD_DIR_S2C], 1);
		ck_assert_uint_eq(s.anomalies[TD_DIR_S2C], 0);
	} else {
		ck_assert_msg(s.anomalies[TD_DIR_S2C] == 1, "%s: %u anomalies", what,
			      s.anomalies[TD_DIR_S2C]);
	}
	td_session_clear(&s, NULL);
}

START_TEST(test_compressed_refused)
{
	static uint8_t msg[MSG_MAX], comp[MSG_MAX + 1], rec[MSG_MAX + 64];
	static uint8_t zeros[1 << 20];
	struct chain c;
	char what[64];

	load_chain(&c);
	size_t len = certificate_message(&c, msg);
	for (size_t a = 0; a < sizeof algs / sizeof algs[0]; a++) {
		const char *name = td_cert_compression_name(algs[a]);
		size_t n = compress_with(algs[a], msg, len, comp, sizeof comp);
		/* the announced length one off either way */
		for (int d = -1; d <= 1; d += 2) {
			snprintf(what, sizeof what, "%s, length %+d", name, d);
			assert_refused(rec, compressed_record(algs[a], len + d, comp, n, rec),
				       TD_ERR_MALFORMED, what);
		}
		/* the stream cut by a byte, or a byte after its end */
		snprintf(what, sizeof what, "%s, cut", name);
		assert_refused(rec, compressed_record(algs[a], len, comp, n - 1, rec),
			       TD_ERR_MALFORMED, what);
		comp[n] = 0;
		snprintf(what, sizeof what, "%s, trailing byte", name);
		assert_refused(rec, compressed_record(algs[a], len, comp, n + 1, rec),
			       TD_ERR_MALFORMED, what);
		/* a megabyte of zeros (a stream of a few hundred bytes or
		 * less): announced as such it is above the cap; announced
		 * as 4 KiB, decoding stops there */
		size_t z = compress_with(algs[a], zeros, sizeof zeros, comp, sizeof comp);
		ck_assert_uint_lt(z, 4096);
		snprintf(what, sizeof what, "%s, 1 MiB announced", name);
		assert_refused(rec, compressed_record(algs[a], sizeof zeros, comp, z, rec),
			       TD_ERR_TOO_BIG, what);
		snprintf(what, sizeof what, "%s, 1 MiB announced as 4 KiB", name);
		assert_refused(rec, compressed_record(algs[a], 4096, comp, z, rec),
			       TD_ERR_MALFORMED, what);
		uint8_t out[4096];
		ck_assert_int_eq(td_decompress(algs[a], comp, z, out, sizeof out), TD_ERR_MALFORMED);
	}
	/* an algorithm that is none of the three */
	size_t n = compress_with(TD_CERT_COMPRESSION_ZLIB, msg, len, comp, sizeof comp);
	assert_refused(rec, compressed_record(0x4242, len, comp, n, rec), TD_ERR_UNSUPPORTED,
		       "algorithm 0x4242");
	/* the rule field names the code it does not know; a chain sent as
	 * is has no value there */
	struct td_session s;
	struct seen seen;
	feed(rec, compressed_record(0x4242, len, comp, n, rec), false, &s, &seen);
	ck_assert(td_test_rule_holds("certs.compression == \"unknown (16962)\"", &s));
	td_session_clear(&s, NULL);
	size_t r = compressed_record(TD_CERT_COMPRESSION_ZLIB, len, comp, n, rec);
	rec[5] = 11; /* the message type: a Certificate, whatever it holds */
	feed(rec, r, false, &s, &seen);
	ck_assert(!s.cert_compressed);
	ck_assert(!td_test_rule_holds("certs.compression == \"zlib\"", &s));
	td_session_clear(&s, NULL);
	/* the library round trip alone, and the empty cases */
	uint8_t back[MSG_MAX];
	ck_assert_int_eq(td_decompress(TD_CERT_COMPRESSION_ZLIB, comp, n, back, len), TD_OK);
	ck_assert_mem_eq(back, msg, len);
	ck_assert_int_eq(td_decompress(TD_CERT_COMPRESSION_ZLIB, comp, n, back, 0),
			 TD_ERR_MALFORMED);
	ck_assert_int_eq(td_decompress(TD_CERT_COMPRESSION_ZLIB, comp, 0, back, len),
			 TD_ERR_MALFORMED);
	ck_assert_ptr_null(td_report_cert_compression_error(TD_OK));
	free_chain(&c);
}
END_TEST

Suite *td_certcomp_suite(void)
{
	Suite *s = suite_create("certcomp");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_compressed_chain);
	tcase_add_test(tc, test_compressed_refused);
	suite_add_tcase(s, tc);
	return s;
}
