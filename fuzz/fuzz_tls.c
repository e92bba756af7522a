/* fuzz_tls.c - the TLS record/handshake push parser on two byte streams.
 *
 * Input layout (fuzz/corpus/tls/ holds the samples' streams in it):
 *   byte 0-1  seed of the split generator
 *   byte 2    flags: bit 0 report gaps now and then in pass 1;
 *             bit 1 a key log follows (decryption, tls_decrypt.c)
 *   byte 3-5  length of the client's stream (24 bits, big-endian)
 *   [bit 1:   2 bytes of key log length, then the key log's text]
 *   then      the client's stream, then the server's (the rest)
 *
 * Pass 1 interleaves the two directions in random pieces (1 byte to a few
 * KiB), with a gap now and then when bit 0 is set, as the reassembler
 * would hand them over. Pass 2 checks STYLE.md rule 13: each stream fed
 * whole (client first, then server) and fed in random pieces in the same
 * order give the same facts. Both check that the handshake buffer never
 * grows past its cap (td_tls_dir.hs_buf_size).
 */
#include <string.h>

#include "fuzz.h"
#include "td_keylog.h"
#include "td_tls.h"
#include "td_x509.h"

/* Smaller than the engine's 256 KiB so the cap is reached more often,
 * and below an SSLv2 record's largest length (2^15 - 1) so the cap of
 * that path is checked too. */
#define FUZZ_MAX_HS (16 * 1024)
#define SSLV2_MAX 0x7fff         /* an SSLv2 record length has 15 bits */

/* Reads every byte of the certificate, so a DER pointer or length that
 * runs off the message is caught by ASan; keeps nothing. */
static volatile uint8_t touched; /* volatile: the reads are not optimised away */

static const struct td_cert *touch_cert(void *user, const uint8_t *der, size_t len)
{
	uint8_t acc = 0;
	(void)user;
	for (size_t i = 0; i < len; i++)
		acc ^= der[i];
	touched = acc;
	return NULL;
}

/* A stapled OCSP response goes through the x509 module's reader, as in
 * the engine: libcrypto's OCSP decoder is fuzzed from here too. */
static void read_ocsp(void *user, const uint8_t *der, size_t len, struct td_ocsp_facts *out)
{
	(void)user;
	td_x509_ocsp_facts(der, len, out);
}

static size_t kl_find(void *user, const uint8_t cr[32], int label, uint8_t *out)
{
	return td_keylog_find(user, cr, (enum td_keylog_label)label, out);
}

static size_t kl_rsa(void *user, const uint8_t prefix[8], uint8_t *out)
{
	return td_keylog_find_rsa(user, prefix, out);
}

/* A --key that never decrypts: the pre-master secret path runs too. */
static enum td_err no_rsa(void *user, size_t i, const uint8_t *in, size_t n, uint8_t *out,
			  size_t cap, size_t *out_len)
{
	(void)user, (void)i, (void)in, (void)n, (void)out, (void)cap;
	*out_len = 0;
	return TD_ERR_CRYPTO;
}

static void check_caps(const struct td_tls *t)
{
	for (int d = 0; d < 2; d++) {
		FUZZ_ASSERT(t->d[d].hs_buf_size <= t->lim.max_handshake_msg);
		FUZZ_ASSERT(t->d[d].hdr_have < sizeof t->d[d].hdr);
		FUZZ_ASSERT(t->d[d].alert_have < 2);
		FUZZ_ASSERT(t->d[d].rec_left <= (t->d[d].sslv2 ? SSLV2_MAX : TD_TLS_MAX_RECORD));
	}
}

static size_t piece(struct fuzz_rng *g, size_t left)
{
	uint32_t r = fuzz_rng_next(g);
	size_t n = (r & 0x300) == 0x300 ? 1 + (r >> 16) % 4096 : 1 + (r >> 16) % 64;
	return n < left ? n : left;
}

/* Feeds stream sp (n bytes) of direction dir in pieces (whole when g is
 * NULL). */
static void feed_stream(struct td_tls *t, struct td_session *s,
			const struct td_tls_cert_sink *sink, int dir, const uint8_t *sp, size_t n,
			struct fuzz_rng *g)
{
	struct td_time ts = {1, 0};
	size_t off = 0;

	while (off < n) {
		size_t k = g ? piece(g, n - off) : n - off;
		td_tls_feed(t, s, sink, dir, sp + off, k, 7, ts);
		check_caps(t);
		off += k;
	}
	td_tls_end(t, s, dir);
}

/* The facts a split must not change. Compared field by field: the
 * structs hold padding. */
static void same_facts(const struct td_session *a, const struct td_session *b)
{
	FUZZ_ASSERT(a->is_tls == b->is_tls);
	FUZZ_ASSERT(a->ch->seen == b->ch->seen && a->sh->seen == b->sh->seen);
	FUZZ_ASSERT(a->ch->malformed == b->ch->malformed && a->sh->malformed == b->sh->malformed);
	FUZZ_ASSERT(a->ch->n_suites == b->ch->n_suites && a->ch->n_exts == b->ch->n_exts);
	FUZZ_ASSERT(a->ch->sni.len == b->ch->sni.len &&
		    memcmp(a->ch->sni.bytes, b->ch->sni.bytes, a->ch->sni.len) == 0);
	FUZZ_ASSERT(a->sh->suite == b->sh->suite && a->version == b->version);
	FUZZ_ASSERT(strcmp(a->ch->ja3, b->ch->ja3) == 0 && strcmp(a->sh->ja3s, b->sh->ja3s) == 0);
	FUZZ_ASSERT(a->total_certs == b->total_certs && a->n_alerts == b->n_alerts &&
		    a->total_alerts == b->total_alerts);
	for (unsigned i = 0; i < a->n_alerts; i++)
		FUZZ_ASSERT(a->alerts[i].level == b->alerts[i].level &&
			    a->alerts[i].desc == b->alerts[i].desc &&
			    a->alerts[i].encrypted == b->alerts[i].encrypted);
	FUZZ_ASSERT(a->stage == b->stage);
	for (int d = 0; d < 2; d++) {
		FUZZ_ASSERT(a->records[d] == b->records[d]);
		FUZZ_ASSERT(a->handshake_messages[d] == b->handshake_messages[d]);
		FUZZ_ASSERT(a->appdata_records[d] == b->appdata_records[d]);
		FUZZ_ASSERT(a->appdata_bytes[d] == b->appdata_bytes[d]);
		FUZZ_ASSERT(a->encrypted[d] == b->encrypted[d] && a->ccs_seen[d] == b->ccs_seen[d]);
		FUZZ_ASSERT(a->finished_seen[d] == b->finished_seen[d]);
		FUZZ_ASSERT(a->desync[d] == b->desync[d] && a->hs_too_big[d] == b->hs_too_big[d]);
		FUZZ_ASSERT(a->anomalies[d] == b->anomalies[d]);
		FUZZ_ASSERT(a->dec.finished[d] == b->dec.finished[d]);
		FUZZ_ASSERT(a->dec.records[d] == b->dec.records[d]);
		FUZZ_ASSERT(a->dec.skipped[d] == b->dec.skipped[d]);
	}
	FUZZ_ASSERT(a->dec.status == b->dec.status && a->dec.failed == b->dec.failed);
	FUZZ_ASSERT(a->n_certs == b->n_certs);
	for (unsigned i = 0; i < a->n_alerts; i++)
		FUZZ_ASSERT(a->alerts[i].decrypted == b->alerts[i].decrypted);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct td_tls_limits lim = {.max_handshake_msg = FUZZ_MAX_HS};
	static struct td_session s1, s2; /* large: not on the stack */
	struct td_tls t;
	struct fuzz_rng g;
	struct td_tls_cert_sink sink = {touch_cert, NULL, read_ocsp};

	if (size < 6)
		return 0;
	uint32_t seed = (uint32_t)data[0] << 8 | data[1];
	bool gaps = data[2] & 1;
	size_t c2s_len = (size_t)data[3] << 16 | (size_t)data[4] << 8 | data[5];
	const uint8_t *c2s = data + 6;
	size_t rest = size - 6;
	static struct td_keylog kl; /* freed before returning */
	struct td_tls_secrets secrets = {kl_find, kl_rsa, 1, no_rsa, &kl};
	bool decrypt = data[2] & 2;
	if (decrypt) {
		if (rest < 2)
			return 0;
		size_t kl_len = (size_t)c2s[0] << 8 | c2s[1];
		if (kl_len > rest - 2)
			kl_len = rest - 2;
		if (td_keylog_parse(&kl, "fuzz", c2s + 2, kl_len) != TD_OK)
			decrypt = false;
		c2s += 2 + kl_len;
		rest -= 2 + kl_len;
	}
	if (c2s_len > rest)
		c2s_len = rest;
	const uint8_t *s2c = c2s + c2s_len;
	size_t s2c_len = rest - c2s_len;

	/* pass 1: both directions interleaved in random pieces */
	fuzz_rng_seed(&g, seed);
	td_session_clear(&s1, NULL); /* the last input's lists */
	td_session_init(&s1);
	td_tls_init(&t, &lim);
	t.secrets = decrypt ? &secrets : NULL;
	size_t off[2] = {0, 0};
	const uint8_t *sp[2] = {c2s, s2c};
	size_t len[2] = {c2s_len, s2c_len};
	while (off[0] < len[0] || off[1] < len[1]) {
		uint32_t r = fuzz_rng_next(&g);
		int dir = off[0] == len[0] ? 1 : off[1] == len[1] ? 0 : (int)(r & 1);
		struct td_time ts = {1, (int32_t)(off[0] + off[1]) % 1000000};
		if (gaps && (r & 0xf0) == 0xf0) {
			td_tls_gap(&t, &s1, dir, 1 + (r >> 20), 3, ts);
		} else {
			size_t k = piece(&g, len[dir] - off[dir]);
			td_tls_feed(&t, &s1, &sink, dir, sp[dir] + off[dir], k, 3, ts);
			off[dir] += k;
		}
		check_caps(&t);
	}
	td_tls_end(&t, &s1, 0);
	td_tls_end(&t, &s1, 1);
	td_tls_close(&t, &s1);
	td_session_finish(&s1);
	td_tls_free(&t);

	/* pass 2: the same streams, direction after direction, whole and split */
	td_session_clear(&s1, NULL); /* the last input's lists */
	td_session_init(&s1);
	td_tls_init(&t, &lim);
	t.secrets = decrypt ? &secrets : NULL;
	feed_stream(&t, &s1, &sink, 0, c2s, c2s_len, NULL);
	feed_stream(&t, &s1, &sink, 1, s2c, s2c_len, NULL);
	td_tls_close(&t, &s1);
	td_tls_free(&t);
	td_session_clear(&s2, NULL);
	td_session_init(&s2);
	td_tls_init(&t, &lim);
	t.secrets = decrypt ? &secrets : NULL;
	feed_stream(&t, &s2, &sink, 0, c2s, c2s_len, &g);
	feed_stream(&t, &s2, &sink, 1, s2c, s2c_len, &g);
	td_tls_close(&t, &s2);
	td_tls_free(&t);
	same_facts(&s1, &s2);
	td_session_clear(&s1, NULL);
	td_session_clear(&s2, NULL);
	td_keylog_free(&kl);
	return 0;
}
