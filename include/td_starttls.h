/* td_starttls.h - plain-text protocols that upgrade to TLS in the middle
 * of a connection (STARTTLS and its relatives).
 *
 * Sits between the reassembler and the TLS parser: while a connection is
 * still in its plain-text part, each direction's bytes are offered here;
 * the module follows the exchange (greeting, the client's upgrade command,
 * the server's go-ahead) and says from which byte on each direction
 * carries TLS. Only what it needs is kept: the current line (capped) and a
 * few counters. Covered, each from its RFC:
 *
 *   SMTP       STARTTLS, 220            (RFC 3207)
 *   FTP        AUTH TLS / AUTH SSL, 234 (RFC 4217)
 *   IMAP       tag STARTTLS, tag OK     (RFC 9051 §6.2.1)
 *   POP3       STLS, +OK                (RFC 2595 §4)
 *   XMPP       <starttls/>, <proceed/>  (RFC 6120 §5.4)
 *   LDAP       StartTLS extended operation, OID 1.3.6.1.4.1.1466.20037
 *                                       (RFC 4511 §4.14)
 *   PostgreSQL SSLRequest, 'S'          (PostgreSQL protocol, "SSL Session
 *                                       Encryption")
 *   MySQL      greeting, SSLRequest     (MySQL client/server protocol,
 *                                       "Protocol::SSLRequest")
 *
 * and the proxies a client asks to open a tunnel that then carries TLS:
 *
 *   HTTP       CONNECT host:port, 2xx   (RFC 9110 §9.3.6)
 *   SOCKS4(a)  CONNECT, 0x5A granted    (SOCKS 4 and 4A protocol notes)
 *   SOCKS5     methods, request, reply 0 (RFC 1928; username/password
 *                                       RFC 1929)
 *
 * and Android's debug bridge over TCP (wireless debugging), whose two
 * sides agree to go on in TLS:
 *
 *   ADB        CNXN, then STLS from both sides (AOSP adb protocol.txt,
 *                                       "STLS(type, version, \"\")")
 *
 * and NoMachine's NX protocol, whose version lines come before TLS:
 *
 *   NoMachine  "NXSH-<version>" line, "NXD-<version>" line (no public
 *                                       specification; as seen on the
 *                                       wire and in nDPI's NoMachine
 *                                       dissector)
 *
 * and the exchanges of header blocks that agree on TLS:
 *
 *   HTTP       "Upgrade: TLS/1.0" in the request, 101 Switching Protocols
 *              (RFC 2817 §3; IPP printers use it)
 *   Gnutella   "GNUTELLA CONNECT/0.6" with "Upgrade: TLS/1.0", the
 *              servent's 200 with the same, the client's final 200; TLS
 *              from the client's next byte (gtk-gnutella, as RFC 2817)
 *
 * and the header a load balancer or proxy puts before the client's bytes
 * to pass on the client's own address:
 *
 *   PROXY      v1 "PROXY TCP4 src dst sport dport\r\n", v2 the 12-byte
 *              signature and a binary header (HAProxy's PROXY protocol,
 *              proxy-protocol.txt §2.1, §2.2); the server speaks TLS from
 *              its first byte
 */
#ifndef TD_STARTTLS_H
#define TD_STARTTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum td_starttls_proto {
	TD_STARTTLS_NONE,
	TD_STARTTLS_SMTP,
	TD_STARTTLS_FTP,
	TD_STARTTLS_IMAP,
	TD_STARTTLS_POP3,
	TD_STARTTLS_XMPP,
	TD_STARTTLS_LDAP,
	TD_STARTTLS_POSTGRES,
	TD_STARTTLS_MYSQL,
	TD_STARTTLS_HTTP_CONNECT,
	TD_STARTTLS_SOCKS4,
	TD_STARTTLS_SOCKS5,
	TD_STARTTLS_ADB,
	TD_STARTTLS_NOMACHINE,
	TD_STARTTLS_PROXY,
	TD_STARTTLS_HTTP_UPGRADE,
	TD_STARTTLS_GNUTELLA,
	TD_STARTTLS_COUNT
};

enum td_starttls_state {
	TD_STARTTLS_GREETING, /* plain text, no upgrade asked for yet */
	TD_STARTTLS_ASKED,    /* the client asked to upgrade (ADB: one side
			       * sent STLS) */
	TD_STARTTLS_UPGRADED, /* both directions carry TLS from their mark on */
	TD_STARTTLS_REFUSED,  /* the server said no: plain text to the end */
	TD_STARTTLS_UNASKED,  /* the client began TLS without asking (SMTP,
			       * FTP, IMAP, POP3: a ClientHello where a
			       * command was due); the server's next bytes
			       * are read as TLS too, whatever they are */
};

#define TD_STARTTLS_LINE 256
/* The server's greeting (its first line) is kept up to this length. */
#define TD_STARTTLS_GREETING_LEN 96

struct td_starttls_dir {
	uint8_t line[TD_STARTTLS_LINE]; /* the current line (or element), capped */
	uint16_t have;
	bool overflow; /* the current line was longer than the buffer */
	bool tls;      /* from now on this direction carries TLS */
	uint32_t left; /* LDAP: bytes left of the current message; SOCKS,
			* MySQL, ADB: of the current field */
	uint8_t step;  /* SOCKS, MySQL, ADB: where in the message; HTTP: in
			* the response's header lines */
	uint8_t after; /* SOCKS, MySQL, ADB: the step after the field
			* skipped */
};

struct td_starttls {
	uint8_t proto; /* enum td_starttls_proto */
	uint8_t state; /* enum td_starttls_state */
	char imap_tag[32];
	uint8_t socks_method; /* SOCKS5: the authentication the server chose */
	uint32_t upgrade_frame; /* frame of the server's go-ahead (ADB: of
				 * the second STLS) */
	uint64_t plain_bytes[2];
	/* The server's first line, CR LF stripped (SMTP, FTP, IMAP, POP3),
	 * the first greeting_len bytes of it; frame 0 until it is complete. */
	uint32_t greeting_frame;
	uint8_t greeting_len;
	bool greeting_cut; /* the line was longer */
	uint8_t greeting[TD_STARTTLS_GREETING_LEN];
	/* PROXY protocol: the header's version (1, 2) and command (v1 and v2
	 * PROXY: 1; v2 LOCAL: 0), and the connection it stands for: family 4
	 * or 6 with the addresses (network order) and ports, 0 when the
	 * header has none ("UNKNOWN", LOCAL, a UNIX socket) */
	uint8_t proxy_version, proxy_cmd, proxy_family;
	uint8_t proxy_src[16], proxy_dst[16];
	uint16_t proxy_sport, proxy_dport;
	struct td_starttls_dir d[2];
};

/* Looks at the first bytes a connection delivers in direction dir (0 the
 * client's, 1 the server's) and returns the protocol they start, or
 * TD_STARTTLS_NONE when they are not one of the above. */
enum td_starttls_proto td_starttls_detect(int dir, const uint8_t *p, size_t n);

/* Starts following a connection found to speak proto. */
void td_starttls_init(struct td_starttls *st, enum td_starttls_proto proto);

/* Offers the next n plain-text bytes of direction dir. Returns how many of
 * them were plain text; the rest (n minus that) is the start of TLS, and
 * d[dir].tls is then set. In a line protocol that greets first (SMTP, FTP,
 * IMAP, POP3), a client line that starts with a TLS handshake record's
 * content type (RFC 8446 §5.1: 22, a byte no command starts with) is taken
 * as the client beginning TLS without asking: state TD_STARTTLS_UNASKED,
 * and both directions are TLS from there. */
size_t td_starttls_feed(struct td_starttls *st, int dir, const uint8_t *p, size_t n,
			uint32_t frame);

/* "SMTP", "IMAP", ...; "" for TD_STARTTLS_NONE. */
const char *td_starttls_name(enum td_starttls_proto p);

/* How the protocol gets to TLS, for the report: "STARTTLS" (SMTP, IMAP,
 * POP3, XMPP, LDAP), "AUTH TLS" (FTP), "SSLRequest" (PostgreSQL, MySQL),
 * "proxy tunnel" (HTTP CONNECT, SOCKS), "STLS" (ADB), "NXSH/NXD"
 * (NoMachine), "header" (PROXY), "Upgrade: TLS" (HTTP Upgrade, Gnutella); ""
 * for TD_STARTTLS_NONE. */
const char *td_starttls_how(enum td_starttls_proto p);

#endif
