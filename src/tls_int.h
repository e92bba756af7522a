/* tls_int.h - shared by the two files of the tls module: tls.c (records,
 * messages, facts) and tls_decrypt.c (opening protected records with the
 * secrets given). Not a public header: other modules use td_tls.h.
 */
#ifndef TD_TLS_INT_H
#define TD_TLS_INT_H

#include "td_tls.h"

/* RFC 8446 §4 HandshakeType */
enum {
	HS_HELLO_REQUEST = 0,
	HS_CLIENT_HELLO = 1,
	HS_SERVER_HELLO = 2,
	HS_NEW_SESSION_TICKET = 4,
	HS_ENCRYPTED_EXTENSIONS = 8,
	HS_CERTIFICATE = 11,
	HS_SERVER_KEY_EXCHANGE = 12,
	HS_CERTIFICATE_REQUEST = 13,
	HS_SERVER_HELLO_DONE = 14,
	HS_CERTIFICATE_VERIFY = 15,
	HS_CLIENT_KEY_EXCHANGE = 16,
	HS_CERTIFICATE_STATUS = 22,
	HS_COMPRESSED_CERTIFICATE = 25, /* RFC 8879 */
	HS_FINISHED = 20,
};

/* RFC 8446 §5.1 ContentType */
enum {
	CT_CHANGE_CIPHER_SPEC = 20,
	CT_ALERT = 21,
	CT_HANDSHAKE = 22,
	CT_APPLICATION_DATA = 23,
	CT_HEARTBEAT = 24,
};

/* ---- tls.c, for tls_decrypt.c: decrypted bytes take the clear paths ---- */

/* Handshake bytes that were decrypted (t->plaintext is set around it). */
void td_tls_plain_handshake(struct td_tls *t, struct td_session *s,
			    const struct td_tls_cert_sink *sink, int dir, const uint8_t *p, size_t n);
/* An alert that was decrypted. */
void td_tls_plain_alert(struct td_tls *t, struct td_session *s, int dir, const uint8_t *p,
			size_t n);
/* An application_data record, counted (its contents are never used). */
void td_tls_plain_appdata(struct td_tls *t, struct td_session *s, int dir);
/* A protected record that could not be opened: classified as without
 * secrets (encrypted handshake, encrypted alert, data). */
void td_tls_classify_protected(struct td_tls *t, struct td_session *s, int dir);

/* ---- tls_decrypt.c ------------------------------------------------------ */

/* Handshake message hooks, around its parsing: before (Finished checked
 * against the transcript so far) and after (transcript, key schedule).
 * body is NULL when the message was skipped. */
void td_tlsdec_message_before(struct td_tls *t, struct td_session *s, int dir, uint8_t type,
			      const uint8_t *body, uint32_t len);
void td_tlsdec_message_after(struct td_tls *t, struct td_session *s, int dir, uint8_t type,
			     const uint8_t *body, uint32_t len);
/* Every handshake message must be buffered (transcript). */
bool td_tlsdec_wants_messages(const struct td_tls *t);
/* TLS <= 1.2 ChangeCipherSpec from dir: its keys take effect. */
void td_tlsdec_ccs(struct td_tls *t, struct td_session *s, int dir);
/* A protected record starts (its header is in t->d[dir].hdr): true when
 * it is to be buffered and opened at its end; else its sequence number is
 * counted here. */
bool td_tlsdec_open_record(struct td_tls *t, struct td_session *s, int dir);
void td_tlsdec_record_bytes(struct td_tls *t, int dir, const uint8_t *p, size_t n);
/* Bytes of the record being buffered were lost (capture gap). */
void td_tlsdec_record_lost(struct td_tls *t, int dir);
void td_tlsdec_record_end(struct td_tls *t, struct td_session *s,
			  const struct td_tls_cert_sink *sink, int dir);
void td_tlsdec_close(struct td_tls *t, struct td_session *s);
void td_tlsdec_free(struct td_tls *t);
/* Heap bytes of the decryption state, allocator headers included. */
size_t td_tlsdec_bytes(const struct td_tls *t);

/* What the allocator adds to each block (glibc: an 8-byte header, sizes
 * rounded up to 16), for td_tls_bytes(). */
#define TD_TLS_MALLOC_OVERHEAD 16

#endif
