/* check_chain.c - certificate extension facts (td_x509.h), chain facts at
 * the capture's time and the consistency table (td_chain.h).
 *
 * A small PKI is made at run time with the openssl CLI in a mkdtemp
 * directory: a root, an intermediate, leaves of every key type and every
 * defect the chain stage reports (wrong order, missing intermediate, root
 * sent, duplicate, self-signed leaf, leaf with CA:TRUE, RSA 1024, EC P-224,
 * DSA, MD5 and SHA-1 signatures, dates around a chosen capture time).
 * Every expected fact comes from the CLI (`openssl x509 -text/-ext/
 * -checkhost/-startdate`, `openssl verify -attime`, `openssl pkey`), never
 * from tlsdiag. Sessions are built by hand from the certificates, as the
 * TLS parser would leave them.
 */
#include <check.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "td_chain.h"
#include "td_digest.h"
#include "td_session.h"
#include "td_test_util.h"
#include "td_x509.h"

/* ---- fixture ------------------------------------------------------------ */

#define SIGN_BY(ca, name, extra)                                                                   \
	"openssl x509 -req -in " name ".csr -CA " ca ".pem -CAkey " ca ".key -out " name ".pem " extra

static const char *const make_pki =
	"set -e; "
	/* root and intermediate: CA:TRUE */
	"openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.pem -days 3650"
	" -subj '/O=Chain Test/CN=Chain Root' -addext 'basicConstraints=critical,CA:TRUE'"
	" -addext 'keyUsage=critical,keyCertSign,cRLSign'; "
	"openssl req -newkey rsa:2048 -nodes -keyout inter.key -out inter.csr"
	" -subj '/O=Chain Test/CN=Chain Intermediate'; "
	"printf 'basicConstraints=critical,CA:TRUE,pathlen:0\\nkeyUsage=critical,keyCertSign,cRLSign\\n"
	"subjectKeyIdentifier=hash\\nauthorityKeyIdentifier=keyid\\n' > ca.ext; "
	SIGN_BY("root", "inter", "-days 3650 -extfile ca.ext") "; "
	/* the intermediate before a key rollover: its name, another key */
	"openssl req -newkey rsa:2048 -nodes -keyout oldinter.key -out oldinter.csr"
	" -subj '/O=Chain Test/CN=Chain Intermediate'; "
	SIGN_BY("root", "oldinter", "-days 3650 -extfile ca.ext") "; "
	/* leaf: RSA 2048, SANs with a wildcard, 20 days */
	"printf 'basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature,keyEncipherment\\n"
	"extendedKeyUsage=serverAuth,clientAuth,1.2.3.4.5\\nsubjectAltName=DNS:www.test.example,"
	"DNS:*.wild.test.example\\nsubjectKeyIdentifier=hash\\nauthorityKeyIdentifier=keyid\\n"
	"crlDistributionPoints=URI:http://crl.test.example/a.crl,URI:http://crl2.test.example/b.crl\\n"
	"authorityInfoAccess=OCSP;URI:http://ocsp.test.example/,caIssuers;URI:http://ca.test.example/i.crt\\n"
	"1.3.6.1.4.1.11129.2.4.2=DER:0468%s\\n' \"$(cat sct.hex)\" > leaf.ext; "
	"openssl req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj '/CN=www.test.example'; "
	SIGN_BY("inter", "leaf", "-days 20 -set_serial 1 -extfile leaf.ext") "; "
	/* the same key, issued again: another certificate, same public key */
	SIGN_BY("inter", "leaf", "-days 20 -set_serial 2 -extfile leaf.ext -out leaf-again.pem") "; "
	/* another leaf for the same name, another key, a year */
	"openssl req -newkey rsa:2048 -nodes -keyout other.key -out other.csr -subj '/CN=www.test.example'; "
	"printf 'subjectAltName=DNS:www.test.example\\n' > other.ext; "
	SIGN_BY("inter", "other", "-days 365 -extfile other.ext") "; "
	/* leaf with CA:TRUE */
	"openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leafca.key"
	" -out leafca.csr -subj '/CN=leafca.test.example'; "
	"printf 'basicConstraints=critical,CA:TRUE\\nsubjectAltName=DNS:leafca.test.example\\n' > leafca.ext; "
	SIGN_BY("inter", "leafca", "-days 365 -extfile leafca.ext") "; "
	/* self-signed leaf */
	"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout self.key"
	" -out self.pem -days 365 -subj '/CN=self.test.example'"
	" -addext 'subjectAltName=DNS:self.test.example'; "
	/* weak keys and signatures */
	"openssl req -newkey rsa:1024 -nodes -keyout rsa1024.key -out rsa1024.csr -subj /CN=rsa1024; "
	SIGN_BY("inter", "rsa1024", "-days 365") "; "
	"openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-224 -nodes -keyout ec224.key"
	" -out ec224.csr -subj /CN=ec224; "
	SIGN_BY("inter", "ec224", "-days 365") "; "
	"openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 -out dsa.param; "
	"openssl genpkey -paramfile dsa.param -out dsa.key; "
	"openssl req -new -key dsa.key -subj /CN=dsa -out dsa.csr; "
	SIGN_BY("inter", "dsa", "-days 365") "; "
	"openssl req -newkey rsa:2048 -nodes -keyout sha1.key -out sha1.csr -subj /CN=sha1; "
	SIGN_BY("inter", "sha1", "-days 365 -sha1") "; "
	SIGN_BY("inter", "sha1", "-days 365 -md5 -out md5.pem") "; "
	"for f in *.pem; do openssl x509 -in $f -outform DER -out ${f%.pem}.der; done";

/* Two SCTs (RFC 6962 §3.2) in a SignedCertificateTimestampList, 104 bytes:
 * list length 0x66, then twice: length 0x31, version 0, a 32-byte log id,
 * an 8-byte timestamp, no extensions, ecdsa/sha256, a 2-byte signature. */
static void write_sct_hex(const char *dir)
{
	char hex[2 * 104 + 1] = "0066";
	size_t o = 4;

	for (int k = 0; k < 2; k++) {
		o += (size_t)sprintf(hex + o, "0031%02x", 0);
		for (int i = 0; i < 32; i++)
			o += (size_t)sprintf(hex + o, "%02x", (unsigned)(k * 32 + i));
		o += (size_t)sprintf(hex + o, "0000017f00000000" "0000" "0403" "0002" "3000");
	}
	ck_assert_uint_eq(o, 2 * 104);
	td_test_write_file(dir, "sct.hex", hex, o);
}

static struct {
	char dir[64];
	bool ready;
	char why[256];
	struct td_x509_cache *cache;
} fx;

static void setup(void)
{
	memset(&fx, 0, sizeof fx);
	snprintf(fx.dir, sizeof fx.dir, "/tmp/td_chain_XXXXXX");
	if (!mkdtemp(fx.dir)) {
		snprintf(fx.why, sizeof fx.why, "mkdtemp: %s", strerror(errno));
		return;
	}
	write_sct_hex(fx.dir);
	if (td_test_run(NULL, fx.dir, "%s", make_pki) != 0) {
		snprintf(fx.why, sizeof fx.why, "making the PKI failed (see %s/stderr.txt)", fx.dir);
		return;
	}
	fx.ready = true;
}

static void teardown(void)
{
	if (fx.dir[0] && fx.ready)
		td_test_run(NULL, fx.dir, "cd / && rm -rf '%s'", fx.dir);
	memset(&fx, 0, sizeof fx);
}

static void per_test_up(void)
{
	fx.cache = td_x509_cache_new(64);
}

static void per_test_down(void)
{
	td_x509_cache_free(fx.cache);
	fx.cache = NULL;
}

#define NEED_FIXTURE() ck_assert_msg(fx.ready, "fixture: %s", fx.why)

/* A certificate of the fixture from the cache (reference kept by the
 * cache until it is freed). */
static const struct td_cert *cert(const char *name)
{
	char fname[64];
	size_t len;
	uint8_t *der;
	const struct td_cert *c;

	snprintf(fname, sizeof fname, "%s.der", name);
	der = td_test_read_file(fx.dir, fname, &len);
	c = td_x509_cache_get(fx.cache, der, len);
	free(der);
	ck_assert_ptr_nonnull(c);
	ck_assert_msg(c->parsed, "%s: %s", name, c->error);
	return c;
}

/* A session as the parser leaves it: these certificates, this SNI, first
 * packet at `at`. */
static void session(struct td_session *s, const char *const *names, size_t n, const char *sni,
		    int64_t at)
{
	td_test_session_reset(s);
	s->is_tls = true;
	s->server.family = 4;
	s->server.bytes[0] = 192;
	s->server.bytes[3] = 7;
	s->server_port = 443;
	s->first_ts.sec = at;
	for (size_t i = 0; i < n; i++)
		td_test_set_cert(s, i, cert(names[i]));
	s->n_certs = (uint8_t)n;
	s->total_certs = (uint16_t)n;
	if (sni) {
		td_session_ch(s)->seen = true;
		td_session_ch(s)->has_sni = true;
		td_session_ch(s)->sni.len = (uint16_t)strlen(sni);
		memcpy(td_session_ch(s)->sni.bytes, sni, strlen(sni));
	}
}

/* ---- expectations from the CLI ------------------------------------------ */

static int64_t cli_date(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char mon[4];
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	ck_assert_int_eq(sscanf(s, "%3s %d %d:%d:%d %d GMT", mon, &tm.tm_mday, &tm.tm_hour,
				&tm.tm_min, &tm.tm_sec, &tm.tm_year),
			 6);
	tm.tm_mon = (int)(strstr(months, mon) - months) / 3;
	tm.tm_year -= 1900;
	return (int64_t)timegm(&tm);
}

/* notBefore or notAfter ("-startdate"/"-enddate") of a fixture file. */
static int64_t cli_time(const char *name, const char *opt)
{
	char *out = td_test_sh(fx.dir, "openssl x509 -in %s.pem -noout %s", name, opt);
	char *eq = strchr(out, '=');
	int64_t t;

	ck_assert_ptr_nonnull(eq);
	t = cli_date(eq + 1);
	free(out);
	return t;
}

/* The text after `key` up to the end of its line, trimmed, in dst. */
static bool cli_after(const char *text, const char *key, char *dst, size_t n)
{
	const char *p = strstr(text, key);
	size_t i = 0;

	if (!p)
		return false;
	p += strlen(key);
	while (*p == ' ' || *p == '\n')
		p++;
	while (p[i] && p[i] != '\n' && i + 1 < n) {
		dst[i] = p[i];
		i++;
	}
	dst[i] = '\0';
	return true;
}

/* "AB:CD:..." as the CLI prints a key identifier -> "abcd..." */
static void colon_hex_lower(const char *in, char *out)
{
	size_t j = 0;

	for (; *in; in++)
		if (*in != ':')
			out[j++] = (char)(*in >= 'A' && *in <= 'F' ? *in - 'A' + 'a' : *in);
	out[j] = '\0';
}

/* SPKI SHA-256 hex of a fixture certificate, by the CLI. */
static void cli_spki(const char *name, char out[65])
{
	char *o = td_test_sh(fx.dir,
			     "openssl x509 -in %s.pem -pubkey -noout | openssl pkey -pubin -outform DER"
			     " | openssl dgst -sha256 -r",
			     name);
	snprintf(out, 65, "%.64s", o);
	free(o);
}

/* The first error `openssl verify` reports ("error 20 at 0 depth lookup:
 * unable to get local issuer certificate"): its words and depth, or "ok". */
static void cli_verify(const char *args, char *words, size_t n, int *depth)
{
	char *out = NULL;
	int st = td_test_run(&out, fx.dir, "openssl verify %s 2>&1", args);
	const char *e = strstr(out, "error ");
	const char *colon;

	*depth = -1;
	if (st == 0) {
		snprintf(words, n, "ok");
		free(out);
		return;
	}
	ck_assert_msg(e != NULL, "no error line in: %s", out);
	ck_assert_int_eq(sscanf(e, "error %*d at %d depth", depth), 1);
	colon = strstr(e, "lookup:");
	ck_assert_ptr_nonnull(colon);
	cli_after(colon, "lookup:", words, n);
	free(out);
}

/* ---- extension facts ------------------------------------------------------ */

START_TEST(test_extension_facts)
{
	NEED_FIXTURE();
	const struct td_cert *c = cert("leaf");
	const struct td_cert_ext *e = &c->ext;
	char *text = td_test_sh(fx.dir, "openssl x509 -in leaf.pem -noout -text");
	char v[512], hex[128];
	unsigned n_sct = 0;

	/* keyUsage: the CLI's words, mapped to RFC 5280 names */
	ck_assert(cli_after(text, "X509v3 Key Usage: critical", v, sizeof v));
	ck_assert_str_eq(v, "Digital Signature, Key Encipherment");
	ck_assert(e->has_key_usage);
	ck_assert_uint_eq(e->key_usage, TD_KU_DIGITAL_SIGNATURE | TD_KU_KEY_ENCIPHERMENT);
	ck_assert_str_eq(td_x509_key_usage_name(0), "digitalSignature");
	ck_assert_str_eq(td_x509_key_usage_name(2), "keyEncipherment");
	/* extendedKeyUsage, in order */
	ck_assert(cli_after(text, "X509v3 Extended Key Usage:", v, sizeof v));
	ck_assert_str_eq(v, "TLS Web Server Authentication, TLS Web Client Authentication, 1.2.3.4.5");
	ck_assert_uint_eq(e->n_eku, 3);
	ck_assert_str_eq(e->eku[0], "serverAuth");
	ck_assert_str_eq(e->eku[1], "clientAuth");
	ck_assert_str_eq(e->eku[2], "1.2.3.4.5");
	/* basicConstraints */
	ck_assert(cli_after(text, "X509v3 Basic Constraints: critical", v, sizeof v));
	ck_assert_str_eq(v, "CA:FALSE");
	ck_assert(e->has_basic_constraints);
	ck_assert(!e->is_ca);
	ck_assert_int_eq(e->path_len, -1);
	/* key identifiers */
	ck_assert(cli_after(text, "X509v3 Subject Key Identifier:", v, sizeof v));
	colon_hex_lower(v, hex);
	ck_assert_str_eq(e->subject_key_id, hex);
	ck_assert(cli_after(text, "X509v3 Authority Key Identifier:", v, sizeof v));
	colon_hex_lower(strncmp(v, "keyid:", 6) == 0 ? v + 6 : v, hex);
	ck_assert_str_eq(e->authority_key_id, hex);
	/* and the AKI is the intermediate's SKI */
	ck_assert_str_eq(e->authority_key_id, cert("inter")->ext.subject_key_id);
	/* CRL and OCSP */
	ck_assert_ptr_nonnull(strstr(text, "URI:http://crl.test.example/a.crl"));
	ck_assert_uint_eq(e->n_crl_urls, 2);
	ck_assert_str_eq(e->crl_urls[0], "http://crl.test.example/a.crl");
	ck_assert_str_eq(e->crl_urls[1], "http://crl2.test.example/b.crl");
	ck_assert_ptr_nonnull(strstr(text, "OCSP - URI:http://ocsp.test.example/"));
	ck_assert_uint_eq(e->n_ocsp_urls, 1);
	ck_assert_str_eq(e->ocsp_urls[0], "http://ocsp.test.example/");
	/* SCTs: as many as the CLI prints */
	for (const char *p = text; (p = strstr(p, "Signed Certificate Timestamp:")); p++)
		n_sct++;
	ck_assert_uint_eq(n_sct, 2);
	ck_assert(e->has_scts);
	ck_assert_uint_eq(e->n_scts, n_sct);
	ck_assert_uint_eq(e->bad_extensions, 0);
	free(text);

	/* the intermediate: CA with a path length, no SCT, no EKU */
	c = cert("inter");
	text = td_test_sh(fx.dir, "openssl x509 -in inter.pem -noout -ext basicConstraints,keyUsage");
	ck_assert_ptr_nonnull(strstr(text, "CA:TRUE, pathlen:0"));
	ck_assert_ptr_nonnull(strstr(text, "Certificate Sign, CRL Sign"));
	ck_assert(c->ext.is_ca);
	ck_assert_int_eq(c->ext.path_len, 0);
	ck_assert_uint_eq(c->ext.key_usage, TD_KU_KEY_CERT_SIGN | TD_KU_CRL_SIGN);
	ck_assert(!c->ext.has_scts);
	ck_assert_uint_eq(c->ext.n_eku, 0);
	ck_assert_ptr_null(c->ext.eku);
	free(text);
	/* no extensions at all (rsa1024 has none but the defaults) */
	c = cert("rsa1024");
	text = td_test_sh(fx.dir, "openssl x509 -in rsa1024.pem -noout -text");
	ck_assert(strstr(text, "X509v3 Key Usage") == NULL);
	ck_assert(!c->ext.has_key_usage);
	ck_assert_ptr_null(c->ext.crl_urls);
	free(text);
}
END_TEST

/* pin-sha256 and the RSA modulus hash, as the usual CLI pipelines give them. */
START_TEST(test_key_hashes)
{
	NEED_FIXTURE();
	static const char *const names[] = { "leaf", "rsa1024", "ec224", "dsa", "self" };

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		const struct td_cert *c = cert(names[i]);
		char *b64 = td_test_sh(fx.dir,
				       "openssl x509 -in %s.pem -pubkey -noout | openssl pkey -pubin"
				       " -outform DER | openssl dgst -sha256 -binary | openssl base64",
				       names[i]);
		char *text = td_test_sh(fx.dir, "openssl x509 -in %s.pem -noout -text", names[i]);
		char hex[65];

		b64[strcspn(b64, "\n")] = '\0';
		ck_assert_str_eq(c->key.spki_sha256_b64, b64);
		if (strstr(text, "rsaEncryption")) {
			char *mod = td_test_sh(fx.dir, "openssl x509 -in %s.pem -noout -modulus"
						       " | openssl dgst -sha256 -r", names[i]);
			ck_assert(c->key.has_modulus);
			ck_assert_str_eq(td_hex(c->key.rsa_modulus_sha256, 32, hex),
					 (mod[64] = '\0', mod));
			free(mod);
		} else {
			ck_assert(!c->key.has_modulus);
		}
		free(b64);
		free(text);
	}
}
END_TEST

/* ---- signatures, names, loading ------------------------------------------ */

START_TEST(test_issued_by)
{
	NEED_FIXTURE();
	static const struct {
		const char *child, *issuer;
	} pairs[] = {
		{ "leaf", "inter" }, { "inter", "root" }, { "leaf", "root" },  { "inter", "leaf" },
		{ "root", "root" },  { "self", "self" },  { "self", "inter" }, { "md5", "inter" },
	};

	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		/* -partial_chain: the issuer file alone is the anchor; no time,
		 * so only names and the signature decide */
		int want = td_test_run(NULL, fx.dir,
				       "openssl verify -partial_chain -no_check_time -CAfile %s.pem"
				       " %s.pem >/dev/null 2>&1",
				       pairs[i].issuer, pairs[i].child) == 0;
		bool got = td_x509_issued_by(cert(pairs[i].child), cert(pairs[i].issuer));

		ck_assert_msg(got == (bool)want, "%s by %s: %d, openssl %d", pairs[i].child,
			      pairs[i].issuer, got, want);
		/* asked again: the remembered answer is the same */
		ck_assert(td_x509_issued_by(cert(pairs[i].child), cert(pairs[i].issuer)) == got);
	}
	ck_assert(!td_x509_issued_by(NULL, cert("root")));
	/* not its own issuer: the CLI shows different names (verify would
	 * accept a certificate that is its own trust anchor, so it is no
	 * judge here) */
	char *o = td_test_sh(fx.dir, "openssl x509 -in leaf.pem -noout -subject -issuer");
	ck_assert_ptr_nonnull(strstr(o, "CN = Chain Intermediate"));
	ck_assert(!td_x509_issued_by(cert("leaf"), cert("leaf")));
	free(o);
}
END_TEST

START_TEST(test_check_host)
{
	NEED_FIXTURE();
	static const char *const names[] = {
		"www.test.example", "WWW.Test.Example", "a.wild.test.example",
		"b.c.wild.test.example", "wild.test.example", "other.example", "test.example",
	};
	const struct td_cert *c = cert("leaf");

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char *out = td_test_sh(fx.dir, "openssl x509 -in leaf.pem -noout -checkhost '%s'",
				       names[i]);
		int want = strstr(out, "does match") != NULL;

		ck_assert_msg(strstr(out, "does match") || strstr(out, "does NOT match"), "%s", out);
		ck_assert_int_eq(td_x509_check_host(c, (const uint8_t *)names[i], strlen(names[i])),
				 want);
		free(out);
	}
	/* an embedded NUL cannot smuggle a suffix in; empty is not a name */
	ck_assert_int_eq(td_x509_check_host(c, (const uint8_t *)"www.test.example\0.evil", 22), -1);
	ck_assert_int_eq(td_x509_check_host(c, (const uint8_t *)"", 0), -1);
}
END_TEST

START_TEST(test_cert_load)
{
	NEED_FIXTURE();
	const struct td_cert *c = NULL;
	char err[512], path[256], want[320], hex[65], *fp;

	snprintf(path, sizeof path, "%s/leaf.pem", fx.dir);
	ck_assert_int_eq(td_x509_cert_load(fx.cache, path, &c, err, sizeof err), TD_OK);
	fp = td_test_sh(fx.dir, "openssl x509 -in leaf.pem -noout -fingerprint -sha256");
	td_test_fingerprint_hex(fp, want, sizeof want);
	ck_assert_str_eq(td_hex(c->sha256, 32, hex), want);
	td_x509_cert_release(fx.cache, c);
	free(fp);
	/* DER too */
	snprintf(path, sizeof path, "%s/leaf.der", fx.dir);
	ck_assert_int_eq(td_x509_cert_load(fx.cache, path, &c, err, sizeof err), TD_OK);
	ck_assert_str_eq(td_hex(c->sha256, 32, hex), want);
	td_x509_cert_release(fx.cache, c);
	/* a key is not a certificate; a missing file */
	snprintf(path, sizeof path, "%s/leaf.key", fx.dir);
	ck_assert_int_eq(td_x509_cert_load(fx.cache, path, &c, err, sizeof err), TD_ERR_MALFORMED);
	snprintf(want, sizeof want, "%s: not a certificate (PEM or DER)", path);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(c);
	snprintf(path, sizeof path, "%s/nope.pem", fx.dir);
	ck_assert_int_eq(td_x509_cert_load(fx.cache, path, &c, err, sizeof err), TD_ERR_IO);
	snprintf(want, sizeof want, "%s: no such file", path);
	ck_assert_str_eq(err, want);
}
END_TEST

/* ---- chain facts ------------------------------------------------------------ */

static void check(struct td_chain_facts *f, const char *const *names, size_t n, const char *sni,
		  int64_t at, const struct td_chain_config *cfg)
{
	struct td_session s = {0};

	session(&s, names, n, sni, at);
	td_chain_check(f, &s, cfg);
	td_session_clear(&s, NULL);
	ck_assert(f->checked);
	ck_assert_int_eq(f->at, at);
}

/* A time inside every fixture certificate's validity, not within 30 days
 * of the leaf's end: one day after the leaf was made... the leaf lives 20
 * days, so it is always "expiring"; the others are not. */
static int64_t mid_time(void)
{
	return cli_time("leaf", "-startdate") + 86400;
}

START_TEST(test_chain_defects)
{
	NEED_FIXTURE();
	struct td_chain_facts f;
	int64_t at = mid_time();

	/* a good chain: in order, tops at a CA */
	check(&f, (const char *[]){ "other", "inter" }, 2, "www.test.example", at, NULL);
	ck_assert(f.order_ok);
	ck_assert(!f.missing_intermediate);
	ck_assert(!f.root_sent);
	ck_assert_uint_eq(f.duplicates, 0);
	ck_assert(!f.self_signed_leaf);
	ck_assert(!f.leaf_is_ca);
	ck_assert_int_eq(f.sni_match, 1);
	ck_assert_uint_eq(f.problems, 0);
	ck_assert_uint_eq(f.checks[0], 0);
	ck_assert_uint_eq(f.checks[1], 0);

	/* wrong order: the root between leaf and intermediate */
	check(&f, (const char *[]){ "other", "root", "inter" }, 3, NULL, at, NULL);
	ck_assert(!f.order_ok);
	ck_assert_uint_eq(f.unchained_at, 0);
	ck_assert(f.root_sent);
	ck_assert(!f.missing_intermediate); /* other -> inter -> root, all sent */
	ck_assert_uint_eq(f.problems, TD_CHAIN_WRONG_ORDER | TD_CHAIN_ROOT_SENT);
	ck_assert_int_eq(f.sni_match, -1);

	/* missing intermediate: the leaf alone, or with the root only */
	check(&f, (const char *[]){ "other" }, 1, NULL, at, NULL);
	ck_assert(f.missing_intermediate);
	ck_assert_uint_eq(f.top, 0);
	ck_assert(f.order_ok);
	check(&f, (const char *[]){ "other", "root" }, 2, NULL, at, NULL);
	ck_assert(f.missing_intermediate);
	ck_assert(!f.order_ok);
	ck_assert(f.root_sent);

	/* the root sent along, in order */
	check(&f, (const char *[]){ "other", "inter", "root" }, 3, NULL, at, NULL);
	ck_assert(f.order_ok);
	ck_assert(f.root_sent);
	ck_assert_uint_eq(f.top, 2);
	ck_assert_uint_eq(f.problems, TD_CHAIN_ROOT_SENT);

	/* a duplicate */
	check(&f, (const char *[]){ "other", "inter", "inter" }, 3, NULL, at, NULL);
	ck_assert_uint_eq(f.duplicates, 1);
	ck_assert(!f.order_ok);
	ck_assert_uint_eq(f.unchained_at, 1);

	/* broken: a wrong intermediate (the issuer's name, another key), per
	 * the CLI: same name as the leaf's issuer, and openssl verify fails */
	char *iss = td_test_sh(fx.dir, "openssl x509 -in other.pem -noout -issuer | sed 's/^issuer=//'");
	char *sub = td_test_sh(fx.dir,
			       "openssl x509 -in oldinter.pem -noout -subject | sed 's/^subject=//'");
	ck_assert_str_eq(iss, sub);
	free(iss);
	free(sub);
	char words[128];
	int depth;
	cli_verify("-CAfile root.pem -untrusted oldinter.pem other.pem", words, sizeof words, &depth);
	ck_assert_str_ne(words, "ok");
	cli_verify("-CAfile root.pem -untrusted inter.pem other.pem", words, sizeof words, &depth);
	ck_assert_str_eq(words, "ok");
	check(&f, (const char *[]){ "other", "oldinter" }, 2, NULL, at, NULL);
	ck_assert(f.broken);
	ck_assert_uint_eq(f.broken_at, 1);
	ck_assert(!f.missing_intermediate); /* the break says more */
	ck_assert(!f.order_ok);
	ck_assert_uint_eq(f.problems, TD_CHAIN_BROKEN);
	/* the wrong one sent along with the right one: still broken */
	check(&f, (const char *[]){ "other", "oldinter", "inter" }, 3, NULL, at, NULL);
	ck_assert(f.broken);
	ck_assert_uint_eq(f.broken_at, 1);
	ck_assert_uint_eq(f.top, 2);
	ck_assert_uint_eq(f.problems, TD_CHAIN_BROKEN);
	/* not broken: out of order, the root or a copy sent along */
	static const char *const not_broken[][3] = {
		{ "other", "root", "inter" }, { "other", "inter", "inter" }, { "other", "root", NULL },
		{ "other", "inter", "root" }, { "other", NULL, NULL },
	};
	for (size_t i = 0; i < sizeof not_broken / sizeof not_broken[0]; i++) {
		size_t n = not_broken[i][2] ? 3 : not_broken[i][1] ? 2 : 1;
		check(&f, not_broken[i], n, NULL, at, NULL);
		ck_assert_msg(!f.broken, "case %zu", i);
		ck_assert(!(f.problems & TD_CHAIN_BROKEN));
	}
	check(&f, (const char *[]){ "other", "root", "inter" }, 3, NULL, at, NULL);
	ck_assert(f.problems & TD_CHAIN_WRONG_ORDER);

	/* self-signed leaf */
	check(&f, (const char *[]){ "self" }, 1, "self.test.example", at, NULL);
	ck_assert(f.self_signed_leaf);
	ck_assert(!f.missing_intermediate);
	ck_assert_int_eq(f.sni_match, 1);
	/* `openssl req -x509` marks it CA:TRUE unless told otherwise */
	char *sbc = td_test_sh(fx.dir, "openssl x509 -in self.pem -noout -ext basicConstraints");
	ck_assert_uint_eq(f.problems, TD_CHAIN_SELF_SIGNED_LEAF |
					      (strstr(sbc, "CA:TRUE") ? TD_CHAIN_LEAF_IS_CA : 0));
	free(sbc);

	/* a leaf marked CA, per the CLI */
	char *bc = td_test_sh(fx.dir, "openssl x509 -in leafca.pem -noout -ext basicConstraints");
	ck_assert_ptr_nonnull(strstr(bc, "CA:TRUE"));
	free(bc);
	check(&f, (const char *[]){ "leafca", "inter" }, 2, "www.test.example", at, NULL);
	ck_assert(f.leaf_is_ca);
	ck_assert_int_eq(f.sni_match, 0);
	ck_assert_uint_eq(f.problems, TD_CHAIN_LEAF_IS_CA | TD_CHAIN_SNI_MISMATCH);
}
END_TEST

/* Weak keys and signatures, against what -text says of each. */
/* The SNI check of td_chain_check() with a memo (td_chain_memo_new) keeps
 * libcrypto's answers by leaf and name: interleaved and repeated, with more pairs than it has slots, each
 * answer is still the one `openssl x509 -checkhost` gives for the core
 * pairs, and the one libcrypto gives when asked afresh for the rest
 * (td_x509_check_host, tied to the CLI by test_check_host). */
START_TEST(test_sni_answers_repeat)
{
	NEED_FIXTURE();
	static const char *const certs[] = { "leaf", "other", "leafca", "self" };
	static const char *const names[] = {
		"www.test.example", "WWW.Test.Example", "a.wild.test.example", "wild.test.example",
		"leafca.test.example", "self.test.example", "other.example",
	};
	enum { NC = sizeof certs / sizeof certs[0], NN = sizeof names / sizeof names[0] };
	int want[NC][NN];
	struct td_chain_facts f;
	struct td_chain_config cfg = { .memo = td_chain_memo_new() };
	int64_t at = mid_time();
	int matches = 0;

	ck_assert_ptr_nonnull(cfg.memo);

	for (size_t c = 0; c < NC; c++) {
		for (size_t n = 0; n < NN; n++) {
			char *out = td_test_sh(fx.dir, "openssl x509 -in %s.pem -noout -checkhost '%s'",
					       certs[c], names[n]);
			ck_assert_msg(strstr(out, "does match") || strstr(out, "does NOT match"), "%s",
				      out);
			want[c][n] = strstr(out, "does match") != NULL;
			matches += want[c][n];
			free(out);
		}
	}
	ck_assert_int_gt(matches, 3); /* both answers are asked for */
	ck_assert_int_lt(matches, NC * NN);
	for (int round = 0; round < 3; round++) {
		for (size_t k = 0; k < NC * NN; k++) {
			/* a different order each round: by name, by certificate, reversed */
			size_t i = round == 2 ? NC * NN - 1 - k : k;
			size_t c = round == 1 ? i / NN : i % NC, n = round == 1 ? i % NN : i / NC;

			check(&f, (const char *[]){ certs[c], "inter" }, 2, names[n], at, &cfg);
			ck_assert_msg(f.sni_match == want[c][n], "round %d: %s for %s: %d", round,
				      certs[c], names[n], f.sni_match);
		}
		/* 300 names, each against the leaf (whose wildcard half of
		 * them match) and a certificate that matches none, each pair
		 * asked twice in a row (the second from the table): 600 pairs
		 * for 64 slots, so slots are taken over by pairs that differ
		 * in the name or in the certificate, and asked again in the
		 * next round */
		for (int j = 0; j < 300; j++) {
			char name[64];

			snprintf(name, sizeof name, j % 2 ? "h%03d.wild.test.example" : "h%03d.mild.test.example",
				 j);
			/* round 1: the leaf alone, so a slot goes from one name
			 * to another for the same certificate */
			for (int k = 0; k < (round == 1 ? 2 : 4); k++) {
				const char *cn = k < 2 ? "leaf" : "other";

				check(&f, (const char *[]){ cn, "inter" }, 2, name, at, &cfg);
				ck_assert_int_eq(f.sni_match, td_x509_check_host(cert(cn), (const uint8_t *)name,
										 strlen(name)));
			}
		}
	}
	td_chain_memo_free(cfg.memo);
}
END_TEST

START_TEST(test_weak)
{
	NEED_FIXTURE();
	static const struct {
		const char *name;
		unsigned want;
	} cases[] = {
		{ "rsa1024", TD_CHK_WEAK_RSA }, { "ec224", TD_CHK_WEAK_EC }, { "dsa", TD_CHK_DSA },
		{ "sha1", TD_CHK_SHA1 },	 { "md5", TD_CHK_MD5 },	  { "other", 0 },
		{ "leafca", 0 },
	};
	struct td_chain_facts f;
	int64_t at = mid_time();

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *text = td_test_sh(fx.dir, "openssl x509 -in %s.pem -noout -text", cases[i].name);
		char alg[128], sig[128], bits[32] = "";
		unsigned want = 0;

		ck_assert(cli_after(text, "Public Key Algorithm:", alg, sizeof alg));
		ck_assert(cli_after(text, "Signature Algorithm:", sig, sizeof sig));
		cli_after(text, "Public-Key: (", bits, sizeof bits);
		if (strcmp(alg, "rsaEncryption") == 0 && atoi(bits) < 2048)
			want |= TD_CHK_WEAK_RSA;
		if (strcmp(alg, "id-ecPublicKey") == 0 && atoi(bits) < 256)
			want |= TD_CHK_WEAK_EC;
		if (strcmp(alg, "dsaEncryption") == 0)
			want |= TD_CHK_DSA;
		if (strstr(sig, "md5"))
			want |= TD_CHK_MD5;
		else if (strstr(sig, "sha1"))
			want |= TD_CHK_SHA1;
		ck_assert_msg(want == cases[i].want, "%s: the CLI says %s %s bits, %s", cases[i].name,
			      alg, bits, sig);
		check(&f, (const char *[]){ cases[i].name, "inter" }, 2, NULL, at, NULL);
		ck_assert_msg(f.checks[0] == want, "%s: checks 0x%x, want 0x%x", cases[i].name,
			      f.checks[0], want);
		ck_assert_uint_eq(f.checks[1], 0);
		free(text);
	}
	/* a self-signed root's own SHA-1 signature is not held against it */
	ck_assert_str_eq(cert("root")->sig_alg, "sha256WithRSAEncryption");
}
END_TEST

/* Dates against capture times chosen around the CLI's notBefore/notAfter. */
START_TEST(test_dates)
{
	NEED_FIXTURE();
	struct td_chain_facts f;
	int64_t nb = cli_time("leaf", "-startdate"), na = cli_time("leaf", "-enddate");
	const char *const chain[] = { "leaf", "inter" };

	ck_assert_int_eq(na - nb, 20 * 86400); /* -days 20 */
	check(&f, chain, 2, NULL, nb - 3600, NULL);
	ck_assert_uint_eq(f.checks[0], TD_CHK_NOT_YET_VALID);
	check(&f, chain, 2, NULL, nb + 86400, NULL);
	ck_assert_uint_eq(f.checks[0], TD_CHK_EXPIRING); /* 19 days left */
	check(&f, chain, 2, NULL, na + 1, NULL);
	ck_assert_uint_eq(f.checks[0], TD_CHK_EXPIRED);
	ck_assert_uint_eq(f.checks[1], 0); /* the intermediate lives ten years */
	/* "other" lives 365 days: fine a day in, expiring in its last 30 */
	na = cli_time("other", "-enddate");
	check(&f, (const char *[]){ "other", "inter" }, 2, NULL, na - 31 * 86400, NULL);
	ck_assert_uint_eq(f.checks[0], 0);
	check(&f, (const char *[]){ "other", "inter" }, 2, NULL, na - 29 * 86400, NULL);
	ck_assert_uint_eq(f.checks[0], TD_CHK_EXPIRING);
}
END_TEST

/* --ca: libcrypto's verdict at the capture's time equals what `openssl
 * verify -attime` says. */
START_TEST(test_ca_verify)
{
	NEED_FIXTURE();
	static const struct {
		const char *leaf, *untrusted; /* untrusted may be NULL */
		int64_t offset;               /* from the leaf's notBefore */
	} cases[] = {
		{ "leaf", "inter", 86400 },   { "leaf", NULL, 86400 },
		{ "leaf", "inter", 40 * 86400 }, { "leaf", "inter", -86400 },
		{ "self", NULL, 86400 },      { "leafca", "inter", 86400 },
	};
	char err[512], path[200], words[320], args[512];
	struct td_x509_store *st;
	struct td_chain_config cfg = { 0 };
	struct td_chain_facts f;
	int64_t nb = cli_time("leaf", "-startdate");
	int depth;

	snprintf(path, sizeof path, "%s/root.pem", fx.dir);
	st = td_x509_store_load(path, err, sizeof err);
	ck_assert_msg(st != NULL, "%s", err);
	cfg.ca = st;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t at = nb + cases[i].offset;
		const char *names[2] = { cases[i].leaf, cases[i].untrusted };

		snprintf(args, sizeof args, "-attime %lld -CAfile root.pem %s%s%s %s.pem",
			 (long long)at, cases[i].untrusted ? "-untrusted " : "",
			 cases[i].untrusted ? cases[i].untrusted : "", cases[i].untrusted ? ".pem" : "",
			 cases[i].leaf);
		cli_verify(args, words, sizeof words, &depth);
		check(&f, names, cases[i].untrusted ? 2 : 1, NULL, at, &cfg);
		ck_assert(f.ca_checked);
		ck_assert_msg(strcmp(f.ca_verdict, words) == 0, "case %zu: '%s', openssl '%s'", i,
			      f.ca_verdict, words);
		ck_assert(f.ca_ok == (strcmp(words, "ok") == 0));
		ck_assert_int_eq(f.ca_depth, depth);
		ck_assert(((f.problems & TD_CHAIN_CA_FAILED) != 0) == !f.ca_ok);
	}
	td_x509_store_free(st);

	/* a directory of PEM files works as well; junk is refused by name */
	snprintf(path, sizeof path, "%s", fx.dir);
	st = td_x509_store_load(path, err, sizeof err);
	ck_assert_ptr_nonnull(st);
	td_x509_store_free(st);
	snprintf(path, sizeof path, "%s/leaf.key", fx.dir);
	ck_assert_ptr_null(td_x509_store_load(path, err, sizeof err));
	snprintf(words, sizeof words, "%s: no certificate in it", path);
	ck_assert_str_eq(err, words);
	snprintf(path, sizeof path, "%s/nope", fx.dir);
	ck_assert_ptr_null(td_x509_store_load(path, err, sizeof err));
	snprintf(words, sizeof words, "%s: no such file or directory", path);
	ck_assert_str_eq(err, words);
}
END_TEST

/* --cert: the leaf against the expected certificates. */
START_TEST(test_expected_cert)
{
	NEED_FIXTURE();
	const struct td_cert *exp[2] = { cert("other"), cert("leaf") };
	const char *paths[2] = { "other.pem", "leaf.pem" };
	struct td_chain_config cfg = { .expected = exp, .expected_paths = paths, .n_expected = 1 };
	struct td_chain_facts f;
	char a[65], b[65], hex[65];
	int64_t at = mid_time();

	cli_spki("leaf", a);
	cli_spki("leaf-again", b);
	ck_assert_str_eq(a, b); /* same key, per the CLI */
	cli_spki("other", b);
	ck_assert_str_ne(a, b);

	/* sent "leaf", expected "other": different certificate and key */
	check(&f, (const char *[]){ "leaf", "inter" }, 2, "www.test.example", at, &cfg);
	ck_assert(f.expected_checked);
	ck_assert(!f.expected_match);
	ck_assert(!f.expected_same_key);
	ck_assert_str_eq(f.expected_path, "other.pem");
	ck_assert_str_eq(td_hex(f.expected_spki_sha256, 32, hex), b);
	ck_assert(f.problems & TD_CHAIN_UNEXPECTED_CERT);
	/* sent "leaf-again", expected "other" or "leaf": the closest is "leaf", same key */
	cfg.n_expected = 2;
	check(&f, (const char *[]){ "leaf-again", "inter" }, 2, NULL, at, &cfg);
	ck_assert(!f.expected_match);
	ck_assert(f.expected_same_key);
	ck_assert_str_eq(f.expected_path, "leaf.pem");
	ck_assert_str_eq(td_hex(f.expected_spki_sha256, 32, hex), a);
	/* sent "leaf": matches the second */
	check(&f, (const char *[]){ "leaf", "inter" }, 2, NULL, at, &cfg);
	ck_assert(f.expected_match);
	ck_assert_str_eq(f.expected_path, "leaf.pem");
	ck_assert(!(f.problems & TD_CHAIN_UNEXPECTED_CERT));
}
END_TEST

/* ---- consistency ------------------------------------------------------------ */

START_TEST(test_consistency)
{
	NEED_FIXTURE();
	struct td_consistency *c = td_consistency_new(8);
	struct td_session s = {0};
	const struct td_consist_entry *e;
	size_t n;
	char a[65], b[65];

	/* www.test.example: leaf, leaf-again (same key), other (another key), leaf again */
	static const char *const leaves[] = { "leaf", "leaf-again", "other", "leaf" };
	/* the SHA-256 fingerprints per the CLI, for the history */
	char fp[4][65];
	for (size_t i = 0; i < 4; i++) {
		char *o = td_test_sh(fx.dir, "openssl x509 -in %s.pem -outform DER | openssl dgst -sha256 -r",
				     leaves[i]);
		snprintf(fp[i], sizeof fp[i], "%.64s", o);
		free(o);
	}
	cli_spki("leaf", a);
	cli_spki("leaf-again", b);
	bool again_same_key = strcmp(a, b) == 0;
	ck_assert(again_same_key); /* issued again from the same CSR */
	/* expected history per connection: changed, key changed, earlier */
	static const struct {
		bool known, changed, key_changed;
		unsigned earlier;
	} want[] = { { false, false, false, 0 }, { true, true, false, 1 }, { true, true, true, 2 },
		     { true, false, false, 3 } };
	for (size_t i = 0; i < 4; i++) {
		struct td_chain_facts f;
		char hex[65];

		session(&s, (const char *[]){ leaves[i] }, 1, "www.test.example", 0);
		s.id = 10 + i;
		s.cert_frame = (uint32_t)(100 + i);
		td_chain_check(&f, &s, NULL);
		td_consistency_add(c, &s, &f);
		ck_assert_int_eq(f.sni_history.known, want[i].known);
		ck_assert_int_eq(f.sni_history.changed, want[i].changed);
		ck_assert_int_eq(f.sni_history.key_changed, want[i].key_changed);
		ck_assert_int_eq((f.problems & TD_CHAIN_SNI_CERT_CHANGED) != 0, want[i].changed);
		if (!want[i].known)
			continue;
		ck_assert_uint_eq(f.sni_history.earlier_connections, want[i].earlier);
		/* the leaf most presented before: the first one (ties go to it) */
		ck_assert_str_eq(td_hex(f.sni_history.earlier.sha256, 32, hex), fp[0]);
		ck_assert_uint_eq(f.sni_history.earlier.first_connection, 10);
		ck_assert_uint_eq(f.sni_history.earlier.first_frame, 100);
		ck_assert_uint_eq(f.sni_history.earlier.connections, 1);
	}
	/* another name on the same server, one certificate */
	session(&s, (const char *[]){ "self" }, 1, "self.test.example", 0);
	td_consistency_add(c, &s, NULL);
	/* no certificate: not counted */
	session(&s, NULL, 0, "www.test.example", 0);
	td_consistency_add(c, &s, NULL);

	cli_spki("other", b);
	int keys = 1 + !again_same_key + (strcmp(a, b) != 0);

	e = td_consistency_entries(c, &n);
	ck_assert_uint_eq(n, 3); /* SNI www, server 192.0.0.7:443, SNI self */
	ck_assert_uint_eq(e[0].kind, TD_CONSIST_SNI);
	ck_assert_mem_eq(e[0].key, "www.test.example", e[0].key_len);
	ck_assert_uint_eq(e[0].connections, 4);
	ck_assert_uint_eq(e[0].n_leaves, 3);
	ck_assert_uint_eq(e[0].distinct_keys, keys);
	ck_assert_uint_eq(e[0].leaves[0].connections, 2);
	ck_assert_uint_eq(e[1].kind, TD_CONSIST_SERVER);
	ck_assert_mem_eq(e[1].key, "192.0.0.7:443", e[1].key_len);
	ck_assert_uint_eq(e[1].connections, 5);
	ck_assert_uint_eq(e[1].n_leaves, 4);
	ck_assert_uint_eq(e[2].n_leaves, 1);
	ck_assert_uint_eq(td_consistency_untracked(c), 0);
	td_consistency_free(c);

	/* a full table counts what it could not hold, and holds no more
	 * memory for it */
	c = td_consistency_new(1);
	size_t empty = td_consistency_bytes(c);
	session(&s, (const char *[]){ "leaf" }, 1, "www.test.example", 0);
	td_consistency_add(c, &s, NULL);
	size_t one = td_consistency_bytes(c);
	ck_assert_uint_gt(one, empty);
	ck_assert_uint_ge(one - empty, sizeof(struct td_consist_entry));
	struct td_chain_facts f;
	td_chain_check(&f, &s, NULL);
	td_consistency_add(c, &s, &f);
	ck_assert(f.sni_history.known); /* the name is in, the endpoint is not */
	e = td_consistency_entries(c, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(td_consistency_untracked(c), 2); /* the endpoint, twice */
	ck_assert_uint_eq(td_consistency_bytes(c), one);
	/* a new name finds no room: no history, counted */
	session(&s, (const char *[]){ "leaf" }, 1, "new.test.example", 0);
	td_chain_check(&f, &s, NULL);
	td_consistency_add(c, &s, &f);
	ck_assert(!f.sni_history.known);
	ck_assert_uint_eq(td_consistency_untracked(c), 4);
	ck_assert_uint_eq(td_consistency_bytes(c), one);
	td_consistency_free(c);

	/* many names: memory grows with them, up to the cap only */
	c = td_consistency_new(100);
	for (unsigned i = 0; i < 300; i++) {
		char name[32];
		snprintf(name, sizeof name, "n%u.test.example", i);
		session(&s, (const char *[]){ "leaf" }, 1, name, 0);
		td_consistency_add(c, &s, NULL);
	}
	e = td_consistency_entries(c, &n);
	ck_assert_uint_eq(n, 100);
	ck_assert_uint_eq(td_consistency_untracked(c), 300 - 99); /* one slot is the endpoint */
	ck_assert_uint_le(td_consistency_bytes(c), 100 * sizeof(struct td_consist_entry) + 4096);
	td_consistency_free(c);
	td_session_clear(&s, NULL);
}
END_TEST

START_TEST(test_ids)
{
	ck_assert_str_eq(td_chain_check_id(0), "expired");
	ck_assert_str_eq(td_chain_check_id(TD_CHK_COUNT - 1), "sha1-signature");
	ck_assert_ptr_null(td_chain_check_id(TD_CHK_COUNT));
	ck_assert_str_eq(td_chain_problem_id(1), "missing-intermediate");
	ck_assert_str_eq(td_chain_problem_id(8), "unexpected-certificate");
	ck_assert_str_eq(td_chain_problem_id(9), "broken");
	ck_assert_str_eq(td_chain_problem_id(TD_CHAIN_PROBLEM_COUNT - 1), "sni-certificate-changed");
	ck_assert_ptr_null(td_chain_problem_id(TD_CHAIN_PROBLEM_COUNT));
}
END_TEST

Suite *td_chain_suite(void)
{
	Suite *s = suite_create("chain");
	TCase *tc = tcase_create("pki");

	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_checked_fixture(tc, per_test_up, per_test_down);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_extension_facts);
	tcase_add_test(tc, test_key_hashes);
	tcase_add_test(tc, test_issued_by);
	tcase_add_test(tc, test_check_host);
	tcase_add_test(tc, test_cert_load);
	tcase_add_test(tc, test_chain_defects);
	tcase_add_test(tc, test_sni_answers_repeat);
	tcase_add_test(tc, test_weak);
	tcase_add_test(tc, test_dates);
	tcase_add_test(tc, test_ca_verify);
	tcase_add_test(tc, test_expected_cert);
	tcase_add_test(tc, test_consistency);
	suite_add_tcase(s, tc);
	tc = tcase_create("ids");
	tcase_add_test(tc, test_ids);
	suite_add_tcase(s, tc);
	return s;
}
