/* td_tls.h - the TLS record and handshake push parser.
 *
 * Stage 5 of the pipeline (DESIGN.md). One struct td_tls per connection,
 * fed the reassembled byte stream of each direction (already oriented:
 * TD_DIR_C2S is the client's). It writes what it sees into the session
 * facts (td_session.h): hellos, the certificate chain (through a callback,
 * so this module knows nothing of X.509), alerts, ChangeCipherSpec, where
 * encryption starts, a timeline of events. It decides nothing: no severity,
 * no wording (STYLE.md rule 9).
 *
 * A push parser: its result does not depend on how the bytes were split
 * (STYLE.md rule 13). Only what it needs is buffered: a record header, the
 * handshake messages whose contents it reads (up to a cap), an alert's two
 * bytes. Application data and encrypted records are counted and skipped.
 *
 * Covered: SSL 3.0 to TLS 1.3 record layer (RFC 5246 §6.2, RFC 8446 §5),
 * the SSLv2-compatible ClientHello (RFC 5246 Appendix E.2), handshake
 * messages split across records and several in one record.
 */
#ifndef TD_TLS_H
#define TD_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "td_error.h"
#include "td_session.h"

/* RFC 8446 §5.1: a record's length must not exceed 2^14 (plaintext) or
 * 2^14 + 256 (TLS 1.3 ciphertext); RFC 5246 §6.2.3 allows 2^14 + 2048. */
#define TD_TLS_MAX_RECORD (16384 + 2048)

struct td_tls_limits {
	/* Largest handshake message buffered for parsing; larger ones are
	 * skipped by length and counted (hs_too_big). */
	size_t max_handshake_msg;
};

/* Called for each certificate of the server's chain, in order; returns a
 * reference the session keeps (released by td_session_clear), or NULL. der
 * is borrowed for the call only. */
struct td_tls_cert_sink {
	const struct td_cert *(*cert)(void *user, const uint8_t *der, size_t len);
	void *user;
	/* Optional (NULL: the response is only counted): reads a stapled
	 * DER OCSP response into out (the x509 module's job); der is
	 * borrowed for the call only. */
	void (*ocsp)(void *user, const uint8_t *der, size_t len, struct td_ocsp_facts *out);
};

/* Secrets for decrypting the handshake ([decrypt], tls_decrypt.c), given
 * by the caller; every member may be NULL/0. Borrowed: must outlive the
 * parser. */
struct td_tls_secrets {
	/* The key log's secret for (client random, label), label an enum
	 * td_keylog_label (td_keylog.h); returns its length, 0 when absent.
	 * out holds 64 bytes. */
	size_t (*keylog)(void *user, const uint8_t client_random[32], int label, uint8_t *out);
	/* A key log "RSA" line: the pre-master secret whose encrypted form
	 * starts with these 8 bytes; length or 0. */
	size_t (*keylog_rsa)(void *user, const uint8_t prefix[8], uint8_t *out);
	/* --key files: PKCS#1 v1.5 decryption with key i < n_keys; TD_OK,
	 * TD_ERR_CRYPTO (padding check failed), TD_ERR_UNSUPPORTED (not RSA). */
	size_t n_keys;
	enum td_err (*rsa_decrypt)(void *user, size_t i, const uint8_t *in, size_t n,
				   uint8_t *out, size_t cap, size_t *out_len);
	void *user;
};

struct td_tls_dec; /* tls_decrypt.c: keys, transcript, record buffers */

enum td_tls_hs_mode { TD_HS_HEADER, TD_HS_BODY, TD_HS_SKIP };

/* Two in every open connection: the fields are ordered to leave the
 * least padding (128 B on x86-64). */
struct td_tls_dir {
	/* record layer */
	uint8_t hdr[5];
	uint8_t hdr_have;
	bool in_record;
	uint8_t rec_type;
	uint16_t rec_len, rec_left;
	uint32_t rec_frame;
	struct td_time rec_ts;
	bool sslv2;     /* the current record is an SSLv2-compatible hello */
	bool dead;      /* lost sync: the rest of this direction is ignored */
	bool resync;    /* looking for the next plausible record header */
	uint8_t win[5]; /* resync: the last 5 bytes seen */
	uint8_t win_have;
	uint8_t good_records; /* records in a row since the last resync */
	uint16_t resyncs; /* times sync was lost and looked for again */
	bool seen_record;
	/* handshake message assembly (handshake records in clear) */
	uint8_t hs_mode; /* enum td_tls_hs_mode */
	uint8_t hs_hdr_have;
	uint8_t hs_type;
	uint8_t hs_hdr[4];
	uint32_t hs_len, hs_have;
	uint32_t hs_frame;
	struct td_time hs_ts;
	uint8_t *hs_buf; /* owned; grown up to max_handshake_msg */
	size_t hs_buf_size;
	/* alert assembly (an alert may be split across records) */
	uint8_t alert[2];
	uint8_t alert_have;
	/* TLS 1.3: encrypted records start (client: after its CCS if any) */
	bool tls13_encrypted;
	bool first_encrypted_done; /* first encrypted handshake record seen */
	/* the current record is buffered and opened at its end (decrypt) */
	bool dec_open;
	/* a small application_data record that may be an encrypted alert,
	 * kept until the next record from this side tells what it was */
	bool pending_small;
	uint16_t pending_len;
	uint32_t pending_frame;
	struct td_time pending_ts;
};

struct td_tls {
	struct td_tls_limits lim;
	/* The connection was picked up after its start (no SYN): a stream
	 * that does not begin at a record boundary is searched for one
	 * instead of given up on. Set by the caller before the first feed. */
	bool midstream;
	bool server_flight_done;
	bool plaintext; /* feeding decrypted bytes: messages and alerts say so */
	/* Secrets to decrypt with; NULL: nothing is decrypted. Set by the
	 * caller before the first feed. */
	const struct td_tls_secrets *secrets;
	struct td_tls_dec *dec; /* owned; made at the ClientHello when secrets */
	struct td_tls_dir d[2];
};

void td_tls_init(struct td_tls *t, const struct td_tls_limits *lim);
/* Frees buffers; t can be initialised again. */
void td_tls_free(struct td_tls *t);

/* Heap bytes the parser holds (handshake buffers, decryption state), each
 * block with an allocator header, for the flow table's accounting. */
size_t td_tls_bytes(const struct td_tls *t);

/* Feeds the next n stream bytes of direction dir, first carried by frame. */
void td_tls_feed(struct td_tls *t, struct td_session *s, const struct td_tls_cert_sink *sink,
		 int dir, const uint8_t *p, size_t n, uint32_t frame, struct td_time ts);
/* missing bytes were lost before the next bytes of dir. */
void td_tls_gap(struct td_tls *t, struct td_session *s, int dir, uint64_t missing,
		uint32_t frame, struct td_time ts);
/* Direction dir will send nothing more (FIN, RST, end of capture). */
void td_tls_end(struct td_tls *t, struct td_session *s, int dir);
/* The connection is over (after td_tls_end of both sides): completes the
 * decryption facts (why nothing was decrypted, Finished not readable). */
void td_tls_close(struct td_tls *t, struct td_session *s);

/* What the first bytes of a stream look like: 1 a ClientHello record (or
 * an SSLv2-compatible one), 2 a ServerHello record, 0 neither. Used to tell
 * client from server when the SYN was not captured. */
int td_tls_sniff_hello(const uint8_t *p, size_t n);

/* Byte sizes of TLS 1.3 records that hold only an alert: 2 bytes of alert,
 * 1 of inner content type, and a 16-byte AEAD tag (8 for AES-CCM-8). */
bool td_tls13_alert_sized(uint16_t record_len);

/* The message parsers, exposed for unit tests and fuzzing. Each reads one
 * message body (without the 4-byte handshake header) and fills facts; the
 * return value is TD_OK, or the first error met. */
struct td_reader;
TD_MUST_CHECK enum td_err td_tls_parse_client_hello(struct td_reader *r, struct td_client_hello *ch);
TD_MUST_CHECK enum td_err td_tls_parse_server_hello(struct td_reader *r, struct td_server_hello *sh);
TD_MUST_CHECK enum td_err td_tls_parse_sslv2_hello(struct td_reader *r, struct td_client_hello *ch);
/* ServerKeyExchange for key exchange kx (a td_cipher_info kx name);
 * signed_ false for anonymous suites; tls12: a SignatureAndHashAlgorithm
 * precedes the signature. TD_ERR_UNSUPPORTED for other key exchanges. */
TD_MUST_CHECK enum td_err td_tls_parse_server_key_exchange(struct td_reader *r, const char *kx,
							   bool signed_, bool tls12,
							   struct td_session *s);
/* client: the chain goes to the session's client_certs, else certs. */
TD_MUST_CHECK enum td_err td_tls_parse_certificate(struct td_reader *r, bool tls13, bool client,
						   struct td_session *s,
						   const struct td_tls_cert_sink *sink);

#endif
