/* td_report_util.h - helpers shared by the text and JSON report writers.
 *
 * Internal to the report module (report_text.c, report_json.c and their
 * tests); nothing outside the report module includes it.
 *
 * Everything that turns a session fact into a string lives here, so the
 * text and the JSON output cannot disagree on a name, a timestamp or an
 * escape: strings from the wire (SNI, ALPN, certificate names) are
 * untrusted, and each output gets its own escape:
 *
 *   terminal  bytes < 0x20, 0x7f, C1 controls (U+0080-U+009F), Unicode
 *             bidi controls, and every byte that is not part of valid
 *             UTF-8 become \xNN (each byte of the sequence); a backslash
 *             becomes \\. What is printed is plain UTF-8 that cannot move
 *             the cursor, change colours or reorder the line.
 *   JSON      valid UTF-8 passes through (jansson escapes control
 *             characters as \u00XX itself); each byte that is not part of
 *             valid UTF-8, and NUL, becomes the six characters \u00XX in
 *             the string's value. NUL is escaped because jansson's
 *             json_loads() refuses \u0000 unless given JSON_ALLOW_NUL, and
 *             every line we write must load with the default flags.
 */
#ifndef TD_REPORT_UTIL_H
#define TD_REPORT_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "td_session.h"
#include "td_time.h"

/* Length (1-4) of the well-formed UTF-8 sequence starting at p (RFC 3629
 * §4: no overlong forms, no surrogates, nothing above U+10FFFF), or 0 when
 * p[0] does not start one within n bytes. n must be > 0. */
size_t td_report_utf8_seq(const uint8_t *p, size_t n);

/* Terminal escape (see above) of p[0..len) into buf, which holds n bytes
 * (n > 0). Always NUL-terminates; never cuts an escape or a UTF-8 sequence
 * in half. Returns the length the full escaped string needs, excluding
 * the NUL (as snprintf does), so a result >= n means it was cut. */
size_t td_report_escape_term(char *buf, size_t n, const uint8_t *p, size_t len);

/* Whether s[0..len) is printable ASCII without a backslash, which the
 * terminal escape leaves as it is (it leaves some UTF-8 too: false for
 * that, and the caller escapes it to the same text). */
bool td_report_term_plain(const char *s, size_t len);

/* Writes the terminal escape of p[0..len) to out (td_report_buf_term()). */
void td_report_put_term(FILE *out, const uint8_t *p, size_t len);

/* A JSON string holding the JSON escape (see above) of p[0..len); NULL only
 * when out of memory. p may be NULL when len is 0. */
json_t *td_report_json_wire(const uint8_t *p, size_t len);

/* The JSON escape (see above) of p[0..len) as the string's value: *value
 * is p itself when p is ASCII without NUL (nothing to escape), else a
 * malloc()ed copy the caller frees (*heap is set to it). false only when
 * out of memory. p may be NULL when len is 0. */
bool td_report_json_escape(const uint8_t *p, size_t len, const char **value, size_t *value_len,
			   char **heap);

/* Same for a NUL-terminated string; s == NULL gives json null. */
json_t *td_report_json_cstr(const char *s);

/* An output buffer in front of a FILE. The writers build a connection's
 * text block or JSON line in it and hand it to the FILE with one fwrite()
 * (td_report_buf_end()), and write what they write most often (names,
 * numbers, padding) by hand rather than through printf. The storage is
 * the caller's (TD_REPORT_BUF_LEN on its stack: no allocation per
 * connection); when it is full, what it holds is written and it goes on,
 * so the output is the same either way. Storage of 0 bytes writes
 * straight through (the FILE * wrappers below). err: a write failed. */
struct td_report_buf {
	FILE *out;
	char *p;
	size_t n, cap;
	bool err;
	bool spilled; /* something was handed to out since init */
	size_t cut;   /* td_report_snprintf(): bytes that did not fit */
};

/* Room for all but the largest text blocks. */
#define TD_REPORT_BUF_LEN 32768

void td_report_buf_init(struct td_report_buf *b, FILE *out, char *mem, size_t len);

/* Writes what is held: 0, or -1 when a write failed. */
int td_report_buf_end(struct td_report_buf *b);

/* The slow path of the two below: writes what is held first, or writes
 * p through when it is larger than the storage. */
void td_report_buf_put_more(struct td_report_buf *b, const void *p, size_t len);

static inline void td_report_buf_put(struct td_report_buf *b, const void *p, size_t len)
{
	if (len <= b->cap - b->n) {
		if (len)
			memcpy(b->p + b->n, p, len);
		b->n += len;
	} else {
		td_report_buf_put_more(b, p, len);
	}
}

static inline void td_report_buf_putc(struct td_report_buf *b, char c)
{
	if (b->n < b->cap)
		b->p[b->n++] = c;
	else
		td_report_buf_put_more(b, &c, 1);
}

void td_report_buf_puts(struct td_report_buf *b, const char *s);

/* Whether one of the 16 bytes at p is below 0x20, above max, or is a or
 * b: the escape test of both report writers, 16 bytes in one vector
 * compare (GCC's vector extension, which clang has too; SSE2 on x86-64).
 * JSON: max 0x7f, '"' and '\\'; the terminal: max 0x7e, '\\' twice. */
static inline __attribute__((always_inline)) bool td_report_bad16(const void *p, unsigned char max,
								  unsigned char a, unsigned char b)
{
	typedef unsigned char v16 __attribute__((vector_size(16)));
	v16 v;
	uint64_t lo, hi;

	memcpy(&v, p, 16);
	__auto_type bad = (v < 0x20) | (v > max) | (v == a) | (v == b);
	memcpy(&lo, &bad, 8);
	memcpy(&hi, (const char *)&bad + 8, 8);
	return (lo | hi) != 0;
}

/* n copies of c (nothing when n <= 0): padding, arrow shafts. */
void td_report_buf_fill(struct td_report_buf *b, char c, int n);

/* printf into the buffer. The directives the writers use (%s %c %% and
 * %d %i %u with no length, l, ll or z) are written here; a format with any
 * other (flags, a width or precision, %x, %f) goes to vsnprintf whole.
 * The same text either way. */
void td_report_buf_printf(struct td_report_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void td_report_buf_vprintf(struct td_report_buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* snprintf(buf, n, fmt, ...) through td_report_buf_vprintf(): the same
 * text, cut the same way (n - 1 bytes and a NUL) and the same return
 * value, without vsnprintf for the directives above. */
int td_report_snprintf(char *buf, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int td_report_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* A string built in buf (n > 0 bytes) with the writers above, cut as
 * snprintf(buf, n, ...) cuts: td_report_buf_str() starts it (the buffer
 * has no FILE: what does not fit is counted in cut),
 * td_report_buf_str_end() puts the NUL and returns the length kept. */
void td_report_buf_str(struct td_report_buf *b, char *buf, size_t n);
size_t td_report_buf_str_end(struct td_report_buf *b);

/* The decimal digits of v (a '-' first when neg), as printf's %llu or
 * %lld write them; returns how many bytes that is. */
size_t td_report_buf_dec(struct td_report_buf *b, unsigned long long v, bool neg);

/* The terminal escape (see above) of p[0..len). */
void td_report_buf_term(struct td_report_buf *b, const uint8_t *p, size_t len);

/* Decimal digits of v written backwards so that they end just before
 * end, with a '-' first when neg; returns where they start. The writers'
 * integers without snprintf(): end needs 21 bytes before it. */
char *td_report_dec(char *end, unsigned long long v, bool neg);

/* The same forwards: the digits of v (a '-' first when neg) at p, two at
 * a time; returns their end. At most TD_REPORT_DEC_MAX bytes. */
#define TD_REPORT_DEC_MAX 21
char *td_report_dec_at(char *p, unsigned long long v, bool neg);

#define TD_REPORT_TIME_LEN 48

/* RFC 3339 UTC with microseconds: "2023-11-14T22:13:20.000123Z". A time
 * outside what the C library can convert is written "@<sec>.<usec>". */
char *td_report_time_utc(struct td_time t, char buf[TD_REPORT_TIME_LEN]);

/* The date and time of day td_report_time_utc() wrote last, for a writer
 * with many times in the same second (a connection's timeline): only the
 * microseconds change. Zero it before the first use. */
struct td_report_time_cache {
	bool valid;
	int64_t sec;
	char head[20]; /* "YYYY-MM-DDTHH:MM:SS." */
};

/* td_report_time_utc() through c; returns buf, the same text. */
char *td_report_time_utc_cached(struct td_report_time_cache *c, struct td_time t,
				char buf[TD_REPORT_TIME_LEN]);

/* Local time (TZ), for people: "2023-11-14 22:13:20.000123". */
char *td_report_time_local(struct td_time t, char buf[TD_REPORT_TIME_LEN]);

/* The local time zone's abbreviation at t ("UTC", "CET"); "" if unknown. */
char *td_report_zone_local(struct td_time t, char buf[TD_REPORT_TIME_LEN]);

/* Fingerprint as openssl prints it: upper-case hex pairs joined by ':'.
 * out holds 3 * len bytes (len > 0). Returns out. */
char *td_report_hex_colon(const uint8_t *data, size_t len, char *out);

/* Handshake type as RFC prose and Wireshark write it ("ClientHello",
 * "ServerKeyExchange"); unknown types give "handshake type N" in buf. */
const char *td_report_handshake_name(uint8_t type, char *buf, size_t n);

/* Schema-stable names the JSON output promises (they are not left to the
 * session module's display names): "open" "fin" "rst" "idle" "evicted";
 * "alert" "rst" "fin" "silence" (NULL for TD_ABORT_NONE or unknown). */
const char *td_report_end_name(uint8_t end);
const char *td_report_abort_name(uint8_t how);
/* "syn" (roles from the SYN), "ports" (guessed), "tls" (from the hellos). */
const char *td_report_roles_name(const struct td_session *s);

/* The session's encapsulations (td_encap_name(), outermost kinds first:
 * "vlan 100, gre, erspan") into buf; "" when none. Returns buf. */
const char *td_report_encap_str(const struct td_session *s, char *buf, size_t n);

/* Alert level: "fatal", "warning", NULL for anything else. */
const char *td_report_alert_level(uint8_t level);

/* The CertificateRequest's i-th kept CA name as the certificates'
 * subjects print (x509 module), to be freed; NULL when it was too long to
 * keep, does not decode, or i is past the names kept. */
char *td_report_ca_name(const struct td_session *s, unsigned i);

/* Walks a session's timeline and names each event. Keeps the little state
 * the names need: whether a ChangeCipherSpec came before, per direction
 * (the first encrypted handshake message after a TLS 1.2 CCS is the
 * Finished, RFC 5246 §7.4.9). Call td_report_event_what() on the events in
 * order. */
struct td_report_events {
	const struct td_session *s;
	bool tls13;
	bool after_ccs[2];
};

void td_report_events_init(struct td_report_events *w, const struct td_session *s);

/* What the event is: "ClientHello", "encrypted handshake (Finished)",
 * "Alert fatal bad_record_mac", "application data", "gap: 120 bytes
 * missing". A constant name is returned as it is (static); any other is
 * written into buf (n bytes), which is returned. */
const char *td_report_event_what(struct td_report_events *w, const struct td_event *ev, char *buf,
				 size_t n);

/* An alert as words: "fatal bad_record_mac", "warning close_notify",
 * "fatal unknown (200)", "encrypted alert", "probable encrypted alert". */
const char *td_report_alert_words(const struct td_alert *a, char *buf, size_t n);

/* The JSON writers (report_json.c): one line each. td_report_session()
 * and td_report_summary() (report_text.c) call them when opts->json is
 * set. */
struct td_summary;
void td_report_json_session(FILE *out, const struct td_session *s);
void td_report_json_summary(FILE *out, const struct td_summary *sum);

/* Why a failed handshake failed, in a few words ("server sent fatal
 * bad_record_mac", "RST from client", "server went silent after
 * ServerHello"), as the text report's header line says it. */
void td_report_failure_reason(const struct td_session *s, char *buf, size_t n);

/* The handshake ladder: a column line (client and server endpoints), then
 * one arrow per timeline event, "frame N  +T ms  label ---->" from the
 * client or "<---- label" from the server, with the frame number and the
 * time since the connection's first packet. Plain ASCII (tickets, fonts
 * and terminals without UTF-8 draw it the same); alerts get a '=' shaft
 * and "ALERT" in capitals, gaps a '~' shaft, TCP FIN/RST their own
 * arrow, and a line "---- client encrypts from here ----" goes before a
 * side's first encrypted record. Every line starts with indent spaces
 * and is at most 100 columns (unless a label alone is longer). ANSI
 * colour on alerts, RST and gaps only when color is set. Writes nothing
 * when the session has no event. No wire string goes into it. */
void td_report_ladder(FILE *out, const struct td_session *s, int indent, bool color);
void td_report_buf_ladder(struct td_report_buf *b, const struct td_session *s, int indent,
			  bool color);

/* printf("%+.3f", v) when plus, else printf("%.3f", v), into buf: by
 * hand for whole thousandths (td_report_thousandths()), through snprintf
 * for any other v. Returns the length. */
int td_report_fixed3(double v, bool plus, char buf[48]);

/* Milliseconds from a to b as a double (b - a). */
double td_report_ms(struct td_time a, struct td_time b);

/* true, with *k, when v is the double nearest to k/1000, or one of its
 * two neighbours, for an integer k with |k| < 10^15, and v is not -0.0: a
 * whole number of thousandths (what td_report_ms() gives for whole
 * microseconds), which the writers print by hand; false for any other v.
 * Such a v is within 1.5 ulp (3.4e-16 relative) of k/1000. */
bool td_report_thousandths(double v, long long *k);


/* Decryption facts in words ([decrypt]), for the text and Markdown
 * reports: enum td_decrypt_status, td_pms_result, td_finished_check
 * (td_session.h); td_dec_result_words (td_decrypt.h) for the rest. */
const char *td_report_decrypt_status_words(uint8_t status);
const char *td_report_pms_words(uint8_t result);
const char *td_report_finished_words(uint8_t check);

/* Why a CompressedCertificate's chain was not read (RFC 8879; the
 * session's cert_compression_err, an enum td_err), in words; NULL for
 * TD_OK. */
const char *td_report_cert_compression_error(uint8_t err);

#endif
