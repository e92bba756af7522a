/* tls_decrypt.c - the tls module's decryption half: which keys protect
 * which record, the handshake transcript, Finished checks ([decrypt]).
 *
 * tls.c calls the hooks of tls_int.h as records and messages go by; this
 * file decides, with the secrets the caller gave (td_tls_secrets: a key
 * log, --key files), when each direction's keys take effect, opens the
 * protected records that matter (handshake and alerts; application data
 * is counted, never opened, except an alert-sized TLS 1.3 record that may
 * be an alert), and feeds the plaintext back through tls.c's clear-text
 * paths so a decrypted Certificate is parsed exactly like one in clear.
 * The crypto itself is td_decrypt.h's.
 *
 * Transcript order is the order messages complete in the capture, which
 * is the protocol's order as long as each flight is answered after it
 * arrived (always, for a capture of the two peers).
 */
#include "tls_int.h"

#include <stdlib.h>
#include <string.h>

#include "td_decrypt.h"
#include "td_keylog.h"
#include "td_names.h"
#include "td_reader.h"

/* Handshake transcript kept for Finished checks: a full handshake with a
 * long chain is a few tens of KiB; past this, Finished is not checked. */
#define TD_TLSDEC_MAX_TRANSCRIPT ((size_t)512 * 1024)
/* An RSA-encrypted pre-master secret: the modulus size (16384 bits max). */
#define TD_TLSDEC_MAX_CKE 2048

struct td_tls_dec {
	const struct td_dec_suite *suite;
	uint16_t version;
	bool keys_tried;  /* TLS <= 1.2: the key schedule was attempted */
	bool have_keys;
	struct td_dec_keys keys[2];
	bool active[2];   /* records of this direction are opened */
	bool ready[2];    /* keys derived, waiting for this side's CCS */
	bool app_keys[2]; /* TLS 1.3: application traffic keys in use */
	bool switch_after[2]; /* TLS 1.3: Finished read, switch keys after this record */
	bool data_seen[2];    /* TLS 1.3: a record after the handshake was data */
	bool skip_only[2];    /* the record is kept only for its last block (TLS 1.0 CBC IV) */
	uint8_t ms[TD_DEC_MASTER_LEN];
	/* TLS 1.3 secrets: handshake then application, per direction */
	uint8_t hs_secret[2][TD_DEC_MAX_SECRET];
	uint8_t ap_secret[2][TD_DEC_MAX_SECRET];
	size_t hs_secret_len[2], ap_secret_len[2];
	/* TLS <= 1.2: what the pre-master secret needs */
	uint8_t cke[TD_TLSDEC_MAX_CKE];
	size_t cke_len;
	uint8_t session_hash[TD_DEC_MAX_HASH]; /* RFC 7627 §3 */
	size_t session_hash_len;
	/* the transcript: every handshake message, header included */
	uint8_t *tr;
	size_t tr_len, tr_cap;
	bool tr_broken;
	/* the record being opened, per direction, and its plaintext */
	uint8_t *rec[2];
	size_t rec_have[2];
	uint8_t *plain;
};

static void wipe(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}

bool td_tlsdec_wants_messages(const struct td_tls *t)
{
	return t->dec != NULL;
}

static struct td_tls_dec *dec_get(struct td_tls *t)
{
	if (!t->dec && t->secrets)
		t->dec = calloc(1, sizeof *t->dec);
	return t->dec;
}

static void set_status(struct td_session *s, enum td_decrypt_status st)
{
	/* the first reason found stands: "decrypted" is never overwritten */
	if (s->dec.status == TD_DECRYPT_OFF)
		s->dec.status = (uint8_t)st;
}

/* ---- transcript ------------------------------------------------------- */

static void tr_append(struct td_tls_dec *x, uint8_t type, const uint8_t *body, uint32_t len)
{
	if (x->tr_broken)
		return;
	if (!body || len > TD_TLSDEC_MAX_TRANSCRIPT - 4 ||
	    x->tr_len > TD_TLSDEC_MAX_TRANSCRIPT - 4 - len) {
		x->tr_broken = true;
		return;
	}
	size_t need = x->tr_len + 4 + len;
	if (need > x->tr_cap) {
		size_t cap = x->tr_cap ? x->tr_cap : 4096;
		while (cap < need)
			cap *= 2;
		uint8_t *nb = malloc(cap);
		if (!nb) {
			x->tr_broken = true;
			return;
		}
		if (x->tr_len)
			memcpy(nb, x->tr, x->tr_len);
		wipe(x->tr, x->tr_len);
		free(x->tr);
		x->tr = nb;
		x->tr_cap = cap;
	}
	/* RFC 8446 §4: struct { HandshakeType msg_type; uint24 length; ... } */
	x->tr[x->tr_len++] = type;
	x->tr[x->tr_len++] = (uint8_t)(len >> 16);
	x->tr[x->tr_len++] = (uint8_t)(len >> 8);
	x->tr[x->tr_len++] = (uint8_t)len;
	if (len)
		memcpy(x->tr + x->tr_len, body, len);
	x->tr_len += len;
}

/* RFC 8446 §4.4.1: after a HelloRetryRequest, ClientHello1 is replaced in
 * the transcript by message_hash(Hash(ClientHello1)). */
static void tr_hrr(struct td_tls_dec *x, uint16_t suite_id)
{
	const struct td_dec_suite *su = td_dec_suite(suite_id);
	uint8_t h[TD_DEC_MAX_HASH];
	size_t hl;

	if (x->tr_broken || !su || td_dec_hash(su->hash, x->tr, x->tr_len, h, &hl) != TD_OK) {
		x->tr_broken = true;
		return;
	}
	x->tr_len = 0;
	tr_append(x, 254 /* message_hash */, h, (uint32_t)hl);
}

/* ---- key schedules ------------------------------------------------------ */

static bool both_ext(const struct td_session *s, uint32_t flag)
{
	return (s->ch->ext_flags & flag) && (s->sh->ext_flags & flag);
}

static size_t keylog(struct td_tls *t, const struct td_session *s, enum td_keylog_label l,
		     uint8_t *out)
{
	if (!t->secrets->keylog)
		return 0;
	return t->secrets->keylog(t->secrets->user, s->ch->random, (int)l, out);
}

/* RFC 5246 §7.4.7.1: an RSA ClientKeyExchange is the encrypted
 * pre-master secret as a vector with a 2-byte length (SSL 3.0: without). */
static bool rsa_ciphertext(const struct td_tls_dec *x, const uint8_t **p, size_t *n)
{
	/*   struct { opaque EncryptedPreMasterSecret<0..2^16-1>; } */
	struct td_reader r, enc;

	td_reader_init(&r, x->cke, x->cke_len);
	if (td_read_vec16(&r, &enc) != TD_OK || td_reader_close(&r) != TD_OK ||
	    td_reader_left(&enc) < 8)
		return false;
	*n = td_reader_left(&enc);
	return td_read_ptr(&enc, p, *n) == TD_OK;
}

/* Each --key on the RSA pre-master secret: the verdict per key is the
 * evidence (RFC 5246 §7.4.7.1: a server hides a failed decryption and
 * goes on with a random secret, so only the Finished MAC fails). Returns
 * true with pms when one key opened it. */
static bool try_rsa_keys(struct td_tls *t, struct td_session *s, uint8_t pms[TD_DEC_PMS_LEN])
{
	struct td_tls_dec *x = t->dec;
	const uint8_t *enc;
	size_t n;
	bool found = false;

	if (!t->secrets->rsa_decrypt || !t->secrets->n_keys || !rsa_ciphertext(x, &enc, &n))
		return false;
	for (size_t i = 0; i < t->secrets->n_keys && i < TD_MAX_KEYS; i++) {
		uint8_t out[TD_TLSDEC_MAX_CKE];
		size_t outn = 0;
		enum td_err e = t->secrets->rsa_decrypt(t->secrets->user, i, enc, n, out,
							 sizeof out, &outn);
		enum td_pms_result r;
		if (e == TD_ERR_UNSUPPORTED) {
			r = TD_PMS_NOT_RSA;
		} else if (e != TD_OK) {
			r = TD_PMS_WRONG_KEY;
		} else {
			switch (td_dec_check_pms(out, outn, s->ch->legacy_version)) {
			case TD_PMS_OK:
				r = TD_PMS_DECRYPTED;
				break;
			case TD_PMS_BAD_VERSION:
				r = TD_PMS_WRONG_VERSION;
				break;
			default:
				r = TD_PMS_WRONG_LENGTH;
				break;
			}
		}
		s->dec.pms[i] = (uint8_t)r;
		s->dec.n_keys_tried = (uint8_t)(i + 1);
		if (r == TD_PMS_DECRYPTED && !found) {
			memcpy(pms, out, TD_DEC_PMS_LEN);
			s->dec.key_index = (int8_t)i;
			found = true;
		}
		wipe(out, sizeof out);
	}
	return found;
}

/* TLS <= 1.2, at the first ChangeCipherSpec: master secret (key log, or a
 * pre-master secret from the key log's RSA lines or a --key), then both
 * directions' keys (RFC 5246 §8.1, §6.3). */
static void tls12_schedule(struct td_tls *t, struct td_session *s)
{
	struct td_tls_dec *x = t->dec;
	const struct td_cipher_info *ci = td_names_cipher(s->sh->suite);
	bool rsa_kx = ci && strcmp(ci->kx, "RSA") == 0;
	uint8_t pms[TD_DEC_PMS_LEN];
	bool have_ms = false, have_pms = false;

	x->keys_tried = true;
	if (!s->ch->seen || !s->sh->seen) {
		set_status(s, TD_DECRYPT_NO_HELLOS);
		return;
	}
	x->version = td_session_version(s);
	if (rsa_kx && try_rsa_keys(t, s, pms)) {
		have_pms = true;
		s->dec.source = TD_SRC_RSA_KEY;
	}
	if (keylog(t, s, TD_KL_CLIENT_RANDOM, x->ms) == TD_DEC_MASTER_LEN) {
		have_ms = true;
		s->dec.source = TD_SRC_KEYLOG;
	} else if (!have_pms && rsa_kx && t->secrets->keylog_rsa) {
		const uint8_t *enc;
		size_t n;
		uint8_t buf[64];
		if (rsa_ciphertext(x, &enc, &n) &&
		    t->secrets->keylog_rsa(t->secrets->user, enc, buf) == TD_DEC_PMS_LEN) {
			memcpy(pms, buf, TD_DEC_PMS_LEN);
			have_pms = true;
			s->dec.source = TD_SRC_KEYLOG_RSA;
		}
		wipe(buf, sizeof buf);
	}
	if (x->version < 0x0301 || x->version > 0x0303) {
		set_status(s, TD_DECRYPT_VERSION);
		goto out;
	}
	if (!have_ms && !have_pms) {
		if (s->resumed)
			set_status(s, TD_DECRYPT_RESUMED);
		else if (rsa_kx && s->dec.n_keys_tried)
			set_status(s, TD_DECRYPT_PMS_FAILED);
		else if (!rsa_kx && !t->secrets->keylog)
			set_status(s, TD_DECRYPT_DHE_NO_KEYLOG);
		else
			set_status(s, TD_DECRYPT_NO_SECRETS);
		goto out;
	}
	x->suite = td_dec_suite(s->sh->suite);
	if (!x->suite || x->suite->tls13) {
		set_status(s, TD_DECRYPT_SUITE);
		goto out;
	}
	s->dec.ems = both_ext(s, TD_EXT_EMS);
	s->dec.etm = both_ext(s, TD_EXT_ETM) && x->suite->kind == TD_DEC_CBC;
	if (!have_ms) {
		if (s->dec.ems && !x->session_hash_len) {
			/* RFC 7627 §4: the session hash ends at the
			 * ClientKeyExchange, which was not seen */
			set_status(s, TD_DECRYPT_NO_SECRETS);
			goto out;
		}
		if (td_dec_master_secret(x->suite, x->version, pms, sizeof pms, s->ch->random,
					 s->sh->random, s->dec.ems ? x->session_hash : NULL,
					 x->session_hash_len, x->ms) != TD_OK) {
			set_status(s, TD_DECRYPT_SUITE);
			goto out;
		}
	}
	if (td_dec_tls12_keys(x->suite, x->version, s->dec.etm, x->ms, s->ch->random, s->sh->random,
			      &x->keys[TD_DIR_C2S], &x->keys[TD_DIR_S2C]) != TD_OK) {
		set_status(s, TD_DECRYPT_SUITE);
		goto out;
	}
	x->have_keys = true;
	x->ready[0] = x->ready[1] = true;
	set_status(s, TD_DECRYPT_DONE);
out:
	wipe(pms, sizeof pms);
}

/* TLS 1.3, after the ServerHello: handshake traffic keys of both sides
 * from the key log (RFC 8446 §7.1, §7.3). */
static void tls13_schedule(struct td_tls *t, struct td_session *s)
{
	struct td_tls_dec *x = t->dec;
	static const enum td_keylog_label hs[2] = {TD_KL_CLIENT_HANDSHAKE, TD_KL_SERVER_HANDSHAKE};
	static const enum td_keylog_label ap[2] = {TD_KL_CLIENT_TRAFFIC_0, TD_KL_SERVER_TRAFFIC_0};
	uint8_t buf[64];

	x->keys_tried = true;
	x->version = 0x0304;
	if (s->version != 0x0304) {
		set_status(s, TD_DECRYPT_VERSION); /* drafts: other labels */
		return;
	}
	x->suite = td_dec_suite(s->sh->suite);
	if (!x->suite || !x->suite->tls13) {
		set_status(s, TD_DECRYPT_SUITE);
		return;
	}
	for (int d = 0; d < 2; d++) {
		size_t n = keylog(t, s, hs[d], buf);
		if (n == x->suite->hash_len) {
			memcpy(x->hs_secret[d], buf, n);
			x->hs_secret_len[d] = n;
		}
		n = keylog(t, s, ap[d], buf);
		if (n == x->suite->hash_len) {
			memcpy(x->ap_secret[d], buf, n);
			x->ap_secret_len[d] = n;
			s->dec.app_secrets[d] = true;
		}
	}
	wipe(buf, sizeof buf);
	if (!x->hs_secret_len[0] && !x->hs_secret_len[1]) {
		if (!t->secrets->keylog)
			set_status(s, TD_DECRYPT_DHE_NO_KEYLOG);
		else if (keylog(t, s, TD_KL_CLIENT_RANDOM, buf) || s->dec.app_secrets[0] ||
			 s->dec.app_secrets[1])
			set_status(s, TD_DECRYPT_TLS13_MISSING);
		else
			set_status(s, TD_DECRYPT_NO_SECRETS);
		wipe(buf, sizeof buf);
		return;
	}
	for (int d = 0; d < 2; d++) {
		if (!x->hs_secret_len[d])
			continue;
		if (td_dec_tls13_keys(x->suite, x->hs_secret[d], x->hs_secret_len[d], &x->keys[d]) !=
		    TD_OK) {
			set_status(s, TD_DECRYPT_SUITE);
			return;
		}
		x->active[d] = true;
	}
	x->have_keys = true;
	s->dec.source = TD_SRC_KEYLOG;
	set_status(s, TD_DECRYPT_DONE);
}

/* TLS 1.3: after a side's Finished, its records use the application
 * traffic keys; without them its later records are only counted. */
static void tls13_switch(struct td_tls_dec *x, int dir)
{
	x->switch_after[dir] = false;
	x->app_keys[dir] = true;
	if (!x->ap_secret_len[dir] ||
	    td_dec_tls13_keys(x->suite, x->ap_secret[dir], x->ap_secret_len[dir], &x->keys[dir]) !=
		    TD_OK)
		x->active[dir] = false;
}

/* ---- Finished ----------------------------------------------------------- */

static void check_finished(struct td_tls *t, struct td_session *s, int dir, const uint8_t *body,
			   uint32_t len)
{
	struct td_tls_dec *x = t->dec;
	uint8_t want[TD_DEC_MAX_HASH];
	size_t want_len = 0;
	enum td_err e = TD_ERR_UNSUPPORTED;

	s->dec.finished_frame[dir] = t->d[dir].rec_frame;
	if (x->tr_broken || !body) {
		s->dec.finished[dir] = TD_FIN_NO_TRANSCRIPT;
		return;
	}
	if (x->suite->tls13) {
		uint8_t h[TD_DEC_MAX_HASH];
		size_t hl;
		if (x->hs_secret_len[dir] && td_dec_hash(x->suite->hash, x->tr, x->tr_len, h, &hl) == TD_OK)
			e = td_dec_tls13_finished(x->suite, x->hs_secret[dir], x->hs_secret_len[dir], h,
						  hl, want);
		want_len = x->suite->hash_len;
	} else {
		e = td_dec_tls12_finished(x->suite, x->version, x->ms, dir == TD_DIR_C2S, x->tr,
					  x->tr_len, want);
		want_len = TD_DEC_VERIFY_LEN;
	}
	if (e != TD_OK) {
		s->dec.finished[dir] = TD_FIN_NO_TRANSCRIPT;
		return;
	}
	/* RFC 5246 §7.4.9 / RFC 8446 §4.4.4: verify_data fills the body */
	s->dec.finished[dir] = (uint8_t)(len == want_len && memcmp(body, want, want_len) == 0
						 ? TD_FIN_VERIFIED
						 : TD_FIN_MISMATCH);
	wipe(want, sizeof want);
}

/* ---- hooks (tls_int.h) -------------------------------------------------- */

void td_tlsdec_message_before(struct td_tls *t, struct td_session *s, int dir, uint8_t type,
			      const uint8_t *body, uint32_t len)
{
	struct td_tls_dec *x = type == HS_CLIENT_HELLO ? dec_get(t) : t->dec;

	if (!x)
		return;
	if (type == HS_FINISHED && t->plaintext && x->suite)
		check_finished(t, s, dir, body, len);
}

void td_tlsdec_message_after(struct td_tls *t, struct td_session *s, int dir, uint8_t type,
			     const uint8_t *body, uint32_t len)
{
	struct td_tls_dec *x = t->dec;

	if (!x)
		return;
	if (type == HS_SERVER_HELLO && dir == TD_DIR_S2C && s->sh->hello_retry_request)
		tr_hrr(x, s->sh->suite);
	/* Not in the transcript: HelloRequest (RFC 5246 §7.4.1.1) and TLS 1.3
	 * post-handshake messages (RFC 8446 §4.6). TLS 1.2's NewSessionTicket
	 * is (RFC 5077 §3.3). */
	if (!(type == HS_HELLO_REQUEST ||
	      (type == HS_NEW_SESSION_TICKET && td_session_is_tls13(s))))
		tr_append(x, type, body, len);
	switch (type) {
	case HS_SERVER_HELLO:
		if (dir == TD_DIR_S2C && s->sh->seen && !s->sh->hello_retry_request &&
		    td_session_is_tls13(s) && !x->keys_tried)
			tls13_schedule(t, s);
		break;
	case HS_CLIENT_KEY_EXCHANGE:
		if (dir != TD_DIR_C2S || !body)
			break;
		x->cke_len = len < sizeof x->cke ? len : 0;
		if (x->cke_len)
			memcpy(x->cke, body, len);
		/* RFC 7627 §3: session_hash = Hash(handshake messages up to
		 * and including the ClientKeyExchange) */
		{
			const struct td_dec_suite *su = td_dec_suite(s->sh->suite);
			if (su && !x->tr_broken &&
			    td_dec_hash(td_session_version(s) >= 0x0303 ? su->hash : "MD5-SHA1",
					x->tr, x->tr_len, x->session_hash,
					&x->session_hash_len) != TD_OK)
				x->session_hash_len = 0;
		}
		break;
	case HS_FINISHED:
		if (t->plaintext && x->suite && x->suite->tls13)
			x->switch_after[dir] = true;
		break;
	case 24: /* KeyUpdate (RFC 8446 §4.6.3): the next keys are not derived here */
		if (t->plaintext && x->app_keys[dir])
			x->active[dir] = false;
		break;
	default:
		break;
	}
}

void td_tlsdec_ccs(struct td_tls *t, struct td_session *s, int dir)
{
	struct td_tls_dec *x = dec_get(t);

	if (!x)
		return;
	if (!x->keys_tried)
		tls12_schedule(t, s);
	if (x->ready[dir]) {
		x->ready[dir] = false;
		x->active[dir] = true;
		x->keys[dir].seq = 0; /* RFC 5246 §6.1: reset at each ChangeCipherSpec */
	}
}

bool td_tlsdec_open_record(struct td_tls *t, struct td_session *s, int dir)
{
	struct td_tls_dec *x = t->dec;
	struct td_tls_dir *d = &t->d[dir];

	(void)s;
	if (!x || !x->active[dir])
		return false;
	bool cbc10 = x->suite && x->suite->kind == TD_DEC_CBC && x->version <= 0x0301;
	bool open;
	x->skip_only[dir] = false;
	if (x->suite->tls13) {
		/* After the handshake the records are opened until the first
		 * one that is data (so the NewSessionTickets before it are
		 * read, RFC 8446 §4.6.1); then only an alert-sized one, which
		 * may be an alert (RFC 8446 §6). The rest is never opened. */
		open = !x->app_keys[dir] || !x->data_seen[dir] || td_tls13_alert_sized(d->rec_len);
	} else if (d->rec_type == CT_APPLICATION_DATA) {
		/* data is never opened; TLS 1.0 CBC chains its IV through
		 * every record (RFC 2246 §6.2.3.2): the record is kept only
		 * for its last ciphertext block */
		open = cbc10;
		x->skip_only[dir] = cbc10;
	} else {
		open = true;
	}
	if (!open) {
		x->keys[dir].seq++;
		s->dec.skipped[dir]++;
		return false;
	}
	if (!x->rec[dir]) {
		x->rec[dir] = malloc(TD_TLS_MAX_RECORD);
		if (!x->rec[dir]) {
			x->keys[dir].seq++;
			return false;
		}
	}
	x->rec_have[dir] = 0;
	return true;
}

void td_tlsdec_record_bytes(struct td_tls *t, int dir, const uint8_t *p, size_t n)
{
	struct td_tls_dec *x = t->dec;

	if (!x || !x->rec[dir] || n > TD_TLS_MAX_RECORD - x->rec_have[dir])
		return;
	memcpy(x->rec[dir] + x->rec_have[dir], p, n);
	x->rec_have[dir] += n;
}

void td_tlsdec_record_lost(struct td_tls *t, int dir)
{
	if (!t->dec)
		return;
	t->dec->keys[dir].seq++;
	t->dec->rec_have[dir] = 0;
}

void td_tlsdec_record_end(struct td_tls *t, struct td_session *s,
			  const struct td_tls_cert_sink *sink, int dir)
{
	struct td_tls_dec *x = t->dec;
	struct td_tls_dir *d = &t->d[dir];
	size_t n = x ? x->rec_have[dir] : 0;
	size_t out_len = 0;
	uint8_t inner = 0;

	if (!x || !x->rec[dir])
		return;
	x->rec_have[dir] = 0;
	if (x->skip_only[dir]) {
		td_dec_skip(&x->keys[dir], x->rec[dir], n);
		s->dec.skipped[dir]++;
		td_tls_classify_protected(t, s, dir);
		return;
	}
	if (!x->plain) {
		x->plain = malloc(TD_TLS_MAX_RECORD);
		if (!x->plain) {
			x->keys[dir].seq++;
			td_tls_classify_protected(t, s, dir);
			return;
		}
	}
	enum td_dec_result r = td_dec_record(&x->keys[dir], d->hdr, x->rec[dir], n, x->plain,
					     &out_len, &inner);
	if (r != TD_DEC_OK && x->app_keys[dir]) {
		/* TLS 1.3 after the handshake: a KeyUpdate inside data not
		 * opened (RFC 8446 §4.6.3) changes the keys without a trace;
		 * a record that fails here proves nothing */
		x->active[dir] = false;
		s->dec.skipped[dir]++;
		td_tls_classify_protected(t, s, dir);
		return;
	}
	if (r != TD_DEC_OK) {
		if (!s->dec.failed) {
			s->dec.failed = true;
			s->dec.fail_dir = (uint8_t)dir;
			s->dec.fail_what = (uint8_t)r;
			s->dec.fail_frame = d->rec_frame;
			s->dec.fail_len = d->rec_len;
		}
		/* the handshake record that should hold Finished */
		if (!s->finished_seen[dir] && s->dec.finished[dir] == TD_FIN_NOT_SEEN) {
			s->dec.finished[dir] = TD_FIN_UNREADABLE;
			s->dec.finished_frame[dir] = d->rec_frame;
		}
		/* the peer stops here too (RFC 5246 §7.2.2, RFC 8446 §5.2):
		 * what follows in this direction is not opened */
		x->active[dir] = false;
		td_tls_classify_protected(t, s, dir);
		return;
	}
	s->dec.records[dir]++;
	t->plaintext = true;
	switch (inner) {
	case CT_HANDSHAKE:
		td_tls_plain_handshake(t, s, sink, dir, x->plain, out_len);
		break;
	case CT_ALERT:
		td_tls_plain_alert(t, s, dir, x->plain, out_len);
		break;
	case CT_APPLICATION_DATA:
		/* its plaintext is wiped below, unread */
		x->data_seen[dir] = true;
		td_tls_plain_appdata(t, s, dir);
		break;
	default:
		break;
	}
	t->plaintext = false;
	wipe(x->plain, out_len);
	if (x->switch_after[dir])
		tls13_switch(x, dir);
}

void td_tlsdec_close(struct td_tls *t, struct td_session *s)
{
	struct td_tls_dec *x = t->dec;

	if (s->dec.status == TD_DECRYPT_OFF) {
		if (!s->ch->seen || !s->sh->seen)
			s->dec.status = TD_DECRYPT_NO_HELLOS;
		else
			s->dec.status = TD_DECRYPT_NOT_REACHED;
	}
	for (int d = 0; d < 2; d++) {
		if (!s->finished_seen[d] || s->dec.finished[d] != TD_FIN_NOT_SEEN)
			continue;
		/* seen only as the first protected handshake record */
		s->dec.finished[d] = TD_FIN_NO_KEYS;
		s->dec.finished_frame[d] = s->encrypted_frame[d];
	}
	(void)x;
}

size_t td_tlsdec_bytes(const struct td_tls *t)
{
	const struct td_tls_dec *x = t->dec;
	size_t n;

	if (!x)
		return 0;
	n = sizeof *x + TD_TLS_MALLOC_OVERHEAD;
	if (x->tr)
		n += x->tr_cap + TD_TLS_MALLOC_OVERHEAD;
	for (int d = 0; d < 2; d++)
		if (x->rec[d])
			n += TD_TLS_MAX_RECORD + TD_TLS_MALLOC_OVERHEAD;
	if (x->plain)
		n += TD_TLS_MAX_RECORD + TD_TLS_MALLOC_OVERHEAD;
	return n;
}

void td_tlsdec_free(struct td_tls *t)
{
	struct td_tls_dec *x = t->dec;

	if (!x)
		return;
	td_dec_keys_wipe(&x->keys[0]);
	td_dec_keys_wipe(&x->keys[1]);
	wipe(x->tr, x->tr_len);
	free(x->tr);
	for (int d = 0; d < 2; d++) {
		wipe(x->rec[d], TD_TLS_MAX_RECORD);
		free(x->rec[d]);
	}
	wipe(x->plain, x->plain ? TD_TLS_MAX_RECORD : 0);
	free(x->plain);
	wipe(x, sizeof *x);
	free(x);
	t->dec = NULL;
}
