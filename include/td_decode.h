/* td_decode.h - link layer, IPv4, IPv6 and TCP headers of one packet.
 *
 * Stage 2 of the pipeline (DESIGN.md): takes the bytes libpcap captured
 * and the link type of the capture, and yields one TCP segment with its
 * payload borrowed from the packet. It never allocates and keeps no state,
 * so it can be fuzzed alone. Every byte is read through td_reader.
 *
 * Truncated (the capture cut the packet: caplen shorter than the headers
 * need) is kept apart from malformed (the headers contradict themselves),
 * as tcpdump does.
 */
#ifndef TD_DECODE_H
#define TD_DECODE_H

#include <stddef.h>
#include <stdint.h>

/* Link-layer header types as written in pcap/pcapng files (LINKTYPE_*,
 * https://www.tcpdump.org/linktypes.html). The capture module passes the
 * file's value; DLT_RAW's platform values 12 and 14 are accepted too. */
enum td_link {
	TD_LINK_NULL = 0,       /* BSD loopback: 4-byte AF in host byte order */
	TD_LINK_ETHERNET = 1,
	TD_LINK_RAW_DLT12 = 12, /* DLT_RAW on most platforms */
	TD_LINK_RAW_DLT14 = 14, /* DLT_RAW on OpenBSD */
	TD_LINK_RAW = 101,
	TD_LINK_LOOP = 108,     /* OpenBSD loopback: AF in network byte order */
	TD_LINK_LINUX_SLL = 113,
	TD_LINK_IPV4 = 228,
	TD_LINK_IPV6 = 229,
	TD_LINK_LINUX_SLL2 = 276,
};

enum td_decode_result {
	TD_DECODE_TCP,              /* out holds a TCP segment */
	TD_DECODE_NOT_TCP,          /* IP but not TCP, or not IP at all */
	TD_DECODE_FRAGMENT,         /* an IP fragment (reassembly comes later) */
	TD_DECODE_TRUNCATED,        /* caplen too short for the headers */
	TD_DECODE_MALFORMED,        /* headers inconsistent (bad lengths, version) */
	TD_DECODE_UNSUPPORTED_LINK, /* link type not handled */
	TD_DECODE_RESULT_COUNT
};

#define TD_TCP_FIN 0x01
#define TD_TCP_SYN 0x02
#define TD_TCP_RST 0x04
#define TD_TCP_PSH 0x08
#define TD_TCP_ACK 0x10
#define TD_TCP_URG 0x20
#define TD_TCP_ECE 0x40
#define TD_TCP_CWR 0x80

struct td_addr {
	uint8_t family;    /* 4 or 6 */
	uint8_t bytes[16]; /* IPv4 in the first 4 bytes, rest zero */
};

/* Encapsulation seen on the way to the innermost IP header. */
#define TD_ENCAP_VLAN 0x01

struct td_tcp_seg {
	struct td_addr src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;   /* TD_TCP_* */
	uint16_t window; /* raw, unscaled */
	/* Payload captured, borrowed from the packet: valid as long as the
	 * packet bytes given to td_decode_packet(). */
	const uint8_t *payload;
	size_t payload_len;
	/* Payload bytes that were on the wire but not captured (snaplen or
	 * a packet cut short), from the IP total length. */
	size_t payload_missing;
	/* The packet from its IP header on, as captured (borrowed like
	 * payload): what a classifier that wants whole IP packets (nDPI) is
	 * given. */
	const uint8_t *ip;
	size_t ip_len;
	uint8_t encap;    /* TD_ENCAP_* bits */
	uint16_t vlan_id; /* outermost 802.1Q VLAN id when TD_ENCAP_VLAN */
};

/* Decodes one packet. linktype is a TD_LINK_* value; data/caplen are the
 * captured bytes; wirelen the packet's original length, used only for an
 * IPv4 total length of 0 (a TSO segment: the datagram is the rest of the
 * frame, as Wireshark assumes). Fills out only when the result is
 * TD_DECODE_TCP. */
enum td_decode_result td_decode_packet(int linktype, const uint8_t *data, size_t caplen,
				       size_t wirelen, struct td_tcp_seg *out);

/* "tcp", "not-tcp", "fragment", "truncated", "malformed", "unsupported-link" */
const char *td_decode_result_name(enum td_decode_result r);

/* Writes the address as text (inet_ntop form) into buf; returns buf ("?"
 * for an unknown family or a buffer too small). */
const char *td_addr_str(const struct td_addr *a, char *buf, size_t n);

/* Name of a link type for messages ("Ethernet", "Linux cooked (SLL)"), or
 * NULL when decode does not handle it. */
const char *td_decode_link_name(int linktype);

#endif
