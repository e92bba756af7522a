/* diagnose.c - the knowledge of why a handshake failed (see td_diagnose.h).
 *
 * Everything this module knows is in the table `causes` below: which
 * failure a cause explains (alert, sender, phase, key exchange), how likely
 * it is to begin with, which evidence checks move it up or down, what to
 * run next, and the RFC it rests on. The code only matches rows and runs
 * their checks; adding knowledge is adding a row.
 */
#include "td_diagnose.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "td_decrypt.h"
#include "td_digest.h"
#include "td_chain.h"
#include "td_names.h"
#include "td_rules.h"
#include "td_starttls.h"
#include "td_x509.h"

/* AlertDescription values (RFC 8446 §6, RFC 5246 §7.2.2) named here. */
enum {
	A_BAD_RECORD_MAC = 20,
	A_HANDSHAKE_FAILURE = 40,
	A_BAD_CERTIFICATE = 42,
	A_UNSUPPORTED_CERTIFICATE = 43,
	A_CERTIFICATE_EXPIRED = 45,
	A_CERTIFICATE_UNKNOWN = 46,
	A_UNKNOWN_CA = 48,
	A_DECRYPT_ERROR = 51,
	A_PROTOCOL_VERSION = 70,
	A_INSUFFICIENT_SECURITY = 71,
	A_UNRECOGNIZED_NAME = 112,
	A_NO_APPLICATION_PROTOCOL = 120,
};

/* Special "alert" values for rows about failures without a readable one. */
#define ANY_ALERT (-1)
#define NO_ALERT (-2)
#define HIDDEN_ALERT (-3) /* encrypted or probable: description unknown */
#define END (-100)

/* Key exchange classes a row applies to. */
#define KX_RSA 0x1
#define KX_DHE 0x2   /* DHE, ECDHE and the like: the server signs its share */
#define KX_TLS13 0x4
#define KX_OTHER 0x8
#define KX_ANY 0xF

#define PHASE(p) (1u << (p))
#define PHASES_ANY 0xFFu

#define FROM_ANY (-1)

/* What the checks see. */
struct ctx {
	const struct td_session *s;
	const struct td_alert *alert; /* the alert being explained, or NULL */
	const char *capture;
	const struct td_cert *leaf;   /* first certificate, parsed, or NULL */
	/* A completed connection explained by a finding of high severity or
	 * above (the rules ran first): that finding, else NULL. */
	const struct td_finding *finding;
};

/* An evidence check: adds a sentence for or against the cause and returns
 * how much the likelihood moves. */
typedef int (*evidence_fn)(const struct ctx *c, struct td_cause *out);
/* Writes the next step for a cause. */
typedef void (*next_fn)(const struct ctx *c, char *buf, size_t n);

struct cause_row {
	const char *id;
	int alerts[6];   /* AlertDescription values, ANY_ALERT, NO_ALERT, HIDDEN_ALERT; END-terminated */
	int from;        /* TD_DIR_* of the alert's sender (or who closed), FROM_ANY */
	unsigned phases; /* PHASE() bits */
	unsigned kx;     /* KX_* bits */
	int base;        /* likelihood before the evidence */
	const char *summary;
	const char *basis;
	evidence_fn evidence[5];
	next_fn next;
	/* When set, the row is considered only if this says the facts it
	 * needs are there (a --cert comparison, a name check); NULL: always. */
	bool (*applies)(const struct ctx *c);
};

/* ---- writing evidence ---------------------------------------------------- */

static void add(struct td_cause *c, bool supports, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add(struct td_cause *c, bool supports, const char *fmt, ...)
{
	va_list ap;
	uint8_t *n = supports ? &c->n_for : &c->n_against;
	char(*list)[TD_EVIDENCE_LEN] = supports ? c->evidence_for : c->evidence_against;

	if (*n >= TD_MAX_EVIDENCE)
		return;
	va_start(ap, fmt);
	vsnprintf(list[*n], TD_EVIDENCE_LEN, fmt, ap);
	va_end(ap);
	(*n)++;
}

static const char *alert_name(uint8_t desc)
{
	const char *n = td_names_alert(desc);
	return n ? n : "unknown alert";
}

static const char *capture_name(const struct ctx *c)
{
	return c->capture ? c->capture : "CAPTURE";
}

static const char *spki_hex(const struct ctx *c, char buf[65])
{
	if (!c->leaf)
		return "(no certificate seen)";
	return td_hex(c->leaf->key.spki_sha256, sizeof c->leaf->key.spki_sha256, buf);
}

/* ---- evidence checks ------------------------------------------------------ */

/* RSA key exchange is what makes a key mismatch invisible until Finished. */
static int ev_rsa_kx(const struct ctx *c, struct td_cause *out)
{
	const struct td_cipher_info *ci = td_names_cipher(c->s->sh->suite);
	add(out, true,
	    "%s uses RSA key exchange: the client encrypts the pre-master secret to the "
	    "certificate's public key, and a server holding another key cannot tell",
	    ci ? ci->name : "the cipher suite");
	return 0;
}

static int ev_alert_after_finished(const struct ctx *c, struct td_cause *out)
{
	if (!c->alert)
		return 0;
	add(out, true, "the %s came at frame %u, right after the client's Finished: the first "
		       "record protected with the new keys",
	    alert_name(c->alert->desc), (unsigned)c->alert->frame);
	return 0;
}

/* The --key results: the strongest evidence there is without decryption. */
static int ev_keys(const struct ctx *c, struct td_cause *out)
{
	const struct td_session *s = c->s;
	char hex[65];

	if (!s->keys_given || s->n_certs == 0) {
		add(out, true, "not checked yet: no --key given (see the next step)");
		return 0;
	}
	if (td_session_cert_key(s, 0)) {
		add(out, false, "%s matches the certificate's public key (SPKI SHA-256 %s)",
		    td_session_cert_key(s, 0), spki_hex(c, hex));
		return -60;
	}
	add(out, true, "none of the --key files matches the certificate's public key (SPKI SHA-256 %s)",
	    spki_hex(c, hex));
	return 35;
}

/* The --key that opened the pre-master secret, when the client's Finished
 * verified with it; NULL otherwise. */
static const char *proving_key(const struct td_session *s)
{
	const struct td_decrypt_facts *d = &s->dec;

	if (d->source != TD_SRC_RSA_KEY || d->key_index < 0 || d->key_index >= TD_MAX_KEYS ||
	    d->finished[TD_DIR_C2S] != TD_FIN_VERIFIED)
		return NULL;
	const char *key = td_decrypt_key_file(d, d->key_index);
	return key ? key : "the --key";
}

static bool client_proven_with_key(const struct ctx *c)
{
	return proving_key(c->s) != NULL;
}

/* The client's side proven right with a --key: a server holding that key
 * would have computed the same keys and accepted the Finished. */
static int ev_client_proven(const struct ctx *c, struct td_cause *out)
{
	const char *k = proving_key(c->s);

	add(out, true,
	    "the pre-master secret decrypts under %s and the client's Finished (frame %u) "
	    "verifies with it: the client did its part right, and a server holding %s would "
	    "have accepted that Finished",
	    k, (unsigned)c->s->dec.finished_frame[TD_DIR_C2S], k);
	return 35;
}

/* ---- [decrypt] evidence, as data ---------------------------------------------
 * What the decryption facts (td_session.h, struct td_decrypt_facts) say
 * about a cause. A fact is a predicate that also fills in the details its
 * sentence names ({key}, {frame}, {dir}, {what}); a row ties a fact to
 * the causes it bears on, for or against, with how far it moves them.
 * Within a group (1, 2, ...) only the first row whose fact holds speaks;
 * group 0 rows speak independently. */

struct dfact {
	const char *key; /* the --key file */
	unsigned frame;
	const char *dir;  /* sender of the record */
	const char *what; /* what failed, in words */
};

typedef bool (*dfact_fn)(const struct td_decrypt_facts *d, struct dfact *f);

static bool pms_is(const struct td_decrypt_facts *d, struct dfact *f, enum td_pms_result r)
{
	for (unsigned i = 0; i < d->n_keys_tried && i < TD_MAX_KEYS; i++) {
		if (d->pms[i] == r) {
			const char *key = td_decrypt_key_file(d, (int)i);
			f->key = key ? key : "the --key";
			return true;
		}
	}
	return false;
}

/* PKCS#1 v1.5 padding only checks out under the private key whose public
 * half encrypted it (RFC 8017 §7.2.2). */
static bool df_pms_wrong_key(const struct td_decrypt_facts *d, struct dfact *f)
{
	return pms_is(d, f, TD_PMS_WRONG_KEY);
}

static bool df_pms_wrong_version(const struct td_decrypt_facts *d, struct dfact *f)
{
	return pms_is(d, f, TD_PMS_WRONG_VERSION);
}

/* The client's Finished checked with the key log's own secrets. */
static bool keylog_client_finished(const struct td_decrypt_facts *d, struct dfact *f,
				   enum td_finished_check r)
{
	f->frame = d->finished_frame[TD_DIR_C2S];
	return (d->source == TD_SRC_KEYLOG || d->source == TD_SRC_KEYLOG_RSA) &&
	       d->finished[TD_DIR_C2S] == r;
}

static bool df_keylog_fin_verified(const struct td_decrypt_facts *d, struct dfact *f)
{
	return keylog_client_finished(d, f, TD_FIN_VERIFIED);
}

static bool df_keylog_fin_mismatch(const struct td_decrypt_facts *d, struct dfact *f)
{
	return keylog_client_finished(d, f, TD_FIN_MISMATCH);
}

/* A record that fails its integrity check (not one too short or of no
 * type: those are not tampering). */
static bool df_record_failed(const struct td_decrypt_facts *d, struct dfact *f)
{
	if (d->status != TD_DECRYPT_DONE || !d->failed ||
	    (d->fail_what != TD_DEC_BAD_TAG && d->fail_what != TD_DEC_BAD_MAC &&
	     d->fail_what != TD_DEC_BAD_PADDING))
		return false;
	f->dir = td_dir_name(d->fail_dir);
	f->frame = d->fail_frame;
	f->what = td_dec_result_words((enum td_dec_result)d->fail_what);
	return true;
}

static bool df_client_fin_opens(const struct td_decrypt_facts *d, struct dfact *f)
{
	f->frame = d->finished_frame[TD_DIR_C2S];
	return d->status == TD_DECRYPT_DONE && d->finished[TD_DIR_C2S] == TD_FIN_VERIFIED;
}

static const struct decrypt_row {
	const char *causes[3]; /* cause ids, NULL-terminated */
	unsigned group;
	dfact_fn holds;
	bool supports;
	int move;
	const char *text;
} decrypt_evidence[] = {
	{{"server-key-mismatch"}, 0, df_pms_wrong_key, true, 30,
	 "the pre-master secret in the ClientKeyExchange does not decrypt under {key} (the PKCS#1 "
	 "v1.5 padding check fails): the client encrypted it to another public key than this key's"},
	{{"server-key-mismatch"}, 0, df_pms_wrong_version, false, -30,
	 "the pre-master secret decrypts under {key}, but its version bytes are not the "
	 "ClientHello's: a client bug, not a key mismatch"},
	{{"server-key-mismatch"}, 1, df_keylog_fin_verified, true, 15,
	 "the client's Finished (frame {frame}) decrypts and verifies with the key log's secrets: "
	 "the client's keys and transcript are sound, the server derived other keys"},
	{{"server-key-mismatch"}, 1, df_keylog_fin_mismatch, false, -25,
	 "the client's Finished (frame {frame}) decrypts but its verify_data is wrong even with "
	 "the key log's secrets: the client computed it wrong"},
	/* a record that fails under the sender's own secrets was changed after
	 * it was sent; one that opens and verifies was not (up to the capture
	 * point) */
	{{"traffic-altered", "traffic-altered-completed"}, 2, df_record_failed, true, 40,
	 "the {dir}'s record at frame {frame} fails its integrity check ({what}) under the secrets "
	 "given: when those are the {dir}'s own (its key log), the record was changed after it "
	 "was sent"},
	{{"traffic-altered", "traffic-altered-completed"}, 2, df_client_fin_opens, false, -15,
	 "the client's Finished record (frame {frame}) opens and verifies as captured: it was not "
	 "changed between the client and the capture point"},
};

/* A row's sentence with its details filled in. */
static void fill_text(const char *t, const struct dfact *f, char *buf, size_t n)
{
	size_t used = 0;

	while (*t && used + 1 < n) {
		const char *v = NULL;
		char num[16];
		size_t skip = 0;

		if (strncmp(t, "{key}", 5) == 0)
			v = f->key, skip = 5;
		else if (strncmp(t, "{frame}", 7) == 0)
			v = num, skip = 7, snprintf(num, sizeof num, "%u", f->frame);
		else if (strncmp(t, "{dir}", 5) == 0)
			v = f->dir, skip = 5;
		else if (strncmp(t, "{what}", 6) == 0)
			v = f->what, skip = 6;
		if (!skip) {
			buf[used++] = *t++;
			continue;
		}
		used += (size_t)snprintf(buf + used, n - used, "%s", v ? v : "?");
		if (used >= n)
			used = n - 1;
		t += skip;
	}
	buf[used] = '\0';
}

static bool bears_on(const struct decrypt_row *r, const char *cause)
{
	for (size_t k = 0; k < sizeof r->causes / sizeof r->causes[0] && r->causes[k]; k++)
		if (strcmp(r->causes[k], cause) == 0)
			return true;
	return false;
}

/* Every [decrypt] row that bears on this cause (out->id). */
static int ev_decrypt(const struct ctx *c, struct td_cause *out)
{
	unsigned done = 0; /* groups that spoke, as bits */
	int move = 0;

	for (size_t i = 0; i < sizeof decrypt_evidence / sizeof decrypt_evidence[0]; i++) {
		const struct decrypt_row *r = &decrypt_evidence[i];
		struct dfact f = { 0 };
		char text[TD_EVIDENCE_LEN];

		if (!bears_on(r, out->id) || (r->group && (done & (1u << r->group))) ||
		    !r->holds(&c->s->dec, &f))
			continue;
		if (r->group)
			done |= 1u << r->group;
		fill_text(r->text, &f, text, sizeof text);
		add(out, r->supports, "%s", text);
		move += r->move;
	}
	return move;
}

static bool tcp_trouble(const struct td_session *s)
{
	const struct td_tcp_evidence *t = &s->tcp;
	return t->overlaps_differ || t->gaps[0] || t->gaps[1] || t->bytes_missing[0] ||
	       t->bytes_missing[1];
}

/* A clean TCP stream argues against corruption in transit. */
static int ev_tcp_clean(const struct ctx *c, struct td_cause *out)
{
	if (tcp_trouble(c->s))
		return 0;
	add(out, true, "the TCP stream is complete in both directions: no gap and no overlapping "
		       "segment with different bytes");
	return 5;
}

static int ev_tcp_trouble(const struct ctx *c, struct td_cause *out)
{
	const struct td_tcp_evidence *t = &c->s->tcp;

	if (t->overlaps_differ) {
		add(out, true, "%u overlapping TCP segments carried different bytes: the stream was "
			       "changed or injected into",
		    (unsigned)t->overlaps_differ);
		return 45;
	}
	if (tcp_trouble(c->s)) {
		add(out, true, "bytes are missing from the TCP stream (client %llu, server %llu)",
		    (unsigned long long)t->bytes_missing[0], (unsigned long long)t->bytes_missing[1]);
		return 10;
	}
	add(out, false, "the TCP stream is complete, with no overlapping segment that differs");
	return -5;
}

/* RFC 7627 / RFC 7366 change how keys and MACs are computed: a peer that
 * gets them wrong fails at Finished. */
static int ev_ems_etm(const struct ctx *c, struct td_cause *out)
{
	const struct td_server_hello *sh = c->s->sh;
	for (unsigned i = 0; i < sh->n_exts && i < TD_MAX_SH_EXTS; i++) {
		if (sh->exts[i] == 23 || sh->exts[i] == 22) {
			add(out, true, "the server accepted %s, which changes the key derivation or MAC "
				       "(a known source of interoperability bugs)",
			    sh->exts[i] == 23 ? "extended_master_secret (RFC 7627)"
					      : "encrypt_then_mac (RFC 7366)");
			return 5;
		}
	}
	return 0;
}

static const struct td_cert *chain_cert(const struct td_session *s, unsigned i)
{
	return i < s->n_certs && s->certs[i] && s->certs[i]->parsed ? s->certs[i] : NULL;
}

/* The chain facts (td_chain.h) on completeness: a top that is neither
 * self-signed nor a CA, a chain out of order. */
static int chain_facts_incomplete(const struct ctx *c, struct td_cause *out)
{
	const struct td_session *s = c->s;
	const struct td_chain_facts *f = s->chain;
	const struct td_cert *top = chain_cert(s, f->top);
	int move = 0;

	if (f->missing_intermediate && top) {
		if (s->n_certs == 1)
			add(out, true, "the server sent only its leaf certificate, issued by \"%s\"; "
				       "the client must already hold that issuer",
			    top->issuer);
		else
			add(out, true, "the chain sent stops at [%u] \"%s\", issued by \"%s\", "
				       "which was not sent (a missing intermediate)",
			    (unsigned)f->top, top->subject, top->issuer);
		move += 30;
	}
	if (f->broken) {
		add(out, true, "the chain is broken: [%u] certifies none of the chain, so the "
			       "issuer of [%u] was not sent",
		    (unsigned)f->broken_at, (unsigned)f->top);
		move += 10;
	} else if (!f->order_ok) {
		add(out, true, "the chain is out of order: [%u] is not signed by [%u]",
		    (unsigned)f->unchained_at, (unsigned)f->unchained_at + 1u);
		move += 10;
	}
	if (!move) {
		add(out, false, "the chain sent leads from the leaf up to a CA certificate (%u "
				"certificate%s, in order)",
		    (unsigned)s->n_certs, s->n_certs == 1 ? "" : "s");
		move = -15;
	}
	return move;
}

/* A broken chain (td_chain.h): a certificate sent that certifies none of
 * the chain; when it bears the name of the issuer it failed to sign, it
 * is the intermediate from before a key rollover. */
static bool has_broken_chain(const struct ctx *c)
{
	return c->s->chain->checked && c->s->chain->broken;
}

static int ev_broken_chain(const struct ctx *c, struct td_cause *out)
{
	const struct td_chain_facts *f = c->s->chain;
	const struct td_cert *wrong = chain_cert(c->s, f->broken_at);
	const struct td_cert *top = chain_cert(c->s, f->top);

	if (!wrong || !top)
		return 0;
	if (strcmp(wrong->subject, top->issuer) == 0) {
		add(out, true, "[%u] \"%s\" has the name of the issuer of [%u] but did not sign it "
			       "(a signature check): another key under the same name",
		    (unsigned)f->broken_at, wrong->subject, (unsigned)f->top);
		return 30;
	}
	add(out, true, "[%u] \"%s\" certifies none of the chain; [%u] is issued by \"%s\", "
		       "which was not sent",
	    (unsigned)f->broken_at, wrong->subject, (unsigned)f->top, top->issuer);
	return 20;
}

/* Against causes that assume a chain that holds together. */
static int ev_not_broken(const struct ctx *c, struct td_cause *out)
{
	if (!has_broken_chain(c))
		return 0;
	add(out, false, "the chain is broken at [%u]: the client cannot reach any CA through it, "
			"trusted or not",
	    (unsigned)c->s->chain->broken_at);
	return -20;
}

/* --ca: the chain against the trust anchors given, at the capture's time. */
static int ev_ca_verdict(const struct ctx *c, struct td_cause *out)
{
	const struct td_chain_facts *f = c->s->chain;

	if (!f->ca_checked)
		return 0;
	if (f->ca_ok) {
		add(out, false, "the chain verifies against --ca at the capture's time: the client's "
				"trust store must differ from it");
		return -35;
	}
	add(out, true, "against --ca the chain does not verify: %s (at certificate [%d])",
	    f->ca_verdict, (int)f->ca_depth);
	return 15;
}

/* --cert: the leaf is not the certificate the server should send. */
static bool has_unexpected_cert(const struct ctx *c)
{
	return c->s->chain->expected_checked && !c->s->chain->expected_match;
}

static int ev_expected_cert(const struct ctx *c, struct td_cause *out)
{
	const struct td_chain_facts *f = c->s->chain;
	char sent[65], want[65];

	if (!c->leaf)
		return 0;
	add(out, true, "the server sent certificate %s, not %s (%s)",
	    td_hex(c->leaf->sha256, 32, sent), td_hex(f->expected_sha256, 32, want),
	    f->expected_path);
	if (f->expected_same_key) {
		add(out, false, "both have the same public key: another issue of the expected "
				"certificate");
		return -10;
	}
	add(out, true, "its public key differs too (SPKI SHA-256 %s, expected %s)",
	    td_hex(c->leaf->key.spki_sha256, 32, sent), td_hex(f->expected_spki_sha256, 32, want));
	return 35;
}

static bool has_sni_mismatch(const struct ctx *c)
{
	return c->s->chain->checked && c->s->chain->sni_match == 0;
}

static int ev_sni_mismatch(const struct ctx *c, struct td_cause *out)
{
	const struct td_client_hello *ch = c->s->ch;

	add(out, true, "the leaf certificate \"%s\" is not valid for the server name \"%.*s\" "
		       "the client asked for (X509_check_host rules)",
	    c->leaf ? c->leaf->subject : "?", (int)(ch->sni.len < TD_SNI_LEN ? ch->sni.len : TD_SNI_LEN),
	    ch->sni.bytes);
	return 35;
}

#define WEAK_CHECKS (TD_CHK_WEAK_RSA | TD_CHK_WEAK_EC | TD_CHK_DSA | TD_CHK_MD5 | TD_CHK_SHA1)

static bool has_weak_cert(const struct ctx *c)
{
	const struct td_chain_facts *f = c->s->chain;

	for (unsigned i = 0; f->checked && i < c->s->n_certs && i < TD_MAX_CHAIN; i++)
		if (f->checks[i] & WEAK_CHECKS)
			return true;
	return false;
}

static int ev_weak_cert(const struct ctx *c, struct td_cause *out)
{
	const struct td_session *s = c->s;

	for (unsigned i = 0; i < s->n_certs && i < TD_MAX_CHAIN; i++) {
		const struct td_cert *ct = chain_cert(s, i);
		unsigned k = s->chain->checks[i] & WEAK_CHECKS;

		if (!ct || !k)
			continue;
		add(out, true, "certificate [%u] \"%s\": %s %u-bit key, signature %s", i, ct->subject,
		    ct->key.algorithm, ct->key.bits, ct->sig_alg);
	}
	return 30;
}

/* A leaf that is not self-signed, sent alone: the client must already have
 * its issuer. */
static int ev_chain_incomplete(const struct ctx *c, struct td_cause *out)
{
	const struct td_session *s = c->s;
	const struct td_chain_facts *f = s->chain;
	if (!c->leaf)
		return 0;
	if (f->checked)
		return chain_facts_incomplete(c, out);
	if (s->n_certs == 1 && !c->leaf->self_signed) {
		add(out, true, "the server sent only its leaf certificate, issued by \"%s\"; the "
			       "client must already hold that issuer",
		    c->leaf->issuer);
		return 25;
	}
	if (s->n_certs > 1)
		add(out, false, "the server sent %u certificates", (unsigned)s->n_certs);
	return -10;
}

static int ev_self_signed(const struct ctx *c, struct td_cause *out)
{
	if (c->leaf && c->leaf->self_signed) {
		add(out, true, "the leaf certificate \"%s\" is self-signed", c->leaf->subject);
		return 25;
	}
	if (c->leaf)
		add(out, true, "the chain ends at issuer \"%s\"",
		    chain_cert(c->s, c->s->n_certs - 1u) ? chain_cert(c->s, c->s->n_certs - 1u)->issuer
							 : c->leaf->issuer);
	return 0;
}

static void utc_date(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm))
		strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
	else
		snprintf(buf, n, "%lld", (long long)t);
}

/* Validity against the capture time, never the wall clock. */
static int validity_problems(const struct ctx *c, struct td_cause *out, bool report)
{
	const struct td_session *s = c->s;
	int found = 0;
	char when[40];

	for (unsigned i = 0; i < s->n_certs; i++) {
		const struct td_cert *ct = chain_cert(s, i);
		if (!ct)
			continue;
		/* the chain stage's checks when it ran (same capture time) */
		bool expired = s->chain->checked && i < TD_MAX_CHAIN
				       ? (s->chain->checks[i] & TD_CHK_EXPIRED) != 0
				       : ct->not_after < s->first_ts.sec;
		bool early = s->chain->checked && i < TD_MAX_CHAIN
				     ? (s->chain->checks[i] & TD_CHK_NOT_YET_VALID) != 0
				     : ct->not_before > s->first_ts.sec;
		if (expired) {
			utc_date(ct->not_after, when, sizeof when);
			if (report)
				add(out, true, "certificate [%u] \"%s\" expired on %s, before the capture",
				    i, ct->subject, when);
			found++;
		} else if (early) {
			utc_date(ct->not_before, when, sizeof when);
			if (report)
				add(out, true, "certificate [%u] \"%s\" is valid only from %s, after the "
					       "capture",
				    i, ct->subject, when);
			found++;
		}
	}
	return found;
}

static int ev_expired(const struct ctx *c, struct td_cause *out)
{
	if (c->s->n_certs == 0) {
		add(out, true, "the certificates are not visible (encrypted): their dates cannot be checked");
		return 0;
	}
	if (validity_problems(c, out, true))
		return 40;
	add(out, false, "every certificate sent was valid at the time of the capture");
	return -40;
}

static int ev_not_expired(const struct ctx *c, struct td_cause *out)
{
	if (c->s->n_certs == 0 || validity_problems(c, out, false))
		return 0;
	add(out, true, "every certificate sent was valid at the capture's time, so the client's "
		       "clock must disagree");
	return 40;
}

static int ev_offered(const struct ctx *c, struct td_cause *out)
{
	const struct td_client_hello *ch = c->s->ch;
	if (!ch->seen)
		return 0;
	add(out, true, "the client offered %u cipher suites, %u groups and %u signature schemes "
		       "(listed in the ClientHello above)",
	    (unsigned)ch->total_suites, (unsigned)ch->total_groups, (unsigned)ch->total_sigalgs);
	return 0;
}

static int ev_versions(const struct ctx *c, struct td_cause *out)
{
	const struct td_client_hello *ch = c->s->ch;
	char a[48], b[48];
	if (!ch->seen)
		return 0;
	if (ch->n_versions) {
		td_names_fmt16(a, sizeof a, td_names_version, ch->versions[0]);
		td_names_fmt16(b, sizeof b, td_names_version, ch->versions[ch->n_versions - 1]);
		add(out, true, "the client offered versions from %s down to %s (supported_versions)", a, b);
	} else {
		td_names_fmt16(a, sizeof a, td_names_version, ch->legacy_version);
		add(out, true, "the client offered %s at most (no supported_versions extension)", a);
	}
	return 0;
}

static int ev_sni(const struct ctx *c, struct td_cause *out)
{
	const struct td_client_hello *ch = c->s->ch;
	if (!ch->has_sni) {
		add(out, false, "the client sent no server name");
		return -30;
	}
	add(out, true, "the client asked for server name \"%.*s\"", (int)ch->sni.len, ch->sni.bytes);
	return 0;
}

static int ev_how_closed(const struct ctx *c, struct td_cause *out)
{
	const struct td_session *s = c->s;
	if (s->aborted_by < 0)
		return 0;
	add(out, true, "the %s closed the connection with %s at frame %u, after %s, without an alert",
	    td_dir_name(s->aborted_by), s->aborted_how == TD_ABORT_RST ? "a TCP RST" : "a TCP FIN",
	    (unsigned)s->end_frame, td_stage_name(s->stage));
	return 0;
}

/* ---- plain text where TLS was due ------------------------------------------ */

/* What a line of text says the server speaks, from how servers of each
 * protocol begin: HTTP/1.x status line (RFC 9112 §4), SSH identification
 * string (RFC 4253 §4.2), SMTP and FTP reply codes (RFC 5321 §4.2, RFC 959
 * §4.2), POP3 status (RFC 1939 §3), IMAP untagged response (RFC 9051
 * §7.1), an XML document (XMPP, RFC 6120 §4.1). NULL: none of these. */
static const char *plain_protocol(const struct td_plain_line *l)
{
	static const struct {
		const char *prefix;
		const char *name;
	} starts[] = {
		{"HTTP/", "HTTP"},   {"<!DOCTYPE HTML", "HTTP"}, {"<html", "HTTP"},
		{"SSH-", "SSH"},     {"+OK", "POP3"},		  {"-ERR", "POP3"},
		{"* OK", "IMAP"},    {"* BYE", "IMAP"},		  {"* PREAUTH", "IMAP"},
		{"<?xml", "XMPP"},   {"<stream", "XMPP"},
	};
	for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
		size_t k = strlen(starts[i].prefix);
		if (l->len >= k && strncasecmp((const char *)l->text, starts[i].prefix, k) == 0)
			return starts[i].name;
	}
	if (l->len >= 4 && l->text[0] >= '1' && l->text[0] <= '5' && l->text[1] >= '0' &&
	    l->text[1] <= '9' && l->text[2] >= '0' && l->text[2] <= '9' &&
	    (l->text[3] == ' ' || l->text[3] == '-'))
		return "SMTP or FTP";
	return NULL;
}

/* The client began TLS where the server, having greeted in plain text,
 * waited for a command (and did not ask for STARTTLS). */
static bool began_without_asking(const struct ctx *c)
{
	return c->s->starttls && !c->s->starttls_frame && c->s->plain->greeting.frame;
}

static bool plain_reply_only(const struct ctx *c)
{
	return c->s->plain->reply.frame && !began_without_asking(c);
}

static int ev_plain_reply(const struct ctx *c, struct td_cause *out)
{
	const struct td_plain_line *l = &c->s->plain->reply;
	const char *proto = plain_protocol(l);

	if (!l->frame)
		return 0;
	add(out, true, "the server's first bytes, at frame %u, are plain text, not a TLS record: "
		       "\"%.*s%s\"%s%s%s",
	    (unsigned)l->frame, (int)td_plain_len(l), (const char *)l->text,
	    l->cut || l->open ? "..." : "",
	    proto ? " (" : "", proto ? proto : "", proto ? ")" : "");
	return 0;
}

static int ev_greeting(const struct ctx *c, struct td_cause *out)
{
	const struct td_plain_line *l = &c->s->plain->greeting;

	add(out, true, "the server greeted in plain %s at frame %u (\"%.*s%s\"), and the client's "
		       "next bytes, at frame %u, were a ClientHello, not %s",
	    td_starttls_name(c->s->starttls), (unsigned)l->frame, (int)td_plain_len(l),
	    (const char *)l->text, l->cut || l->open ? "..." : "", (unsigned)c->s->ch->frame,
	    td_starttls_how(c->s->starttls));
	return 0;
}

/* A PROXY protocol header came first and the server closed right after
 * the ClientHello without a word (no ServerHello, no alert). */
static bool proxy_then_silence(const struct ctx *c)
{
	const struct td_session *s = c->s;
	return s->proxy->version && !s->sh->seen && s->stage == TD_STAGE_CLIENT_HELLO &&
	       s->aborted_by == TD_DIR_S2C &&
	       (s->aborted_how == TD_ABORT_FIN || s->aborted_how == TD_ABORT_RST);
}

static int ev_proxy_header(const struct ctx *c, struct td_cause *out)
{
	const struct td_proxy_facts *px = c->s->proxy;
	char from[80] = "no client address";

	if (px->client.family)
		td_addr_port_str(&px->client, px->client_port, from, sizeof from);
	add(out, true, "the client sent a PROXY protocol v%u header (for %s, ending at frame %u) "
		       "before its ClientHello (frame %u)",
	    (unsigned)px->version, from, (unsigned)px->frame, (unsigned)c->s->ch->frame);
	add(out, true, "the server %s at frame %u without a ServerHello or an alert: a TLS server "
		       "that does not expect the header reads it as a record and gives up",
	    c->s->aborted_how == TD_ABORT_RST ? "reset the connection" : "closed the connection",
	    (unsigned)c->s->end_frame);
	return 0;
}

/* The close without an alert has a better explanation. */
static int ev_not_plain(const struct ctx *c, struct td_cause *out)
{
	if (proxy_then_silence(c)) {
		add(out, false, "a PROXY protocol header came first, which explains the close "
				"(see the cause above)");
		return -30;
	}
	if (!c->s->plain->reply.frame && !began_without_asking(c))
		return 0;
	add(out, false, "the server answered in plain text, which explains the end of the "
			"handshake (see the cause above)");
	return -30;
}

/* ---- next steps ------------------------------------------------------------ */

static void next_key_check(const struct ctx *c, char *buf, size_t n)
{
	char hex[65];
	const struct td_session *s = c->s;

	if (s->keys_given && s->n_certs && !td_session_cert_key(s, 0)) {
		snprintf(buf, n,
			 "Give the server the private key that belongs to its certificate (SPKI "
			 "SHA-256 %s), or the certificate that belongs to its key; check which key "
			 "and certificate files the server really loads (after a renewal, a "
			 "reload, on every node behind the load balancer).",
			 spki_hex(c, hex));
		return;
	}
	snprintf(buf, n,
		 "Check the server's key file against the certificate on the wire: tlsdiag -r %s "
		 "--key /path/to/server.key, or: openssl pkey -in /path/to/server.key -pubout "
		 "-outform DER | openssl dgst -sha256  (a matching key prints %s)",
		 capture_name(c), spki_hex(c, hex));
}

static void next_capture_both(const struct ctx *c, char *buf, size_t n)
{
	(void)c;
	snprintf(buf, n,
		 "Capture on both sides of every middlebox (load balancer, firewall, proxy) at "
		 "the same time and compare the client's Finished record byte for byte; look for "
		 "TCP offload or MTU problems on the path.");
}

static void next_other_client(const struct ctx *c, char *buf, size_t n)
{
	uint16_t port = c->s->server_port;
	char ip[64];
	td_addr_str(&c->s->server, ip, sizeof ip);
	snprintf(buf, n,
		 "Try another TLS implementation against the same server: openssl s_client "
		 "-connect %s:%u -tls1_2, and with -no_ems / -no_etm if the server offers them.",
		 ip, (unsigned)port);
}

static void next_running_key(const struct ctx *c, char *buf, size_t n)
{
	char ip[64];
	td_addr_str(&c->s->server, ip, sizeof ip);
	snprintf(buf, n,
		 "Find the node or process with the other key: against each server node, "
		 "openssl s_client -connect %s:%u -tls1_2 -cipher AES128-GCM-SHA256 fails with "
		 "bad_record_mac where the loaded key is not the certificate's; restart or reload "
		 "that server so it loads %s.",
		 ip, (unsigned)c->s->server_port, proving_key(c->s));
}

/* The target of an openssl s_client command: "ip:port", and
 * " -servername sni" when the client sent one. */
static const char *connect_arg(const struct td_session *s, char *buf, size_t n)
{
	char ip[64];

	td_addr_str(&s->server, ip, sizeof ip);
	if (s->ch->has_sni)
		snprintf(buf, n, "%s:%u -servername %.*s", ip, (unsigned)s->server_port,
			 (int)(s->ch->sni.len < TD_SNI_LEN ? s->ch->sni.len : TD_SNI_LEN),
			 s->ch->sni.bytes);
	else
		snprintf(buf, n, "%s:%u", ip, (unsigned)s->server_port);
	return buf;
}

static void next_verify(const struct ctx *c, char *buf, size_t n)
{
	char to[400];
	connect_arg(c->s, to, sizeof to);
	if (c->s->certs_encrypted && c->s->n_certs == 0) {
		snprintf(buf, n,
			 "See the chain the server sends (TLS 1.3 hides it from the capture): openssl "
			 "s_client -connect %s -showcerts, and verify it against the client's "
			 "trust store with openssl verify -CAfile <the client's CA bundle>.",
			 to);
		return;
	}
	snprintf(buf, n,
		 "See what the client has to verify: openssl s_client -connect %s -showcerts; "
		 "then verify against the client's trust store: tlsdiag -r %s --extract-certs certs/ "
		 "and openssl verify -CAfile <the client's CA bundle> -untrusted <intermediates> "
		 "certs/<leaf sha256>.pem",
		 to, capture_name(c));
}

static void next_expected(const struct ctx *c, char *buf, size_t n)
{
	char to[400];
	connect_arg(c->s, to, sizeof to);
	snprintf(buf, n,
		 "See which certificate each node serves: openssl s_client -connect %s "
		 "</dev/null | openssl x509 -noout -fingerprint -sha256, compare with %s, and check "
		 "which certificate file the server loads (and whether it was reloaded).",
		 to,
		 c->s->chain->expected_path ? c->s->chain->expected_path : "the expected file");
}

static void next_dates(const struct ctx *c, char *buf, size_t n)
{
	(void)c;
	snprintf(buf, n,
		 "Compare the certificates' dates (above) with the clock of the peer that sent the "
		 "alert (date -u; timedatectl), and renew any certificate past its notAfter.");
}

static void next_ciphers(const struct ctx *c, char *buf, size_t n)
{
	char to[400];
	connect_arg(c->s, to, sizeof to);
	snprintf(buf, n,
		 "Find what the server accepts: openssl s_client -connect %s with -tls1_2 or "
		 "-tls1_3, -cipher / -ciphersuites and -groups narrowed one at a time, and compare "
		 "with the server's configuration.",
		 to);
}

static void next_s_client(const struct ctx *c, char *buf, size_t n)
{
	char to[400];
	connect_arg(c->s, to, sizeof to);
	snprintf(buf, n,
		 "Reproduce it from the client's network: openssl s_client -connect %s "
		 "-state -msg, and check the server's and any middlebox's logs at that time.",
		 to);
}

/* Each protocol's ports: implicit TLS and plain text with STARTTLS (RFC
 * 8314 §3.3 and §7.3, RFC 6409 §3.1, RFC 4217 §2). */
static const struct {
	enum td_starttls_proto proto;
	const char *s_client; /* openssl s_client -starttls */
	unsigned implicit, starttls;
} mail_ports[] = {
	{TD_STARTTLS_SMTP, "smtp", 465, 587},
	{TD_STARTTLS_IMAP, "imap", 993, 143},
	{TD_STARTTLS_POP3, "pop3", 995, 110},
	{TD_STARTTLS_FTP, "ftp", 990, 21},
};

static void next_starttls(const struct ctx *c, char *buf, size_t n)
{
	const struct td_session *s = c->s;
	const char *name = td_starttls_name(s->starttls);
	char ip[64];
	size_t i;

	for (i = 0; i + 1 < sizeof mail_ports / sizeof mail_ports[0]; i++)
		if (mail_ports[i].proto == s->starttls)
			break;
	td_addr_str(&s->server, ip, sizeof ip);
	if (s->server_port == mail_ports[i].implicit) {
		snprintf(buf, n,
			 "Port %u is %s's implicit-TLS port, but this server speaks plain %s "
			 "on it: turn implicit TLS on for that listener, or have the client use "
			 "%s on port %u (openssl s_client -connect %s:%u -starttls %s shows what "
			 "the server offers there).",
			 (unsigned)s->server_port, name, name, td_starttls_how(s->starttls),
			 mail_ports[i].starttls, ip, mail_ports[i].starttls,
			 mail_ports[i].s_client);
		return;
	}
	snprintf(buf, n,
		 "Have the client use %s on port %u (openssl s_client -connect %s:%u -starttls %s "
		 "shows the handshake the server offers), or point it at the server's implicit-TLS "
		 "port (%s: %u) if it has one.",
		 td_starttls_how(s->starttls), (unsigned)s->server_port, ip,
		 (unsigned)s->server_port, mail_ports[i].s_client, name, mail_ports[i].implicit);
}

static void next_proxy(const struct ctx *c, char *buf, size_t n)
{
	(void)c;
	snprintf(buf, n,
		 "Make both ends agree: turn the PROXY protocol on for the server's listener "
		 "(nginx: listen ... ssl proxy_protocol; HAProxy: bind ... accept-proxy), or "
		 "off on the load balancer or proxy that sends it (HAProxy: send-proxy / "
		 "send-proxy-v2; AWS NLB: the target group's proxy_protocol_v2.enabled); the "
		 "server's log shows the failed handshake at this time.");
}

static void next_plain(const struct ctx *c, char *buf, size_t n)
{
	char ip[64];
	const char *proto = plain_protocol(&c->s->plain->reply);

	td_addr_str(&c->s->server, ip, sizeof ip);
	if (proto && strcmp(proto, "HTTP") == 0) {
		snprintf(buf, n,
			 "The port serves plain HTTP (curl -v http://%s:%u/ gets an answer): "
			 "point the client at the server's HTTPS port, or turn TLS on for this "
			 "listener and for any proxy or load balancer in front of it.",
			 ip, (unsigned)c->s->server_port);
		return;
	}
	snprintf(buf, n,
		 "Find what listens on %s:%u (nc %s %u shows its greeting; openssl s_client fails "
		 "there with \"wrong version number\"), then point the client at the port that "
		 "serves TLS, or turn TLS on for that listener%s.",
		 ip, (unsigned)c->s->server_port, ip, (unsigned)c->s->server_port,
		 proto && strcmp(proto, "SSH") ? "; if it expects STARTTLS, use that" : "");
}

/* ---- evidence and next steps for completed connections with a finding -- */

/* The finding itself, with the rule's explanation. */
static int ev_finding(const struct ctx *c, struct td_cause *out)
{
	add(out, true, "rule %s: %s", c->finding->id, c->finding->message);
	return 0;
}

/* A completed handshake proves the server holds the certificate's private
 * key: it decrypted the RSA pre-master secret (RFC 5246 §7.4.7.1) or
 * signed its key share or transcript ((EC)DHE: RFC 5246 §7.4.3; TLS 1.3:
 * RFC 8446 §4.4.3), and both Finished depend on it. */
static int ev_completed_with_key(const struct ctx *c, struct td_cause *out)
{
	const struct td_session *s = c->s;
	char hex[65];

	if (!td_session_handshake_complete(s))
		return 0;
	add(out, true, "the handshake completed (both Finished seen): the server holds the private "
		       "key of the certificate it sent (SPKI SHA-256 %s)",
	    spki_hex(c, hex));
	if (s->keys_given && !td_session_cert_key(s, 0))
		add(out, true, "none of the --key files is that key");
	return 25;
}

/* The client went on with a certificate it could have refused. */
static int ev_client_went_on(const struct ctx *c, struct td_cause *out)
{
	if (!td_session_handshake_complete(c->s))
		return 0;
	add(out, true, "the client completed the handshake with it: it does not verify, verifies "
		       "with other settings (its own trust store, no host name check, pinning), or "
		       "its clock disagrees with the capture's");
	return 10;
}

/* The earlier connections of the same SNI (td_sni_history). */
static int ev_sni_history(const struct ctx *c, struct td_cause *out)
{
	const struct td_sni_history *h = &c->s->chain->sni_history;
	char hex[65];

	if (!h->known)
		return 0;
	if (!h->changed) {
		add(out, false, "earlier connections for this SNI presented the same certificate");
		return -10;
	}
	add(out, true, "%llu earlier connection%s for this SNI presented another certificate "
		       "(SHA-256 %s, first in connection %llu at frame %u)",
	    (unsigned long long)h->earlier_connections, h->earlier_connections == 1 ? "" : "s",
	    td_hex(h->earlier.sha256, 32, hex), (unsigned long long)h->earlier.first_connection,
	    (unsigned)h->earlier.first_frame);
	return 20;
}

/* The capture's clock against the certificate dates: a date problem on a
 * certificate the client accepted may be the capture host's clock. */
static int ev_capture_clock(const struct ctx *c, struct td_cause *out)
{
	if (validity_problems(c, out, false) == 0)
		return 0;
	add(out, false, "the client accepted the certificate: if its clock is right, the "
			"capture's timestamps may be what is wrong");
	return 0;
}

static void next_which_key(const struct ctx *c, char *buf, size_t n)
{
	char hex[65];

	snprintf(buf, n,
		 "Find the key file the server really loads (its configuration, on every node) and "
		 "check it: openssl pkey -in /path/to/that.key -pubout -outform DER | openssl dgst "
		 "-sha256 prints %s for the server's key; then use that file with --key.",
		 spki_hex(c, hex));
}

static void next_weak_cert(const struct ctx *c, char *buf, size_t n)
{
	char hex[65];

	snprintf(buf, n,
		 "Look at the certificate: tlsdiag -r %s --extract-certs certs/ and openssl x509 -in "
		 "certs/%s.pem -noout -text | grep -E 'Public-Key|Signature Algorithm'; reissue it "
		 "with an RSA 2048+ or P-256 key signed with SHA-256 (NIST SP 800-131A).",
		 capture_name(c), c->leaf ? td_hex(c->leaf->sha256, 32, hex) : "<sha256>");
}

static void next_renew(const struct ctx *c, char *buf, size_t n)
{
	char to[400];

	connect_arg(c->s, to, sizeof to);
	snprintf(buf, n,
		 "See what the server sends now: openssl s_client -connect %s </dev/null | "
		 "openssl x509 -noout -dates; renew the certificate, deploy it on every node and "
		 "reload the server; compare the capture host's clock (date -u) with the dates.",
		 to);
}

static void next_finding(const struct ctx *c, char *buf, size_t n)
{
	snprintf(buf, n,
		 "Read the rule's explanation (tlsdiag --list-rules, or the rule file) and compare "
		 "with the connection's facts: tlsdiag -r %s --json. %s",
		 capture_name(c), c->finding->explain);
}

/* ---- the knowledge --------------------------------------------------------- */

/* Causes for a connection that completed but carries a finding of high
 * severity or above: the finding (a rule id) x the causes that explain it.
 * The catch-all row "*" speaks for findings no row knows (site rules). */
struct finding_row {
	const char *rules[6]; /* rule ids, NULL-terminated; "*": any */
	const char *id;
	int base;
	const char *summary;
	const char *basis;
	evidence_fn evidence[4];
	next_fn next;
};

static const struct finding_row finding_causes[] = {
	{{"key-mismatch", NULL},
	 "key-file-not-the-servers",
	 70,
	 "The --key file is not the key this server runs with: the server holds the private key of "
	 "the certificate it sent (it completed the handshake), so the file given is another one "
	 "(an old key, another node's, another certificate's).",
	 "RFC 5246 §7.4.7.1 and §7.4.3, RFC 8446 §4.4.3: completing a handshake takes the private "
	 "key of the certificate sent (RSA decryption or a signature), and both Finished depend on it",
	 {ev_completed_with_key},
	 next_which_key},
	{{"key-mismatch", "unexpected-certificate", NULL},
	 "another-certificate-deployed",
	 30,
	 "The server presents another certificate than the one its key file (or --cert) belongs "
	 "to: a node not yet updated, another virtual host, or a middlebox re-signing the traffic.",
	 "RFC 5246 §7.4.2 / RFC 8446 §4.4.2: the Certificate message carries the certificate the "
	 "server actually uses",
	 {ev_sni_history},
	 next_expected},
	{{"cert-expired", "cert-not-yet-valid", NULL},
	 "certificate-not-renewed",
	 60,
	 "A certificate in the chain was expired (or not yet valid) at the capture's time and the "
	 "client went on anyway: the certificate was not renewed or the new one not deployed, and "
	 "this client does not check the dates (or trusts the certificate by pin).",
	 "RFC 5280 §4.1.2.5 and §6.1.3: a certificate is valid only between notBefore and notAfter, "
	 "checked against the verifier's time",
	 {ev_expired, ev_client_went_on},
	 next_renew},
	{{"cert-expired", "cert-not-yet-valid", NULL},
	 "capture-clock-wrong",
	 15,
	 "The clock of the host that made the capture was wrong, so valid certificates look "
	 "expired or not yet valid in it.",
	 "tlsdiag checks dates against the capture's packet timestamps, which come from the "
	 "capturing host's clock (pcap record headers)",
	 {ev_capture_clock},
	 next_dates},
	{{"weak-rsa-key", "weak-ec-key", "weak-signature", NULL},
	 "weak-certificate-deployed",
	 70,
	 "The server's certificate chain has a weak key or a weak signature; this client accepted "
	 "it, but clients at default security levels refuse it and it can be attacked.",
	 "NIST SP 800-131A (RSA 2048, 112-bit security), RFC 9155 (no MD5/SHA-1 signatures in "
	 "TLS 1.2), OpenSSL security level 1+",
	 {ev_weak_cert},
	 next_weak_cert},
	{{"sni-not-covered", "self-signed-leaf", "untrusted-chain", "chain-broken", NULL},
	 "client-does-not-verify",
	 50,
	 "The client accepted a certificate a verifying client refuses (name, issuer or chain): "
	 "it does not verify the server, or trusts it by other means (pinning, its own store).",
	 "RFC 6125 §6 (name check), RFC 5280 §6 (path validation): a verifying client aborts with "
	 "bad_certificate or unknown_ca",
	 {ev_client_went_on},
	 next_verify},
	{{"tcp-overlap-differs", "record-integrity-failed", "finished-mismatch", NULL},
	 "traffic-altered-completed",
	 50,
	 "Bytes were changed in transit or by one side, yet the connection went on: retransmitted "
	 "data that differs, or a record that fails its check under the secrets given.",
	 "RFC 9293 §3.10.7.4: a retransmission carries the same bytes; RFC 5246 §6.2.3 / RFC 8446 "
	 "§5.2: a record that fails its MAC or AEAD check was altered",
	 {ev_tcp_trouble, ev_decrypt},
	 next_capture_both},
	{{"*", NULL},
	 "rule-finding",
	 40,
	 "A rule of high severity or above matched on a connection that completed; its "
	 "explanation says why it matters.",
	 "the rule file's own explanation (tlsdiag-rules(5))",
	 {ev_finding},
	 next_finding},
};

static const struct cause_row causes[] = {
	{"server-key-mismatch",
	 {A_BAD_RECORD_MAC, END},
	 TD_DIR_S2C,
	 PHASE(TD_PHASE_AFTER_CLIENT_FINISHED),
	 KX_RSA,
	 60,
	 "The server's private key does not belong to the certificate it sends: the client "
	 "encrypted the pre-master secret to the certificate's public key, the server could not "
	 "decrypt it and only noticed at the client's Finished.",
	 "RFC 5246 §7.4.7.1: a server that cannot decrypt the RSA pre-master secret must carry on "
	 "with a random one (Bleichenbacher countermeasure), so the failure surfaces as "
	 "bad_record_mac on the Finished",
	 {ev_rsa_kx, ev_alert_after_finished, ev_keys, ev_decrypt},
	 next_key_check,
	 NULL},
	{"server-not-using-key",
	 {A_BAD_RECORD_MAC, END},
	 TD_DIR_S2C,
	 PHASE(TD_PHASE_AFTER_CLIENT_FINISHED),
	 KX_RSA,
	 45,
	 "The server is not running with the private key given, although that key belongs to "
	 "the certificate: the process still holds another key (loaded before a renewal, or on "
	 "another node behind the load balancer), or mishandles it.",
	 "RFC 5246 §7.4.9: both sides compute verify_data from the same master secret; a server "
	 "with the right pre-master secret accepts a Finished that verifies",
	 {ev_client_proven, ev_tcp_clean},
	 next_running_key,
	 client_proven_with_key},
	{"traffic-altered",
	 {A_BAD_RECORD_MAC, END},
	 FROM_ANY,
	 PHASE(TD_PHASE_AFTER_CLIENT_FINISHED) | PHASE(TD_PHASE_APPLICATION) |
		 PHASE(TD_PHASE_AFTER_SERVER_FLIGHT),
	 KX_ANY,
	 20,
	 "Encrypted records were changed in transit: a middlebox rewriting traffic, a broken "
	 "offload or injected data.",
	 "RFC 5246 §7.2.2 / RFC 8446 §6.2: bad_record_mac means a record failed its MAC or AEAD "
	 "check",
	 {ev_tcp_trouble, ev_decrypt},
	 next_capture_both,
	 NULL},
	{"key-mismatch-with-dhe",
	 {A_BAD_RECORD_MAC, END},
	 TD_DIR_S2C,
	 PHASE(TD_PHASE_AFTER_CLIENT_FINISHED),
	 KX_DHE,
	 10,
	 "The server's key does not match its certificate (unlikely with this key exchange).",
	 "RFC 5246 §7.4.3: with (EC)DHE the server signs its key share with its private key, so "
	 "a wrong key fails the client's signature check (decrypt_error) before Finished",
	 {ev_keys},
	 next_key_check,
	 NULL},
	{"implementation-bug",
	 {A_BAD_RECORD_MAC, END},
	 FROM_ANY,
	 PHASE(TD_PHASE_AFTER_CLIENT_FINISHED) | PHASE(TD_PHASE_APPLICATION),
	 KX_ANY,
	 15,
	 "A bug in one side's TLS implementation: key derivation, or the handling of "
	 "extended_master_secret or encrypt_then_mac.",
	 "RFC 7627 §4, RFC 7366 §3: both sides must apply these extensions the same way",
	 {ev_ems_etm, ev_tcp_clean},
	 next_other_client,
	 NULL},
	{"server-key-mismatch-signature",
	 {A_DECRYPT_ERROR, END},
	 TD_DIR_C2S,
	 PHASES_ANY,
	 KX_DHE | KX_TLS13,
	 60,
	 "The server signed its handshake with a private key that does not belong to its "
	 "certificate; the client's signature check failed.",
	 "RFC 5246 §7.4.3 (ServerKeyExchange signature), RFC 8446 §4.4.3 (CertificateVerify)",
	 {ev_keys},
	 next_key_check,
	 NULL},
	{"incomplete-chain",
	 {A_UNKNOWN_CA, A_BAD_CERTIFICATE, A_CERTIFICATE_UNKNOWN, A_UNSUPPORTED_CERTIFICATE, END},
	 TD_DIR_C2S,
	 PHASES_ANY,
	 KX_ANY,
	 30,
	 "The server sends an incomplete chain (an intermediate certificate is missing), so the "
	 "client cannot build a path to a root it trusts.",
	 "RFC 5246 §7.4.2 / RFC 8446 §4.4.2: the server sends its chain, each certificate "
	 "certifying the one before",
	 {ev_chain_incomplete, ev_ca_verdict},
	 next_verify,
	 NULL},
	{"wrong-intermediate",
	 {A_UNKNOWN_CA, A_BAD_CERTIFICATE, A_CERTIFICATE_UNKNOWN, A_DECRYPT_ERROR, END},
	 TD_DIR_C2S,
	 PHASES_ANY,
	 KX_ANY,
	 45,
	 "The server sends a wrong intermediate certificate: one that did not issue its "
	 "certificate (typically the CA's previous intermediate, kept after the CA renewed its "
	 "key under the same name), so the client cannot build a path to a trusted root.",
	 "RFC 5246 §7.4.2 / RFC 8446 §4.4.2: each certificate must certify the one preceding it; "
	 "RFC 5280 §6.1.3: a path is checked by signature, not by name",
	 {ev_broken_chain, ev_ca_verdict},
	 next_verify,
	 has_broken_chain},
	{"untrusted-issuer",
	 {A_UNKNOWN_CA, A_BAD_CERTIFICATE, A_CERTIFICATE_UNKNOWN, A_UNSUPPORTED_CERTIFICATE, END},
	 TD_DIR_C2S,
	 PHASES_ANY,
	 KX_ANY,
	 55,
	 "The client does not trust the CA that issued the server's certificate chain (a private "
	 "CA, a self-signed certificate, or a TLS-inspecting middlebox re-signing traffic).",
	 "RFC 5246 §7.2.2 / RFC 8446 §6.2: unknown_ca — a valid chain whose CA is not trusted",
	 {ev_self_signed, ev_ca_verdict, ev_not_broken},
	 next_verify,
	 NULL},
	{"unexpected-certificate",
	 {A_BAD_RECORD_MAC, A_DECRYPT_ERROR, A_BAD_CERTIFICATE, A_CERTIFICATE_UNKNOWN, A_UNKNOWN_CA, END},
	 FROM_ANY,
	 PHASES_ANY,
	 KX_ANY,
	 35,
	 "The server sent a different certificate than the one it is expected to send (--cert): "
	 "a stale or wrong certificate file, another node or virtual host answering, or a "
	 "middlebox re-signing the traffic.",
	 "RFC 5246 §7.4.2 / RFC 8446 §4.4.2: the Certificate message carries the server's chain",
	 {ev_expected_cert},
	 next_expected,
	 has_unexpected_cert},
	{"name-mismatch",
	 {A_BAD_CERTIFICATE, A_CERTIFICATE_UNKNOWN, A_UNKNOWN_CA, END},
	 TD_DIR_C2S,
	 PHASES_ANY,
	 KX_ANY,
	 30,
	 "The server's certificate is not valid for the name the client asked for (SNI): the "
	 "wrong certificate or virtual host, or a name missing from its subjectAltName.",
	 "RFC 6125 §6 / RFC 2818 §3.1: the client checks the server name against the "
	 "certificate's DNS names",
	 {ev_sni_mismatch},
	 next_s_client,
	 has_sni_mismatch},
	{"weak-certificate",
	 {A_BAD_CERTIFICATE, A_UNSUPPORTED_CERTIFICATE, A_INSUFFICIENT_SECURITY, A_HANDSHAKE_FAILURE,
	  A_CERTIFICATE_UNKNOWN, END},
	 TD_DIR_C2S,
	 PHASES_ANY,
	 KX_ANY,
	 30,
	 "The client refuses a certificate with a weak key (RSA below 2048 bits, EC below 256, "
	 "DSA) or a weak signature (MD5, SHA-1), as current TLS libraries do by default.",
	 "RFC 9155 (no MD5/SHA-1 signatures in TLS 1.2), OpenSSL security level 1+ and browser "
	 "policies on key sizes",
	 {ev_weak_cert},
	 next_s_client,
	 has_weak_cert},
	{"certificate-expired",
	 {A_CERTIFICATE_EXPIRED, END},
	 FROM_ANY,
	 PHASES_ANY,
	 KX_ANY,
	 50,
	 "A certificate in the chain had expired, or was not yet valid, when the handshake ran.",
	 "RFC 5280 §4.1.2.5: a certificate is valid only between notBefore and notAfter",
	 {ev_expired},
	 next_dates,
	 NULL},
	{"clock-skew",
	 {A_CERTIFICATE_EXPIRED, END},
	 FROM_ANY,
	 PHASES_ANY,
	 KX_ANY,
	 20,
	 "The clock of the peer that sent the alert is wrong: it judged a valid certificate "
	 "expired or not yet valid.",
	 "RFC 5280 §6.1.3: validity is checked against the verifier's current time",
	 {ev_not_expired},
	 next_dates,
	 NULL},
	{"tls13-client-rejected-server",
	 {HIDDEN_ALERT, END},
	 TD_DIR_C2S,
	 PHASE(TD_PHASE_AFTER_SERVER_FLIGHT) | PHASE(TD_PHASE_SERVER_FLIGHT),
	 KX_TLS13,
	 60,
	 "The client rejected the server's flight, most often its certificate (untrusted issuer, "
	 "wrong name, expired); TLS 1.3 encrypts the alert, so its name is not visible.",
	 "RFC 8446 §4.4.2 and §6: the client validates the Certificate and sends its alert under "
	 "the handshake keys",
	 {ev_sni},
	 next_verify,
	 NULL},
	{"no-common-parameters",
	 {A_HANDSHAKE_FAILURE, A_INSUFFICIENT_SECURITY, END},
	 FROM_ANY,
	 PHASES_ANY,
	 KX_ANY,
	 60,
	 "The two sides have no acceptable set of parameters in common: cipher suite, group, "
	 "signature scheme, or a client certificate the server requires.",
	 "RFC 8446 §4.1.1 / RFC 5246 §7.4.1.3: the server aborts with handshake_failure when it "
	 "cannot choose",
	 {ev_offered},
	 next_ciphers,
	 NULL},
	{"version-mismatch",
	 {A_PROTOCOL_VERSION, END},
	 FROM_ANY,
	 PHASES_ANY,
	 KX_ANY,
	 70,
	 "The two sides have no protocol version in common (for example a client that only "
	 "speaks TLS 1.3 and a server limited to TLS 1.2, or a TLS 1.0 client).",
	 "RFC 8446 §4.2.1 and §D: protocol_version when no version is acceptable",
	 {ev_versions},
	 next_ciphers,
	 NULL},
	{"unknown-server-name",
	 {A_UNRECOGNIZED_NAME, END},
	 FROM_ANY,
	 PHASES_ANY,
	 KX_ANY,
	 70,
	 "The server does not serve the name the client asked for (SNI): a missing virtual host "
	 "or certificate for that name.",
	 "RFC 6066 §3: unrecognized_name",
	 {ev_sni},
	 next_s_client,
	 NULL},
	{"no-common-alpn",
	 {A_NO_APPLICATION_PROTOCOL, END},
	 FROM_ANY,
	 PHASES_ANY,
	 KX_ANY,
	 70,
	 "No application protocol (ALPN) in common, e.g. a client that insists on h2 and a "
	 "server that only speaks http/1.1.",
	 "RFC 7301 §3.2: no_application_protocol",
	 {NULL},
	 next_s_client,
	 NULL},
	{"tls-without-starttls",
	 {NO_ALERT, ANY_ALERT, END},
	 FROM_ANY,
	 PHASES_ANY,
	 KX_ANY,
	 90,
	 "The server speaks plain text on this port and expects the client to ask for TLS first "
	 "(STARTTLS); the client began TLS at once, as on an implicit-TLS port. One side is "
	 "configured for the other mode: a client set to implicit TLS (\"SSL/TLS\") on a "
	 "STARTTLS port such as 25 or 587, or a server whose implicit-TLS port serves plain "
	 "text.",
	 "RFC 3207 §4 (SMTP), RFC 2595 §3-4 (IMAP, POP3), RFC 4217 §4 (FTP): TLS begins after the "
	 "client's command and the server's go-ahead; RFC 8314 §3: implicit TLS has ports of "
	 "its own",
	 {ev_greeting, ev_plain_reply},
	 next_starttls,
	 began_without_asking},
	{"server-not-tls",
	 {NO_ALERT, ANY_ALERT, END},
	 FROM_ANY,
	 PHASES_ANY,
	 KX_ANY,
	 85,
	 "The server does not speak TLS on this port: it answered the ClientHello in plain text. "
	 "The client was pointed at a plain-text port (HTTP where HTTPS was meant), TLS is off on "
	 "this listener, or a proxy or load balancer passes TLS on to a plain-text backend.",
	 "RFC 8446 §5.1: every TLS record starts with a content type of 20 to 24, never with "
	 "printable text",
	 {ev_plain_reply},
	 next_plain,
	 plain_reply_only},
	{"proxy-header-not-accepted",
	 {NO_ALERT, END},
	 TD_DIR_S2C,
	 PHASES_ANY,
	 KX_ANY,
	 80,
	 "The server does not expect the PROXY protocol header that the load balancer or proxy "
	 "in front of it sends: it reads the header as TLS, fails at once and closes.",
	 "HAProxy's proxy-protocol.txt §1: the receiver must be configured to expect the "
	 "header; RFC 8446 §5.1: a TLS record starts with a content type of 20 to 24",
	 {ev_proxy_header},
	 next_proxy,
	 proxy_then_silence},
	{"closed-without-alert",
	 {NO_ALERT, END},
	 FROM_ANY,
	 PHASES_ANY,
	 KX_ANY,
	 50,
	 "The connection was closed without a TLS alert: a firewall, proxy or load balancer cut "
	 "it, the port does not speak TLS, or a peer crashed or timed out.",
	 "RFC 8446 §6.2: a TLS peer that aborts sends an alert first",
	 {ev_how_closed, ev_not_plain},
	 next_s_client,
	 NULL},
	{"peer-rejected",
	 {ANY_ALERT, END},
	 FROM_ANY,
	 PHASES_ANY,
	 KX_ANY,
	 30,
	 "The peer aborted the handshake with the alert shown; its meaning is in RFC 8446 §6.2.",
	 "RFC 8446 §6.2",
	 {NULL},
	 next_s_client,
	 NULL},
};

/* ---- matching ---------------------------------------------------------------- */

static unsigned kx_class(const struct td_session *s)
{
	const struct td_cipher_info *ci;

	if (td_session_is_tls13(s))
		return KX_TLS13;
	ci = td_names_cipher(s->sh->suite);
	if (!ci)
		return KX_OTHER;
	if (strcmp(ci->kx, "RSA") == 0)
		return KX_RSA;
	if (strstr(ci->kx, "DHE") || strstr(ci->kx, "ECDH"))
		return KX_DHE;
	return KX_OTHER;
}

static bool row_matches(const struct cause_row *r, const struct ctx *c, bool *specific)
{
	int want;
	int from = c->alert ? c->alert->dir : c->s->aborted_by;
	unsigned phase = c->alert ? c->alert->phase : 0;

	*specific = false;
	if (r->from != FROM_ANY && r->from != from)
		return false;
	if (c->alert && !(r->phases & PHASE(phase)))
		return false;
	if (!(r->kx & kx_class(c->s)))
		return false;
	for (const int *a = r->alerts; (want = *a) != END; a++) {
		if (!c->alert) {
			if (want == NO_ALERT)
				return true;
			continue;
		}
		if (c->alert->encrypted ? want == HIDDEN_ALERT : want == c->alert->desc) {
			*specific = true;
			return true;
		}
		if (want == ANY_ALERT)
			return true;
	}
	return false;
}

/* The alert that explains the failure: the one that aborted the handshake,
 * or a fatal one after it completed. */
static const struct td_alert *problem_alert(const struct td_session *s)
{
	const struct td_alert *a = td_session_aborting_alert(s);
	if (a)
		return a;
	for (unsigned i = 0; i < s->n_alerts && i < TD_MAX_ALERTS; i++)
		if (!s->alerts[i].encrypted && s->alerts[i].level == 2)
			return &s->alerts[i];
	return NULL;
}

static void describe_problem(const struct ctx *c, struct td_diagnosis *d)
{
	const struct td_alert *a = c->alert;
	if (c->finding)
		snprintf(d->problem, sizeof d->problem,
			 "the handshake %s, but rule %.40s (%s) found: %.150s",
			 td_session_handshake_complete(c->s) ? "completed" : "did not fail",
			 c->finding->id, td_severity_name(c->finding->severity),
			 c->finding->message);
	else if (a && !a->encrypted)
		snprintf(d->problem, sizeof d->problem, "%s sent %s %s at frame %u, %s",
			 td_dir_name(a->dir), a->level == 2 ? "fatal" : "warning", alert_name(a->desc),
			 (unsigned)a->frame, td_phase_name(a->phase));
	else if (a)
		snprintf(d->problem, sizeof d->problem, "%s sent %sencrypted alert at frame %u, %s",
			 td_dir_name(a->dir), a->probable ? "a probable " : "an ", (unsigned)a->frame,
			 td_phase_name(a->phase));
	else
		snprintf(d->problem, sizeof d->problem, "handshake stopped after %s: %s by the %s",
			 td_stage_name(c->s->stage), td_abort_name(c->s->aborted_how),
			 c->s->aborted_by >= 0 ? td_dir_name(c->s->aborted_by) : "capture");
}

static int by_likelihood(const void *x, const void *y)
{
	const struct td_cause *a = x, *b = y;
	return (b->likelihood > a->likelihood) - (b->likelihood < a->likelihood);
}

/* One cause from a row of either table: its base likelihood moved by each
 * evidence check, and its next step. */
static void fill_cause(const struct ctx *c, struct td_cause *out, const char *id,
		       const char *summary, const char *basis, int base, const evidence_fn *evidence,
		       size_t n_evidence, next_fn next)
{
	int score = base;

	memset(out, 0, sizeof *out);
	out->id = id;
	out->summary = summary;
	out->basis = basis;
	for (size_t k = 0; k < n_evidence && evidence[k]; k++)
		score += evidence[k](c, out);
	out->likelihood = score < 1 ? 1 : score > 99 ? 99 : score;
	if (next)
		next(c, out->next_step, sizeof out->next_step);
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Failed handshakes and fatal alerts: the alert table. */
static size_t causes_of_failure(struct ctx *c, struct td_cause *found)
{
	size_t n = 0;
	bool any_specific = false;

	for (size_t i = 0; i < N_OF(causes); i++) {
		const struct cause_row *r = &causes[i];
		bool specific;
		if (!row_matches(r, c, &specific))
			continue;
		if (r->applies && !r->applies(c))
			continue;
		/* the catch-all row speaks only when nothing specific did */
		if (!specific && any_specific && r->alerts[0] == ANY_ALERT)
			continue;
		any_specific |= specific;
		fill_cause(c, &found[n++], r->id, r->summary, r->basis, r->base, r->evidence,
			   N_OF(r->evidence), r->next);
	}
	return n;
}

static bool explains(const struct finding_row *r, const char *rule)
{
	for (size_t k = 0; k < N_OF(r->rules) && r->rules[k]; k++)
		if (strcmp(r->rules[k], rule) == 0)
			return true;
	return false;
}

/* A completed connection: the causes of each finding of high severity or
 * above (most severe first, each row once); the catch-all row for the
 * most severe one when no row knows any. c->finding is the finding each
 * row is evaluated with, and is left at the most severe one. */
static size_t causes_of_findings(struct ctx *c, struct td_cause *found, size_t max)
{
	const struct td_findings *f = c->s->findings;
	const struct td_finding *first = c->finding;
	bool used[N_OF(finding_causes)] = { false };
	size_t n = 0;

	for (unsigned i = 0; i < f->n && i < TD_MAX_FINDINGS; i++) {
		if (f->f[i].severity < TD_SEV_HIGH)
			continue;
		c->finding = &f->f[i];
		for (size_t k = 0; k < N_OF(finding_causes) && n < max; k++) {
			const struct finding_row *r = &finding_causes[k];
			if (used[k] || !explains(r, f->f[i].id))
				continue;
			used[k] = true;
			fill_cause(c, &found[n++], r->id, r->summary, r->basis, r->base, r->evidence,
				   N_OF(r->evidence), r->next);
		}
	}
	c->finding = first;
	for (size_t k = 0; n == 0 && k < N_OF(finding_causes); k++) {
		const struct finding_row *r = &finding_causes[k];
		if (explains(r, "*"))
			fill_cause(c, &found[n++], r->id, r->summary, r->basis, r->base, r->evidence,
				   N_OF(r->evidence), r->next);
	}
	return n;
}

/* The most severe finding of high severity or above (findings are sorted
 * most severe first), or NULL. */
static const struct td_finding *high_finding(const struct td_session *s)
{
	const struct td_findings *f = s->findings;

	return f && f->n && f->f[0].severity >= TD_SEV_HIGH ? &f->f[0] : NULL;
}

void td_diagnose(const struct td_session *s, const char *capture, struct td_diagnosis *d)
{
	struct ctx c = {.s = s, .capture = capture};
	struct td_cause found[N_OF(causes) + N_OF(finding_causes)];
	size_t n;

	/* not the whole 10 KB: what is read stops at problem's NUL and at
	 * causes[n - 1] */
	d->problem[0] = '\0';
	d->n = 0;
	c.alert = problem_alert(s);
	if (!c.alert && s->outcome != TD_OUTCOME_FAILED)
		c.finding = high_finding(s);
	if (!c.alert && s->outcome != TD_OUTCOME_FAILED && !c.finding)
		return;
	c.leaf = chain_cert(s, 0);
	describe_problem(&c, d);
	n = c.finding ? causes_of_findings(&c, found, N_OF(found)) : causes_of_failure(&c, found);
	qsort(found, n, sizeof found[0], by_likelihood);
	d->n = (uint8_t)(n < TD_MAX_CAUSES ? n : TD_MAX_CAUSES);
	memcpy(d->causes, found, d->n * sizeof found[0]);
}

const char *td_likelihood_word(int likelihood)
{
	if (likelihood >= 70)
		return "likely";
	if (likelihood >= 40)
		return "possible";
	return "unlikely";
}
