/* check_names.c - tests of the IANA name tables (td_names.h).
 *
 * Every expected value here is written down from somewhere other than
 * data/tls-*.csv: the numbers printed in the RFCs (section cited on each
 * line), the cipher suites OpenSSL knows (asked at run time), or a rule
 * computed in the test (GREASE, TLS 1.2 {hash, signature} pairs, TLS 1.3
 * draft numbers). A test that only read the tables back would pass on
 * whatever typo the tables hold.
 */
#define _POSIX_C_SOURCE 200809L /* popen, pclose */

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "td_names.h"

Suite *td_names_suite(void);

struct expect {
	uint16_t id;
	const char *name;
	const char *ref; /* where the pair is written down */
};

/* --- cipher suites against OpenSSL ------------------------------------ */

/* OpenSSL's Enc= column, e.g. "AESGCM(128)", turned into the enc column of
 * data/tls-cipher-suites.csv ("AES_128_GCM"). Unknown spellings give false
 * so a newer OpenSSL with other ciphers skips the field instead of failing
 * on our mapping. */
static bool ossl_enc(const char *enc, char *out, size_t n)
{
	static const struct {
		const char *alg, *pre, *post;
		bool bits;
	} map[] = {
		{ "AESGCM", "AES_", "_GCM", true },
		{ "AESCCM8", "AES_", "_CCM_8", true },
		{ "AESCCM", "AES_", "_CCM", true },
		{ "AES", "AES_", "_CBC", true },
		{ "ARIAGCM", "ARIA_", "_GCM", true },
		{ "ARIA", "ARIA_", "_CBC", true },
		{ "CamelliaGCM", "CAMELLIA_", "_GCM", true },
		{ "Camellia", "CAMELLIA_", "_CBC", true },
		{ "CHACHA20/POLY1305", "CHACHA20_POLY1305", "", false },
		{ "3DES", "3DES_EDE_CBC", "", false },
		{ "DES", "DES_CBC", "", false },
		{ "RC4", "RC4_", "", true },
		{ "SEED", "SEED_CBC", "", false },
		{ "IDEA", "IDEA_CBC", "", false },
	};
	char alg[32];
	unsigned bits;

	if (strcmp(enc, "None") == 0) {
		snprintf(out, n, "NULL");
		return true;
	}
	if (sscanf(enc, "%31[^(](%u)", alg, &bits) != 2)
		return false;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(alg, map[i].alg) != 0)
			continue;
		if (map[i].bits)
			snprintf(out, n, "%s%u%s", map[i].pre, bits, map[i].post);
		else
			snprintf(out, n, "%s%s", map[i].pre, map[i].post);
		return true;
	}
	return false;
}

/* OpenSSL's Kx= and Au= against our kx and auth. OpenSSL writes DH for
 * DHE, ECDH for ECDHE, None for anon, and puts the certificate in Au for
 * RSA_PSK; the CSV header documents our side. */
static void check_kx_auth(const struct td_cipher_info *c, const char *kx,
			  const char *au)
{
	static const struct {
		const char *ossl, *kx, *auth; /* auth NULL: from Au= */
	} kmap[] = {
		{ "any", "any", NULL },		{ "RSA", "RSA", NULL },
		{ "PSK", "PSK", NULL },		{ "SRP", "SRP", NULL },
		{ "DHEPSK", "DHE", "PSK" },	{ "ECDHEPSK", "ECDHE", "PSK" },
		{ "RSAPSK", "RSA", "PSK" },
	};
	const char *want_auth = strcmp(au, "None") == 0 ? "anon" : au;
	bool known = false;

	if (strcmp(kx, "DH") == 0) {
		ck_assert_msg(strncmp(c->kx, "DH", 2) == 0,
			      "0x%04x %s: kx %s, OpenSSL says DH", c->id,
			      c->name, c->kx);
		known = true;
	} else if (strcmp(kx, "ECDH") == 0) {
		ck_assert_msg(strncmp(c->kx, "ECDH", 4) == 0,
			      "0x%04x %s: kx %s, OpenSSL says ECDH", c->id,
			      c->name, c->kx);
		known = true;
	}
	for (size_t i = 0; !known && i < sizeof(kmap) / sizeof(kmap[0]); i++) {
		if (strcmp(kx, kmap[i].ossl) != 0)
			continue;
		ck_assert_msg(strcmp(c->kx, kmap[i].kx) == 0,
			      "0x%04x %s: kx %s, OpenSSL Kx=%s", c->id,
			      c->name, c->kx, kx);
		if (kmap[i].auth)
			want_auth = kmap[i].auth;
		known = true;
	}
	if (known)
		ck_assert_msg(strcmp(c->auth, want_auth) == 0,
			      "0x%04x %s: auth %s, OpenSSL Kx=%s Au=%s", c->id,
			      c->name, c->auth, kx, au);
}

START_TEST(cipher_names_match_openssl)
{
	const char *cmd = "openssl ciphers -V -stdname "
			  "'ALL:COMPLEMENTOFALL:@SECLEVEL=0' 2>/dev/null";
	char line[512];
	unsigned lines = 0;
	FILE *p;
	int status;

	p = popen("command -v openssl 2>/dev/null", "r");
	if (p == NULL || fgets(line, sizeof line, p) == NULL) {
		if (p)
			pclose(p);
		fprintf(stderr, "check_names: SKIPPED cipher_names_match_openssl:"
				" no openssl on PATH\n");
		return;
	}
	pclose(p);

	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while (fgets(line, sizeof line, p)) {
		/* "0xC0,0x2F - TLS_ECDHE_RSA_... - ECDHE-RSA-... TLSv1.2
		 *  Kx=ECDH Au=RSA Enc=AESGCM(128) Mac=AEAD" */
		unsigned hi, lo;
		char std[128], ossl[128], ver[16], kx[32], au[32], enc[64],
			mac[32], want_enc[64];
		const struct td_cipher_info *c;

		if (sscanf(line,
			   " 0x%2x,0x%2x - %127s - %127s %15s Kx=%31s Au=%31s"
			   " Enc=%63s Mac=%31s",
			   &hi, &lo, std, ossl, ver, kx, au, enc, mac) != 9)
			continue;
		lines++;
		c = td_names_cipher((uint16_t)(hi << 8 | lo));
		ck_assert_msg(c != NULL, "0x%02X%02X %s (from OpenSSL) missing",
			      hi, lo, std);
		ck_assert_msg(strcmp(c->name, std) == 0,
			      "0x%02X%02X: table says %s, OpenSSL says %s", hi,
			      lo, c->name, std);
		ck_assert_msg(td_names_cipher_by_name(std) == (long)c->id,
			      "reverse lookup of %s", std);
		if (ossl_enc(enc, want_enc, sizeof want_enc))
			ck_assert_msg(strcmp(c->enc, want_enc) == 0,
				      "%s: enc %s, OpenSSL Enc=%s", std,
				      c->enc, enc);
		if (strcmp(mac, "AEAD") != 0)
			ck_assert_msg(strcmp(c->mac, mac) == 0,
				      "%s: mac %s, OpenSSL Mac=%s", std,
				      c->mac, mac);
		check_kx_auth(c, kx, au);
	}
	status = pclose(p);
	ck_assert_msg(status == 0, "openssl ciphers exited with status %d",
		      status);
	/* OpenSSL 1.1 and 3.x list well over a hundred suites with
	 * COMPLEMENTOFALL at level 0; far fewer means the parse broke. */
	ck_assert_msg(lines >= 60, "only %u cipher lines parsed", lines);
}
END_TEST

/* --- cipher suites against the RFCs ------------------------------------ */

START_TEST(cipher_values_from_rfcs)
{
	static const struct expect tab[] = {
		{ 0x0000, "TLS_NULL_WITH_NULL_NULL", "RFC 5246 A.5" },
		{ 0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", "RFC 5246 A.5" },
		{ 0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", "RFC 5246 A.5" },
		{ 0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "RFC 5246 A.5" },
		{ 0x0004, "TLS_RSA_WITH_RC4_128_MD5", "RFC 5246 A.5" },
		{ 0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA", "RFC 5246 A.5" },
		{ 0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", "RFC 5288 §3" },
		{ 0x00FF, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV", "RFC 5746 §3.3" },
		{ 0x5600, "TLS_FALLBACK_SCSV", "RFC 7507 §2" },
		{ 0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "RFC 8422 §6" },
		{ 0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
		  "RFC 5289 §3.2" },
		{ 0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
		  "RFC 5289 §3.2" },
		{ 0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
		  "RFC 5289 §3.2" },
		{ 0xC0AC, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM", "RFC 7251 §2" },
		{ 0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
		  "RFC 7905 §2" },
		{ 0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
		  "RFC 7905 §2" },
		{ 0x1301, "TLS_AES_128_GCM_SHA256", "RFC 8446 B.4" },
		{ 0x1302, "TLS_AES_256_GCM_SHA384", "RFC 8446 B.4" },
		{ 0x1303, "TLS_CHACHA20_POLY1305_SHA256", "RFC 8446 B.4" },
		{ 0x1304, "TLS_AES_128_CCM_SHA256", "RFC 8446 B.4" },
		{ 0x1305, "TLS_AES_128_CCM_8_SHA256", "RFC 8446 B.4" },
		{ 0x00C6, "TLS_SM4_GCM_SM3", "RFC 8998" },
		{ 0xC0B4, "TLS_SHA256_SHA256", "RFC 9150" },
		{ 0xD001, "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256",
		  "RFC 8442" },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		const char *n = td_names_cipher_name(tab[i].id);

		ck_assert_msg(n && strcmp(n, tab[i].name) == 0,
			      "0x%04x: want %s (%s), got %s", tab[i].id,
			      tab[i].name, tab[i].ref, n ? n : "NULL");
		ck_assert_msg(td_names_cipher_by_name(tab[i].name) ==
				      tab[i].id,
			      "reverse lookup of %s", tab[i].name);
	}
}
END_TEST

static void check_fields(uint16_t id, const char *kx, const char *auth,
			 const char *enc, const char *mac)
{
	const struct td_cipher_info *c = td_names_cipher(id);

	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->kx, kx);
	ck_assert_str_eq(c->auth, auth);
	ck_assert_str_eq(c->enc, enc);
	ck_assert_str_eq(c->mac, mac);
}

START_TEST(cipher_fields)
{
	/* Read off the RFC suite definitions named above. */
	check_fields(0xC02F, "ECDHE", "RSA", "AES_128_GCM", "SHA256");
	check_fields(0x002F, "RSA", "RSA", "AES_128_CBC", "SHA1");
	check_fields(0x0034, "DH", "anon", "AES_128_CBC", "SHA1");
	check_fields(0x0003, "RSA_EXPORT", "RSA", "RC4_40", "MD5");
	check_fields(0x00AA, "DHE", "PSK", "AES_128_GCM", "SHA256");
	check_fields(0xC0AA, "DHE", "PSK", "AES_128_CCM_8", "SHA256");
	check_fields(0xC0AC, "ECDHE", "ECDSA", "AES_128_CCM", "SHA256");
	check_fields(0x0000, "NULL", "NULL", "NULL", "NULL");
	/* RFC 8446 §4.1.2: TLS 1.3 suites leave key exchange and
	 * authentication to extensions. */
	check_fields(0x1301, "any", "any", "AES_128_GCM", "SHA256");
	check_fields(0x1303, "any", "any", "CHACHA20_POLY1305", "SHA256");
	check_fields(0x1305, "any", "any", "AES_128_CCM_8", "SHA256");
	/* RFC 5746 §3.3, RFC 7507 §2: signals, not suites. */
	check_fields(0x00FF, "SCSV", "SCSV", "SCSV", "SCSV");
	check_fields(0x5600, "SCSV", "SCSV", "SCSV", "SCSV");
}
END_TEST

/* Consistency of every row with its own name, and a field for every
 * column: the derived columns come from the name, so they must agree. */
START_TEST(cipher_rows_agree_with_names)
{
	size_t n = td_names_table_size(TD_NAMES_CIPHER);

	ck_assert_uint_gt(n, 300);
	for (size_t i = 0; i < n; i++) {
		uint16_t id;
		const struct td_cipher_info *c;
		bool tls13, scsv;

		ck_assert(td_names_table_entry(TD_NAMES_CIPHER, i, &id, NULL));
		c = td_names_cipher(id);
		ck_assert_ptr_nonnull(c);
		ck_assert_ptr_nonnull(c->name);
		ck_assert_ptr_nonnull(c->kx);
		ck_assert_ptr_nonnull(c->auth);
		ck_assert_ptr_nonnull(c->enc);
		ck_assert_ptr_nonnull(c->mac);
		ck_assert_msg(strncmp(c->name, "TLS_", 4) == 0 ||
				      strncmp(c->name, "SSL_", 4) == 0,
			      "0x%04x %s", id, c->name);
		scsv = strstr(c->name, "_SCSV") != NULL;
		/* TLS 1.3 suites have no _WITH_, except the RFC 9367 GOST
		 * ones which kept the TLS 1.2 shape of name. */
		tls13 = !scsv && (strstr(c->name, "_WITH_") == NULL ||
				  (id >= 0xC103 && id <= 0xC106));
		ck_assert_msg(tls13 == (strcmp(c->kx, "any") == 0),
			      "0x%04x %s: kx %s", id, c->name, c->kx);
		ck_assert_msg(tls13 == (strcmp(c->auth, "any") == 0),
			      "0x%04x %s: auth %s", id, c->name, c->auth);
		ck_assert_msg(scsv == (strcmp(c->enc, "SCSV") == 0),
			      "0x%04x %s: enc %s", id, c->name, c->enc);
		if (!scsv && strcmp(c->enc, "NULL") != 0)
			ck_assert_msg(strstr(c->name, c->enc) != NULL,
				      "0x%04x %s: enc %s not in name", id,
				      c->name, c->enc);
		if (strcmp(c->mac, "SHA1") == 0)
			ck_assert_msg(strstr(c->name, "_SHA") != NULL,
				      "0x%04x %s: mac SHA1", id, c->name);
	}
}
END_TEST

/* --- the small registries against the RFCs ----------------------------- */

static void check_u16(const char *(*lookup)(uint16_t), const struct expect *t,
		      size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *got = lookup(t[i].id);

		ck_assert_msg(got && strcmp(got, t[i].name) == 0,
			      "0x%04x: want %s (%s), got %s", t[i].id,
			      t[i].name, t[i].ref, got ? got : "NULL");
	}
}

static void check_u8(const char *(*lookup)(uint8_t), const struct expect *t,
		     size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *got = lookup((uint8_t)t[i].id);

		ck_assert_msg(got && strcmp(got, t[i].name) == 0,
			      "%u: want %s (%s), got %s", t[i].id, t[i].name,
			      t[i].ref, got ? got : "NULL");
	}
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(alerts_from_rfcs)
{
	static const struct expect tab[] = {
		{ 0, "close_notify", "RFC 8446 B.2" },
		{ 10, "unexpected_message", "RFC 8446 B.2" },
		{ 20, "bad_record_mac", "RFC 8446 B.2" },
		{ 21, "decryption_failed", "RFC 2246 §7.2" },
		{ 22, "record_overflow", "RFC 8446 B.2" },
		{ 30, "decompression_failure", "RFC 5246 §7.2" },
		{ 40, "handshake_failure", "RFC 8446 B.2" },
		{ 41, "no_certificate", "RFC 6101 §5.4.2" },
		{ 42, "bad_certificate", "RFC 8446 B.2" },
		{ 43, "unsupported_certificate", "RFC 8446 B.2" },
		{ 44, "certificate_revoked", "RFC 8446 B.2" },
		{ 45, "certificate_expired", "RFC 8446 B.2" },
		{ 46, "certificate_unknown", "RFC 8446 B.2" },
		{ 47, "illegal_parameter", "RFC 8446 B.2" },
		{ 48, "unknown_ca", "RFC 8446 B.2" },
		{ 49, "access_denied", "RFC 8446 B.2" },
		{ 50, "decode_error", "RFC 8446 B.2" },
		{ 51, "decrypt_error", "RFC 8446 B.2" },
		{ 52, "too_many_cids_requested", "RFC 9147 §9" },
		{ 60, "export_restriction", "RFC 2246 §7.2" },
		{ 70, "protocol_version", "RFC 8446 B.2" },
		{ 71, "insufficient_security", "RFC 8446 B.2" },
		{ 80, "internal_error", "RFC 8446 B.2" },
		{ 86, "inappropriate_fallback", "RFC 7507 §2" },
		{ 90, "user_canceled", "RFC 8446 B.2" },
		{ 100, "no_renegotiation", "RFC 5246 §7.2" },
		{ 109, "missing_extension", "RFC 8446 B.2" },
		{ 110, "unsupported_extension", "RFC 8446 B.2" },
		{ 111, "certificate_unobtainable", "RFC 6066 §9" },
		{ 112, "unrecognized_name", "RFC 8446 B.2" },
		{ 113, "bad_certificate_status_response", "RFC 8446 B.2" },
		{ 114, "bad_certificate_hash_value", "RFC 6066 §9" },
		{ 115, "unknown_psk_identity", "RFC 8446 B.2" },
		{ 116, "certificate_required", "RFC 8446 B.2" },
		{ 117, "general_error", "RFC 9846 §6.2" },
		{ 120, "no_application_protocol", "RFC 8446 B.2" },
		{ 121, "ech_required", "RFC 9849" },
	};

	check_u8(td_names_alert, tab, COUNT(tab));
	for (size_t i = 0; i < COUNT(tab); i++)
		ck_assert_msg(td_names_alert_by_name(tab[i].name) == tab[i].id,
			      "reverse lookup of %s", tab[i].name);
	/* Case does not matter to the rule engine. */
	ck_assert_int_eq(td_names_alert_by_name("BAD_RECORD_MAC"), 20);
	ck_assert_int_eq(td_names_alert_by_name("bad_record_mac "), -1);
	ck_assert_int_eq(td_names_alert_by_name("no_such_alert"), -1);
	ck_assert_int_eq(td_names_alert_by_name(""), -1);
	ck_assert_int_eq(td_names_alert_by_name(NULL), -1);
	/* Unassigned (RFC 8446 B.2 leaves them out). */
	ck_assert_ptr_null(td_names_alert(1));
	ck_assert_ptr_null(td_names_alert(119));
	ck_assert_ptr_null(td_names_alert(255));
}
END_TEST

START_TEST(groups_from_rfcs)
{
	static const struct expect tab[] = {
		{ 0x0001, "sect163k1", "RFC 4492 §5.1.1" },
		{ 0x0016, "secp256k1", "RFC 4492 §5.1.1" },
		{ 0x0017, "secp256r1", "RFC 8446 B.3.1.4" },
		{ 0x0018, "secp384r1", "RFC 8446 B.3.1.4" },
		{ 0x0019, "secp521r1", "RFC 8446 B.3.1.4" },
		{ 0x001A, "brainpoolP256r1", "RFC 7027 §2" },
		{ 0x001D, "x25519", "RFC 8446 B.3.1.4" },
		{ 0x001E, "x448", "RFC 8446 B.3.1.4" },
		{ 0x001F, "brainpoolP256r1tls13", "RFC 8734" },
		{ 0x0100, "ffdhe2048", "RFC 8446 B.3.1.4" },
		{ 0x0101, "ffdhe3072", "RFC 8446 B.3.1.4" },
		{ 0x0102, "ffdhe4096", "RFC 8446 B.3.1.4" },
		{ 0x0103, "ffdhe6144", "RFC 8446 B.3.1.4" },
		{ 0x0104, "ffdhe8192", "RFC 8446 B.3.1.4" },
		{ 0x0201, "MLKEM768", "draft-ietf-tls-mlkem" },
		{ 0x11EB, "SecP256r1MLKEM768", "draft-ietf-tls-ecdhe-mlkem" },
		{ 0x11EC, "X25519MLKEM768", "draft-ietf-tls-ecdhe-mlkem" },
		{ 0x11ED, "SecP384r1MLKEM1024", "draft-ietf-tls-ecdhe-mlkem" },
		{ 0xFF01, "arbitrary_explicit_prime_curves", "RFC 4492 §5.1.1" },
		{ 0xFF02, "arbitrary_explicit_char2_curves", "RFC 4492 §5.1.1" },
	};

	check_u16(td_names_group, tab, COUNT(tab));
	ck_assert_ptr_null(td_names_group(0x0000)); /* RFC 8447: reserved */
	ck_assert_ptr_null(td_names_group(0x0A0A)); /* GREASE */
}
END_TEST

START_TEST(sigschemes_from_rfcs)
{
	static const struct expect tab[] = {
		{ 0x0401, "rsa_pkcs1_sha256", "RFC 8446 §4.2.3" },
		{ 0x0501, "rsa_pkcs1_sha384", "RFC 8446 §4.2.3" },
		{ 0x0601, "rsa_pkcs1_sha512", "RFC 8446 §4.2.3" },
		{ 0x0403, "ecdsa_secp256r1_sha256", "RFC 8446 §4.2.3" },
		{ 0x0503, "ecdsa_secp384r1_sha384", "RFC 8446 §4.2.3" },
		{ 0x0603, "ecdsa_secp521r1_sha512", "RFC 8446 §4.2.3" },
		{ 0x0804, "rsa_pss_rsae_sha256", "RFC 8446 §4.2.3" },
		{ 0x0805, "rsa_pss_rsae_sha384", "RFC 8446 §4.2.3" },
		{ 0x0806, "rsa_pss_rsae_sha512", "RFC 8446 §4.2.3" },
		{ 0x0807, "ed25519", "RFC 8446 §4.2.3" },
		{ 0x0808, "ed448", "RFC 8446 §4.2.3" },
		{ 0x0809, "rsa_pss_pss_sha256", "RFC 8446 §4.2.3" },
		{ 0x080A, "rsa_pss_pss_sha384", "RFC 8446 §4.2.3" },
		{ 0x080B, "rsa_pss_pss_sha512", "RFC 8446 §4.2.3" },
		{ 0x0201, "rsa_pkcs1_sha1", "RFC 8446 §4.2.3" },
		{ 0x0203, "ecdsa_sha1", "RFC 8446 §4.2.3" },
		{ 0x0708, "sm2sig_sm3", "RFC 8998" },
		{ 0x081A, "ecdsa_brainpoolP256r1tls13_sha256", "RFC 8734" },
		{ 0x0904, "mldsa44", "draft-ietf-tls-mldsa" },
		{ 0x0905, "mldsa65", "draft-ietf-tls-mldsa" },
		{ 0x0906, "mldsa87", "draft-ietf-tls-mldsa" },
	};
	/* RFC 5246 §7.4.1.4.1: TLS 1.2 sends {HashAlgorithm,
	 * SignatureAlgorithm}; every pair of md5(1)..sha512(6) with rsa(1),
	 * dsa(2), ecdsa(3) is something a TLS 1.2 peer may offer, so each
	 * must have a name that says both halves. */
	static const char *const hash[] = { NULL, "md5", "sha1", "sha224",
					    "sha256", "sha384", "sha512" };
	static const char *const sig[] = { NULL, "rsa_pkcs1_", "dsa_",
					   "ecdsa_" };

	check_u16(td_names_sigscheme, tab, COUNT(tab));
	for (unsigned h = 1; h <= 6; h++) {
		for (unsigned s = 1; s <= 3; s++) {
			uint16_t id = (uint16_t)(h << 8 | s);
			const char *n = td_names_sigscheme(id);
			size_t ln, lh;

			ck_assert_msg(n != NULL, "0x%04x ({%s, %s}) unnamed",
				      id, hash[h], sig[s]);
			ln = strlen(n);
			lh = strlen(hash[h]);
			ck_assert_msg(strncmp(n, sig[s], strlen(sig[s])) == 0 &&
					      ln > lh &&
					      strcmp(n + ln - lh, hash[h]) == 0,
				      "0x%04x is %s, want %s..%s", id, n,
				      sig[s], hash[h]);
		}
	}
	ck_assert_ptr_null(td_names_sigscheme(0x0000));
	ck_assert_ptr_null(td_names_sigscheme(0xFE00)); /* private use */
}
END_TEST

START_TEST(extensions_from_rfcs)
{
	static const struct expect tab[] = {
		{ 0, "server_name", "RFC 8446 §4.2" },
		{ 1, "max_fragment_length", "RFC 8446 §4.2" },
		{ 5, "status_request", "RFC 8446 §4.2" },
		{ 10, "supported_groups", "RFC 8446 §4.2" },
		{ 11, "ec_point_formats", "RFC 8422 §5.1.2" },
		{ 13, "signature_algorithms", "RFC 8446 §4.2" },
		{ 14, "use_srtp", "RFC 8446 §4.2" },
		{ 15, "heartbeat", "RFC 8446 §4.2" },
		{ 16, "application_layer_protocol_negotiation",
		  "RFC 8446 §4.2" },
		{ 18, "signed_certificate_timestamp", "RFC 8446 §4.2" },
		{ 19, "client_certificate_type", "RFC 8446 §4.2" },
		{ 20, "server_certificate_type", "RFC 8446 §4.2" },
		{ 21, "padding", "RFC 8446 §4.2" },
		{ 22, "encrypt_then_mac", "RFC 7366 §2" },
		/* RFC 7627 §5.1 named it extended_master_secret; RFC 9846
		 * §1.4 had the registry rename it. */
		{ 23, "extended_main_secret", "RFC 9846 §1.4" },
		{ 27, "compress_certificate", "RFC 8879 §3" },
		{ 28, "record_size_limit", "RFC 8449 §4" },
		{ 35, "session_ticket", "RFC 5077 §3.2, renamed by RFC 8447" },
		{ 41, "pre_shared_key", "RFC 8446 §4.2" },
		{ 42, "early_data", "RFC 8446 §4.2" },
		{ 43, "supported_versions", "RFC 8446 §4.2" },
		{ 44, "cookie", "RFC 8446 §4.2" },
		{ 45, "psk_key_exchange_modes", "RFC 8446 §4.2" },
		{ 47, "certificate_authorities", "RFC 8446 §4.2" },
		{ 48, "oid_filters", "RFC 8446 §4.2" },
		{ 49, "post_handshake_auth", "RFC 8446 §4.2" },
		{ 50, "signature_algorithms_cert", "RFC 8446 §4.2" },
		{ 51, "key_share", "RFC 8446 §4.2" },
		{ 57, "quic_transport_parameters", "RFC 9001 §8.2" },
		{ 0xFD00, "ech_outer_extensions", "RFC 9849" },
		{ 0xFE0D, "encrypted_client_hello", "RFC 9849" },
		{ 0xFF01, "renegotiation_info", "RFC 5746 §3.2" },
	};

	check_u16(td_names_extension, tab, COUNT(tab));
	ck_assert_ptr_null(td_names_extension(40)); /* reserved, RFC 8446 */
	ck_assert_ptr_null(td_names_extension(0xFAFA)); /* GREASE */
}
END_TEST

START_TEST(handshake_types_from_rfcs)
{
	static const struct expect tab[] = {
		{ 0, "hello_request", "RFC 5246 §7.4" },
		{ 1, "client_hello", "RFC 8446 B.3" },
		{ 2, "server_hello", "RFC 8446 B.3" },
		{ 3, "hello_verify_request", "RFC 6347 §4.3.2" },
		{ 4, "new_session_ticket", "RFC 8446 B.3" },
		{ 5, "end_of_early_data", "RFC 8446 B.3" },
		{ 8, "encrypted_extensions", "RFC 8446 B.3" },
		{ 11, "certificate", "RFC 8446 B.3" },
		{ 12, "server_key_exchange", "RFC 5246 §7.4" },
		{ 13, "certificate_request", "RFC 8446 B.3" },
		{ 14, "server_hello_done", "RFC 5246 §7.4" },
		{ 15, "certificate_verify", "RFC 8446 B.3" },
		{ 16, "client_key_exchange", "RFC 5246 §7.4" },
		{ 20, "finished", "RFC 8446 B.3" },
		{ 21, "certificate_url", "RFC 6066 §5" },
		{ 22, "certificate_status", "RFC 6066 §8" },
		{ 24, "key_update", "RFC 8446 B.3" },
		{ 254, "message_hash", "RFC 8446 B.3" },
	};

	check_u8(td_names_handshake, tab, COUNT(tab));
	ck_assert_ptr_null(td_names_handshake(7));
	ck_assert_ptr_null(td_names_handshake(255));
}
END_TEST

START_TEST(content_types_from_rfcs)
{
	static const struct expect tab[] = {
		{ 20, "change_cipher_spec", "RFC 8446 B.1" },
		{ 21, "alert", "RFC 8446 B.1" },
		{ 22, "handshake", "RFC 8446 B.1" },
		{ 23, "application_data", "RFC 8446 B.1" },
		{ 24, "heartbeat", "RFC 6520" },
		{ 25, "tls12_cid", "RFC 9146 §4" },
		{ 26, "ack", "RFC 9147 §7" },
	};

	check_u8(td_names_content_type, tab, COUNT(tab));
	ck_assert_ptr_null(td_names_content_type(0)); /* RFC 8446 invalid(0) */
	ck_assert_ptr_null(td_names_content_type(19));
	ck_assert_ptr_null(td_names_content_type(0x80)); /* SSLv2 length */
}
END_TEST

START_TEST(versions_from_rfcs)
{
	static const struct expect tab[] = {
		{ 0x0300, "SSL 3.0", "RFC 6101 {3,0}" },
		{ 0x0301, "TLS 1.0", "RFC 2246 §6.2.1 {3,1}" },
		{ 0x0302, "TLS 1.1", "RFC 4346 §6.2.1 {3,2}" },
		{ 0x0303, "TLS 1.2", "RFC 5246 §6.2.1 {3,3}" },
		{ 0x0304, "TLS 1.3", "RFC 8446 §4.2.1" },
		{ 0xFEFF, "DTLS 1.0", "RFC 4347 §4.1 {254,255}" },
		{ 0xFEFD, "DTLS 1.2", "RFC 6347 §4.1 {254,253}" },
		{ 0xFEFC, "DTLS 1.3", "RFC 9147 {254,252}" },
		{ 0x0002, "SSL 2.0", "SSLv2 CLIENT-HELLO version" },
	};
	char want[32];

	check_u16(td_names_version, tab, COUNT(tab));
	/* draft-ietf-tls-tls13-NN put 0x7F00 + NN on the wire. */
	for (unsigned d = 14; d <= 28; d++) {
		const char *n = td_names_version((uint16_t)(0x7F00 + d));

		snprintf(want, sizeof want, "TLS 1.3 draft %u", d);
		ck_assert_msg(n && strcmp(n, want) == 0, "0x%04x: %s",
			      0x7F00 + d, n ? n : "NULL");
	}
	ck_assert_ptr_null(td_names_version(0x7F0D));
	ck_assert_ptr_null(td_names_version(0x7F1D));
	ck_assert_ptr_null(td_names_version(0x0305));
}
END_TEST

/* --- GREASE and formatting --------------------------------------------- */

START_TEST(grease_values)
{
	/* RFC 8701 §2 lists them: 0x0A0A, 0x1A1A, ..., 0xFAFA. */
	static const uint16_t grease[16] = {
		0x0A0A, 0x1A1A, 0x2A2A, 0x3A3A, 0x4A4A, 0x5A5A, 0x6A6A, 0x7A7A,
		0x8A8A, 0x9A9A, 0xAAAA, 0xBABA, 0xCACA, 0xDADA, 0xEAEA, 0xFAFA,
	};
	static const uint16_t near[] = {
		0x0000, 0x0A0B, 0x0B0A, 0x0A1A, 0x1A0A, 0x0A00, 0x000A,
		0x0AAA, 0xAA0A, 0x0909, 0x0B0B, 0xFAFB, 0xFBFA, 0xFFFF,
		0xAAAB, 0x1A1B, 0xA0A0,
	};
	unsigned count = 0;

	for (size_t i = 0; i < 16; i++)
		ck_assert_msg(td_names_is_grease(grease[i]), "0x%04x",
			      grease[i]);
	for (size_t i = 0; i < COUNT(near); i++)
		ck_assert_msg(!td_names_is_grease(near[i]), "0x%04x", near[i]);
	/* And nothing else in the whole 16-bit space. */
	for (uint32_t v = 0; v <= 0xFFFF; v++) {
		bool listed = false;

		for (size_t i = 0; i < 16; i++)
			listed = listed || grease[i] == v;
		ck_assert_msg(td_names_is_grease((uint16_t)v) == listed,
			      "0x%04x", (unsigned)v);
		count += listed;
	}
	ck_assert_uint_eq(count, 16);
}
END_TEST

START_TEST(fmt16_text)
{
	char b[TD_NAMES_FMT_LEN];
	char small[8];

	ck_assert_str_eq(td_names_fmt16(b, sizeof b, td_names_group, 0x001D),
			 "x25519");
	ck_assert_str_eq(td_names_fmt16(b, sizeof b, td_names_group, 0x11EC),
			 "X25519MLKEM768");
	ck_assert_str_eq(td_names_fmt16(b, sizeof b, td_names_cipher_name,
					0xC02F),
			 "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
	ck_assert_str_eq(td_names_fmt16(b, sizeof b, td_names_group, 0x1A1A),
			 "GREASE (0x1a1a)");
	ck_assert_str_eq(td_names_fmt16(b, sizeof b, td_names_cipher_name,
					0xFAFA),
			 "GREASE (0xfafa)");
	ck_assert_str_eq(td_names_fmt16(b, sizeof b, td_names_extension,
					0x1234),
			 "unknown (0x1234)");
	ck_assert_str_eq(td_names_fmt16(b, sizeof b, td_names_version, 0x0305),
			 "unknown (0x0305)");
	ck_assert_str_eq(td_names_fmt16(b, sizeof b, NULL, 0x0017),
			 "unknown (0x0017)");
	ck_assert_ptr_eq(td_names_fmt16(b, sizeof b, NULL, 1), b);
	/* Truncated like snprintf, always terminated. */
	ck_assert_str_eq(td_names_fmt16(small, sizeof small, td_names_group,
					0x0017),
			 "secp256");
	ck_assert_str_eq(td_names_fmt16(small, sizeof small, NULL, 0xBEEF),
			 "unknown");
	/* n == 0: nothing written. */
	small[0] = 'x';
	ck_assert_ptr_eq(td_names_fmt16(small, 0, td_names_group, 0x0017),
			 small);
	ck_assert_int_eq(small[0], 'x');
}
END_TEST

/* td_names_str16: the table's own string for a known value (no copy),
 * else the fallback text in buf; cut like snprintf of the expected text. */
START_TEST(str16_text)
{
	char b[TD_NAMES_FMT_LEN], want[32], small[8];

	ck_assert_ptr_eq(td_names_str16(b, sizeof b, td_names_group, 0x001D),
			 td_names_group(0x001D));
	for (unsigned v = 0; v <= 0xffff; v += 0x0101) {
		const char *got = td_names_str16(b, sizeof b, td_names_group, (uint16_t)v);

		if (td_names_is_grease((uint16_t)v))
			snprintf(want, sizeof want, "GREASE (0x%04x)", v);
		else if (td_names_group((uint16_t)v))
			snprintf(want, sizeof want, "%s", td_names_group((uint16_t)v));
		else
			snprintf(want, sizeof want, "unknown (0x%04x)", v);
		ck_assert_str_eq(got, want);
		if (!td_names_group((uint16_t)v) || td_names_is_grease((uint16_t)v))
			ck_assert_ptr_eq(got, b);
	}
	for (size_t n = 1; n <= sizeof small; n++) {
		/* the whole text, then its first n - 1 bytes, as snprintf cuts */
		snprintf(want, sizeof want, "GREASE (0x%04x)", 0x2a2a);
		want[n - 1] = '\0';
		ck_assert_str_eq(td_names_str16(small, n, td_names_group, 0x2a2a), want);
		snprintf(want, sizeof want, "unknown (0x%04x)", 0xbeef);
		want[n - 1] = '\0';
		ck_assert_str_eq(td_names_str16(small, n, NULL, 0xbeef), want);
	}
	small[0] = 'x';
	ck_assert_ptr_eq(td_names_str16(small, 0, td_names_group, 0x0017), small);
	ck_assert_int_eq(small[0], 'x');
}
END_TEST

START_TEST(fmt16_fits_every_name)
{
	/* TD_NAMES_FMT_LEN must hold the longest name of every table. */
	for (int t = 0; t < TD_NAMES_TABLE_COUNT; t++) {
		size_t n = td_names_table_size((enum td_names_table)t);

		for (size_t i = 0; i < n; i++) {
			const char *s;

			ck_assert(td_names_table_entry((enum td_names_table)t,
						       i, NULL, &s));
			ck_assert_msg(strlen(s) < TD_NAMES_FMT_LEN, "%s", s);
		}
	}
}
END_TEST

/* --- table shape ------------------------------------------------------- */

static bool same_ascii_nocase(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = (*a >= 'A' && *a <= 'Z') ? (char)(*a - 'A' + 'a') : *a;
		char y = (*b >= 'A' && *b <= 'Z') ? (char)(*b - 'A' + 'a') : *b;

		if (x != y)
			return false;
	}
	return *a == *b;
}

START_TEST(tables_sorted_unique)
{
	static const size_t max_id[TD_NAMES_TABLE_COUNT] = {
		[TD_NAMES_CIPHER] = 0xFFFF,	[TD_NAMES_ALERT] = 0xFF,
		[TD_NAMES_GROUP] = 0xFFFF,	[TD_NAMES_SIGSCHEME] = 0xFFFF,
		[TD_NAMES_EXTENSION] = 0xFFFF,	[TD_NAMES_HANDSHAKE] = 0xFF,
		[TD_NAMES_VERSION] = 0xFFFF,	[TD_NAMES_CONTENT_TYPE] = 0xFF,
	};

	for (int t = 0; t < TD_NAMES_TABLE_COUNT; t++) {
		enum td_names_table tab = (enum td_names_table)t;
		size_t n = td_names_table_size(tab);
		uint16_t prev = 0;

		ck_assert_msg(n > 0, "table %d empty", t);
		for (size_t i = 0; i < n; i++) {
			uint16_t id;
			const char *s;

			ck_assert(td_names_table_entry(tab, i, &id, &s));
			ck_assert_msg(i == 0 || id > prev,
				      "table %d: 0x%04x after 0x%04x", t, id,
				      prev);
			ck_assert_msg(id <= max_id[t], "table %d: 0x%04x", t,
				      id);
			ck_assert_msg(s != NULL && s[0] != '\0',
				      "table %d: 0x%04x unnamed", t, id);
			ck_assert_msg(!td_names_is_grease(id),
				      "table %d names GREASE 0x%04x", t, id);
			prev = id;
		}
		ck_assert(!td_names_table_entry(tab, n, NULL, NULL));
	}
	ck_assert_uint_eq(td_names_table_size(TD_NAMES_TABLE_COUNT), 0);
	ck_assert(!td_names_table_entry(TD_NAMES_TABLE_COUNT, 0, NULL, NULL));
}
END_TEST

/* Reverse lookup needs names unique, ignoring case, in the two tables the
 * rule engine looks up by name; and every entry must come back. */
START_TEST(reverse_lookup_round_trip)
{
	static const enum td_names_table tabs[] = { TD_NAMES_CIPHER,
						    TD_NAMES_ALERT };

	for (size_t k = 0; k < COUNT(tabs); k++) {
		size_t n = td_names_table_size(tabs[k]);

		for (size_t i = 0; i < n; i++) {
			uint16_t id, id2;
			const char *s, *s2;
			long back;

			ck_assert(td_names_table_entry(tabs[k], i, &id, &s));
			for (size_t j = i + 1; j < n; j++) {
				ck_assert(td_names_table_entry(tabs[k], j, &id2,
							       &s2));
				ck_assert_msg(!same_ascii_nocase(s, s2),
					      "0x%04x and 0x%04x both %s", id,
					      id2, s);
			}
			back = tabs[k] == TD_NAMES_CIPHER
				       ? td_names_cipher_by_name(s)
				       : td_names_alert_by_name(s);
			ck_assert_int_eq(back, id);
		}
	}
	ck_assert_int_eq(td_names_cipher_by_name("TLS_NO_SUCH_SUITE"), -1);
	ck_assert_int_eq(td_names_cipher_by_name(NULL), -1);
	ck_assert_int_eq(
		td_names_cipher_by_name("tls_ecdhe_rsa_with_aes_128_gcm_sha256"),
		0xC02F);
}
END_TEST

START_TEST(unknown_values_are_null)
{
	ck_assert_ptr_null(td_names_cipher(0x0A0A));	/* GREASE */
	ck_assert_ptr_null(td_names_cipher(0x1300));	/* unassigned */
	ck_assert_ptr_null(td_names_cipher(0xFF00));	/* private use */
	ck_assert_ptr_null(td_names_cipher_name(0x5601));
	ck_assert_ptr_null(td_names_group(0xFFFF));
	ck_assert_ptr_null(td_names_extension(0xFFFF));
	ck_assert_ptr_null(td_names_sigscheme(0xFFFF));
	ck_assert_ptr_null(td_names_version(0xFFFF));
}
END_TEST

Suite *td_names_suite(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("names");

	tcase_add_test(tc, cipher_names_match_openssl);
	tcase_add_test(tc, cipher_values_from_rfcs);
	tcase_add_test(tc, cipher_fields);
	tcase_add_test(tc, cipher_rows_agree_with_names);
	tcase_add_test(tc, alerts_from_rfcs);
	tcase_add_test(tc, groups_from_rfcs);
	tcase_add_test(tc, sigschemes_from_rfcs);
	tcase_add_test(tc, extensions_from_rfcs);
	tcase_add_test(tc, handshake_types_from_rfcs);
	tcase_add_test(tc, content_types_from_rfcs);
	tcase_add_test(tc, versions_from_rfcs);
	tcase_add_test(tc, grease_values);
	tcase_add_test(tc, fmt16_text);
	tcase_add_test(tc, fmt16_fits_every_name);
	tcase_add_test(tc, str16_text);
	tcase_add_test(tc, tables_sorted_unique);
	tcase_add_test(tc, reverse_lookup_round_trip);
	tcase_add_test(tc, unknown_values_are_null);
	suite_add_tcase(s, tc);
	return s;
}
