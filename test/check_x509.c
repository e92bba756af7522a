/* check_x509.c - certificate facts, cache and export (td_x509.h).
 *
 * Certificates are generated at run time with the openssl CLI in a mkdtemp
 * directory, and every fact tdlsdiag reports is compared with what the CLI
 * says about the same file, computed independently (fingerprints, serial,
 * names, dates, SANs, key size, exponent, curve, signature algorithm, SPKI
 * hash). Negative tests assert the exact error; the truncation sweep cuts a
 * real certificate at every length.
 *
 * Check gives tests no context pointer, so the fixture (the directory and
 * what is in it) is one file-scope struct, written only by the unchecked
 * setup and teardown.
 */
#include <check.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "td_digest.h"
#include "td_test_util.h"
#include "td_x509.h"

/* ---- fixture ------------------------------------------------------------ */

struct cert_case {
	const char *name;      /* <name>.pem and <name>.der in the fixture dir */
	const char *algorithm; /* expected td_cert_key.algorithm */
	bool self_signed;
	bool light;            /* also made for the quick test cases */
	const char *make;      /* shell commands that write <name>.pem */
};

/* The SAN list and the subject exercise RFC 4514 escaping (comma, plus,
 * quote, UTF-8) and both IP families; "ca" lives until 2125 (a
 * GeneralizedTime, after 2038); "leaf" has a long serial and is signed by
 * "ca", so it must come after it; "v1" is a version 1 certificate. */
static const struct cert_case cert_cases[] = {
	{ "rsa2048", "RSA", true, true,
	  "openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa2048.key -out rsa2048.pem"
	  " -days 30 -utf8"
	  " -subj '/C=DE/O=Example, Inc./OU=R\xc3\xa9seau \\+ \"Ops\"; x=1/CN=www.example.com'"
	  " -addext 'subjectAltName=DNS:www.example.com,DNS:example.com,IP:10.0.0.2,"
	  "IP:2001:db8::1,email:ops@example.com,URI:https://example.com/a,RID:1.2.3.4'" },
	{ "ca", "RSA", true, false,
	  "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 36500"
	  " -subj '/O=Test Authority/CN=Test Root CA'" },
	{ "leaf", "RSA", false, false,
	  "openssl req -newkey rsa:3072 -nodes -keyout leaf.key -out leaf.csr"
	  " -subj '/O=Leaf Org/CN=leaf.example.org'"
	  " && printf 'subjectAltName=DNS:leaf.example.org,DNS:*.leaf.example.org\\n' > leaf.ext"
	  " && openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key"
	  " -set_serial 0x00f1e2d3c4b5a69788123456789abcdef0 -days 10 -sha384 -extfile leaf.ext"
	  " -out leaf.pem" },
	{ "ec256", "EC", true, true,
	  "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ec256.key"
	  " -out ec256.pem -days 2 -subj '/CN=ec256.test' -addext 'subjectAltName=DNS:ec256.test'" },
	{ "ec384", "EC", true, true,
	  "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout ec384.key"
	  " -out ec384.pem -days 3 -sha384 -subj '/CN=ec384.test'"
	  " -addext 'subjectAltName=IP:192.0.2.7,IP:::1'" },
	{ "ed25519", "Ed25519", true, true,
	  "openssl req -x509 -newkey ed25519 -nodes -keyout ed25519.key -out ed25519.pem -days 4"
	  " -subj '/CN=ed25519.test'" },
	{ "v1", "EC", true, true,
	  "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout v1.key"
	  " -subj /CN=v1.test -out v1.csr && openssl x509 -req -in v1.csr -key v1.key -days 1"
	  " -out v1.pem" },
	{ "rsapss", "RSA-PSS", true, false,
	  "openssl req -x509 -newkey rsa-pss -pkeyopt rsa_keygen_bits:2048 -nodes -keyout rsapss.key"
	  " -out rsapss.pem -days 5 -subj '/CN=rsapss.test' -addext 'subjectAltName=DNS:rsapss.test'" },
};
#define N_CERT_CASES (sizeof cert_cases / sizeof cert_cases[0])

static struct {
	char dir[64];
	bool ready;
	char why[512];
} fx;

/* Copies the rest of the line after the first occurrence of key into dst,
 * without trailing blanks. False when key is absent. */
static bool after(const char *text, const char *key, char *dst, size_t n)
{
	const char *p = strstr(text, key);
	size_t i = 0;

	if (!p)
		return false;
	p += strlen(key);
	while (p[i] && p[i] != '\n' && i + 1 < n) {
		dst[i] = p[i];
		i++;
	}
	while (i > 0 && (dst[i - 1] == ' ' || dst[i - 1] == '\r'))
		i--;
	dst[i] = '\0';
	return true;
}

static void fixture_up(bool all)
{
	memset(&fx, 0, sizeof fx);
	snprintf(fx.dir, sizeof fx.dir, "/tmp/td_x509_XXXXXX");
	if (!mkdtemp(fx.dir)) {
		snprintf(fx.why, sizeof fx.why, "mkdtemp: %s", strerror(errno));
		return;
	}
	for (size_t i = 0; i < N_CERT_CASES; i++) {
		const struct cert_case *cc = &cert_cases[i];
		if (!all && !cc->light)
			continue;
		if (td_test_run(NULL, fx.dir,
				"%s && openssl x509 -in %s.pem -outform DER -out %s.der", cc->make,
				cc->name, cc->name) != 0) {
			snprintf(fx.why, sizeof fx.why, "making %s failed (see %s/stderr.txt)",
				 cc->name, fx.dir);
			return;
		}
	}
	fx.ready = true;
}

static void setup_all(void)
{
	fixture_up(true);
}

static void setup_light(void)
{
	fixture_up(false);
}

static void teardown(void)
{
	if (fx.dir[0] && fx.ready)
		td_test_run(NULL, fx.dir, "cd / && rm -rf '%s'", fx.dir);
	memset(&fx, 0, sizeof fx);
}

#define NEED_FIXTURE() ck_assert_msg(fx.ready, "fixture: %s", fx.why)

/* ---- expectations from the CLI ------------------------------------------ */

/* "Nov 28 12:50:00 2025 GMT" (what -startdate prints) to epoch seconds,
 * with the C library's timegm: independent of the code under test. */
static int64_t cli_date(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char mon[4];
	struct tm tm;
	const char *m;

	memset(&tm, 0, sizeof tm);
	ck_assert_int_eq(sscanf(s, "%3s %d %d:%d:%d %d GMT", mon, &tm.tm_mday, &tm.tm_hour,
				&tm.tm_min, &tm.tm_sec, &tm.tm_year),
			 6);
	m = strstr(months, mon);
	ck_assert_msg(m != NULL, "month %s", mon);
	tm.tm_mon = (int)(m - months) / 3;
	tm.tm_year -= 1900;
	return (int64_t)timegm(&tm);
}

/* The CLI writes "IP Address:2001:DB8:0:0:0:0:0:1" and "Registered
 * ID:1.2.3.4"; we write inet_ntop form and "RID:". Converts one CLI entry
 * to ours. */
static void cli_san(const char *in, char *dst, size_t n)
{
	static const char ip[] = "IP Address:", rid[] = "Registered ID:";
	unsigned char addr[16];

	if (strncmp(in, rid, sizeof rid - 1) == 0) {
		snprintf(dst, n, "RID:%s", in + sizeof rid - 1);
		return;
	}
	if (strncmp(in, ip, sizeof ip - 1) != 0) {
		snprintf(dst, n, "%s", in);
		return;
	}
	in += sizeof ip - 1;
	int af = strchr(in, ':') ? AF_INET6 : AF_INET;
	ck_assert_msg(inet_pton(af, in, addr) == 1, "address %s", in);
	snprintf(dst, n, "IP:");
	ck_assert(inet_ntop(af, addr, dst + 3, (socklen_t)(n - 3)) != NULL);
}

static void check_sans(const struct td_cert *cert, const char *name)
{
	char *out = td_test_sh(fx.dir, "openssl x509 -in %s.pem -noout -ext subjectAltName", name);
	char list[2048], want[2048];
	size_t k = 0;
	const char *p = strstr(out, "Subject Alternative Name:");

	if (!p) {
		ck_assert_uint_eq(cert->n_sans, 0);
		ck_assert_ptr_null(cert->sans);
		free(out);
		return;
	}
	ck_assert(after(p, "\n", list, sizeof list));
	for (char *tok = list; *tok;) {
		while (*tok == ' ')
			tok++;
		char *end = strstr(tok, ", ");
		if (end)
			*end = '\0';
		cli_san(tok, want, sizeof want);
		ck_assert_msg(k < cert->n_sans, "missing SAN %s", want);
		ck_assert_str_eq(cert->sans[k], want);
		k++;
		tok = end ? end + 2 : tok + strlen(tok);
	}
	ck_assert_uint_eq(cert->n_sans, k);
	free(out);
}

static void check_key(const struct td_cert *cert, const struct cert_case *cc)
{
	char *text = td_test_sh(fx.dir, "openssl x509 -in %s.pem -noout -text", cc->name);
	char *spki = td_test_sh(fx.dir,
				"openssl x509 -in %s.pem -pubkey -noout | openssl pkey -pubin"
				" -outform DER | openssl dgst -sha256 -r",
				cc->name);
	char v[128], hex[65];
	unsigned bits = 0;
	unsigned long long e = 0;

	ck_assert_str_eq(cert->key.algorithm, cc->algorithm);
	if (after(text, "Public-Key: (", v, sizeof v)) {
		ck_assert_int_eq(sscanf(v, "%u bit", &bits), 1);
		ck_assert_uint_eq(cert->key.bits, bits);
	} else {
		/* the CLI prints no size for Ed25519; EVP_PKEY_get_bits says 256 */
		ck_assert_str_eq(cc->algorithm, "Ed25519");
		ck_assert_uint_eq(cert->key.bits, 256);
	}
	if (after(text, "Exponent: ", v, sizeof v)) {
		ck_assert_int_eq(sscanf(v, "%llu", &e), 1);
		ck_assert_uint_eq(cert->key.rsa_exponent, e);
	} else {
		ck_assert_uint_eq(cert->key.rsa_exponent, 0);
	}
	if (after(text, "ASN1 OID: ", v, sizeof v))
		ck_assert_str_eq(cert->key.curve, v);
	else
		ck_assert_str_eq(cert->key.curve, "");
	if (after(text, "NIST CURVE: ", v, sizeof v))
		ck_assert_str_eq(cert->key.curve_nist, v);
	else
		ck_assert_str_eq(cert->key.curve_nist, "");
	ck_assert(after(text, "Signature Algorithm: ", v, sizeof v));
	ck_assert_str_eq(cert->sig_alg, v);
	ck_assert(after(text, "Version: ", v, sizeof v));
	ck_assert_int_eq(cert->version, atol(v));

	ck_assert_uint_ge(strlen(spki), 64);
	spki[64] = '\0';
	ck_assert_str_eq(td_hex(cert->key.spki_sha256, 32, hex), spki);
	free(text);
	free(spki);
}

/* ---- facts ---------------------------------------------------------------- */

START_TEST(test_cert_facts)
{
	NEED_FIXTURE();
	const struct cert_case *cc = &cert_cases[_i];
	struct td_x509_cache *c = td_x509_cache_new(4);
	char fname[64], hex[65], want[512], *out;
	size_t len;
	uint8_t *der;
	const struct td_cert *cert;

	snprintf(fname, sizeof fname, "%s.der", cc->name);
	der = td_test_read_file(fx.dir, fname, &len);
	ck_assert_ptr_nonnull(c);
	cert = td_x509_cache_get(c, der, len);
	ck_assert_ptr_nonnull(cert);
	ck_assert_msg(cert->parsed, "%s: %s", cc->name, cert->error);
	ck_assert_str_eq(cert->error, "");

	out = td_test_sh(fx.dir, "openssl x509 -in %s.pem -noout -fingerprint -sha256", cc->name);
	td_test_fingerprint_hex(out, want, sizeof want);
	ck_assert_str_eq(td_hex(cert->sha256, 32, hex), want);
	free(out);
	out = td_test_sh(fx.dir, "openssl x509 -in %s.pem -noout -fingerprint -sha1", cc->name);
	td_test_fingerprint_hex(out, want, sizeof want);
	ck_assert_str_eq(td_hex(cert->sha1, 20, hex), want);
	free(out);

	out = td_test_sh(fx.dir, "openssl x509 -in %s.pem -noout -serial", cc->name);
	ck_assert(after(out, "serial=", want, sizeof want));
	ck_assert_str_eq(cert->serial_hex, want);
	free(out);

	out = td_test_sh(fx.dir, "openssl x509 -in %s.pem -noout -subject -nameopt RFC2253",
			 cc->name);
	ck_assert(after(out, "subject=", want, sizeof want));
	ck_assert_str_eq(cert->subject, want);
	free(out);
	/* and one literal, so a CLI that changed its mind would show */
	if (strcmp(cc->name, "rsa2048") == 0)
		ck_assert_str_eq(cert->subject, "CN=www.example.com,OU=R\\C3\\A9seau \\+ "
						"\\\"Ops\\\"\\; x=1,O=Example\\, Inc.,C=DE");
	if (strcmp(cc->name, "v1") == 0)
		ck_assert_int_eq(cert->version, 1);
	if (strcmp(cc->name, "leaf") == 0) {
		ck_assert_str_eq(cert->serial_hex, "F1E2D3C4B5A69788123456789ABCDEF0");
		ck_assert_str_eq(cert->issuer, "CN=Test Root CA,O=Test Authority");
		ck_assert_str_eq(cert->sig_alg, "sha384WithRSAEncryption");
	}
	out = td_test_sh(fx.dir, "openssl x509 -in %s.pem -noout -issuer -nameopt RFC2253",
			 cc->name);
	ck_assert(after(out, "issuer=", want, sizeof want));
	ck_assert_str_eq(cert->issuer, want);
	free(out);

	out = td_test_sh(fx.dir, "openssl x509 -in %s.pem -noout -startdate -enddate", cc->name);
	ck_assert(after(out, "notBefore=", want, sizeof want));
	ck_assert_int_eq(cert->not_before, cli_date(want));
	ck_assert(after(out, "notAfter=", want, sizeof want));
	ck_assert_int_eq(cert->not_after, cli_date(want));
	free(out);

	check_sans(cert, cc->name);
	check_key(cert, cc);
	ck_assert(cert->self_signed == cc->self_signed);

	ck_assert_uint_eq(cert->der_len, len);
	ck_assert_ptr_nonnull(cert->der);
	ck_assert_ptr_ne(cert->der, der);
	ck_assert_mem_eq(cert->der, der, len);

	td_x509_cert_release(c, cert);
	td_x509_cache_free(c);
	free(der);
}
END_TEST

/* td_x509_key_facts on an SPKI the CLI extracted gives what the certificate
 * path gives. */
START_TEST(test_key_facts_spki)
{
	NEED_FIXTURE();
	struct td_x509_cache *c = td_x509_cache_new(4);
	struct td_cert_key k;
	size_t len, slen;
	uint8_t *der = td_test_read_file(fx.dir, "ec384.der", &len), *spki;
	const struct td_cert *cert = td_x509_cache_get(c, der, len);

	free(td_test_sh(fx.dir, "openssl x509 -in ec384.pem -pubkey -noout"
				" | openssl pkey -pubin -outform DER -out ec384.spki"));
	spki = td_test_read_file(fx.dir, "ec384.spki", &slen);
	ck_assert_int_eq(td_x509_key_facts(spki, slen, &k), TD_OK);
	ck_assert_mem_eq(&k, &cert->key, sizeof k);
	ck_assert_str_eq(k.curve, "secp384r1");
	ck_assert_str_eq(k.curve_nist, "P-384");

	/* trailing byte, truncation, junk, too big: exact errors, zeroed out */
	spki = realloc(spki, slen + 1);
	spki[slen] = 0;
	ck_assert_int_eq(td_x509_key_facts(spki, slen + 1, &k), TD_ERR_MALFORMED);
	ck_assert_str_eq(k.algorithm, "");
	for (size_t cut = 0; cut < slen; cut++)
		ck_assert_int_eq(td_x509_key_facts(spki, cut, &k), TD_ERR_MALFORMED);
	ck_assert_int_eq(td_x509_key_facts(der, len, &k), TD_ERR_MALFORMED);
	ck_assert_int_eq(td_x509_key_facts(spki, TD_X509_MAX_DER + 1, &k), TD_ERR_TOO_BIG);

	td_x509_cert_release(c, cert);
	td_x509_cache_free(c);
	free(spki);
	free(der);
}
END_TEST

/* ---- bad input ------------------------------------------------------------ */

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Facts of an input that is not a certificate: identity set, all else empty. */
static void assert_unparsed(const struct td_cert *cert, const uint8_t *in, size_t len)
{
	uint8_t h[32];

	ck_assert_ptr_nonnull(cert);
	ck_assert(!cert->parsed);
	ck_assert_str_ne(cert->error, "");
	td_sha256(in, len, h);
	ck_assert_mem_eq(cert->sha256, h, 32);
	ck_assert_ptr_null(cert->subject);
	ck_assert_ptr_null(cert->issuer);
	ck_assert_ptr_null(cert->serial_hex);
	ck_assert_ptr_null(cert->sans);
	ck_assert_uint_eq(cert->n_sans, 0);
	ck_assert_ptr_null(cert->der);
	ck_assert_uint_eq(cert->der_len, 0);
	ck_assert_str_eq(cert->key.algorithm, "");
	ck_assert_str_eq(cert->sig_alg, "");
	ck_assert(!cert->self_signed);
}

START_TEST(test_random_bytes)
{
	static const size_t sizes[] = { 1, 2, 3, 16, 200, 1000, 4096 };
	struct td_x509_cache *c = td_x509_cache_new(16);
	uint32_t seed = 0x7d1a9c3u;
	uint8_t buf[4096];

	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		for (int round = 0; round < 2; round++) {
			size_t n = sizes[s];
			for (size_t i = 0; i < n; i++)
				buf[i] = (uint8_t)xorshift(&seed);
			/* the second round looks like a certificate's SEQUENCE
			 * header, so the decoder goes further in */
			if (round == 1 && n >= 4) {
				buf[0] = 0x30;
				buf[1] = 0x82;
				buf[2] = (uint8_t)((n - 4) >> 8);
				buf[3] = (uint8_t)(n - 4);
			}
			const struct td_cert *cert = td_x509_cache_get(c, buf, n);
			assert_unparsed(cert, buf, n);
			ck_assert_msg(strncmp(cert->error, "not a certificate: ", 19) == 0, "%s",
				      cert->error);
			td_x509_cert_release(c, cert);
		}
	}
	td_x509_cache_free(c);
}
END_TEST

START_TEST(test_empty_input)
{
	struct td_x509_cache *c = td_x509_cache_new(2);
	const struct td_cert *cert = td_x509_cache_get(c, NULL, 0);

	assert_unparsed(cert, NULL, 0);
	ck_assert_str_eq(cert->error, "not a certificate: empty input");
	td_x509_cert_release(c, cert);
	td_x509_cache_free(c);
}
END_TEST

START_TEST(test_trailing_byte)
{
	NEED_FIXTURE();
	struct td_x509_cache *c = td_x509_cache_new(4);
	size_t len;
	uint8_t *der = td_test_read_file(fx.dir, "ec256.der", &len);
	const struct td_cert *cert;

	der = realloc(der, len + 1);
	der[len] = 0x00;
	cert = td_x509_cache_get(c, der, len + 1);
	assert_unparsed(cert, der, len + 1);
	ck_assert_str_eq(cert->error, "trailing bytes after certificate");
	td_x509_cert_release(c, cert);
	td_x509_cache_free(c);
	free(der);
}
END_TEST

/* Every prefix of a real certificate: parsed == false, no crash, no leak
 * (the cache is small, so entries are evicted as the sweep goes). */
START_TEST(test_truncation_sweep)
{
	NEED_FIXTURE();
	struct td_x509_cache *c = td_x509_cache_new(4);
	struct td_x509_stats st;
	size_t len;
	uint8_t *der = td_test_read_file(fx.dir, "ec256.der", &len);

	for (size_t cut = 0; cut < len; cut++) {
		const struct td_cert *cert = td_x509_cache_get(c, der, cut);
		assert_unparsed(cert, der, cut);
		ck_assert_msg(strncmp(cert->error, "not a certificate: ", 19) == 0, "cut %zu: %s",
			      cut, cert->error);
		td_x509_cert_release(c, cert);
	}
	td_x509_cache_stats(c, &st);
	ck_assert_uint_eq(st.lookups, len);
	ck_assert_uint_eq(st.parses, len);
	ck_assert_uint_eq(st.held, 4);
	ck_assert_uint_eq(st.evictions, len - 4);
	/* the whole DER still parses */
	const struct td_cert *cert = td_x509_cache_get(c, der, len);
	ck_assert(cert->parsed);
	td_x509_cert_release(c, cert);
	td_x509_cache_free(c);
	free(der);
}
END_TEST

/* Every byte of a real certificate inverted in turn: whatever libcrypto
 * makes of it, the facts are consistent and nothing crashes or leaks. */
START_TEST(test_byte_flip_sweep)
{
	NEED_FIXTURE();
	struct td_x509_cache *c = td_x509_cache_new(4);
	size_t len;
	uint8_t *der = td_test_read_file(fx.dir, "rsa2048.der", &len);

	for (size_t i = 0; i < len; i++) {
		der[i] ^= 0xff;
		const struct td_cert *cert = td_x509_cache_get(c, der, len);
		ck_assert_ptr_nonnull(cert);
		if (cert->parsed) {
			ck_assert_str_eq(cert->error, "");
			ck_assert_ptr_nonnull(cert->subject);
			ck_assert_ptr_nonnull(cert->issuer);
			ck_assert_ptr_nonnull(cert->serial_hex);
			ck_assert_uint_eq(cert->der_len, len);
			ck_assert_mem_eq(cert->der, der, len);
			for (size_t k = 0; k < cert->n_sans; k++)
				ck_assert_ptr_nonnull(cert->sans[k]);
		} else {
			assert_unparsed(cert, der, len);
		}
		td_x509_cert_release(c, cert);
		der[i] ^= 0xff;
	}
	td_x509_cache_free(c);
	free(der);
}
END_TEST

/* A name string that cannot be valid: the CN "v1.test" (7 bytes) retagged
 * from UTF8String to BMPString, which must have an even length. libcrypto
 * 3.0 already refuses it while decoding the name (it canonicalises names to
 * UTF-8); x509.c would also refuse it when printing. Either way the input
 * is not a usable certificate. Issuer comes before subject in the DER
 * (RFC 5280 §4.1). */
static void retag_nth(uint8_t *der, size_t len, int nth)
{
	static const uint8_t cn[] = { 0x0c, 0x07, 'v', '1', '.', 't', 'e', 's', 't' };

	for (size_t i = 0; i + sizeof cn <= len; i++) {
		if (memcmp(der + i, cn, sizeof cn) == 0 && nth-- == 0) {
			der[i] = 0x1e;
			return;
		}
	}
	ck_abort_msg("CN not found");
}

static void assert_bad_name(const struct td_cert *cert, const uint8_t *der, size_t len,
			    const char *print_error)
{
	assert_unparsed(cert, der, len);
	ck_assert_msg(strncmp(cert->error, "not a certificate: ", 19) == 0 ||
			      strcmp(cert->error, print_error) == 0,
		      "%s", cert->error);
}

START_TEST(test_bad_name_string)
{
	NEED_FIXTURE();
	struct td_x509_cache *c = td_x509_cache_new(4);
	size_t len;
	uint8_t *der = td_test_read_file(fx.dir, "v1.der", &len);
	const struct td_cert *cert;

	retag_nth(der, len, 1);
	cert = td_x509_cache_get(c, der, len);
	assert_bad_name(cert, der, len, "subject name does not print");
	td_x509_cert_release(c, cert);
	retag_nth(der, len, 0);
	cert = td_x509_cache_get(c, der, len);
	assert_bad_name(cert, der, len, "issuer name does not print");
	td_x509_cert_release(c, cert);
	td_x509_cache_free(c);
	free(der);
}
END_TEST

START_TEST(test_size_cap)
{
	NEED_FIXTURE();
	struct td_x509_cache *c = td_x509_cache_new(4);
	size_t len;
	uint8_t *der = td_test_read_file(fx.dir, "ec256.der", &len);
	uint8_t *big = calloc(1, 2u << 20);
	const struct td_cert *cert;

	ck_assert_ptr_nonnull(big);
	memcpy(big, der, len);
	cert = td_x509_cache_get(c, big, 2u << 20);
	assert_unparsed(cert, big, 2u << 20);
	ck_assert_str_eq(cert->error, "input larger than 1 MiB (2097152 bytes)");
	td_x509_cert_release(c, cert);

	cert = td_x509_cache_get(c, big, TD_X509_MAX_DER + 1);
	ck_assert_str_eq(cert->error, "input larger than 1 MiB (1048577 bytes)");
	td_x509_cert_release(c, cert);

	/* exactly at the cap it is decoded, and the zero padding is trailing */
	cert = td_x509_cache_get(c, big, TD_X509_MAX_DER);
	ck_assert_str_eq(cert->error, "trailing bytes after certificate");
	td_x509_cert_release(c, cert);

	td_x509_cache_free(c);
	free(big);
	free(der);
}
END_TEST

/* ---- the cache ------------------------------------------------------------ */

struct three {
	uint8_t *der[3];
	size_t len[3];
};

static void load_three(struct three *t)
{
	static const char *const names[3] = { "ec256.der", "ec384.der", "ed25519.der" };

	for (int i = 0; i < 3; i++)
		t->der[i] = td_test_read_file(fx.dir, names[i], &t->len[i]);
}

static void free_three(struct three *t)
{
	for (int i = 0; i < 3; i++)
		free(t->der[i]);
}

static void assert_stats(const struct td_x509_cache *c, uint64_t lookups, uint64_t parses,
			 uint64_t hits, uint64_t evictions, uint64_t held)
{
	struct td_x509_stats st;

	td_x509_cache_stats(c, &st);
	ck_assert_uint_eq(st.lookups, lookups);
	ck_assert_uint_eq(st.parses, parses);
	ck_assert_uint_eq(st.hits, hits);
	ck_assert_uint_eq(st.evictions, evictions);
	ck_assert_uint_eq(st.held, held);
}

START_TEST(test_cache_same_der_once)
{
	NEED_FIXTURE();
	struct three t;
	struct td_x509_cache *c = td_x509_cache_new(8);
	const struct td_cert *a, *b;
	uint8_t copy[4096];

	load_three(&t);
	a = td_x509_cache_get(c, t.der[0], t.len[0]);
	/* a different buffer with the same bytes: the key is the content */
	memcpy(copy, t.der[0], t.len[0]);
	b = td_x509_cache_get(c, copy, t.len[0]);
	ck_assert_ptr_eq(a, b);
	ck_assert(a->parsed);
	assert_stats(c, 2, 1, 1, 0, 1);
	td_x509_cert_release(c, a);
	td_x509_cert_release(c, b);
	/* still cached with no reference */
	a = td_x509_cache_get(c, t.der[0], t.len[0]);
	ck_assert_ptr_eq(a, b);
	assert_stats(c, 3, 1, 2, 0, 1);
	td_x509_cert_release(c, a);
	td_x509_cert_release(c, NULL); /* harmless */

	/* junk is cached as well */
	a = td_x509_cache_get(c, (const uint8_t *)"junk", 4);
	b = td_x509_cache_get(c, (const uint8_t *)"junk", 4);
	ck_assert_ptr_eq(a, b);
	ck_assert(!a->parsed);
	assert_stats(c, 5, 2, 3, 0, 2);
	td_x509_cert_release(c, a);
	td_x509_cert_release(c, b);
	td_x509_cache_free(c);
	free_three(&t);
}
END_TEST

/* When full, the least recently used entry nobody references goes, even if
 * a referenced one is older. */
START_TEST(test_cache_evicts_idle_lru)
{
	NEED_FIXTURE();
	struct three t;
	struct td_x509_cache *c = td_x509_cache_new(2);
	const struct td_cert *a, *b, *x;

	load_three(&t);
	a = td_x509_cache_get(c, t.der[0], t.len[0]); /* held */
	b = td_x509_cache_get(c, t.der[1], t.len[1]);
	td_x509_cert_release(c, b);
	x = td_x509_cache_get(c, t.der[2], t.len[2]); /* evicts b, not a */
	assert_stats(c, 3, 3, 0, 1, 2);
	td_x509_cert_release(c, x);
	ck_assert_ptr_eq(td_x509_cache_get(c, t.der[0], t.len[0]), a);
	assert_stats(c, 4, 3, 1, 1, 2);
	td_x509_cert_release(c, a);
	td_x509_cert_release(c, a);
	/* b comes back with a new parse; x is now the LRU idle entry */
	b = td_x509_cache_get(c, t.der[1], t.len[1]);
	ck_assert(b->parsed);
	assert_stats(c, 5, 4, 1, 2, 2);
	td_x509_cert_release(c, b);
	td_x509_cache_get(c, t.der[0], t.len[0]);
	assert_stats(c, 6, 4, 2, 2, 2);
	td_x509_cert_release(c, a);
	td_x509_cache_free(c);
	free_three(&t);
}
END_TEST

/* Every entry referenced: the oldest is evicted but its facts stay valid
 * until released (valgrind/ASan catch a use after free here). */
START_TEST(test_cache_eviction_keeps_references)
{
	NEED_FIXTURE();
	struct three t;
	struct td_x509_cache *c = td_x509_cache_new(1);
	const struct td_cert *a, *b, *a2;
	char *subject;

	load_three(&t);
	a = td_x509_cache_get(c, t.der[0], t.len[0]);
	subject = strdup(a->subject);
	b = td_x509_cache_get(c, t.der[1], t.len[1]);
	assert_stats(c, 2, 2, 0, 1, 1);
	ck_assert_str_eq(a->subject, subject);
	ck_assert_str_eq(a->subject, "CN=ec256.test");
	ck_assert_mem_eq(a->der, t.der[0], t.len[0]);
	ck_assert_str_eq(a->key.curve_nist, "P-256");
	/* the evicted DER is seen again: a fresh entry, a kept valid */
	a2 = td_x509_cache_get(c, t.der[0], t.len[0]);
	ck_assert_ptr_ne(a2, a);
	ck_assert_mem_eq(a2->sha256, a->sha256, 32);
	assert_stats(c, 3, 3, 0, 2, 1);
	td_x509_cert_release(c, a);
	td_x509_cert_release(c, b);
	ck_assert_str_eq(a2->subject, subject);
	td_x509_cert_release(c, a2);
	free(subject);
	td_x509_cache_free(c);
	free_three(&t);
}
END_TEST

/* Freeing the cache frees everything, evicted-but-referenced entries too. */
START_TEST(test_cache_free_with_references)
{
	NEED_FIXTURE();
	struct three t;
	struct td_x509_cache *c = td_x509_cache_new(0); /* taken as 1 */

	load_three(&t);
	for (int i = 0; i < 3; i++)
		ck_assert_ptr_nonnull(td_x509_cache_get(c, t.der[i], t.len[i]));
	assert_stats(c, 3, 3, 0, 2, 1);
	td_x509_cache_free(c);
	td_x509_cache_free(NULL);
	free_three(&t);
}
END_TEST

/* ---- export --------------------------------------------------------------- */

struct exp {
	struct td_x509_cache *c;
	const struct td_cert *cert;
	uint8_t *der;
	size_t len;
	char dir[128];
	char der_path[256];
	char pem_path[256];
};

static void exp_open(struct exp *e, const char *sub)
{
	char hex[65];

	memset(e, 0, sizeof *e);
	e->c = td_x509_cache_new(2);
	e->der = td_test_read_file(fx.dir, "ec256.der", &e->len);
	e->cert = td_x509_cache_get(e->c, e->der, e->len);
	ck_assert(e->cert->parsed);
	snprintf(e->dir, sizeof e->dir, "%s/%s", fx.dir, sub);
	ck_assert_int_eq(mkdir(e->dir, 0755), 0);
	td_hex(e->cert->sha256, 32, hex);
	snprintf(e->der_path, sizeof e->der_path, "%s/%s.der", e->dir, hex);
	snprintf(e->pem_path, sizeof e->pem_path, "%s/%s.pem", e->dir, hex);
}

static void exp_close(struct exp *e)
{
	td_x509_cert_release(e->c, e->cert);
	td_x509_cache_free(e->c);
	free(e->der);
}

/* A file in the fixture directory, by its full path. */
static char *slurp_path(const char *path, size_t *len)
{
	ck_assert(strncmp(path, fx.dir, strlen(fx.dir)) == 0);
	return (char *)td_test_read_file(NULL, path, len);
}

START_TEST(test_export_writes_files)
{
	NEED_FIXTURE();
	struct exp e;
	char err[512];
	struct stat st;
	size_t n;
	char *got, *pem;
	mode_t old = umask(022);

	exp_open(&e, "out");
	ck_assert_int_eq(td_x509_export(e.cert, e.dir, err, sizeof err), TD_OK);
	ck_assert_str_eq(err, "");
	umask(old);

	/* .der: the bytes `openssl x509 -outform DER` wrote for the fixture */
	got = slurp_path(e.der_path, &n);
	ck_assert_uint_eq(n, e.len);
	ck_assert_mem_eq(got, e.der, n);
	free(got);
	free(td_test_sh(fx.dir, "openssl x509 -in ec256.pem -outform DER -out again.der"));
	got = (char *)td_test_read_file(fx.dir, "again.der", &n);
	ck_assert_uint_eq(n, e.len);
	ck_assert_mem_eq(got, e.der, n);
	free(got);
	/* .pem: byte for byte what `openssl x509` prints */
	pem = td_test_sh(fx.dir, "openssl x509 -in ec256.pem");
	got = slurp_path(e.pem_path, &n);
	ck_assert_uint_eq(n, strlen(pem));
	ck_assert_mem_eq(got, pem, n);
	free(got);
	free(pem);
	ck_assert_int_eq(lstat(e.der_path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	ck_assert_int_eq(lstat(e.pem_path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);

	/* again: identical files are fine */
	ck_assert_int_eq(td_x509_export(e.cert, e.dir, err, sizeof err), TD_OK);
	exp_close(&e);
}
END_TEST

START_TEST(test_export_other_content)
{
	NEED_FIXTURE();
	struct exp e;
	char err[512], want[512], *got;
	size_t n;

	exp_open(&e, "other");
	td_test_write_file(NULL, e.der_path, "junk", 4);
	ck_assert_int_eq(td_x509_export(e.cert, e.dir, err, sizeof err), TD_ERR_EXISTS);
	snprintf(want, sizeof want, "%s: exists with other content", e.der_path);
	ck_assert_str_eq(err, want);
	got = slurp_path(e.der_path, &n);
	ck_assert_uint_eq(n, 4);
	ck_assert_mem_eq(got, "junk", 4);
	free(got);
	/* same length, other bytes */
	unlink(e.der_path);
	got = malloc(e.len);
	memcpy(got, e.der, e.len);
	got[e.len - 1] ^= 1;
	td_test_write_file(NULL, e.der_path, got, e.len);
	free(got);
	ck_assert_int_eq(td_x509_export(e.cert, e.dir, err, sizeof err), TD_ERR_EXISTS);
	ck_assert_str_eq(err, want);
	exp_close(&e);
}
END_TEST

START_TEST(test_export_symlink)
{
	NEED_FIXTURE();
	struct exp e;
	char err[512], want[512], victim[256], missing[256], *got;
	size_t n;
	struct stat st;

	exp_open(&e, "links");
	snprintf(victim, sizeof victim, "%s/victim.txt", e.dir);
	td_test_write_file(NULL, victim, "do not touch\n", 13);
	ck_assert_int_eq(symlink(victim, e.der_path), 0);
	ck_assert_int_eq(td_x509_export(e.cert, e.dir, err, sizeof err), TD_ERR_EXISTS);
	snprintf(want, sizeof want, "%s: is a symbolic link; not followed", e.der_path);
	ck_assert_str_eq(err, want);
	got = slurp_path(victim, &n);
	ck_assert_uint_eq(n, 13);
	ck_assert_mem_eq(got, "do not touch\n", 13);
	free(got);
	ck_assert_int_eq(lstat(e.der_path, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));

	/* a dangling link: its target must not be created */
	unlink(e.der_path);
	snprintf(missing, sizeof missing, "%s/created-through-link", e.dir);
	ck_assert_int_eq(symlink(missing, e.der_path), 0);
	ck_assert_int_eq(td_x509_export(e.cert, e.dir, err, sizeof err), TD_ERR_EXISTS);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(access(missing, F_OK), -1);

	/* a link at the .pem name, the .der written fine */
	unlink(e.der_path);
	ck_assert_int_eq(symlink(victim, e.pem_path), 0);
	ck_assert_int_eq(td_x509_export(e.cert, e.dir, err, sizeof err), TD_ERR_EXISTS);
	snprintf(want, sizeof want, "%s: is a symbolic link; not followed", e.pem_path);
	ck_assert_str_eq(err, want);
	got = slurp_path(victim, &n);
	ck_assert_uint_eq(n, 13);
	free(got);

	/* a directory at the name */
	unlink(e.pem_path);
	ck_assert_int_eq(mkdir(e.pem_path, 0755), 0);
	ck_assert_int_eq(td_x509_export(e.cert, e.dir, err, sizeof err), TD_ERR_EXISTS);
	snprintf(want, sizeof want, "%s: exists and is not a regular file", e.pem_path);
	ck_assert_str_eq(err, want);
	exp_close(&e);
}
END_TEST

START_TEST(test_export_refusals)
{
	NEED_FIXTURE();
	struct exp e;
	char err[512], want[512], hex[65];
	struct td_x509_cache *c = td_x509_cache_new(1);
	const struct td_cert *junk = td_x509_cache_get(c, (const uint8_t *)"junk", 4);

	exp_open(&e, "refuse");
	ck_assert_int_eq(td_x509_export(junk, e.dir, err, sizeof err), TD_ERR_ARG);
	snprintf(want, sizeof want, "%s: not a parsed certificate; nothing to export",
		 td_hex(junk->sha256, 32, hex));
	ck_assert_str_eq(err, want);

	snprintf(want, sizeof want, "%s/no/such/dir", fx.dir);
	ck_assert_int_eq(td_x509_export(e.cert, want, err, sizeof err), TD_ERR_IO);
	ck_assert_msg(strstr(err, "No such file or directory") != NULL, "%s", err);
	ck_assert_int_eq(td_x509_export(e.cert, e.dir, NULL, 0), TD_OK);

	td_x509_cert_release(c, junk);
	td_x509_cache_free(c);
	exp_close(&e);
}
END_TEST

/* ---- the digest helpers this module stands on ---------------------------- */

START_TEST(test_digests)
{
	uint8_t h[32];
	char hex[65];

	td_sha256("abc", 3, h);
	ck_assert_str_eq(td_hex(h, 32, hex),
			 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	td_sha1("abc", 3, h);
	ck_assert_str_eq(td_hex(h, 20, hex), "a9993e364706816aba3e25717850c26c9cd0d89d");
	td_md5("abc", 3, h);
	ck_assert_str_eq(td_hex(h, 16, hex), "900150983cd24fb0d6963f7d28e17f72");
	td_sha256(NULL, 0, h);
	ck_assert_str_eq(td_hex(h, 32, hex),
			 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	ck_assert_str_eq(td_hex(h, 0, hex), "");
}
END_TEST

Suite *td_x509_suite(void)
{
	Suite *s = suite_create("x509");
	TCase *tc;

	tc = tcase_create("facts");
	tcase_add_unchecked_fixture(tc, setup_all, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, test_cert_facts, 0, (int)N_CERT_CASES);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad_input");
	tcase_add_unchecked_fixture(tc, setup_light, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_random_bytes);
	tcase_add_test(tc, test_empty_input);
	tcase_add_test(tc, test_trailing_byte);
	tcase_add_test(tc, test_truncation_sweep);
	tcase_add_test(tc, test_byte_flip_sweep);
	tcase_add_test(tc, test_bad_name_string);
	tcase_add_test(tc, test_size_cap);
	tcase_add_test(tc, test_key_facts_spki);
	suite_add_tcase(s, tc);

	tc = tcase_create("cache");
	tcase_add_unchecked_fixture(tc, setup_light, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_cache_same_der_once);
	tcase_add_test(tc, test_cache_evicts_idle_lru);
	tcase_add_test(tc, test_cache_eviction_keeps_references);
	tcase_add_test(tc, test_cache_free_with_references);
	suite_add_tcase(s, tc);

	tc = tcase_create("export");
	tcase_add_unchecked_fixture(tc, setup_light, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_export_writes_files);
	tcase_add_test(tc, test_export_other_content);
	tcase_add_test(tc, test_export_symlink);
	tcase_add_test(tc, test_export_refusals);
	suite_add_tcase(s, tc);

	tc = tcase_create("digest");
	tcase_add_test(tc, test_digests);
	suite_add_tcase(s, tc);

	return s;
}
