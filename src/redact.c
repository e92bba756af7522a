/* redact.c - stable pseudonyms for host names and IP addresses (--redact;
 * see td_redact.h).
 *
 * One of the modules that may include OpenSSL headers (STYLE.md rule 1):
 * the per-run key comes from RAND_bytes and host pseudonyms from
 * HMAC-SHA256 through EVP_MAC. No OpenSSL type leaves this file.
 */
#include "td_redact.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <jansson.h>

#include "td_decode.h"
#include "td_report_md.h"
#include "td_report_util.h"
#include "td_x509.h"

#define KEY_LEN 32
#define PSEUDO_LEN 48
#define MAX_VALUE_LEN 1024 /* longer strings are not names; never registered */

/* One registered value (raw or as an output escapes it) and the
 * pseudonym it is replaced by. */
struct entry {
	char *value;
	size_t len;
	char pseudo[PSEUDO_LEN];
};

struct td_redact {
	uint8_t key[KEY_LEN]; /* HMAC key; also seeds the table's hash */
	uint64_t seed;
	struct entry *e;
	size_t n, cap;
	size_t *slot; /* open addressing: index + 1, 0 empty; cap * 2 slots */
	size_t nslots;
	size_t maxlen; /* longest value: how far a match can reach */
	unsigned n4, n6;
	size_t overflow;
	EVP_MAC *mac;
};

/* FNV-1a from a per-run random start: the table's hash. Not a MAC; the
 * random start keeps a capture from choosing colliding names in advance. */
static uint64_t hash(const struct td_redact *r, const char *p, size_t n)
{
	uint64_t h = r->seed;

	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static struct entry *find(const struct td_redact *r, const char *p, size_t n)
{
	if (!r->nslots)
		return NULL;
	for (size_t i = hash(r, p, n) & (r->nslots - 1);; i = (i + 1) & (r->nslots - 1)) {
		size_t k = r->slot[i];
		if (!k)
			return NULL;
		if (r->e[k - 1].len == n && memcmp(r->e[k - 1].value, p, n) == 0)
			return &r->e[k - 1];
	}
}

static enum td_err grow(struct td_redact *r)
{
	size_t cap = r->cap ? r->cap * 2 : 256, nslots = cap * 2;
	struct entry *e = realloc(r->e, cap * sizeof *e);
	size_t *slot;

	if (!e)
		return TD_ERR_NOMEM;
	r->e = e;
	slot = calloc(nslots, sizeof *slot);
	if (!slot)
		return TD_ERR_NOMEM;
	for (size_t k = 0; k < r->n; k++) {
		size_t i = hash(r, e[k].value, e[k].len) & (nslots - 1);
		while (slot[i])
			i = (i + 1) & (nslots - 1);
		slot[i] = k + 1;
	}
	free(r->slot);
	r->slot = slot;
	r->nslots = nslots;
	r->cap = cap;
	return TD_OK;
}

/* Adds value -> pseudo unless value is there already. */
static enum td_err put(struct td_redact *r, const char *value, size_t len, const char *pseudo)
{
	struct entry *e;
	size_t i;

	if (len == 0 || len > MAX_VALUE_LEN || find(r, value, len))
		return TD_OK;
	if (r->n == TD_REDACT_MAX_VALUES) {
		r->overflow++;
		return TD_ERR_TOO_BIG;
	}
	if (r->n == r->cap && grow(r) != TD_OK)
		return TD_ERR_NOMEM;
	e = &r->e[r->n];
	e->value = malloc(len + 1);
	if (!e->value)
		return TD_ERR_NOMEM;
	memcpy(e->value, value, len);
	e->value[len] = '\0';
	e->len = len;
	snprintf(e->pseudo, sizeof e->pseudo, "%s", pseudo);
	for (i = hash(r, value, len) & (r->nslots - 1); r->slot[i]; i = (i + 1) & (r->nslots - 1))
		;
	r->slot[i] = ++r->n;
	if (len > r->maxlen)
		r->maxlen = len;
	return TD_OK;
}

/* value, and the forms the text, JSON and Markdown reports print it in,
 * all to the same pseudonym. */
static enum td_err put_forms(struct td_redact *r, const char *value, size_t len, const char *pseudo)
{
	char term[4 * MAX_VALUE_LEN + 1];
	enum td_err err = put(r, value, len, pseudo);
	json_t *j;
	char *buf = NULL;
	size_t n = 0;
	FILE *f;

	if (err != TD_OK)
		return err;
	if (td_report_escape_term(term, sizeof term, (const uint8_t *)value, len) < sizeof term)
		err = put(r, term, strlen(term), pseudo);
	j = td_report_json_wire((const uint8_t *)value, len);
	if (err == TD_OK && j) {
		char *s = json_dumps(j, JSON_ENCODE_ANY);
		if (s && strlen(s) >= 2)
			err = put(r, s + 1, strlen(s) - 2, pseudo); /* without the quotes */
		free(s);
	}
	json_decref(j);
	f = open_memstream(&buf, &n);
	if (err == TD_OK && f) {
		td_md_put_text(f, (const uint8_t *)value, len);
		if (fclose(f) == 0)
			err = put(r, buf, n, pseudo);
		f = NULL;
	}
	if (f)
		fclose(f);
	free(buf);
	return err;
}

struct td_redact *td_redact_new(void)
{
	struct td_redact *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	if (RAND_bytes(r->key, sizeof r->key) != 1 ||
	    !(r->mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) || grow(r) != TD_OK) {
		td_redact_free(r);
		return NULL;
	}
	memcpy(&r->seed, r->key + KEY_LEN - sizeof r->seed, sizeof r->seed);
	r->seed ^= 0xcbf29ce484222325ULL;
	return r;
}

void td_redact_free(struct td_redact *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->e[i].value);
	free(r->e);
	free(r->slot);
	EVP_MAC_free(r->mac);
	OPENSSL_cleanse(r->key, sizeof r->key);
	free(r);
}

/* h-XXXXXXXXXX.example: the first 40 bits of HMAC-SHA256(key, name). */
static enum td_err host_pseudo(struct td_redact *r, const char *name, size_t len,
			       char out[PSEUDO_LEN])
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(r->mac);
	uint8_t md[32];
	size_t mdlen = 0;
	bool ok = ctx && EVP_MAC_init(ctx, r->key, sizeof r->key, params) == 1 &&
		  EVP_MAC_update(ctx, (const uint8_t *)name, len) == 1 &&
		  EVP_MAC_final(ctx, md, &mdlen, sizeof md) == 1 && mdlen == sizeof md;

	EVP_MAC_CTX_free(ctx);
	if (!ok)
		return TD_ERR_CRYPTO;
	snprintf(out, PSEUDO_LEN, "h-%02x%02x%02x%02x%02x.example", md[0], md[1], md[2], md[3],
		 md[4]);
	return TD_OK;
}

enum td_err td_redact_add_host(struct td_redact *r, const char *name, size_t len)
{
	char pseudo[PSEUDO_LEN];
	enum td_err err;

	if (len == 0 || len > MAX_VALUE_LEN || find(r, name, len))
		return TD_OK;
	err = host_pseudo(r, name, len, pseudo);
	return err != TD_OK ? err : put_forms(r, name, len, pseudo);
}

enum td_err td_redact_add_ip(struct td_redact *r, const struct td_addr *a)
{
	static const char *const v4_nets[] = {"192.0.2.", "198.51.100.", "203.0.113."};
	char text[64], pseudo[PSEUDO_LEN];

	if (!td_addr_str(a, text, sizeof text) || find(r, text, strlen(text)))
		return TD_OK;
	if (a->family == 4) {
		unsigned n = r->n4++;
		if (n < 3 * 254)
			snprintf(pseudo, sizeof pseudo, "%s%u", v4_nets[n / 254], n % 254 + 1);
		else
			snprintf(pseudo, sizeof pseudo, "ipv4-%u.invalid", n + 1);
	} else {
		snprintf(pseudo, sizeof pseudo, "2001:db8:ffff::%x", ++r->n6);
	}
	return put(r, text, strlen(text), pseudo);
}

/* An IPv4 or IPv6 address in text form into a; false when text is none. */
static bool parse_ip(const char *text, struct td_addr *a)
{
	memset(a, 0, sizeof *a);
	if (inet_pton(AF_INET, text, a->bytes) == 1)
		a->family = 4;
	else if (inet_pton(AF_INET6, text, a->bytes) == 1)
		a->family = 6;
	return a->family != 0;
}

/* "DNS:name" and "IP:address" entries of a subjectAltName list. */
static enum td_err add_san(struct td_redact *r, const char *san)
{
	struct td_addr a;

	if (strncmp(san, "DNS:", 4) == 0)
		return td_redact_add_host(r, san + 4, strlen(san + 4));
	if (strncmp(san, "IP:", 3) != 0)
		return TD_OK;
	if (!parse_ip(san + 3, &a))
		return td_redact_add_host(r, san + 3, strlen(san + 3));
	return td_redact_add_ip(r, &a);
}

/* The CN of an RFC 4514 subject ("CN=www.example.com,O=..."), as printed
 * (escapes kept), when it looks like a host name: a dot and no space. */
static enum td_err add_cn(struct td_redact *r, const char *subject)
{
	for (const char *p = subject; p && *p;) {
		const char *v, *end;

		if (strncmp(p, "CN=", 3) == 0 && (p == subject || p[-1] == ',')) {
			v = p + 3;
			for (end = v; *end && *end != ','; end++)
				if (*end == '\\' && end[1])
					end++;
			if (memchr(v, '.', (size_t)(end - v)) && !memchr(v, ' ', (size_t)(end - v)))
				return td_redact_add_host(r, v, (size_t)(end - v));
			return TD_OK;
		}
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return TD_OK;
}

static enum td_err add_chain(struct td_redact *r, const struct td_cert *const *certs, unsigned n)
{
	enum td_err err = TD_OK;

	for (unsigned i = 0; err == TD_OK && i < n && i < TD_MAX_CHAIN; i++) {
		const struct td_cert *c = certs[i];
		if (!c || !c->parsed)
			continue;
		for (size_t k = 0; err == TD_OK && c->sans && k < c->n_sans; k++)
			err = add_san(r, c->sans[k]);
		if (err == TD_OK)
			err = add_cn(r, c->subject);
	}
	return err;
}

/* A byte that continues a name or an address. */
static bool name_byte(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '*';
}

/* The words of a server's plain-text line that name a host: an IPv4 or
 * IPv6 address, or a name with a dot and a letter made of name bytes
 * ("220 mail.example.com ESMTP", RFC 5321 §4.2: the greeting names the
 * server). Reply codes and versions ("5.5.2", "HTTP/1.1") are not. */
static enum td_err add_plain_words(struct td_redact *r, const struct td_plain_line *l)
{
	char word[TD_PLAIN_LINE_LEN + 1];
	size_t n = td_plain_len(l), i = 0;
	enum td_err err = TD_OK;

	while (err == TD_OK && i < n) {
		size_t k = 0;
		bool dot = false, letter = false, name = true;
		struct td_addr a;

		while (i < n && strchr(" \t<>[]()\",;", l->text[i]))
			i++;
		while (i < n && !strchr(" \t<>[]()\",;", l->text[i]))
			word[k++] = (char)l->text[i++];
		while (k && (word[k - 1] == '.' || word[k - 1] == ':'))
			k--; /* the end of a sentence, a "host:" */
		word[k] = '\0';
		for (size_t j = 0; j < k; j++) {
			dot |= word[j] == '.';
			letter |= isalpha((unsigned char)word[j]) != 0;
			name &= word[j] == '.' || name_byte(word[j]);
		}
		if (parse_ip(word, &a))
			err = td_redact_add_ip(r, &a);
		else if (dot && letter && name)
			err = td_redact_add_host(r, word, k);
	}
	return err;
}

enum td_err td_redact_session(struct td_redact *r, const struct td_session *s)
{
	enum td_err err = td_redact_add_ip(r, &s->client);

	if (err == TD_OK)
		err = td_redact_add_ip(r, &s->server);
	if (err == TD_OK && s->ch->has_sni)
		err = td_redact_add_host(r, (const char *)s->ch->sni.bytes,
					 s->ch->sni.len < TD_SNI_LEN ? s->ch->sni.len : TD_SNI_LEN);
	if (err == TD_OK)
		err = add_chain(r, s->certs, s->n_certs);
	if (err == TD_OK)
		err = add_chain(r, s->client_certs, s->n_client_certs);
	if (err == TD_OK && s->proxy->client.family)
		err = td_redact_add_ip(r, &s->proxy->client);
	if (err == TD_OK && s->proxy->server.family)
		err = td_redact_add_ip(r, &s->proxy->server);
	if (err == TD_OK)
		err = add_plain_words(r, &s->plain->greeting);
	if (err == TD_OK)
		err = add_plain_words(r, &s->plain->reply);
	return err;
}

/* A match may not start inside a longer name ("www." before it) ... */
static bool left_edge(const char *t, size_t i)
{
	return i == 0 || !(name_byte(t[i - 1]) || (t[i - 1] == '.' && i >= 2 && name_byte(t[i - 2])));
}

/* ... nor end inside one (".com" after it); a ':' after it is a port. */
static bool right_edge(const char *t, size_t j, size_t n)
{
	return j == n || !(name_byte(t[j]) || (t[j] == '.' && j + 1 < n && name_byte(t[j + 1])));
}

int td_redact_write(const struct td_redact *r, FILE *out, const char *t, size_t n)
{
	size_t i = 0, from = 0;

	while (i < n) {
		const struct entry *best = NULL;

		if (left_edge(t, i)) {
			/* the longest registered value starting here */
			uint64_t h = r->seed;
			for (size_t j = i; j < n && j - i < r->maxlen; j++) {
				h ^= (uint8_t)t[j];
				h *= 0x100000001b3ULL;
				if (!right_edge(t, j + 1, n))
					continue;
				for (size_t k = h & (r->nslots - 1); r->slot[k]; k = (k + 1) & (r->nslots - 1)) {
					const struct entry *e = &r->e[r->slot[k] - 1];
					if (e->len == j + 1 - i && memcmp(e->value, t + i, e->len) == 0) {
						best = e;
						break;
					}
				}
			}
		}
		if (!best) {
			i++;
			continue;
		}
		fwrite(t + from, 1, i - from, out);
		fputs(best->pseudo, out);
		i += best->len;
		from = i;
	}
	fwrite(t + from, 1, n - from, out);
	return ferror(out) ? -1 : 0;
}

const char *td_redact_lookup(const struct td_redact *r, const char *value)
{
	const struct entry *e = find(r, value, strlen(value));

	return e ? e->pseudo : NULL;
}

size_t td_redact_overflow(const struct td_redact *r)
{
	return r->overflow;
}
