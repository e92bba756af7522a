/* keys.c - load --key private keys and match them (see td_keys.h).
 *
 * One of the three files allowed to include OpenSSL headers. The file is
 * read whole (capped), then:
 *   - PEM: every block is looked at in order; an encrypted one is noted, the
 *     first "... PRIVATE KEY" block is decoded from its DER;
 *   - DER: decoded as any private key structure libcrypto knows (PKCS#8,
 *     PKCS#1, SEC1, ...) and must be consumed whole.
 * Decoding goes through OSSL_DECODER with a passphrase callback that always
 * fails, so an encrypted key can never reach a terminal prompt. Encrypted
 * keys are recognised by their structure, not by the decoder's error text.
 * Buffers that held key material are cleansed before they are freed. The
 * decoded key itself is kept (struct td_key_private) for
 * td_keys_rsa_decrypt, and freed by td_key_clear.
 */
#include "td_keys.h"

#include "td_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

/* What struct td_key keeps of the private key; an OpenSSL type, so
 * td_keys.h sees only the name (STYLE.md rule 1). */
struct td_key_private {
	EVP_PKEY *pkey;
};

/* Never gives a passphrase: encrypted keys are refused, not prompted for. */
static int no_passphrase(char *pass, size_t pass_size, size_t *pass_len, const OSSL_PARAM params[],
			 void *arg)
{
	(void)pass;
	(void)pass_size;
	(void)params;
	(void)arg;
	*pass_len = 0;
	return 0;
}

/* Any private key structure in DER, consumed whole; NULL when it is not.
 * With a password an EncryptedPrivateKeyInfo (RFC 5958 §3) is decrypted;
 * without one it is refused, never prompted for. */
static EVP_PKEY *decode_der_key(const uint8_t *der, size_t len, const char *password)
{
	EVP_PKEY *pk = NULL;
	const unsigned char *p = der;
	size_t left = len;
	OSSL_DECODER_CTX *dctx =
		OSSL_DECODER_CTX_new_for_pkey(&pk, "DER", NULL, NULL, EVP_PKEY_KEYPAIR, NULL, NULL);
	int pass_ok;

	if (!dctx)
		return NULL;
	if (password)
		pass_ok = OSSL_DECODER_CTX_set_passphrase(dctx, (const unsigned char *)password,
							   strlen(password));
	else
		pass_ok = OSSL_DECODER_CTX_set_passphrase_cb(dctx, no_passphrase, NULL);
	if (pass_ok != 1 || OSSL_DECODER_from_data(dctx, &p, &left) != 1 || left != 0) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	OSSL_DECODER_CTX_free(dctx);
	return pk;
}

/* An EncryptedPrivateKeyInfo (RFC 5958 §3) has the shape of an X509_SIG:
 * AlgorithmIdentifier, OCTET STRING. */
static bool der_is_encrypted_pkcs8(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509_SIG *sig = d2i_X509_SIG(NULL, &p, (long)len);
	bool yes = sig && p == der + len;

	X509_SIG_free(sig);
	return yes;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* A PEM label for an error message: printable ASCII, bounded. */
static void copy_label(char *dst, size_t dstlen, const char *label)
{
	size_t i = 0;

	for (; label[i] && i + 1 < dstlen; i++) {
		unsigned char ch = (unsigned char)label[i];
		dst[i] = ch < 0x20 || ch > 0x7e ? '?' : (char)ch;
	}
	dst[i] = '\0';
}

/* What a PEM file held, for the error message when no key came out. */
struct pem_scan {
	bool encrypted;
	char other[40];   /* first block that is not a key, e.g. "CERTIFICATE" */
	char broken[40];  /* first key block that did not decode */
};

/* Walks the PEM blocks until a private key decodes (RFC 7468). Returns
 * TD_ERR_NOMEM only when the BIO cannot be made; *pk stays NULL when no key
 * was found, and scan says what was seen instead. */
static enum td_err decode_pem(const uint8_t *buf, size_t len, EVP_PKEY **pk,
			      struct pem_scan *scan)
{
	BIO *b = BIO_new_mem_buf(buf, (int)len);
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long dlen = 0;

	if (!b)
		return TD_ERR_NOMEM;
	while (!*pk && PEM_read_bio(b, &name, &header, &data, &dlen) == 1) {
		/* RFC 1421 legacy encryption is announced in the headers */
		bool legacy_enc = strstr(header, "Proc-Type:") && strstr(header, "ENCRYPTED");

		if (strcmp(name, PEM_STRING_PKCS8) == 0 || legacy_enc) {
			scan->encrypted = true;
		} else if (ends_with(name, "PRIVATE KEY")) {
			*pk = decode_der_key(data, (size_t)dlen, NULL);
			if (!*pk && !scan->broken[0])
				copy_label(scan->broken, sizeof scan->broken, name);
		} else if (!scan->other[0]) {
			copy_label(scan->other, sizeof scan->other, name);
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_clear_free(data, (size_t)dlen);
		name = header = NULL;
		data = NULL;
	}
	BIO_free(b);
	return TD_OK;
}

/* PEM when an encapsulation boundary appears anywhere (RFC 7468 §2 allows
 * text before it); DER starts with a SEQUENCE and never holds this text in
 * a key we could use. */
/* The one line saying why no key came out of the file. */
static enum td_err no_key_found(const char *path, const struct pem_scan *scan, char *err,
				size_t errlen)
{
	static const char not_key[] = "not a private key (PEM or DER)";

	if (scan->encrypted) {
		td_err_format(err, errlen, "%s: encrypted key: %s", path,
			      "give its password with --key-password-file FILE");
		return TD_ERR_UNSUPPORTED;
	}
	if (scan->broken[0])
		td_err_format(err, errlen, "%s: %s: the %s block does not decode", path, not_key,
			      scan->broken);
	else if (scan->other[0])
		td_err_format(err, errlen, "%s: %s: the PEM block is a %s", path, not_key,
			      scan->other);
	else
		td_err_format(err, errlen, "%s: %s", path, not_key);
	return TD_ERR_MALFORMED;
}

static bool looks_like_pem(const uint8_t *buf, size_t len)
{
	static const char begin[] = "-----BEGIN ";
	const size_t n = sizeof begin - 1;

	for (size_t i = 0; len >= n && i <= len - n; i++) {
		if (memcmp(buf + i, begin, n) == 0)
			return true;
	}
	return false;
}

/* The stored public half must belong to the private half: a key file whose
 * halves disagree would make every match result a lie. */
static enum td_err check_pair(EVP_PKEY *pk)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
	int r;

	if (!ctx)
		return TD_ERR_NOMEM;
	r = EVP_PKEY_pairwise_check(ctx);
	EVP_PKEY_CTX_free(ctx);
	/* -2: this key type has no pairwise check */
	return r == 1 || r == -2 ? TD_OK : TD_ERR_CRYPTO;
}

/* PEM_read_bio_PrivateKey's password callback: the password given, never
 * a prompt. */
static int give_password(char *buf, int size, int rwflag, void *u)
{
	size_t n = strlen(u);
	(void)rwflag;
	if (size <= 0 || n > (size_t)size)
		return -1;
	memcpy(buf, u, n);
	return (int)n;
}

/* An encrypted key, PEM (PKCS#8 or the RFC 1421 Proc-Type form) or DER
 * (EncryptedPrivateKeyInfo), decrypted with password; NULL when it does
 * not decrypt. */
static EVP_PKEY *decrypt_key(const uint8_t *buf, size_t len, const char *password)
{
	EVP_PKEY *pk = NULL;
	BIO *b;

	if (!looks_like_pem(buf, len))
		return decode_der_key(buf, len, password);
	b = BIO_new_mem_buf(buf, (int)len);
	if (!b)
		return NULL;
	pk = PEM_read_bio_PrivateKey(b, NULL, give_password, (void *)password);
	BIO_free(b);
	return pk;
}

enum td_err td_keys_load(const char *path, struct td_key *out, char *err, size_t errlen)
{
	return td_keys_load_password(path, NULL, out, err, errlen);
}

enum td_err td_keys_load_password(const char *path, const char *password, struct td_key *out,
				  char *err, size_t errlen)
{
	enum td_err ret;
	uint8_t *buf = NULL;
	size_t len = 0;
	EVP_PKEY *pk = NULL;
	unsigned char *spki = NULL;
	int spki_len;
	struct pem_scan scan = { 0 };
	struct td_cert_key ck;

	if (out)
		memset(out, 0, sizeof *out);
	td_err_format(err, errlen, "%s", "");
	if (!path || !out) {
		td_err_format(err, errlen, "--key: no file name");
		return TD_ERR_ARG;
	}
	ERR_set_mark();
	ret = td_file_read(path, TD_KEYS_MAX_FILE, &buf, &len, err, errlen);
	if (ret != TD_OK)
		goto out;

	if (looks_like_pem(buf, len)) {
		ret = decode_pem(buf, len, &pk, &scan);
		if (ret != TD_OK) {
			td_err_format(err, errlen, "%s: out of memory", path);
			goto out;
		}
	} else {
		pk = decode_der_key(buf, len, NULL);
		scan.encrypted = !pk && der_is_encrypted_pkcs8(buf, len);
	}
	if (!pk && scan.encrypted && password) {
		pk = decrypt_key(buf, len, password);
		if (!pk) {
			td_err_format(err, errlen,
				      "%s: encrypted key: the password from --key-password-file does "
				      "not decrypt it",
				      path);
			ret = TD_ERR_CRYPTO;
			goto out;
		}
	}
	if (!pk) {
		ret = no_key_found(path, &scan, err, errlen);
		goto out;
	}

	ret = check_pair(pk);
	if (ret != TD_OK) {
		td_err_format(err, errlen, "%s: %s", path,
			      ret == TD_ERR_NOMEM ? "out of memory"
						  : "private and public halves do not match");
		goto out;
	}
	spki_len = i2d_PUBKEY(pk, &spki);
	if (spki_len <= 0) {
		td_err_format(err, errlen, "%s: out of memory", path);
		ret = TD_ERR_NOMEM;
		goto out;
	}
	/* the same code that gives a certificate's key facts, so both sides of
	 * td_keys_match are computed alike */
	ret = td_x509_key_facts(spki, (size_t)spki_len, &ck);
	if (ret != TD_OK) {
		td_err_format(err, errlen, "%s: %s", path,
			      ret == TD_ERR_NOMEM ? "out of memory"
						  : "public half does not encode");
		goto out;
	}
	out->path = strdup(path);
	if (!out->path) {
		td_err_format(err, errlen, "%s: out of memory", path);
		ret = TD_ERR_NOMEM;
		goto out;
	}
	memcpy(out->algorithm, ck.algorithm, sizeof out->algorithm);
	out->bits = ck.bits;
	memcpy(out->spki_sha256, ck.spki_sha256, sizeof out->spki_sha256);
	memcpy(out->spki_sha256_b64, ck.spki_sha256_b64, sizeof out->spki_sha256_b64);
	out->has_modulus = ck.has_modulus;
	memcpy(out->rsa_modulus_sha256, ck.rsa_modulus_sha256, sizeof out->rsa_modulus_sha256);
	/* kept for td_keys_rsa_decrypt */
	out->priv = malloc(sizeof *out->priv);
	if (!out->priv) {
		td_err_format(err, errlen, "%s: out of memory", path);
		ret = TD_ERR_NOMEM;
		goto out;
	}
	out->priv->pkey = pk;
	pk = NULL;
out:
	OPENSSL_free(spki);
	EVP_PKEY_free(pk);
	if (buf) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	ERR_pop_to_mark();
	if (ret != TD_OK)
		td_key_clear(out);
	return ret;
}

void td_key_clear(struct td_key *k)
{
	if (!k)
		return;
	free(k->path);
	if (k->priv) {
		EVP_PKEY_free(k->priv->pkey); /* libcrypto cleanses the key material */
		free(k->priv);
	}
	memset(k, 0, sizeof *k);
}

bool td_keys_match(const struct td_key *k, const struct td_cert_key *ck)
{
	if (!k || !ck || !k->path || !k->algorithm[0] || !ck->algorithm[0])
		return false;
	return memcmp(k->spki_sha256, ck->spki_sha256, sizeof k->spki_sha256) == 0;
}

/* OpenSSL 3.2 answers a bad PKCS#1 v1.5 padding with random bytes instead
 * of an error (implicit rejection, the defence against the Marvin attack
 * for servers). Here the error is the answer sought: the ciphertext was
 * not made with this key. Older versions have no such switch. */
static bool no_implicit_rejection(EVP_PKEY_CTX *ctx)
{
#ifdef OSSL_ASYM_CIPHER_PARAM_IMPLICIT_REJECTION
	unsigned int off = 0;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_uint(OSSL_ASYM_CIPHER_PARAM_IMPLICIT_REJECTION, &off),
		OSSL_PARAM_construct_end(),
	};

	return EVP_PKEY_CTX_set_params(ctx, params) == 1;
#else
	(void)ctx;
	return true;
#endif
}

enum td_err td_keys_rsa_decrypt(const struct td_key *k, const uint8_t *in, size_t n,
				uint8_t *out, size_t cap, size_t *out_len)
{
	enum td_err ret = TD_ERR_CRYPTO;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t *buf = NULL;
	size_t size = 0, len;
	int bytes;

	if (out_len)
		*out_len = 0;
	if (!k || !k->priv || !k->priv->pkey || (!in && n) || (!out && cap) || !out_len)
		return TD_ERR_ARG;
	if (!EVP_PKEY_is_a(k->priv->pkey, "RSA"))
		return TD_ERR_UNSUPPORTED; /* RSA-PSS keys cannot decrypt either */
	ERR_set_mark();
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->priv->pkey, NULL);
	bytes = EVP_PKEY_get_size(k->priv->pkey);
	if (!ctx || bytes <= 0) {
		ret = TD_ERR_NOMEM;
		goto out;
	}
	/* the provider wants room for a whole modulus, whatever comes out */
	size = (size_t)bytes;
	buf = malloc(size);
	if (!buf) {
		ret = TD_ERR_NOMEM;
		goto out;
	}
	if (EVP_PKEY_decrypt_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
	    !no_implicit_rejection(ctx))
		goto out;
	len = size;
	if (EVP_PKEY_decrypt(ctx, buf, &len, n ? in : buf, n) != 1)
		goto out; /* TD_ERR_CRYPTO: the padding does not check out */
	if (len > cap) {
		ret = TD_ERR_TOO_BIG;
		goto out;
	}
	if (len)
		memcpy(out, buf, len);
	*out_len = len;
	ret = TD_OK;
out:
	if (buf) {
		OPENSSL_cleanse(buf, size);
		free(buf);
	}
	EVP_PKEY_CTX_free(ctx);
	ERR_pop_to_mark();
	return ret;
}
