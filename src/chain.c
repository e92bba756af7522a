/* chain.c - chain facts per connection and consistency across connections
 * (see td_chain.h). Signatures, host names and trust are asked of the x509
 * module; nothing here includes an OpenSSL header.
 */
#include "td_chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "td_decode.h"
#include "td_session.h"
#include "td_x509.h"

_Static_assert(TD_CHAIN_MAX_CERTS == TD_MAX_CHAIN, "chain facts cover the session's chain");

static const char *const check_ids[TD_CHK_COUNT] = {
	"expired",    "not-yet-valid", "expiring",	"weak-rsa-key",
	"weak-ec-key", "dsa-key",      "md5-signature", "sha1-signature",
};

static const char *const problem_ids[TD_CHAIN_PROBLEM_COUNT] = {
	"wrong-order", "missing-intermediate", "root-sent",	   "duplicates",
	"self-signed-leaf", "leaf-is-ca",      "sni-mismatch", "ca-verify-failed",
	"unexpected-certificate", "broken", "sni-certificate-changed",
};

const char *td_chain_check_id(unsigned n)
{
	return n < TD_CHK_COUNT ? check_ids[n] : NULL;
}

const char *td_chain_problem_id(unsigned n)
{
	return n < TD_CHAIN_PROBLEM_COUNT ? problem_ids[n] : NULL;
}

/* ---- one certificate ------------------------------------------------------ */

static unsigned date_checks(const struct td_cert *c, int64_t at)
{
	if (c->not_after < at)
		return TD_CHK_EXPIRED;
	if (c->not_before > at)
		return TD_CHK_NOT_YET_VALID;
	if (c->not_after - at < (int64_t)TD_CHAIN_EXPIRING_DAYS * 86400)
		return TD_CHK_EXPIRING;
	return 0;
}

static unsigned key_checks(const struct td_cert_key *k)
{
	if ((strcmp(k->algorithm, "RSA") == 0 || strcmp(k->algorithm, "RSA-PSS") == 0) &&
	    k->bits < TD_CHAIN_MIN_RSA_BITS)
		return TD_CHK_WEAK_RSA;
	if (strcmp(k->algorithm, "EC") == 0 && k->bits < TD_CHAIN_MIN_EC_BITS)
		return TD_CHK_WEAK_EC;
	if (strcmp(k->algorithm, "DSA") == 0)
		return TD_CHK_DSA;
	return 0;
}

/* word is lower-case ASCII: a byte that is not its first letter in
 * either case is passed over without a call. */
static bool contains_ci(const char *s, const char *word)
{
	size_t n = strlen(word);

	for (; *s; s++)
		if ((*s | 0x20) == word[0] && strncasecmp(s, word, n) == 0)
			return true;
	return false;
}

/* Signature algorithm long names ("md5WithRSAEncryption",
 * "sha1WithRSAEncryption", "ecdsa-with-SHA1", "dsaWithSHA1"). A
 * self-signed CA's own signature is never checked by a client, so it is
 * not held against it. */
static unsigned signature_checks(const struct td_cert *c, unsigned pos)
{
	if (pos > 0 && c->self_signed)
		return 0;
	if (contains_ci(c->sig_alg, "md5"))
		return TD_CHK_MD5;
	if (contains_ci(c->sig_alg, "sha1"))
		return TD_CHK_SHA1;
	return 0;
}

/* ---- the chain --------------------------------------------------------------- */

static const struct td_cert *cert_at(const struct td_session *s, unsigned i)
{
	return i < s->n_certs && i < TD_MAX_CHAIN && s->certs[i] && s->certs[i]->parsed ? s->certs[i]
										      : NULL;
}

static void check_order(struct td_chain_facts *f, const struct td_session *s, unsigned n)
{
	f->order_ok = true;
	for (unsigned i = 0; i + 1 < n; i++) {
		if (!td_x509_issued_by(cert_at(s, i), cert_at(s, i + 1))) {
			f->order_ok = false;
			f->unchained_at = (uint8_t)i;
			return;
		}
	}
}

/* A certificate on the leaf's issuer path (seen), or a copy of one. */
static bool on_path(const struct td_session *s, unsigned n, const bool *seen, unsigned i)
{
	for (unsigned j = 0; j < n; j++)
		if (seen[j] && s->certs[j] && s->certs[i] &&
		    memcmp(s->certs[j]->sha256, s->certs[i]->sha256, 32) == 0)
			return true;
	return false;
}

/* The link broken: a certificate sent after the leaf that the issuer path
 * from the leaf never reaches, and that is neither a root sent along
 * (self-signed) nor a copy of a certificate on the path. RFC 5246
 * §7.4.2 / RFC 8446 §4.4.2: each certificate must certify the one
 * before it; one that certifies nothing of the chain is a wrong
 * intermediate (an old one after a CA key rollover, another CA's). */
static void check_broken(struct td_chain_facts *f, const struct td_session *s, unsigned n,
			 const bool *seen)
{
	for (unsigned i = 1; i < n; i++) {
		const struct td_cert *c = cert_at(s, i);

		if (!c || c->self_signed || on_path(s, n, seen, i))
			continue;
		f->broken = true;
		f->broken_at = (uint8_t)i;
		return;
	}
}

/* Follows issuers from the leaf through the certificates sent, in any
 * order; the last one reached is the top of what was sent. */
static void check_top(struct td_chain_facts *f, const struct td_session *s, unsigned n)
{
	bool seen[TD_CHAIN_MAX_CERTS] = { false };
	unsigned cur = 0;

	seen[0] = true;
	for (;;) {
		const struct td_cert *c = cert_at(s, cur);
		unsigned next = n;

		if (!c || c->self_signed)
			break;
		for (unsigned j = 0; j < n; j++) {
			if (!seen[j] && td_x509_issued_by(c, cert_at(s, j))) {
				next = j;
				break;
			}
		}
		if (next == n)
			break;
		seen[next] = true;
		cur = next;
	}
	f->top = (uint8_t)cur;
	check_broken(f, s, n, seen);
	/* A top that is a CA certificate (an intermediate) is taken as issued
	 * by a root the client holds; a top that is not (the leaf alone,
	 * typically) means the intermediate that issued it was not sent. A
	 * broken chain says more than that: something else was sent. */
	const struct td_cert *top = cert_at(s, cur);
	f->missing_intermediate = !f->broken && top && !top->self_signed &&
				  !(top->ext.has_basic_constraints && top->ext.is_ca);
}

static void check_duplicates(struct td_chain_facts *f, const struct td_session *s, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		for (unsigned j = 0; j < i; j++) {
			if (s->certs[i] && s->certs[j] &&
			    memcmp(s->certs[i]->sha256, s->certs[j]->sha256, 32) == 0) {
				f->duplicates++;
				break;
			}
		}
	}
}

/* The memo (td_chain.h). */
#define HOST_MEMO_SLOTS 64

struct memo_slot {
	uint8_t sha256[32];
	uint16_t len; /* of sni; 0: an empty slot */
	int8_t result;
	uint8_t sni[TD_SNI_LEN];
};

struct td_chain_memo {
	struct memo_slot slot[HOST_MEMO_SLOTS];
};

struct td_chain_memo *td_chain_memo_new(void)
{
	return calloc(1, sizeof(struct td_chain_memo));
}

void td_chain_memo_free(struct td_chain_memo *m)
{
	free(m);
}

/* FNV-1a of kind (a byte that keeps equal keys of different kinds apart;
 * 0: plain FNV-1a) and p[0..n): the memo's and the consistency table's
 * hash. */
static uint32_t fnv1a(uint8_t kind, const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u ^ kind;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static int check_host(struct td_chain_memo *memo, const struct td_cert *leaf, const uint8_t *sni,
		      size_t len)
{
	uint32_t h;
	struct memo_slot *m;

	if (!memo || len == 0 || len > TD_SNI_LEN)
		return td_x509_check_host(leaf, sni, len);
	h = fnv1a(0, sni, len);
	m = &memo->slot[(h ^ h >> 16) % HOST_MEMO_SLOTS];
	if (m->len == len && memcmp(m->sha256, leaf->sha256, sizeof m->sha256) == 0 &&
	    memcmp(m->sni, sni, len) == 0)
		return m->result;
	memcpy(m->sha256, leaf->sha256, sizeof m->sha256);
	memcpy(m->sni, sni, len);
	m->len = (uint16_t)len;
	m->result = (int8_t)td_x509_check_host(leaf, sni, len);
	return m->result;
}

static void check_sni(struct td_chain_facts *f, const struct td_session *s,
		      struct td_chain_memo *memo)
{
	size_t len = s->ch->sni.len < TD_SNI_LEN ? s->ch->sni.len : TD_SNI_LEN;

	f->sni_match = -1;
	if (s->ch->has_sni && cert_at(s, 0))
		f->sni_match = (int8_t)check_host(memo, cert_at(s, 0), s->ch->sni.bytes, len);
}

static void check_ca(struct td_chain_facts *f, const struct td_session *s, unsigned n,
		     const struct td_x509_store *ca)
{
	int depth = -1;

	f->ca_checked = true;
	f->ca_ok = td_x509_verify(ca, (const struct td_cert *const *)s->certs, n, f->at,
				  f->ca_verdict, sizeof f->ca_verdict, &depth);
	f->ca_depth = (int8_t)(depth < -1 ? -1 : depth > 127 ? 127 : depth);
}

/* The expected certificate closest to the leaf, for the report: same key,
 * else valid for the SNI, else the first. */
static size_t closest_expected(const struct td_chain_config *cfg, const struct td_session *s)
{
	const struct td_cert *leaf = cert_at(s, 0);
	size_t len = s->ch->sni.len < TD_SNI_LEN ? s->ch->sni.len : TD_SNI_LEN;

	for (size_t i = 0; i < cfg->n_expected; i++)
		if (memcmp(cfg->expected[i]->key.spki_sha256, leaf->key.spki_sha256, 32) == 0)
			return i;
	for (size_t i = 0; s->ch->has_sni && i < cfg->n_expected; i++)
		if (td_x509_check_host(cfg->expected[i], s->ch->sni.bytes, len) == 1)
			return i;
	return 0;
}

static void check_expected(struct td_chain_facts *f, const struct td_session *s,
			   const struct td_chain_config *cfg)
{
	const struct td_cert *leaf = cert_at(s, 0);
	size_t pick = 0;

	if (!leaf)
		return;
	f->expected_checked = true;
	for (size_t i = 0; i < cfg->n_expected; i++) {
		if (memcmp(cfg->expected[i]->sha256, leaf->sha256, 32) == 0) {
			f->expected_match = true;
			pick = i;
			break;
		}
	}
	if (!f->expected_match)
		pick = closest_expected(cfg, s);
	f->expected_path = cfg->expected_paths[pick];
	memcpy(f->expected_sha256, cfg->expected[pick]->sha256, 32);
	memcpy(f->expected_spki_sha256, cfg->expected[pick]->key.spki_sha256, 32);
	f->expected_same_key =
		!f->expected_match &&
		memcmp(cfg->expected[pick]->key.spki_sha256, leaf->key.spki_sha256, 32) == 0;
}

static unsigned problems_of(const struct td_chain_facts *f)
{
	unsigned p = 0;

	p |= f->order_ok || f->broken ? 0 : TD_CHAIN_WRONG_ORDER;
	p |= f->broken ? TD_CHAIN_BROKEN : 0;
	p |= f->missing_intermediate ? TD_CHAIN_MISSING_INTERMEDIATE : 0;
	p |= f->root_sent ? TD_CHAIN_ROOT_SENT : 0;
	p |= f->duplicates ? TD_CHAIN_DUPLICATES : 0;
	p |= f->self_signed_leaf ? TD_CHAIN_SELF_SIGNED_LEAF : 0;
	p |= f->leaf_is_ca ? TD_CHAIN_LEAF_IS_CA : 0;
	p |= f->sni_match == 0 ? TD_CHAIN_SNI_MISMATCH : 0;
	p |= f->ca_checked && !f->ca_ok ? TD_CHAIN_CA_FAILED : 0;
	p |= f->expected_checked && !f->expected_match ? TD_CHAIN_UNEXPECTED_CERT : 0;
	return p;
}

void td_chain_check(struct td_chain_facts *out, const struct td_session *s,
		    const struct td_chain_config *cfg)
{
	unsigned n = s->n_certs < TD_MAX_CHAIN ? s->n_certs : TD_MAX_CHAIN;
	const struct td_cert *leaf = cert_at(s, 0);

	memset(out, 0, sizeof *out);
	out->sni_match = -1;
	out->ca_depth = -1;
	if (n == 0)
		return;
	out->checked = true;
	out->at = s->first_ts.sec;
	for (unsigned i = 0; i < n; i++) {
		const struct td_cert *c = cert_at(s, i);

		if (c)
			out->checks[i] = (uint16_t)(date_checks(c, out->at) | key_checks(&c->key) |
						    signature_checks(c, i));
		if (c && i > 0 && c->self_signed)
			out->root_sent = true;
	}
	check_order(out, s, n);
	check_top(out, s, n);
	check_duplicates(out, s, n);
	out->self_signed_leaf = leaf && leaf->self_signed;
	out->leaf_is_ca = leaf && leaf->ext.has_basic_constraints && leaf->ext.is_ca;
	check_sni(out, s, cfg ? cfg->memo : NULL);
	if (cfg && cfg->ca)
		check_ca(out, s, n, cfg->ca);
	if (cfg && cfg->n_expected)
		check_expected(out, s, cfg);
	out->problems = problems_of(out);
}

/* ---- consistency ----------------------------------------------------------------
 * Open addressing over twice as many slots as the cap, FNV-1a on the key.
 * The table holds at most max_keys entries, so a crafted capture can
 * lengthen probes to at most the slot count, never grow memory past the
 * cap; the entries array grows by doubling as names arrive. */

#define CONSIST_FIRST_ALLOC 16

struct td_consistency {
	struct td_consist_entry *entries;
	size_t n, alloc, cap;
	uint32_t *slots; /* entry index + 1; 0 is empty */
	size_t n_slots;  /* a power of two */
	uint64_t untracked;
};

struct td_consistency *td_consistency_new(size_t max_keys)
{
	struct td_consistency *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->cap = max_keys ? max_keys : 1;
	c->n_slots = 2;
	while (c->n_slots < 2 * c->cap)
		c->n_slots <<= 1;
	c->slots = calloc(c->n_slots, sizeof *c->slots);
	if (!c->slots) {
		td_consistency_free(c);
		return NULL;
	}
	return c;
}

void td_consistency_free(struct td_consistency *c)
{
	if (!c)
		return;
	free(c->entries);
	free(c->slots);
	free(c);
}

size_t td_consistency_bytes(const struct td_consistency *c)
{
	return c ? sizeof *c + c->alloc * sizeof *c->entries + c->n_slots * sizeof *c->slots : 0;
}

/* Room for one more entry, within the cap: false when full or out of
 * memory. */
static bool grow(struct td_consistency *c)
{
	size_t want;
	struct td_consist_entry *e;

	if (c->n < c->alloc)
		return true;
	if (c->n >= c->cap)
		return false;
	want = c->alloc ? 2 * c->alloc : CONSIST_FIRST_ALLOC;
	if (want > c->cap)
		want = c->cap;
	e = realloc(c->entries, want * sizeof *e);
	if (!e)
		return false;
	memset(e + c->alloc, 0, (want - c->alloc) * sizeof *e);
	c->entries = e;
	c->alloc = want;
	return true;
}

/* The entry for (kind, key), created when new (when create); NULL when
 * absent, or when the table is full. */
static struct td_consist_entry *lookup(struct td_consistency *c, uint8_t kind, const uint8_t *key,
				       size_t len, bool create)
{
	size_t mask = c->n_slots - 1, i = fnv1a(kind, key, len) & mask;

	for (;; i = (i + 1) & mask) {
		uint32_t slot = c->slots[i];
		struct td_consist_entry *e;

		if (slot == 0)
			break;
		e = &c->entries[slot - 1];
		if (e->kind == kind && e->key_len == len && memcmp(e->key, key, len) == 0)
			return e;
	}
	if (!create || !grow(c))
		return NULL;
	struct td_consist_entry *e = &c->entries[c->n];
	e->kind = kind;
	e->key_len = (uint16_t)len;
	memcpy(e->key, key, len);
	c->slots[i] = (uint32_t)++c->n;
	return e;
}

static void add_leaf(struct td_consist_entry *e, const struct td_session *s,
		     const struct td_cert *leaf)
{
	bool new_key = true;

	e->connections++;
	for (unsigned i = 0; i < e->n_leaves; i++) {
		if (memcmp(e->leaves[i].sha256, leaf->sha256, 32) == 0) {
			e->leaves[i].connections++;
			return;
		}
		if (memcmp(e->leaves[i].spki_sha256, leaf->key.spki_sha256, 32) == 0)
			new_key = false;
	}
	if (e->n_leaves >= TD_CONSIST_MAX_SEEN) {
		e->overflow = true;
		return;
	}
	struct td_consist_leaf *l = &e->leaves[e->n_leaves++];
	memcpy(l->sha256, leaf->sha256, 32);
	memcpy(l->spki_sha256, leaf->key.spki_sha256, 32);
	l->connections = 1;
	l->first_connection = s->id;
	l->first_frame = s->cert_frame;
	if (new_key)
		e->distinct_keys++;
}

/* What the entry of the session's SNI held before this connection. */
static void history_of(const struct td_consist_entry *e, const struct td_cert *leaf,
		       struct td_sni_history *h)
{
	unsigned most = 0;

	memset(h, 0, sizeof *h);
	if (!e || e->n_leaves == 0)
		return;
	h->known = true;
	h->changed = true;
	h->key_changed = true;
	h->at_least = e->overflow;
	h->earlier_leaves = e->n_leaves;
	h->earlier_connections = e->connections;
	for (unsigned i = 0; i < e->n_leaves; i++) {
		if (memcmp(e->leaves[i].sha256, leaf->sha256, 32) == 0)
			h->changed = false;
		if (memcmp(e->leaves[i].spki_sha256, leaf->key.spki_sha256, 32) == 0)
			h->key_changed = false;
		if (e->leaves[i].connections > e->leaves[most].connections)
			most = i;
	}
	h->key_changed &= h->changed;
	h->earlier = e->leaves[most];
}

static void add_key(struct td_consistency *c, uint8_t kind, const uint8_t *key, size_t len,
		    const struct td_session *s, const struct td_cert *leaf,
		    struct td_chain_facts *facts)
{
	struct td_consist_entry *e;

	if (len > TD_CONSIST_KEY_LEN)
		len = TD_CONSIST_KEY_LEN;
	e = lookup(c, kind, key, len, true);
	if (facts) {
		history_of(e, leaf, &facts->sni_history);
		if (facts->sni_history.changed)
			facts->problems |= TD_CHAIN_SNI_CERT_CHANGED;
	}
	if (!e) {
		c->untracked++;
		return;
	}
	add_leaf(e, s, leaf);
}

void td_consistency_add(struct td_consistency *c, const struct td_session *s,
			struct td_chain_facts *facts)
{
	const struct td_cert *leaf = cert_at(s, 0);
	char ep[80];

	if (!c || !leaf)
		return;
	if (s->ch->has_sni)
		add_key(c, TD_CONSIST_SNI, s->ch->sni.bytes,
			s->ch->sni.len < TD_SNI_LEN ? s->ch->sni.len : TD_SNI_LEN, s, leaf, facts);
	td_addr_port_str(&s->server, s->server_port, ep, sizeof ep);
	add_key(c, TD_CONSIST_SERVER, (const uint8_t *)ep, strlen(ep), s, leaf, NULL);
}

const struct td_consist_entry *td_consistency_entries(const struct td_consistency *c, size_t *n)
{
	*n = c ? c->n : 0;
	return c ? c->entries : NULL;
}

uint64_t td_consistency_untracked(const struct td_consistency *c)
{
	return c ? c->untracked : 0;
}
