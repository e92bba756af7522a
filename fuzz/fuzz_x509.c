/* fuzz_x509.c - the certificate path: the input as DER through the cache.
 *
 * td_x509_cache_get twice on the same bytes: the first call parses (or
 * refuses) them, the second must be a hit returning the same facts. The
 * input also goes through td_x509_key_facts, the SubjectPublicKeyInfo
 * path the keys module uses. Invariants from td_x509.h: a result that did
 * not parse has an error and empty fields; one that did has the DER copy
 * and printable-ASCII names.
 */
#include <string.h>

#include "fuzz.h"
#include "td_x509.h"

static void printable(const char *s)
{
	FUZZ_ASSERT(s != NULL);
	for (; *s; s++)
		FUZZ_ASSERT(*s >= 0x20 && *s < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct td_x509_cache *c = td_x509_cache_new(4);
	struct td_x509_stats st;
	struct td_cert_key key;
	const struct td_cert *a, *b;

	FUZZ_ASSERT(c != NULL);
	a = td_x509_cache_get(c, data, size);
	b = td_x509_cache_get(c, data, size);
	FUZZ_ASSERT(a != NULL && a == b);
	td_x509_cache_stats(c, &st);
	FUZZ_ASSERT(st.lookups == 2 && st.parses == 1 && st.hits == 1);
	if (a->parsed) {
		FUZZ_ASSERT(a->der != NULL && a->der_len == size &&
			    memcmp(a->der, data, size) == 0);
		printable(a->subject);
		printable(a->issuer);
		printable(a->serial_hex);
		for (size_t i = 0; i < a->n_sans; i++)
			printable(a->sans[i]);
	} else {
		FUZZ_ASSERT(a->error[0] != '\0' && a->subject == NULL && a->n_sans == 0);
	}
	td_x509_cert_release(c, a);
	td_x509_cert_release(c, b);
	td_x509_cache_free(c);

	if (td_x509_key_facts(data, size, &key) == TD_OK)
		FUZZ_ASSERT(key.algorithm[0] != '\0');
	return 0;
}
