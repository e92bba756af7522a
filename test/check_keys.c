/* check_keys.c - loading --key private keys and matching them (td_keys.h).
 *
 * Keys are generated at run time with the openssl CLI in a mkdtemp
 * directory, in every container the loader accepts (PKCS#1, SEC1, PKCS#8;
 * PEM and DER), and the facts are compared with what the CLI computes
 * independently: size from `openssl pkey -text`, SPKI hash from
 * `openssl pkey -pubout -outform DER | openssl dgst -sha256`. Failures
 * assert the exact one-line message.
 *
 * Check gives tests no context pointer, so the fixture is one file-scope
 * struct, written only by the unchecked setup and teardown.
 */
#include <check.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "td_digest.h"
#include "td_keys.h"
#include "td_test_util.h"
#include "td_x509.h"

/* ---- fixture ------------------------------------------------------------ */

/* Shell steps run in order in the fixture directory. m_rsa and m_ec are
 * certificate/key pairs for the match tests. */
static const char *const make_steps[] = {
	"openssl genrsa -traditional -out rsa_pkcs1.pem 2048",
	"openssl rsa -in rsa_pkcs1.pem -traditional -outform DER -out rsa_pkcs1.der",
	"openssl pkey -in rsa_pkcs1.pem -outform DER -out rsa_pkcs8.der",
	"openssl ecparam -name prime256v1 -genkey -noout -out ec_sec1.pem",
	"openssl ec -in ec_sec1.pem -outform DER -out ec_sec1.der",
	"openssl ecparam -name prime256v1 -genkey -noout -out ec_other.pem",
	"openssl ec -in ec_other.pem -outform DER -out ec_other.der",
	/* EC PARAMETERS block first, then EC PRIVATE KEY */
	"openssl ecparam -name secp384r1 -genkey -out ec_params_sec1.pem",
	"openssl pkey -in ec_sec1.pem -out ec_pkcs8.pem",
	"openssl genpkey -algorithm ed25519 -out ed25519.pem",
	"openssl pkey -in ed25519.pem -outform DER -out ed25519.der",
	"openssl req -x509 -newkey rsa:2048 -nodes -keyout m_rsa.key -out m_rsa.pem -days 2"
	" -subj /CN=m-rsa && openssl x509 -in m_rsa.pem -outform DER -out m_rsa.der",
	"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout m_ec.key"
	" -out m_ec.pem -days 2 -subj /CN=m-ec && openssl x509 -in m_ec.pem -outform DER -out m_ec.der",
	/* a certificate and its key in one file, certificate first */
	"cat m_rsa.pem m_rsa.key > combined.pem",
	/* refusals */
	"openssl pkcs8 -topk8 -in ec_sec1.pem -v2 aes-256-cbc -passout pass:secret -out enc_pkcs8.pem",
	"openssl pkcs8 -topk8 -in ec_sec1.pem -v2 aes-256-cbc -passout pass:secret -outform DER"
	" -out enc_pkcs8.der",
	"openssl rsa -in rsa_pkcs1.pem -traditional -aes128 -passout pass:secret -out enc_legacy.pem",
	"openssl pkey -in ec_sec1.pem -pubout -out pub.pem",
	"openssl pkey -in ec_sec1.pem -pubout -outform DER -out pub.der",
	"printf -- '-----BEGIN PRIVATE KEY-----\\nMIIBVAIBADANBgkqhkiG9w0BAQEFAASC\\n"
	"-----END PRIVATE KEY-----\\n' > broken.pem",
	"mkdir a_directory",
};

/* Keys that load, with the algorithm expected. */
static const struct key_case {
	const char *file;
	const char *algorithm;
} key_cases[] = {
	{ "rsa_pkcs1.pem", "RSA" },	 { "rsa_pkcs1.der", "RSA" },
	{ "rsa_pkcs8.der", "RSA" },	 { "ec_sec1.pem", "EC" },
	{ "ec_sec1.der", "EC" },	 { "ec_params_sec1.pem", "EC" },
	{ "ec_pkcs8.pem", "EC" },	 { "ed25519.pem", "Ed25519" },
	{ "ed25519.der", "Ed25519" }, { "m_rsa.key", "RSA" },
	{ "combined.pem", "RSA" },
};
#define N_KEY_CASES (sizeof key_cases / sizeof key_cases[0])

static struct {
	char dir[64];
	bool ready;
	char why[512];
} fx;

static void setup(void)
{
	memset(&fx, 0, sizeof fx);
	snprintf(fx.dir, sizeof fx.dir, "/tmp/td_keys_XXXXXX");
	if (!mkdtemp(fx.dir)) {
		snprintf(fx.why, sizeof fx.why, "mkdtemp: %s", strerror(errno));
		return;
	}
	for (size_t i = 0; i < sizeof make_steps / sizeof make_steps[0]; i++) {
		if (td_test_run(NULL, fx.dir, "%s", make_steps[i]) != 0) {
			snprintf(fx.why, sizeof fx.why, "step failed: %s (see %s/stderr.txt)",
				 make_steps[i], fx.dir);
			return;
		}
	}
	fx.ready = true;
}

static void teardown(void)
{
	if (fx.dir[0] && fx.ready)
		td_test_run(NULL, fx.dir, "cd / && rm -rf '%s'", fx.dir);
	memset(&fx, 0, sizeof fx);
}

#define NEED_FIXTURE() ck_assert_msg(fx.ready, "fixture: %s", fx.why)

/* Loads name from the fixture directory (the path as given is the full
 * path, so messages start with it). */
static enum td_err load(const char *name, struct td_key *k, char *err, size_t errlen,
			char *path, size_t pathlen)
{
	snprintf(path, pathlen, "%s/%s", fx.dir, name);
	return td_keys_load(path, k, err, errlen);
}

/* Asserts that loading name fails with code want and exactly the message
 * "<path><suffix>", and leaves the key zeroed. */
static void assert_refused(const char *name, enum td_err want, const char *suffix)
{
	static const struct td_key zero;
	struct td_key k;
	char err[512], path[256], msg[600];

	memset(&k, 0xa5, sizeof k);
	ck_assert_int_eq(load(name, &k, err, sizeof err, path, sizeof path), want);
	snprintf(msg, sizeof msg, "%s%s", path, suffix);
	ck_assert_str_eq(err, msg);
	ck_assert_mem_eq(&k, &zero, sizeof k);
	td_key_clear(&k);
}

/* ---- loading ---------------------------------------------------------------- */

START_TEST(test_load_facts)
{
	NEED_FIXTURE();
	const struct key_case *kc = &key_cases[_i];
	struct td_key k;
	char err[512], path[256], hex[65], *text, *spki;
	const char *p;
	unsigned bits = 0;
	/* the CLI reads PEM by default; name the DER ones */
	const char *inform = strstr(kc->file, ".der") ? "-inform DER" : "";

	ck_assert_msg(load(kc->file, &k, err, sizeof err, path, sizeof path) == TD_OK, "%s", err);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(k.path, path);
	ck_assert_str_eq(k.algorithm, kc->algorithm);

	text = td_test_sh(fx.dir, "openssl pkey %s -in %s -noout -text", inform, kc->file);
	p = strstr(text, "Private-Key: (");
	if (p) {
		ck_assert_int_eq(sscanf(p, "Private-Key: (%u bit", &bits), 1);
		ck_assert_uint_eq(k.bits, bits);
	} else {
		/* the CLI prints no size for Ed25519 */
		ck_assert_str_eq(kc->algorithm, "Ed25519");
		ck_assert_uint_eq(k.bits, 256);
	}
	spki = td_test_sh(fx.dir,
			  "openssl pkey %s -in %s -pubout -outform DER | openssl dgst -sha256 -r",
			  inform, kc->file);
	ck_assert_uint_ge(strlen(spki), 64);
	spki[64] = '\0';
	ck_assert_str_eq(td_hex(k.spki_sha256, 32, hex), spki);
	free(text);
	free(spki);
	td_key_clear(&k);
	ck_assert_ptr_null(k.path);
	td_key_clear(&k); /* twice is fine */
}
END_TEST

START_TEST(test_missing_file)
{
	NEED_FIXTURE();
	assert_refused("no-such-key.pem", TD_ERR_IO, ": no such file");
}
END_TEST

START_TEST(test_not_regular)
{
	NEED_FIXTURE();
	assert_refused("a_directory", TD_ERR_IO, ": not a regular file");
}
END_TEST

START_TEST(test_certificate_instead_of_key)
{
	NEED_FIXTURE();
	assert_refused("m_rsa.pem", TD_ERR_MALFORMED,
		       ": not a private key (PEM or DER): the PEM block is a CERTIFICATE");
	assert_refused("m_rsa.der", TD_ERR_MALFORMED, ": not a private key (PEM or DER)");
}
END_TEST

START_TEST(test_public_key_instead_of_private)
{
	NEED_FIXTURE();
	assert_refused("pub.pem", TD_ERR_MALFORMED,
		       ": not a private key (PEM or DER): the PEM block is a PUBLIC KEY");
	assert_refused("pub.der", TD_ERR_MALFORMED, ": not a private key (PEM or DER)");
}
END_TEST

START_TEST(test_random_bytes)
{
	NEED_FIXTURE();
	uint8_t buf[3000];
	uint32_t s = 0x2545f491u;

	for (size_t i = 0; i < sizeof buf; i++) {
		s ^= s << 13;
		s ^= s >> 17;
		s ^= s << 5;
		buf[i] = (uint8_t)s;
	}
	td_test_write_file(fx.dir, "random.bin", buf, sizeof buf);
	assert_refused("random.bin", TD_ERR_MALFORMED, ": not a private key (PEM or DER)");
	td_test_write_file(fx.dir, "empty.bin", "", 0);
	assert_refused("empty.bin", TD_ERR_MALFORMED, ": not a private key (PEM or DER)");
	assert_refused("broken.pem", TD_ERR_MALFORMED,
		       ": not a private key (PEM or DER): the PRIVATE KEY block does not decode");
}
END_TEST

/* A DER key must be consumed whole, and every cut of it is refused. */
START_TEST(test_der_trailing_and_truncated)
{
	NEED_FIXTURE();
	size_t len;
	uint8_t *der = td_test_read_file(fx.dir, "ec_sec1.der", &len);

	der = realloc(der, len + 1);
	der[len] = 0;
	td_test_write_file(fx.dir, "trailing.der", der, len + 1);
	assert_refused("trailing.der", TD_ERR_MALFORMED, ": not a private key (PEM or DER)");
	for (size_t cut = 0; cut < len; cut++) {
		td_test_write_file(fx.dir, "cut.der", der, cut);
		assert_refused("cut.der", TD_ERR_MALFORMED, ": not a private key (PEM or DER)");
	}
	free(der);
}
END_TEST

START_TEST(test_encrypted_keys)
{
	static const char msg[] = ": encrypted key: give its password with --key-password-file FILE";

	NEED_FIXTURE();
	assert_refused("enc_pkcs8.pem", TD_ERR_UNSUPPORTED, msg);
	assert_refused("enc_pkcs8.der", TD_ERR_UNSUPPORTED, msg);
	assert_refused("enc_legacy.pem", TD_ERR_UNSUPPORTED, msg);
}
END_TEST

START_TEST(test_too_big)
{
	NEED_FIXTURE();
	size_t len;
	uint8_t *pem = td_test_read_file(fx.dir, "ec_sec1.pem", &len);
	uint8_t *big = malloc(TD_KEYS_MAX_FILE + 1);

	/* a valid key padded with newlines: refused on size alone */
	memset(big, '\n', TD_KEYS_MAX_FILE + 1);
	memcpy(big, pem, len);
	td_test_write_file(fx.dir, "big.pem", big, TD_KEYS_MAX_FILE + 1);
	assert_refused("big.pem", TD_ERR_TOO_BIG, ": larger than 1 MiB");
	/* at the cap exactly it is read */
	td_test_write_file(fx.dir, "at_cap.pem", big, TD_KEYS_MAX_FILE);
	struct td_key k;
	char err[512], path[256];
	ck_assert_int_eq(load("at_cap.pem", &k, err, sizeof err, path, sizeof path), TD_OK);
	td_key_clear(&k);
	free(big);
	free(pem);
}
END_TEST

/* An EC key whose stored public point belongs to another key: the halves
 * disagree, and a match result would be a lie. SEC1 (RFC 5915) ends with
 * the [1] publicKey BIT STRING, whose last 64 bytes are X || Y for P-256. */
START_TEST(test_mismatched_halves)
{
	NEED_FIXTURE();
	size_t la, lb;
	uint8_t *a = td_test_read_file(fx.dir, "ec_sec1.der", &la),
		*b = td_test_read_file(fx.dir, "ec_other.der", &lb);

	ck_assert_uint_eq(la, lb);
	memcpy(a + la - 64, b + lb - 64, 64);
	td_test_write_file(fx.dir, "mixed.der", a, la);
	assert_refused("mixed.der", TD_ERR_CRYPTO, ": private and public halves do not match");
	free(a);
	free(b);
}
END_TEST

START_TEST(test_bad_arguments)
{
	struct td_key k;
	char err[128];

	ck_assert_int_eq(td_keys_load(NULL, &k, err, sizeof err), TD_ERR_ARG);
	ck_assert_str_eq(err, "--key: no file name");
	ck_assert_int_eq(td_keys_load("x", NULL, NULL, 0), TD_ERR_ARG);
	td_key_clear(NULL);
}
END_TEST

/* ---- matching --------------------------------------------------------------- */

static struct td_key load_ok(const char *name)
{
	struct td_key k;
	char err[512], path[256];

	ck_assert_msg(load(name, &k, err, sizeof err, path, sizeof path) == TD_OK, "%s", err);
	return k;
}

START_TEST(test_match)
{
	NEED_FIXTURE();
	struct td_x509_cache *c = td_x509_cache_new(4);
	size_t lr, le;
	uint8_t *dr = td_test_read_file(fx.dir, "m_rsa.der", &lr),
		*de = td_test_read_file(fx.dir, "m_ec.der", &le);
	const struct td_cert *rsa = td_x509_cache_get(c, dr, lr);
	const struct td_cert *ec = td_x509_cache_get(c, de, le);
	const struct td_cert *junk = td_x509_cache_get(c, (const uint8_t *)"junk", 4);
	struct td_key krsa = load_ok("m_rsa.key"), kec = load_ok("m_ec.key");
	struct td_key kcomb = load_ok("combined.pem"), kother = load_ok("ec_sec1.pem");
	struct td_key none;

	ck_assert(rsa->parsed && ec->parsed && !junk->parsed);
	ck_assert(td_keys_match(&krsa, &rsa->key));
	ck_assert(td_keys_match(&kec, &ec->key));
	ck_assert(td_keys_match(&kcomb, &rsa->key));
	ck_assert(!td_keys_match(&krsa, &ec->key));
	ck_assert(!td_keys_match(&kec, &rsa->key));
	ck_assert(!td_keys_match(&kother, &ec->key)); /* same curve, other key */
	ck_assert(!td_keys_match(&krsa, &junk->key));

	/* an empty key never matches, not even an empty certificate key */
	memset(&none, 0, sizeof none);
	ck_assert(!td_keys_match(&none, &junk->key));
	ck_assert(!td_keys_match(&none, &rsa->key));
	ck_assert(!td_keys_match(NULL, &rsa->key));
	ck_assert(!td_keys_match(&krsa, NULL));

	td_key_clear(&krsa);
	td_key_clear(&kec);
	td_key_clear(&kcomb);
	td_key_clear(&kother);
	td_x509_cert_release(c, rsa);
	td_x509_cert_release(c, ec);
	td_x509_cert_release(c, junk);
	td_x509_cache_free(c);
	free(dr);
	free(de);
}
END_TEST

Suite *td_keys_suite(void)
{
	Suite *s = suite_create("keys");
	TCase *tc;

	tc = tcase_create("load");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, test_load_facts, 0, (int)N_KEY_CASES);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_not_regular);
	tcase_add_test(tc, test_certificate_instead_of_key);
	tcase_add_test(tc, test_public_key_instead_of_private);
	tcase_add_test(tc, test_random_bytes);
	tcase_add_test(tc, test_der_trailing_and_truncated);
	tcase_add_test(tc, test_encrypted_keys);
	tcase_add_test(tc, test_too_big);
	tcase_add_test(tc, test_mismatched_halves);
	tcase_add_test(tc, test_bad_arguments);
	tcase_add_test(tc, test_match);
	suite_add_tcase(s, tc);

	return s;
}
