/* x509.c - certificate facts from libcrypto, and their cache (see td_x509.h).
 *
 * One of the three files allowed to include OpenSSL headers (STYLE.md rule
 * 14). Certificates are decoded with d2i_X509 on a temporary pointer and the
 * decoder must consume the whole input. Every entry point brackets its
 * libcrypto calls with ERR_set_mark/ERR_pop_to_mark, so errors raised by
 * junk input do not pile up in the thread's error queue.
 *
 * The cache is a chained hash table on the SHA-256 of the DER (already
 * uniformly distributed, so its first 8 bytes are the hash) plus three
 * lists: "idle" entries nobody references, in least-recently-used order
 * (the eviction candidates), "busy" entries with references, and "evicted"
 * entries that left the table while still referenced. Release of the last
 * reference moves a busy entry to idle, or frees an evicted one.
 */
#include "td_x509.h"
#include "td_file.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ct.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "td_digest.h"
#include "td_session.h"

/* Bucket count stays a power of two no larger than this; beyond it chains
 * just get longer. */
#define X509_MAX_BUCKETS ((size_t)1 << 20)

/* ---- small helpers ---------------------------------------------------- */

static void copy_str(char *dst, size_t dstlen, const char *src)
{
	td_err_format(dst, dstlen, "%s", src ? src : "");
}

/* Takes the contents of a memory BIO as a C string. The BIO was written with
 * escaping flags that leave only printable ASCII; any other byte (an
 * embedded NUL would truncate the string silently) still becomes '?'. */
static char *bio_to_string(BIO *b)
{
	char *data = NULL;
	long n = BIO_get_mem_data(b, &data);
	char *s;

	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	for (long i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)data[i];
		s[i] = ch < 0x20 || ch > 0x7e ? '?' : (char)ch;
	}
	s[n] = '\0';
	return s;
}

/* prefix, then bytes with everything outside printable ASCII as \xHH and
 * the backslash doubled: IA5String values in SANs may carry NUL or
 * control bytes meant to fool a comparison or a terminal. */
static char *escaped_with_prefix(const char *prefix, const unsigned char *p, size_t n)
{
	size_t plen = strlen(prefix);
	char *s, *o;

	/* n <= TD_X509_MAX_DER, so 4 * n cannot overflow */
	s = malloc(plen + 4 * n + 1);
	if (!s)
		return NULL;
	memcpy(s, prefix, plen);
	o = s + plen;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\\') {
			*o++ = '\\';
			*o++ = '\\';
		} else if (p[i] < 0x20 || p[i] > 0x7e) {
			sprintf(o, "\\x%02x", p[i]);
			o += 4;
		} else {
			*o++ = (char)p[i];
		}
	}
	*o = '\0';
	return s;
}

/* RFC 4514 form, as `openssl x509 -nameopt RFC2253` prints it, into *out.
 * TD_ERR_MALFORMED when libcrypto cannot print the name (a BMPString of odd
 * length, say: reachable with crafted input), TD_ERR_NOMEM. */
static enum td_err name_to_string(const X509_NAME *name, char **out)
{
	BIO *b = BIO_new(BIO_s_mem());
	enum td_err err = TD_ERR_NOMEM;

	*out = NULL;
	if (!b)
		return TD_ERR_NOMEM;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) < 0) {
		err = TD_ERR_MALFORMED;
		goto out;
	}
	*out = bio_to_string(b);
	if (*out)
		err = TD_OK;
out:
	BIO_free(b);
	return err;
}

enum td_err td_x509_name_string(const uint8_t *der, size_t len, char **out)
{
	const unsigned char *p = der; /* d2i_ moves its pointer: a copy */
	X509_NAME *name;
	enum td_err err;

	*out = NULL;
	if (len > LONG_MAX)
		return TD_ERR_MALFORMED;
	ERR_set_mark();
	name = d2i_X509_NAME(NULL, &p, (long)len);
	if (!name)
		err = TD_ERR_MALFORMED;
	else if ((size_t)(p - der) != len)
		err = TD_ERR_MALFORMED; /* trailing bytes */
	else
		err = name_to_string(name, out);
	X509_NAME_free(name);
	ERR_pop_to_mark();
	return err;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil): no timegm, no TZ, no time_t range limit. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* RFC 5280 §4.1.2.5: UTCTime or GeneralizedTime, always UTC. */
static bool time_to_epoch(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return false;
	*out = days_from_civil((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
			       (unsigned)tm.tm_mday) * 86400 +
	       (int64_t)tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	return true;
}

void td_x509_ocsp_facts(const uint8_t *der, size_t len, struct td_ocsp_facts *out)
{
	const unsigned char *p = der; /* d2i_ moves its pointer: a copy */
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *basic = NULL;

	out->parsed = false;
	out->cert_status = TD_OCSP_NONE;
	out->revocation_reason = -1;
	out->n_responses = 0;
	out->produced_at = out->this_update = out->next_update = out->revoked_at = 0;
	if (len > LONG_MAX)
		return;
	ERR_set_mark();
	resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	if (!resp || (size_t)(p - der) != len)
		goto out;
	out->parsed = true;
	int status = OCSP_response_status(resp);
	out->response_status = (uint8_t)(status >= 0 && status <= 255 ? status : 255);
	if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL)
		goto out;
	basic = OCSP_response_get1_basic(resp);
	if (!basic)
		goto out;
	if (!time_to_epoch(OCSP_resp_get0_produced_at(basic), &out->produced_at))
		out->produced_at = 0;
	int n = OCSP_resp_count(basic);
	out->n_responses = (uint16_t)(n > 0 ? (n < UINT16_MAX ? n : UINT16_MAX) : 0);
	OCSP_SINGLERESP *single = n > 0 ? OCSP_resp_get0(basic, 0) : NULL;
	if (!single)
		goto out;
	int reason = -1;
	ASN1_GENERALIZEDTIME *revoked = NULL, *this_upd = NULL, *next_upd = NULL;
	switch (OCSP_single_get0_status(single, &reason, &revoked, &this_upd, &next_upd)) {
	case V_OCSP_CERTSTATUS_GOOD:
		out->cert_status = TD_OCSP_GOOD;
		break;
	case V_OCSP_CERTSTATUS_REVOKED:
		out->cert_status = TD_OCSP_REVOKED;
		break;
	case V_OCSP_CERTSTATUS_UNKNOWN:
		out->cert_status = TD_OCSP_UNKNOWN;
		break;
	default:
		goto out;
	}
	out->revocation_reason = (int8_t)(reason >= 0 && reason <= 127 ? reason : -1);
	if (!time_to_epoch(this_upd, &out->this_update))
		out->this_update = 0;
	if (!next_upd || !time_to_epoch(next_upd, &out->next_update))
		out->next_update = 0;
	if (!revoked || !time_to_epoch(revoked, &out->revoked_at))
		out->revoked_at = 0;
out:
	OCSP_BASICRESP_free(basic);
	OCSP_RESPONSE_free(resp);
	ERR_pop_to_mark();
}

/* ---- public key facts ------------------------------------------------- */

/* libcrypto key type name (EVP_PKEY_is_a) to the name we report. RSA-PSS
 * comes first so that nothing depends on how is_a treats it. */
static const struct {
	const char *type;
	const char *name;
} key_types[] = {
	{ "RSA-PSS", "RSA-PSS" }, { "RSA", "RSA" },	    { "EC", "EC" },
	{ "ED25519", "Ed25519" }, { "ED448", "Ed448" }, { "DSA", "DSA" },
};

static uint64_t rsa_exponent(const EVP_PKEY *pk)
{
	BIGNUM *e = NULL;
	unsigned char b[8];
	uint64_t v = 0;

	if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) == 1 && BN_num_bytes(e) <= 8 &&
	    BN_bn2binpad(e, b, sizeof b) == (int)sizeof b) {
		for (size_t i = 0; i < sizeof b; i++)
			v = v << 8 | b[i];
	}
	BN_free(e);
	return v;
}

/* SHA-256 of "Modulus=<HEX>\n", byte for byte what `openssl x509 -noout
 * -modulus` prints (BN_print: upper-case hex, no leading zeros). False
 * only when libcrypto cannot give the modulus (out of memory). */
static bool rsa_modulus_hash(const EVP_PKEY *pk, uint8_t out[32])
{
	BIGNUM *n = NULL;
	char *hex = NULL, *text = NULL;
	size_t len;
	bool ok = false;

	if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) != 1)
		goto out;
	hex = BN_bn2hex(n);
	if (!hex)
		goto out;
	len = strlen(hex) + sizeof "Modulus=\n" - 1;
	text = malloc(len + 1);
	if (!text)
		goto out;
	snprintf(text, len + 1, "Modulus=%s\n", hex);
	td_sha256(text, len, out);
	ok = true;
out:
	free(text);
	OPENSSL_free(hex);
	BN_free(n);
	return ok;
}

/* Named curve, normalised through its NID: the provider may answer with
 * either the short name or the NIST name. */
static void ec_curve(const EVP_PKEY *pk, struct td_cert_key *k)
{
	char group[64];
	const char *nist;
	int nid;

	if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
					   NULL) != 1)
		return;
	nid = OBJ_txt2nid(group);
	if (nid == NID_undef)
		nid = EC_curve_nist2nid(group);
	if (nid == NID_undef) {
		copy_str(k->curve, sizeof k->curve, group);
		return;
	}
	copy_str(k->curve, sizeof k->curve, OBJ_nid2sn(nid));
	nist = EC_curve_nid2nist(nid);
	copy_str(k->curve_nist, sizeof k->curve_nist, nist);
}

/* Fills k from a decoded SubjectPublicKeyInfo. The hash is over its DER
 * re-encoding, which for DER input is the input itself. */
static enum td_err pubkey_facts(const X509_PUBKEY *pub, struct td_cert_key *k)
{
	unsigned char *der = NULL;
	int n;
	const EVP_PKEY *pk;

	memset(k, 0, sizeof *k);
	n = i2d_X509_PUBKEY(pub, &der);
	if (n <= 0)
		return TD_ERR_NOMEM;
	td_sha256(der, (size_t)n, k->spki_sha256);
	OPENSSL_free(der);
	/* 32 bytes make 44 base64 characters and a NUL */
	EVP_EncodeBlock((unsigned char *)k->spki_sha256_b64, k->spki_sha256, sizeof k->spki_sha256);

	copy_str(k->algorithm, sizeof k->algorithm, "unknown");
	/* NULL when libcrypto cannot decode this key type: keep the hash,
	 * which is all --key matching needs. */
	pk = X509_PUBKEY_get0(pub);
	if (!pk)
		return TD_OK;
	for (size_t i = 0; i < sizeof key_types / sizeof key_types[0]; i++) {
		if (EVP_PKEY_is_a(pk, key_types[i].type)) {
			copy_str(k->algorithm, sizeof k->algorithm, key_types[i].name);
			break;
		}
	}
	n = EVP_PKEY_get_bits(pk);
	k->bits = n > 0 ? (unsigned)n : 0;
	if (EVP_PKEY_is_a(pk, "RSA") || EVP_PKEY_is_a(pk, "RSA-PSS")) {
		k->rsa_exponent = rsa_exponent(pk);
		if (!rsa_modulus_hash(pk, k->rsa_modulus_sha256))
			return TD_ERR_NOMEM;
		k->has_modulus = true;
	}
	if (EVP_PKEY_is_a(pk, "EC"))
		ec_curve(pk, k);
	return TD_OK;
}

enum td_err td_x509_key_facts(const uint8_t *spki, size_t len, struct td_cert_key *out)
{
	const unsigned char *p = spki;
	X509_PUBKEY *pub = NULL;
	enum td_err err;

	memset(out, 0, sizeof *out);
	if (len > TD_X509_MAX_DER)
		return TD_ERR_TOO_BIG;
	if (!spki || len == 0)
		return TD_ERR_MALFORMED;
	ERR_set_mark();
	pub = d2i_X509_PUBKEY(NULL, &p, (long)len);
	if (!pub) {
		err = TD_ERR_MALFORMED;
		goto out;
	}
	if (p != spki + len) {
		err = TD_ERR_MALFORMED;
		goto out;
	}
	err = pubkey_facts(pub, out);
out:
	X509_PUBKEY_free(pub);
	ERR_pop_to_mark();
	if (err != TD_OK)
		memset(out, 0, sizeof *out);
	return err;
}

/* ---- certificate facts ------------------------------------------------ */

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

static void ext_clear(struct td_cert_ext *x)
{
	free_list(x->eku, x->n_eku);
	free_list(x->crl_urls, x->n_crl_urls);
	free_list(x->ocsp_urls, x->n_ocsp_urls);
	free(x->subject_key_id);
	free(x->authority_key_id);
	memset(x, 0, sizeof *x);
	x->path_len = -1;
}

/* Frees and empties every field below "parsed"; keeps the fingerprints. */
static void cert_clear_facts(struct td_cert *c)
{
	free(c->subject);
	free(c->issuer);
	free(c->serial_hex);
	for (size_t i = 0; i < c->n_sans; i++)
		free(c->sans[i]);
	free(c->sans);
	free(c->der);
	ext_clear(&c->ext);
	c->parsed = false;
	c->version = 0;
	c->subject = c->issuer = c->serial_hex = NULL;
	c->not_before = c->not_after = 0;
	c->sans = NULL;
	c->n_sans = 0;
	c->sig_alg[0] = '\0';
	c->self_signed = false;
	memset(&c->key, 0, sizeof c->key);
	c->der = NULL;
	c->der_len = 0;
}

static char *serial_to_string(const X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;

	if (!b)
		return NULL;
	/* the same call `openssl x509 -serial` makes */
	if (i2a_ASN1_INTEGER(b, X509_get0_serialNumber(x)) >= 0)
		s = bio_to_string(b);
	BIO_free(b);
	return s;
}

static char *ip_to_string(const ASN1_OCTET_STRING *ip)
{
	char buf[INET6_ADDRSTRLEN + 3] = "IP:";
	const unsigned char *p = ASN1_STRING_get0_data(ip);
	int n = ASN1_STRING_length(ip);
	int af = n == 4 ? AF_INET : n == 16 ? AF_INET6 : 0;

	if (!af || !inet_ntop(af, p, buf + 3, sizeof buf - 3))
		copy_str(buf, sizeof buf, "IP:<invalid>");
	return strdup(buf);
}

/* prefix then s, which is already printable ASCII */
static char *concat(const char *prefix, const char *s)
{
	size_t a = strlen(prefix), b = strlen(s);
	char *out = malloc(a + b + 1);

	if (!out)
		return NULL;
	memcpy(out, prefix, a);
	memcpy(out + a, s, b + 1);
	return out;
}

static char *oid_with_prefix(const char *prefix, const ASN1_OBJECT *obj)
{
	char oid[80];

	if (!obj || OBJ_obj2txt(oid, sizeof oid, obj, 1) <= 0)
		copy_str(oid, sizeof oid, "?");
	return concat(prefix, oid);
}

/* One GeneralName (RFC 5280 §4.2.1.6) as text; NULL on out-of-memory.
 * An entry whose content is bad is kept, marked "<invalid>". */
static char *general_name_to_string(const GENERAL_NAME *g)
{
	const ASN1_STRING *s;
	char *name, *out;

	switch (g->type) {
	case GEN_DNS:
	case GEN_EMAIL:
	case GEN_URI:
		s = g->d.ia5;
		return escaped_with_prefix(g->type == GEN_DNS	  ? "DNS:"
					   : g->type == GEN_EMAIL ? "email:"
								  : "URI:",
					   ASN1_STRING_get0_data(s),
					   (size_t)ASN1_STRING_length(s));
	case GEN_IPADD:
		return ip_to_string(g->d.iPAddress);
	case GEN_DIRNAME:
		switch (name_to_string(g->d.directoryName, &name)) {
		case TD_OK:
			break;
		case TD_ERR_MALFORMED:
			return strdup("DirName:<invalid>");
		default:
			return NULL;
		}
		out = concat("DirName:", name);
		free(name);
		return out;
	case GEN_RID:
		return oid_with_prefix("RID:", g->d.registeredID);
	case GEN_OTHERNAME:
		return oid_with_prefix("othername:", g->d.otherName->type_id);
	case GEN_X400:
		return strdup("X400Name:");
	case GEN_EDIPARTY:
		return strdup("EdiPartyName:");
	default:
		return strdup("unknown:");
	}
}

static enum td_err cert_sans(struct td_cert *c, const X509 *x)
{
	int crit = 0;
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	enum td_err err = TD_OK;
	int n;

	if (!gens) {
		if (crit == -1)
			return TD_OK; /* no subjectAltName */
		td_err_format(c->error, sizeof c->error, "%s",
			      crit == -2 ? "subjectAltName extension appears twice"
					 : "subjectAltName extension does not decode");
		return TD_ERR_MALFORMED;
	}
	n = sk_GENERAL_NAME_num(gens);
	if (n > 0) {
		c->sans = calloc((size_t)n, sizeof *c->sans);
		if (!c->sans) {
			err = TD_ERR_NOMEM;
			goto out;
		}
	}
	for (int i = 0; i < n; i++) {
		c->sans[i] = general_name_to_string(sk_GENERAL_NAME_value(gens, i));
		if (!c->sans[i]) {
			err = TD_ERR_NOMEM;
			goto out;
		}
		c->n_sans++;
	}
out:
	GENERAL_NAMES_free(gens);
	return err;
}

/* ---- extensions (RFC 5280 §4.2) --------------------------------------- */

static const char *const ku_names[TD_KU_COUNT] = {
	"digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment",
	"keyAgreement",	    "keyCertSign",    "cRLSign",	 "encipherOnly",
	"decipherOnly",
};

const char *td_x509_key_usage_name(unsigned n)
{
	return n < TD_KU_COUNT ? ku_names[n] : NULL;
}

/* Appends s (owned) to a list; false on out-of-memory, s freed. */
static bool list_push(char ***list, size_t *n, char *s)
{
	char **l;

	if (!s)
		return false;
	l = realloc(*list, (*n + 1) * sizeof *l);
	if (!l) {
		free(s);
		return false;
	}
	l[(*n)++] = s;
	*list = l;
	return true;
}

static char *octets_hex(const ASN1_OCTET_STRING *o)
{
	size_t n = (size_t)ASN1_STRING_length(o);
	char *s = malloc(2 * n + 1);

	if (s)
		td_hex(ASN1_STRING_get0_data(o), n, s);
	return s;
}

/* The decoded extension, or NULL: absent, or present but undecodable
 * (appears twice, bad DER), which is counted. */
static void *ext_d2i(const X509 *x, int nid, struct td_cert_ext *e)
{
	int crit = 0;
	void *v = X509_get_ext_d2i(x, nid, &crit, NULL);

	if (!v && crit != -1)
		e->bad_extensions++;
	return v;
}

/* Appends g to the list when it is a URI; false only on out-of-memory. */
static bool push_uri(char ***list, size_t *n, const GENERAL_NAME *g)
{
	if (g->type != GEN_URI)
		return true;
	return list_push(list, n,
			 escaped_with_prefix("", ASN1_STRING_get0_data(g->d.uniformResourceIdentifier),
					     (size_t)ASN1_STRING_length(g->d.uniformResourceIdentifier)));
}

static bool ext_usage(struct td_cert_ext *e, const X509 *x)
{
	ASN1_BIT_STRING *ku = ext_d2i(x, NID_key_usage, e);
	EXTENDED_KEY_USAGE *eku;
	BASIC_CONSTRAINTS *bc;
	bool ok = true;

	if (ku) {
		e->has_key_usage = true;
		for (unsigned i = 0; i < TD_KU_COUNT; i++)
			if (ASN1_BIT_STRING_get_bit(ku, (int)i))
				e->key_usage |= 1u << i;
		ASN1_BIT_STRING_free(ku);
	}
	eku = ext_d2i(x, NID_ext_key_usage, e);
	for (int i = 0; ok && eku && i < sk_ASN1_OBJECT_num(eku); i++) {
		const ASN1_OBJECT *o = sk_ASN1_OBJECT_value(eku, i);
		int nid = OBJ_obj2nid(o);

		ok = list_push(&e->eku, &e->n_eku,
			       nid != NID_undef ? strdup(OBJ_nid2sn(nid)) : oid_with_prefix("", o));
	}
	EXTENDED_KEY_USAGE_free(eku);
	bc = ext_d2i(x, NID_basic_constraints, e);
	if (bc) {
		e->has_basic_constraints = true;
		e->is_ca = bc->ca != 0;
		if (bc->pathlen)
			e->path_len = ASN1_INTEGER_get(bc->pathlen);
		BASIC_CONSTRAINTS_free(bc);
	}
	return ok;
}

static bool ext_ids(struct td_cert_ext *e, const X509 *x)
{
	ASN1_OCTET_STRING *ski = ext_d2i(x, NID_subject_key_identifier, e);
	AUTHORITY_KEYID *aki = ext_d2i(x, NID_authority_key_identifier, e);
	bool ok = true;

	if (ski) {
		e->subject_key_id = octets_hex(ski);
		ok = e->subject_key_id != NULL;
	}
	if (aki && aki->keyid) {
		e->authority_key_id = octets_hex(aki->keyid);
		ok = ok && e->authority_key_id != NULL;
	}
	ASN1_OCTET_STRING_free(ski);
	AUTHORITY_KEYID_free(aki);
	return ok;
}

static bool ext_urls(struct td_cert_ext *e, const X509 *x)
{
	CRL_DIST_POINTS *dps = ext_d2i(x, NID_crl_distribution_points, e);
	AUTHORITY_INFO_ACCESS *aia = ext_d2i(x, NID_info_access, e);
	STACK_OF(SCT) *scts = ext_d2i(x, NID_ct_precert_scts, e);
	bool ok = true;

	for (int i = 0; ok && dps && i < sk_DIST_POINT_num(dps); i++) {
		const DIST_POINT *dp = sk_DIST_POINT_value(dps, i);

		/* type 0: fullName (RFC 5280 §4.2.1.13) */
		if (!dp->distpoint || dp->distpoint->type != 0)
			continue;
		for (int k = 0; ok && k < sk_GENERAL_NAME_num(dp->distpoint->name.fullname); k++)
			ok = push_uri(&e->crl_urls, &e->n_crl_urls,
				      sk_GENERAL_NAME_value(dp->distpoint->name.fullname, k));
	}
	for (int i = 0; ok && aia && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
		const ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);

		if (OBJ_obj2nid(ad->method) == NID_ad_OCSP)
			ok = push_uri(&e->ocsp_urls, &e->n_ocsp_urls, ad->location);
	}
	if (scts) {
		e->has_scts = true;
		e->n_scts = (unsigned)sk_SCT_num(scts);
	}
	CRL_DIST_POINTS_free(dps);
	AUTHORITY_INFO_ACCESS_free(aia);
	SCT_LIST_free(scts);
	return ok;
}

static enum td_err cert_ext(struct td_cert_ext *e, const X509 *x)
{
	e->path_len = -1;
	if (!ext_usage(e, x) || !ext_ids(e, x) || !ext_urls(e, x))
		return TD_ERR_NOMEM;
	return TD_OK;
}

/* Fills everything but the fingerprints from a decoded certificate.
 * TD_ERR_MALFORMED (with c->error set) for a certificate libcrypto decoded
 * but whose fields do not hold up; the caller empties the facts. */
static enum td_err cert_facts(struct td_cert *c, X509 *x)
{
	const X509_ALGOR *alg = NULL;
	const ASN1_OBJECT *obj = NULL;
	EVP_PKEY *pk;
	enum td_err err;

	c->version = X509_get_version(x) + 1;
	err = name_to_string(X509_get_subject_name(x), &c->subject);
	if (err == TD_ERR_MALFORMED)
		copy_str(c->error, sizeof c->error, "subject name does not print");
	if (err != TD_OK)
		return err;
	err = name_to_string(X509_get_issuer_name(x), &c->issuer);
	if (err == TD_ERR_MALFORMED)
		copy_str(c->error, sizeof c->error, "issuer name does not print");
	if (err != TD_OK)
		return err;
	c->serial_hex = serial_to_string(x);
	if (!c->serial_hex)
		return TD_ERR_NOMEM;
	if (!time_to_epoch(X509_get0_notBefore(x), &c->not_before)) {
		copy_str(c->error, sizeof c->error, "invalid notBefore time");
		return TD_ERR_MALFORMED;
	}
	if (!time_to_epoch(X509_get0_notAfter(x), &c->not_after)) {
		copy_str(c->error, sizeof c->error, "invalid notAfter time");
		return TD_ERR_MALFORMED;
	}
	err = cert_sans(c, x);
	if (err != TD_OK)
		return err;
	err = cert_ext(&c->ext, x);
	if (err != TD_OK)
		return err;

	X509_get0_signature(NULL, &alg, x);
	if (alg)
		X509_ALGOR_get0(&obj, NULL, NULL, alg);
	if (!obj || OBJ_obj2txt(c->sig_alg, sizeof c->sig_alg, obj, 0) <= 0)
		copy_str(c->sig_alg, sizeof c->sig_alg, "unknown");

	err = pubkey_facts(X509_get_X509_PUBKEY(x), &c->key);
	if (err != TD_OK)
		return err;
	pk = X509_get0_pubkey(x);
	c->self_signed = pk &&
			 X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0 &&
			 X509_verify(x, pk) == 1;
	return TD_OK;
}

/* Parses der into c, whose fingerprints are already set. A bad input is not
 * an error: it gives parsed == false. Only out-of-memory is. When the
 * certificate parsed, *keep receives libcrypto's form of it (the chain
 * functions use it); NULL otherwise. */
static enum td_err cert_parse(struct td_cert *c, const uint8_t *der, size_t len, X509 **keep)
{
	const unsigned char *p = der;
	X509 *x = NULL;
	enum td_err err = TD_OK;
	unsigned long e;

	*keep = NULL;
	if (len > TD_X509_MAX_DER) {
		td_err_format(c->error, sizeof c->error, "input larger than 1 MiB (%zu bytes)",
			      len);
		return TD_OK;
	}
	if (len == 0) {
		copy_str(c->error, sizeof c->error, "not a certificate: empty input");
		return TD_OK;
	}
	*keep = NULL;
	ERR_set_mark();
	/* on a temporary pointer: d2i advances it past what it consumed */
	x = d2i_X509(NULL, &p, (long)len);
	if (!x) {
		e = ERR_peek_last_error();
		td_err_format(c->error, sizeof c->error, "not a certificate: %s",
			      e && ERR_reason_error_string(e) ? ERR_reason_error_string(e)
							      : "DER does not decode");
		goto out;
	}
	if (p != der + len) {
		copy_str(c->error, sizeof c->error, "trailing bytes after certificate");
		goto out;
	}
	err = cert_facts(c, x);
	if (err != TD_OK)
		goto out;
	c->der = malloc(len);
	if (!c->der) {
		err = TD_ERR_NOMEM;
		goto out;
	}
	memcpy(c->der, der, len);
	c->der_len = len;
	c->parsed = true;
	*keep = x;
	x = NULL;
out:
	X509_free(x);
	ERR_pop_to_mark();
	if (!c->parsed)
		cert_clear_facts(c);
	if (err == TD_ERR_MALFORMED)
		err = TD_OK; /* a fact about the input, kept in c->error */
	return err;
}

/* ---- the cache ---------------------------------------------------------- */

enum entry_state { ENTRY_IDLE, ENTRY_BUSY, ENTRY_EVICTED };

struct entry {
	struct td_cert cert; /* what callers see; mapped back with entry_of() */
	X509 *x509;          /* libcrypto's form, when parsed */
	/* td_x509_issued_by's last answer for this child */
	bool memo_set, memo_result;
	uint8_t memo_issuer[32];
	struct entry *hnext; /* hash chain (idle and busy entries only) */
	struct entry *prev, *next;
	size_t refs;
	/* td_x509_cert_release_pinned() references given back whose facts
	 * are still read: the entry is not freed before they are unpinned. */
	size_t pins;
	enum entry_state state;
};

/* Doubly linked list; head is the most recently used. */
struct list {
	struct entry *head, *tail;
};

struct td_x509_cache {
	pthread_mutex_t lock; /* -j: the analysis and reporting threads */
	struct entry **buckets;
	size_t mask;
	size_t max_entries;
	size_t count; /* entries in the table (idle + busy) */
	struct list lists[3]; /* indexed by enum entry_state */
	struct td_x509_stats stats;
};

static struct entry *entry_of(const struct td_cert *cert)
{
	return (struct entry *)(void *)((char *)(uintptr_t)cert - offsetof(struct entry, cert));
}

static void list_remove(struct list *l, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		l->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		l->tail = e->prev;
	e->prev = e->next = NULL;
}

static void list_push_head(struct list *l, struct entry *e)
{
	e->prev = NULL;
	e->next = l->head;
	if (l->head)
		l->head->prev = e;
	else
		l->tail = e;
	l->head = e;
}

static void entry_move(struct td_x509_cache *c, struct entry *e, enum entry_state to)
{
	list_remove(&c->lists[e->state], e);
	e->state = to;
	list_push_head(&c->lists[to], e);
}

static void entry_free(struct entry *e)
{
	X509_free(e->x509);
	cert_clear_facts(&e->cert);
	free(e);
}

static size_t bucket_of(const struct td_x509_cache *c, const uint8_t sha256[32])
{
	uint64_t h = 0;

	for (int i = 0; i < 8; i++)
		h = h << 8 | sha256[i];
	return (size_t)h & c->mask;
}

static struct entry *table_find(const struct td_x509_cache *c, const uint8_t sha256[32])
{
	struct entry *e = c->buckets[bucket_of(c, sha256)];

	while (e && memcmp(e->cert.sha256, sha256, 32) != 0)
		e = e->hnext;
	return e;
}

static void table_remove(struct td_x509_cache *c, struct entry *e)
{
	struct entry **pp = &c->buckets[bucket_of(c, e->cert.sha256)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	e->hnext = NULL;
	c->count--;
}

/* Makes room for one more entry: the least recently used idle entry is
 * freed; failing that, the least recently used busy one leaves the table
 * but lives on until its last release. */
static void evict_one(struct td_x509_cache *c)
{
	struct entry *e = c->lists[ENTRY_IDLE].tail;

	if (e) {
		table_remove(c, e);
		if (e->pins) {
			entry_move(c, e, ENTRY_EVICTED); /* freed by the last unpin */
		} else {
			list_remove(&c->lists[ENTRY_IDLE], e);
			entry_free(e);
		}
	} else {
		e = c->lists[ENTRY_BUSY].tail;
		if (!e)
			return;
		table_remove(c, e);
		entry_move(c, e, ENTRY_EVICTED);
	}
	c->stats.evictions++;
}

struct td_x509_cache *td_x509_cache_new(size_t max_entries)
{
	struct td_x509_cache *c = calloc(1, sizeof *c);
	size_t nb = 16;

	if (!c)
		return NULL;
	c->max_entries = max_entries ? max_entries : 1;
	while (nb < c->max_entries && nb < X509_MAX_BUCKETS)
		nb <<= 1;
	c->buckets = calloc(nb, sizeof *c->buckets);
	if (!c->buckets) {
		free(c);
		return NULL;
	}
	c->mask = nb - 1;
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

void td_x509_cache_free(struct td_x509_cache *c)
{
	if (!c)
		return;
	for (int s = ENTRY_IDLE; s <= ENTRY_EVICTED; s++) {
		struct entry *e = c->lists[s].head;
		while (e) {
			struct entry *next = e->next;
			entry_free(e);
			e = next;
		}
	}
	free(c->buckets);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static const struct td_cert *cache_get(struct td_x509_cache *c, const uint8_t *der, size_t len)
{
	uint8_t sha256[32];
	struct entry *e;
	size_t b;

	if (!der)
		len = 0; /* a caller bug; read nothing rather than wild memory */
	c->stats.lookups++;
	td_sha256(der, len, sha256);
	e = table_find(c, sha256);
	if (e) {
		c->stats.hits++;
		e->refs++;
		entry_move(c, e, ENTRY_BUSY);
		return &e->cert;
	}

	c->stats.parses++;
	e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	memcpy(e->cert.sha256, sha256, sizeof sha256);
	td_sha1(der, len, e->cert.sha1);
	if (cert_parse(&e->cert, der, len, &e->x509) != TD_OK) {
		entry_free(e);
		return NULL;
	}
	if (c->count >= c->max_entries)
		evict_one(c);
	b = bucket_of(c, sha256);
	e->hnext = c->buckets[b];
	c->buckets[b] = e;
	c->count++;
	e->refs = 1;
	e->state = ENTRY_BUSY;
	list_push_head(&c->lists[ENTRY_BUSY], e);
	return &e->cert;
}

const struct td_cert *td_x509_cache_get(struct td_x509_cache *c, const uint8_t *der, size_t len)
{
	const struct td_cert *cert;

	if (!c)
		return NULL;
	pthread_mutex_lock(&c->lock);
	cert = cache_get(c, der, len);
	pthread_mutex_unlock(&c->lock);
	return cert;
}

/* An entry nobody references or reads any more leaves the evicted list
 * and is freed. */
static void free_if_unused(struct td_x509_cache *c, struct entry *e)
{
	if (e->state == ENTRY_EVICTED && e->refs == 0 && e->pins == 0) {
		list_remove(&c->lists[ENTRY_EVICTED], e);
		entry_free(e);
	}
}

static void release(struct td_x509_cache *c, struct entry *e)
{
	if (e->refs == 0)
		return; /* double release: a caller bug, but do no harm */
	if (--e->refs > 0)
		return;
	if (e->state == ENTRY_EVICTED)
		free_if_unused(c, e);
	else
		entry_move(c, e, ENTRY_IDLE);
}

void td_x509_cert_release(struct td_x509_cache *c, const struct td_cert *cert)
{
	if (!c || !cert)
		return;
	pthread_mutex_lock(&c->lock);
	release(c, entry_of(cert));
	pthread_mutex_unlock(&c->lock);
}

void td_x509_cert_release_pinned(struct td_x509_cache *c, const struct td_cert *cert)
{
	struct entry *e;

	if (!c || !cert)
		return;
	e = entry_of(cert);
	pthread_mutex_lock(&c->lock);
	e->pins++;
	release(c, e);
	pthread_mutex_unlock(&c->lock);
}

void td_x509_cert_unpin(struct td_x509_cache *c, const struct td_cert *cert)
{
	struct entry *e;

	if (!c || !cert)
		return;
	e = entry_of(cert);
	pthread_mutex_lock(&c->lock);
	if (e->pins > 0) {
		e->pins--;
		free_if_unused(c, e);
	}
	pthread_mutex_unlock(&c->lock);
}

void td_x509_cache_stats(const struct td_x509_cache *c, struct td_x509_stats *out)
{
	/* the lock is not part of the cache's value: taking it does not
	 * change what a const caller sees */
	struct td_x509_cache *m = (struct td_x509_cache *)(uintptr_t)c;

	memset(out, 0, sizeof *out);
	if (!c)
		return;
	pthread_mutex_lock(&m->lock);
	*out = c->stats;
	out->held = c->count;
	pthread_mutex_unlock(&m->lock);
}

/* ---- chains and names --------------------------------------------------- */

/* libcrypto's form of a parsed certificate from a cache; NULL otherwise. */
static X509 *x509_of(const struct td_cert *c)
{
	return c && c->parsed ? entry_of(c)->x509 : NULL;
}

bool td_x509_issued_by(const struct td_cert *child, const struct td_cert *issuer)
{
	X509 *cx = x509_of(child), *ix = x509_of(issuer);
	struct entry *ce;
	EVP_PKEY *pk;
	bool yes;

	if (!cx || !ix)
		return false;
	ce = entry_of(child);
	if (ce->memo_set && memcmp(ce->memo_issuer, issuer->sha256, sizeof ce->memo_issuer) == 0)
		return ce->memo_result;
	ERR_set_mark();
	pk = X509_get0_pubkey(ix);
	yes = pk && X509_NAME_cmp(X509_get_issuer_name(cx), X509_get_subject_name(ix)) == 0 &&
	      X509_verify(cx, pk) == 1;
	ERR_pop_to_mark();
	ce->memo_set = true;
	ce->memo_result = yes;
	memcpy(ce->memo_issuer, issuer->sha256, sizeof ce->memo_issuer);
	return yes;
}

int td_x509_check_host(const struct td_cert *cert, const uint8_t *name, size_t len)
{
	X509 *x = x509_of(cert);
	int r;

	if (!x || !name || len == 0 || memchr(name, '\0', len))
		return -1;
	ERR_set_mark();
	r = X509_check_host(x, (const char *)name, len, 0, NULL);
	ERR_pop_to_mark();
	return r == 1 ? 1 : r == 0 ? 0 : -1;
}

struct td_x509_store {
	X509_STORE *store;
};

static bool has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* A directory: hashed lookup (openssl rehash) and, so that a plain folder
 * of PEM files works too, every *.pem, *.crt and *.cer in it. */
static void store_load_dir(X509_STORE *st, const char *path)
{
	char file[4096];
	struct dirent *d;
	DIR *dir;

	X509_STORE_load_path(st, path);
	dir = opendir(path);
	if (!dir)
		return;
	while ((d = readdir(dir)) != NULL) {
		if (!has_suffix(d->d_name, ".pem") && !has_suffix(d->d_name, ".crt") &&
		    !has_suffix(d->d_name, ".cer"))
			continue;
		if (snprintf(file, sizeof file, "%s/%s", path, d->d_name) >= (int)sizeof file)
			continue;
		X509_STORE_load_file(st, file);
	}
	closedir(dir);
}

struct td_x509_store *td_x509_store_load(const char *path, char *err, size_t errlen)
{
	struct td_x509_store *s = calloc(1, sizeof *s);
	struct stat sb;

	td_err_format(err, errlen, "%s", "");
	if (!s || !(s->store = X509_STORE_new())) {
		td_err_format(err, errlen, "%s: out of memory", path);
		free(s);
		return NULL;
	}
	ERR_set_mark();
	if (stat(path, &sb) != 0) {
		td_err_format(err, errlen, "%s: %s", path,
			      errno == ENOENT ? "no such file or directory" : strerror(errno));
		goto fail;
	}
	if (S_ISDIR(sb.st_mode)) {
		store_load_dir(s->store, path);
	} else if (X509_STORE_load_file(s->store, path) != 1) {
		td_err_format(err, errlen, "%s: no certificate in it", path);
		goto fail;
	}
	if (sk_X509_OBJECT_num(X509_STORE_get0_objects(s->store)) == 0 &&
	    !S_ISDIR(sb.st_mode)) {
		td_err_format(err, errlen, "%s: no certificate in it", path);
		goto fail;
	}
	ERR_pop_to_mark();
	return s;
fail:
	ERR_pop_to_mark();
	td_x509_store_free(s);
	return NULL;
}

void td_x509_store_free(struct td_x509_store *st)
{
	if (!st)
		return;
	X509_STORE_free(st->store);
	free(st);
}

bool td_x509_verify(const struct td_x509_store *st, const struct td_cert *const *chain, size_t n,
		    int64_t at, char *verdict, size_t vlen, int *depth)
{
	STACK_OF(X509) *untrusted = NULL;
	X509_STORE_CTX *ctx = NULL;
	bool ok = false;

	*depth = -1;
	if (!st || !chain || n == 0) {
		td_err_format(verdict, vlen, "no certificate to verify");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!x509_of(chain[i])) {
			td_err_format(verdict, vlen, "certificate [%zu] did not parse", i);
			*depth = (int)i;
			return false;
		}
	}
	ERR_set_mark();
	untrusted = sk_X509_new_null();
	ctx = X509_STORE_CTX_new();
	td_err_format(verdict, vlen, "out of memory");
	if (!untrusted || !ctx)
		goto out;
	for (size_t i = 1; i < n; i++)
		if (!sk_X509_push(untrusted, x509_of(chain[i]))) /* borrowed */
			goto out;
	if (X509_STORE_CTX_init(ctx, st->store, x509_of(chain[0]), untrusted) != 1)
		goto out;
	/* sets X509_V_FLAG_USE_CHECK_TIME: the capture's time, not now */
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)at);
	if (X509_verify_cert(ctx) == 1) {
		ok = true;
		td_err_format(verdict, vlen, "ok");
	} else {
		td_err_format(verdict, vlen, "%s",
			      X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		*depth = X509_STORE_CTX_get_error_depth(ctx);
	}
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	ERR_pop_to_mark();
	return ok;
}

/* Reads a whole file of at most TD_X509_MAX_DER bytes. */
static enum td_err slurp(const char *path, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = NULL;
	size_t n;

	if (!f) {
		td_err_format(err, errlen, "%s: %s", path,
			      errno == ENOENT ? "no such file" : strerror(errno));
		return TD_ERR_IO;
	}
	b = malloc(TD_X509_MAX_DER + 1);
	if (!b) {
		fclose(f);
		td_err_format(err, errlen, "%s: out of memory", path);
		return TD_ERR_NOMEM;
	}
	n = fread(b, 1, TD_X509_MAX_DER + 1, f);
	if (ferror(f)) {
		td_err_format(err, errlen, "%s: %s", path, strerror(errno));
		fclose(f);
		free(b);
		return TD_ERR_IO;
	}
	fclose(f);
	if (n > TD_X509_MAX_DER) {
		td_err_format(err, errlen, "%s: larger than 1 MiB", path);
		free(b);
		return TD_ERR_TOO_BIG;
	}
	*buf = b;
	*len = n;
	return TD_OK;
}

/* PEM when an encapsulation boundary appears anywhere (RFC 7468 §2). */
static bool looks_like_pem(const uint8_t *buf, size_t len)
{
	static const char begin[] = "-----BEGIN ";
	const size_t n = sizeof begin - 1;

	for (size_t i = 0; len >= n && i <= len - n; i++)
		if (memcmp(buf + i, begin, n) == 0)
			return true;
	return false;
}

/* The DER of the first CERTIFICATE block of a PEM text; NULL when none. */
static unsigned char *pem_first_cert(const uint8_t *buf, size_t len, long *dlen)
{
	BIO *b = BIO_new_mem_buf(buf, (int)len);
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;

	if (!b)
		return NULL;
	while (PEM_read_bio(b, &name, &header, &data, dlen) == 1) {
		bool cert = strcmp(name, PEM_STRING_X509) == 0 || strcmp(name, PEM_STRING_X509_OLD) == 0;

		OPENSSL_free(name);
		OPENSSL_free(header);
		if (cert)
			break;
		OPENSSL_free(data);
		data = NULL;
	}
	BIO_free(b);
	return data;
}

enum td_err td_x509_cert_load(struct td_x509_cache *c, const char *path,
			      const struct td_cert **out, char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	long dlen = 0;
	const struct td_cert *cert = NULL;
	enum td_err ret;
	bool pem;

	*out = NULL;
	td_err_format(err, errlen, "%s", "");
	ret = slurp(path, &buf, &len, err, errlen);
	if (ret != TD_OK)
		return ret;
	ERR_set_mark();
	pem = looks_like_pem(buf, len);
	if (pem) {
		der = pem_first_cert(buf, len, &dlen);
		if (der)
			cert = td_x509_cache_get(c, der, (size_t)dlen);
	} else {
		cert = td_x509_cache_get(c, buf, len);
	}
	ERR_pop_to_mark();
	if (cert && cert->parsed) {
		*out = cert;
		ret = TD_OK;
	} else if (!cert && (der || !pem)) {
		td_err_format(err, errlen, "%s: out of memory", path);
		ret = TD_ERR_NOMEM;
	} else {
		td_x509_cert_release(c, cert);
		td_err_format(err, errlen, "%s: not a certificate (PEM or DER)", path);
		ret = TD_ERR_MALFORMED;
	}
	OPENSSL_free(der);
	free(buf);
	return ret;
}

/* ---- export ------------------------------------------------------------- */

static enum td_err write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return TD_ERR_IO;
		p += w;
		n -= (size_t)w;
	}
	return TD_OK;
}

/* The target exists: TD_OK when it is a regular file (not a symlink) whose
 * bytes are exactly data, TD_ERR_EXISTS otherwise. O_NONBLOCK so that a
 * FIFO planted at the name cannot hang us. */
static enum td_err same_content(const char *path, const uint8_t *data, size_t n, char *err,
				size_t errlen)
{
	enum td_err ret = TD_ERR_EXISTS;
	uint8_t *buf = NULL;
	size_t got = 0;
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ELOOP)
			td_err_format(err, errlen, "%s: is a symbolic link; not followed", path);
		else {
			td_err_format(err, errlen, "%s: exists but cannot be read: %s", path,
				      strerror(errno));
			ret = TD_ERR_IO;
		}
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		td_err_format(err, errlen, "%s: exists and is not a regular file", path);
		goto out;
	}
	if ((uintmax_t)st.st_size != n) {
		td_err_format(err, errlen, "%s: exists with other content", path);
		goto out;
	}
	buf = malloc(n ? n : 1);
	if (!buf) {
		ret = TD_ERR_NOMEM;
		td_err_format(err, errlen, "%s: out of memory", path);
		goto out;
	}
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got != n || memcmp(buf, data, n) != 0) {
		td_err_format(err, errlen, "%s: exists with other content", path);
		goto out;
	}
	ret = TD_OK;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Creates path with exactly data, or accepts an identical existing file. */
static enum td_err write_new_file(const char *path, const uint8_t *data, size_t n, char *err,
				  size_t errlen)
{
	enum td_err ret;
	int saved;
	int fd = td_file_create(path, err, errlen);

	if (fd < 0) {
		if (errno == EEXIST || errno == ELOOP)
			return same_content(path, data, n, err, errlen);
		return TD_ERR_IO;
	}
	ret = write_all(fd, data, n);
	saved = errno;
	if (close(fd) != 0 && ret == TD_OK) {
		ret = TD_ERR_IO;
		saved = errno;
	}
	if (ret != TD_OK) {
		td_err_format(err, errlen, "%s: write failed: %s", path, strerror(saved));
		/* we created it (O_EXCL): do not leave a partial file behind
		 * for the next run to call "other content" */
		unlink(path);
	}
	return ret;
}

/* PEM of the DER as `openssl x509 -outform PEM` writes it. */
static char *der_to_pem(const uint8_t *der, size_t len, size_t *pem_len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data = NULL, *pem = NULL;
	long n;

	if (!b)
		return NULL;
	if (PEM_write_bio(b, PEM_STRING_X509, "", der, (long)len) <= 0)
		goto out;
	n = BIO_get_mem_data(b, &data);
	if (n <= 0)
		goto out;
	pem = malloc((size_t)n);
	if (!pem)
		goto out;
	memcpy(pem, data, (size_t)n);
	*pem_len = (size_t)n;
out:
	BIO_free(b);
	return pem;
}

enum td_err td_x509_export(const struct td_cert *cert, const char *dir, char *err, size_t errlen)
{
	char hex[2 * TD_SHA256_LEN + 1];
	char path[4096];
	char *pem = NULL;
	size_t pem_len = 0;
	enum td_err ret;
	int n;

	td_err_format(err, errlen, "%s", "");
	if (!cert || !dir) {
		td_err_format(err, errlen, "export: no certificate or directory");
		return TD_ERR_ARG;
	}
	td_hex(cert->sha256, TD_SHA256_LEN, hex);
	if (!cert->parsed || !cert->der) {
		td_err_format(err, errlen, "%s: not a parsed certificate; nothing to export", hex);
		return TD_ERR_ARG;
	}
	ERR_set_mark();
	pem = der_to_pem(cert->der, cert->der_len, &pem_len);
	if (!pem) {
		td_err_format(err, errlen, "%s: cannot encode PEM", hex);
		ret = TD_ERR_NOMEM;
		goto out;
	}
	n = snprintf(path, sizeof path, "%s/%s.der", dir, hex);
	if (n < 0 || (size_t)n >= sizeof path) {
		td_err_format(err, errlen, "%s: directory name too long", dir);
		ret = TD_ERR_ARG;
		goto out;
	}
	ret = write_new_file(path, cert->der, cert->der_len, err, errlen);
	if (ret != TD_OK)
		goto out;
	snprintf(path, sizeof path, "%s/%s.pem", dir, hex);
	ret = write_new_file(path, (const uint8_t *)pem, pem_len, err, errlen);
out:
	free(pem);
	ERR_pop_to_mark();
	return ret;
}
