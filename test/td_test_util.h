/* td_test_util.h - what the tests share for running commands and files.
 *
 * The tests compare tlsdiag with what independent tools say (the openssl
 * CLI, the tlsdiag binary itself for the end-to-end tests), so several of
 * them run shell commands and read or write whole files. This is the one
 * place that does it. Test code only: the functions marked "asserts" fail
 * the running Check test, so call those from a test or a checked fixture,
 * never from an unchecked one.
 */
#ifndef TD_TEST_UTIL_H
#define TD_TEST_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <glob.h>
#include <jansson.h>

/* ---- test sizes ------------------------------------------------------ */

/* `make check SANITIZE=1` compiles the tests with -DTD_TEST_SMALL=1: under
 * AddressSanitizer + UndefinedBehaviorSanitizer every process is several
 * times slower to start and to run, and Check forks one per test. The
 * slowest tests (the million-SYN flood, the property seeds, the loops over
 * every sample or corpus file that also run tshark or python) keep the same
 * logic and assertions there and run them on a smaller N; the plain build
 * runs the full sizes. TD_TEST_N(full, small) is a constant expression when
 * both are. */
#ifndef TD_TEST_SMALL
#define TD_TEST_SMALL 0
#endif
#define TD_TEST_N(full, small) (TD_TEST_SMALL ? (small) : (full))

/* Whether item i (counted from 0) of such a loop is checked: every item in
 * the plain build, every third one (0, 3, 6...) under the sanitizers. */
#define TD_TEST_PICK(i) (!TD_TEST_SMALL || (i) % 3 == 0)

/* Runs fmt (formatted like printf) with sh -c. With cwd NULL the command
 * runs as it is, in the current directory, its standard error going where
 * the test's goes. With cwd set it runs inside cwd, and its standard error
 * is kept in cwd/stderr.txt (for a fixture whose failed step is to be
 * looked at there).
 *
 * When out is not NULL, *out receives the command's standard output,
 * malloc'd and NUL-terminated, for the caller to free; *out is NULL only
 * when the command could not be started. Returns the command's exit
 * status, -1 when it did not exit (a signal) or could not be started.
 * Does not assert (unchecked fixtures use it); aborts when memory runs
 * out. */
int td_test_vrun(char **out, const char *cwd, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
int td_test_run(char **out, const char *cwd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* td_test_run(), asserting exit status 0; returns the standard output, to
 * be freed. */
char *td_test_sh(const char *cwd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reads the whole file dir/name (name alone when dir is NULL) into a
 * malloc'd buffer with a NUL after the last byte (not counted in *len), to
 * be freed. Asserts that it can be read. */
uint8_t *td_test_read_file(const char *dir, const char *name, size_t *len);

/* Writes len bytes to dir/name (name alone when dir is NULL), replacing
 * what was there. Asserts that all of it was written. */
void td_test_write_file(const char *dir, const char *name, const void *data, size_t len);

/* What `openssl x509 -noout -fingerprint -sha256` (or -sha1) prints
 * ("sha256 Fingerprint=AB:CD:...") to lower-case hex without colons
 * ("abcd...") in dst (n bytes, always NUL-terminated). Asserts that
 * "Fingerprint=" is there. */
void td_test_fingerprint_hex(const char *cli_out, char *dst, size_t n);

/* A fresh directory /tmp/td-<what>-XXXXXX (mkdtemp), malloc'd, for
 * td_test_rmdir_all(). Asserts. */
char *td_test_tmpdir(const char *what);
/* rm -rf dir, then frees the string. Asserts. */
void td_test_rmdir_all(char *dir);

/* The tlsdiag binary under test (TD_BIN, default build/tlsdiag) and the
 * samples directory (TD_SAMPLES, default samples). */
const char *td_test_bin(void);
const char *td_test_samples(void);

/* Every sample capture: samples/X.pcap or .pcapng, samples/link/X.pcap
 * (keys, facts and key logs are not captures), at least 16 (asserts).
 * The caller globfree()s. */
void td_test_sample_captures(glob_t *g);

/* JSON Lines (tlsdiag --json): every non-empty line must parse (the
 * test fails otherwise); returns them as an array, to be json_decref'd. */
json_t *td_test_json_lines(const char *text);
/* The "connection" objects of such output, as one array (the summary and
 * anything else left out), to be json_decref'd. */
json_t *td_test_json_connections(const char *text);

/* ---- crafted TCP packets -------------------------------------------- */

/* One TCP segment over IPv4 (addresses host order, e.g. 0x0a000001 for
 * 10.0.0.1). */
struct td_test_tcp {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;   /* TD_TCP_* bits: FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 */
	uint16_t window;
	const uint8_t *payload;
	size_t len;
};

/* Size of the Ethernet + IPv4 + TCP frame of a segment with n payload
 * bytes (no options): 54 + n. */
#define TD_TEST_FRAME_LEN(n) (54 + (n))

/* Writes the Ethernet frame of t into out (TD_TEST_FRAME_LEN(t->len)
 * bytes; the caller makes room). Checksums are left zero: tlsdiag does not
 * check them. Returns the frame's length. */
size_t td_test_tcp_frame(uint8_t *out, const struct td_test_tcp *t);

/* pcap file format (libpcap's, little-endian, microseconds, Ethernet):
 * the 24-byte file header, and a 16-byte record header before each
 * frame. Assert that the writes succeed. */
void td_test_pcap_header(FILE *f);
/* v as 4 bytes, big- or little-endian (a pcap field in either order). */
void td_test_put32(FILE *f, uint32_t v, bool big_endian);
void td_test_pcap_frame(FILE *f, int64_t sec, uint32_t usec, const uint8_t *frame, size_t len);

/* The packets of the sample capture name (in td_test_samples()), read
 * with the capture stage: up to max of them, each a malloc'd copy in
 * frames[i] (caplen bytes in lens[i], link type in *linktype, the last
 * packet's), to be freed by the caller. Asserts that the file opens and
 * holds at most max packets. Returns how many. */
size_t td_test_sample_frames(const char *name, uint8_t **frames, size_t *lens, size_t max,
			     int *linktype);

/* ---- sessions a test fills by hand --------------------------------------- */

struct td_session;

/* td_session_init() for a session a test fills and fills again: what it
 * held before (lists, hellos) is freed first, so it must start zeroed
 * ({0} or static). Certificates are fakes, never released. */
void td_test_session_reset(struct td_session *s);
struct td_cert;
/* Puts c at index i of the server's chain (i below TD_MAX_CHAIN), making
 * room in its allocated list up to i; n_certs is left to the test.
 * Asserts. */
void td_test_set_cert(struct td_session *s, unsigned i, const struct td_cert *c);
/* Says --key path (NULL: none) matches certificate i (below TD_MAX_CHAIN),
 * as the run's key matching would; the path is borrowed. */
void td_test_set_key_match(struct td_session *s, unsigned i, const char *path);

/* ---- one rule on a session ------------------------------------------------ */

struct td_findings;
/* Evaluates the one rule "when WHEN message TPL" (severity info) on s
 * into f; asserts that it loads. */
void td_test_rule_eval(const char *when, const char *tpl, const struct td_session *s,
		       struct td_findings *f);
/* Does the condition when hold on s (a rule with it fires)? */
bool td_test_rule_holds(const char *when, const struct td_session *s);

#endif
