/* td_ovpn.h - the TLS inside an OpenVPN control channel over TCP.
 *
 * OpenVPN runs its own TLS handshake inside P_CONTROL_V1 packets (the
 * reliability layer of OpenVPN's protocol, "openvpn/ssl_pkt.h" and
 * Wireshark's packet-openvpn.c describe the same layout). Over TCP each
 * packet is preceded by a 16-bit length. A packet is
 *
 *   opcode (5 bits) | key id (3 bits)
 *   session id (8)
 *   [ HMAC (16-64) | packet id (4) | time (4) ]   with --tls-auth only
 *   ack count (1) | that many packet ids (4 each) | remote session id (8
 *   when the count is not 0)
 *   message packet id (4)                          P_CONTROL_V1 only
 *   TLS bytes                                      P_CONTROL_V1 only
 *
 * The HMAC's size depends on the peers' configuration, which the capture
 * does not show: it is found from the first P_CONTROL_V1 of the client,
 * whose TLS bytes start with a handshake record header (0x16 0x03), trying
 * each size OpenVPN's digests give. This module sits between the
 * reassembler and the TLS parser: it takes a direction's stream and hands
 * the control channel's TLS bytes, in order, to a callback. Data-channel
 * packets, acks and resets are passed over without being kept; only a
 * packet's header is buffered (at most TD_OVPN_HEAD bytes). --tls-crypt
 * (an encrypted control channel) cannot be followed: the connection is
 * then simply not TLS.
 */
#ifndef TD_OVPN_H
#define TD_OVPN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TD_OVPN_HEAD 160 /* the longest header: 1 + 8 + 72 + 1 + 8 * 4 + 8 + 4, and 3 bytes of TLS */

struct td_ovpn_dir {
	uint8_t head[TD_OVPN_HEAD]; /* the current packet's first bytes */
	uint16_t have;              /* bytes in head */
	uint8_t len_have;           /* bytes of the 16-bit length read */
	uint16_t len;               /* the current packet's length */
	uint16_t done;              /* bytes of the current packet consumed */
	uint8_t phase;              /* in the current packet: its header, its TLS
				     * bytes, or bytes passed over */
};

struct td_ovpn {
	int16_t hmac;   /* bytes of tls-auth fields (HMAC, packet id, time); -1 unknown */
	bool lost;      /* not OpenVPN after all, or the HMAC size not found */
	uint32_t control_packets[2];
	uint64_t tls_bytes[2];
	struct td_ovpn_dir d[2];
};

/* True when a connection's first bytes from the client (dir 0) are an
 * OpenVPN client hard reset over TCP. */
bool td_ovpn_detect(int dir, const uint8_t *p, size_t n);

void td_ovpn_init(struct td_ovpn *o);

/* Receives the TLS bytes of direction dir, in order. */
typedef void (*td_ovpn_tls_fn)(void *user, int dir, const uint8_t *p, size_t n);

/* Takes the next n stream bytes of direction dir; calls out for the TLS
 * bytes among them. */
void td_ovpn_feed(struct td_ovpn *o, int dir, const uint8_t *p, size_t n, td_ovpn_tls_fn out,
		  void *user);

#endif
