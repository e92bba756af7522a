/* td_fingerprint.h - client and server hello fingerprints.
 *
 * JA3 and JA3S as published by Salesforce (github.com/salesforce/ja3):
 *   JA3  = SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats
 *   JA3S = SSLVersion,Cipher,Extensions
 * decimal values, list items joined by '-', GREASE values (RFC 8701)
 * left out, and the MD5 of that string in lower-case hex.
 */
#ifndef TD_FINGERPRINT_H
#define TD_FINGERPRINT_H

#include <stdbool.h>
#include <stddef.h>

#include "td_session.h"

/* Longest JA3 string the capped hello lists can produce: the version, up
 * to six characters per list item ("65535-"), the commas. */
#define TD_JA3_MAX (8 + 6 * (TD_MAX_SUITES + TD_MAX_EXTS + TD_MAX_GROUPS) + \
		    4 * TD_MAX_POINT_FORMATS + 4)

/* Writes the JA3 / JA3S string into out (NUL-terminated, cut at n). True
 * when the hello's lists were kept whole; false when one was longer than
 * its cap (TD_MAX_SUITES, ...): the string lacks values and must not be
 * hashed as the hello's JA3. The hashes below are left "" then. */
bool td_ja3_string(const struct td_client_hello *ch, char *out, size_t n);
bool td_ja3s_string(const struct td_server_hello *sh, char *out, size_t n);
/* MD5 of the string, 32 hex digits and a NUL. */
void td_ja3_hash(const char *str, char out[33]);

/* JA4 and JA4S (FoxIO, github.com/FoxIO-LLC/ja4, technical details) for
 * TLS over TCP: "t13d1715h2_5b57614c22b0_3d5424432f57". The raw forms
 * (JA4_r, JA4S_r) put the lists themselves where the hashes go. */
#define TD_JA4_LEN 48
#define TD_JA4_RAW_MAX (16 + 5 * (TD_MAX_SUITES + TD_MAX_EXTS + TD_MAX_SIGALGS) + 4)
/* td_ja4() and td_ja4s() write "" for a hello with a list cut at its cap. */
void td_ja4(const struct td_client_hello *ch, char out[TD_JA4_LEN]);
void td_ja4_raw(const struct td_client_hello *ch, char *out, size_t n);
void td_ja4s(const struct td_server_hello *sh, char out[TD_JA4_LEN]);
void td_ja4s_raw(const struct td_server_hello *sh, char *out, size_t n);

#endif
