/* td_redact.h - --redact: host names and IP addresses replaced by stable
 * pseudonyms in every report (text, JSON Lines, Markdown).
 *
 * A filter over the finished output rather than over the facts: the names
 * also sit inside sentences the diagnosis and the rules wrote ("openssl
 * s_client -connect 10.0.0.2:443 -servername api.example.com"), and the
 * checks that compare them (SNI against the certificate) must see the
 * real values. Each connection's names are registered before its report
 * is written; the filter then replaces every registered value where it
 * stands as a whole name (not inside a longer name or address).
 *
 * What is registered per connection: both IP addresses; the SNI; every
 * subjectAltName DNS and IP entry of both chains; each certificate
 * subject's CN when it looks like a host name (a dot, no space: CA names
 * such as "Example Root CA" stay readable); the words of the server's
 * plain-text greeting and reply that are addresses or host names (a dot
 * and a letter: "220 mail.example.com ESMTP"); the addresses a PROXY
 * protocol header gives. Each value is also registered
 * as the text, JSON and Markdown reports escape it, so a name with odd
 * bytes is found in every output.
 *
 * Pseudonyms, the same for the same value within one run:
 *   host names  h-XXXXXXXXXX.example, where the X are the first 40 bits of
 *               HMAC-SHA256(value) under a key drawn at random for the run
 *               (never written anywhere): a pseudonym cannot be turned back
 *               into its name by hashing lists of likely names;
 *   IPv4        192.0.2.N, 198.51.100.N, 203.0.113.N (RFC 5737) in the order
 *               first seen, then ipv4-N.invalid;
 *   IPv6        2001:db8:ffff::N (in RFC 3849's documentation prefix), N in
 *               hex, in the order first seen.
 * Limits: TD_REDACT_MAX_VALUES values; past it a run stops registering and
 * td_redact_overflow() says so (the caller must not publish such a report
 * as redacted).
 */
#ifndef TD_REDACT_H
#define TD_REDACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "td_error.h"
#include "td_session.h"

#define TD_REDACT_MAX_VALUES 65536

struct td_redact;

/* A context with a fresh random key; NULL when out of memory or when the
 * system has no randomness to give. */
struct td_redact *td_redact_new(void);
void td_redact_free(struct td_redact *r);

/* Registers the names of one connection (see above). TD_ERR_NOMEM, or
 * TD_ERR_TOO_BIG past TD_REDACT_MAX_VALUES. */
TD_MUST_CHECK enum td_err td_redact_session(struct td_redact *r, const struct td_session *s);

/* Registers one host name or one IP address in text form. */
TD_MUST_CHECK enum td_err td_redact_add_host(struct td_redact *r, const char *name, size_t len);
TD_MUST_CHECK enum td_err td_redact_add_ip(struct td_redact *r, const struct td_addr *a);

/* Writes text[0..len) to out with every registered value replaced by its
 * pseudonym. Returns 0, or -1 when out reports a write error. */
int td_redact_write(const struct td_redact *r, FILE *out, const char *text, size_t len);

/* The pseudonym of a registered value (as written, unescaped), or NULL;
 * borrowed until the context is freed. For tests. */
const char *td_redact_lookup(const struct td_redact *r, const char *value);

/* Values not registered because the table was full. */
size_t td_redact_overflow(const struct td_redact *r);

#endif
