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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Link-layer header types as written in pcap/pcapng files (LINKTYPE_*,
 * https://www.tcpdump.org/linktypes.html). The capture module passes the
 * file's value; DLT_RAW's platform values 12 and 14 are accepted too. */
enum td_link {
	TD_LINK_NULL = 0,       /* BSD loopback: 4-byte AF in host byte order */
	TD_LINK_ETHERNET = 1,
	TD_LINK_PPP = 9,        /* PPP (RFC 1661), with or without FF 03 framing */
	TD_LINK_RAW_DLT12 = 12, /* DLT_RAW on most platforms */
	TD_LINK_RAW_DLT14 = 14, /* DLT_RAW on OpenBSD */
	TD_LINK_PPP_HDLC = 50,  /* PPP in HDLC-like framing (RFC 1662) or Cisco HDLC */
	TD_LINK_PPP_ETHER = 51, /* PPPoE session header (RFC 2516), no Ethernet */
	TD_LINK_RAW = 101,
	TD_LINK_C_HDLC = 104,   /* Cisco HDLC: address, control, EtherType */
	TD_LINK_IEEE802_11 = 105, /* IEEE 802.11 MAC header, no radio header */
	TD_LINK_LOOP = 108,     /* OpenBSD loopback: AF in network byte order */
	TD_LINK_LINUX_SLL = 113,
	TD_LINK_IPV4 = 228,
	TD_LINK_IPV6 = 229,
	TD_LINK_LINUX_SLL2 = 276,
};

enum td_decode_result {
	TD_DECODE_TCP,              /* out holds a TCP segment */
	TD_DECODE_NOT_TCP,          /* IP but not TCP, or not IP at all */
	TD_DECODE_FRAGMENT,         /* an IP fragment: info->frag (td_defrag.h) */
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

/* Encapsulations seen on the way to the innermost IP header, one bit
 * each; td_encap_name() names bit i (1 << i) for reports. */
#define TD_ENCAP_VLAN 0x0001   /* IEEE 802.1Q / 802.1ad tags */
#define TD_ENCAP_MPLS 0x0002   /* an MPLS label stack (RFC 3032) */
#define TD_ENCAP_PPP 0x0004    /* PPP or Cisco HDLC link (RFC 1661, 1662) */
#define TD_ENCAP_PPPOE 0x0008  /* PPPoE session (RFC 2516) */
#define TD_ENCAP_GRE 0x0010    /* GRE (RFC 2784, 2890) */
#define TD_ENCAP_ERSPAN 0x0020 /* ERSPAN type I, II or III inside GRE */
#define TD_ENCAP_VXLAN 0x0040  /* VXLAN, UDP port 4789 (RFC 7348) */
#define TD_ENCAP_GENEVE 0x0080 /* Geneve, UDP port 6081 (RFC 8926) */
#define TD_ENCAP_IPIP 0x0100   /* IP in IP: protocol 4 or 41 (RFC 2003, 4213, 2473) */
#define TD_ENCAP_GTP 0x0200    /* GTP-U, UDP port 2152 (3GPP TS 29.281) */
#define TD_ENCAP_CAPWAP 0x0400 /* CAPWAP data channel, UDP port 5247 (RFC 5415) */
#define TD_ENCAP_80211 0x0800  /* an IEEE 802.11 data frame (CAPWAP's or the link's) */
/* Not a packet's: set by the engine for a TCP stream that carries the TLS
 * of an OpenVPN control channel (td_ovpn.h). */
#define TD_ENCAP_OPENVPN 0x1000
#define TD_ENCAP_COUNT 13

/* Tunnels crossed before decoding gives up (MALFORMED), so that a crafted
 * packet (GRE in GRE in ...) costs bounded work. */
#define TD_DECODE_MAX_NESTING 8

/* "vlan", "mpls", "ppp", "pppoe", "gre", "erspan", "vxlan", "geneve",
 * "ip-in-ip", "gtp-u", "capwap", "802.11", "openvpn" for bit i
 * (0 <= i < TD_ENCAP_COUNT); NULL otherwise. */
const char *td_encap_name(unsigned i);

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
	uint16_t encap;   /* TD_ENCAP_* bits */
	uint16_t vlan_id; /* outermost 802.1Q VLAN id when TD_ENCAP_VLAN */
};

/* One IP fragment (RFC 791 §3.2, RFC 8200 §4.5), as td_defrag_add() takes
 * it: the datagram it belongs to, where its bytes go, and the bytes. */
struct td_ip_frag {
	struct td_addr src, dst;
	uint32_t id;     /* IPv4 Identification (16 bits) or IPv6 (32 bits) */
	uint8_t proto;   /* IPv4 Protocol, or the Fragment header's Next Header */
	uint32_t offset; /* in bytes from the start of the fragmentable part */
	bool more;       /* MF / M: more fragments follow */
	/* The fragment's data as captured, borrowed from the packet. */
	const uint8_t *data;
	size_t len;
	size_t missing;  /* bytes of it on the wire but not captured */
};

/* What a packet that is not a TCP segment was, when decode could not go
 * on: a protocol field it does not know (named in the summary). */
enum td_decode_unknown {
	TD_UNKNOWN_NONE,       /* nothing unknown (plain UDP, ICMP, ...) */
	TD_UNKNOWN_ETHERTYPE,  /* EtherType (Ethernet, SLL, Geneve, C-HDLC) */
	TD_UNKNOWN_LLC,        /* an IEEE 802.3 length field: LLC follows (value 0) */
	TD_UNKNOWN_PPP,        /* PPP protocol number */
	TD_UNKNOWN_GRE,        /* GRE protocol type (or a GRE version != 0) */
	TD_UNKNOWN_MPLS,       /* first nibble after the bottom MPLS label */
	TD_UNKNOWN_ERSPAN,     /* ERSPAN III frame type other than Ethernet */
	TD_UNKNOWN_AF,         /* BSD loopback address family */
	TD_UNKNOWN_SLL_HATYPE, /* SLL/SLL2 ARPHRD type that is not Ethernet-like */
	TD_UNKNOWN_GTP,        /* GTP-U message type other than a G-PDU */
	TD_UNKNOWN_CAPWAP,     /* CAPWAP data not read: TD_CAPWAP_FRAGMENT or _DTLS */
	TD_UNKNOWN_CAPWAP_WBID, /* CAPWAP wireless binding other than IEEE 802.11 */
	TD_UNKNOWN_80211,      /* IEEE 802.11 type << 4 | subtype that carries no data
				* (management, control, null data) */
	TD_UNKNOWN_80211_UNREAD, /* an 802.11 data frame not read: TD_80211_* */
	TD_UNKNOWN_COUNT
};

/* Values of TD_UNKNOWN_CAPWAP: why a CAPWAP data packet was not read. */
#define TD_CAPWAP_FRAGMENT 1 /* F flag: fragments are not reassembled */
#define TD_CAPWAP_DTLS 2     /* preamble type 1: a DTLS-protected data channel */
/* Values of TD_UNKNOWN_80211_UNREAD. */
#define TD_80211_PROTECTED 1 /* Protected Frame bit: the body is encrypted */
#define TD_80211_FRAGMENT 2  /* More Fragments or a fragment number: not reassembled */
#define TD_80211_AMSDU 3     /* QoS A-MSDU Present: subframes are not split */
#define TD_80211_S1G 4       /* protocol version 1 (802.11ah S1G frames) */

/* Everything decode learnt of a packet besides the TCP segment. */
struct td_decode_info {
	uint16_t encap;   /* TD_ENCAP_* bits crossed, whatever the result */
	uint16_t vlan_id; /* when TD_ENCAP_VLAN */
	/* TD_DECODE_FRAGMENT: the fragment (its data borrowed from the packet);
	 * not written for any other result */
	struct td_ip_frag frag;
	/* TD_DECODE_NOT_TCP: what stopped decoding, TD_UNKNOWN_NONE when the
	 * packet was understood and is simply not TCP. */
	uint8_t unknown;  /* enum td_decode_unknown */
	uint32_t unknown_value;
};

/* Decodes one packet. linktype is a TD_LINK_* value; data/caplen are the
 * captured bytes; wirelen the packet's original length, used only for an
 * IPv4 total length of 0 (a TSO segment: the datagram is the rest of the
 * frame, as Wireshark assumes). Fills out only when the result is
 * TD_DECODE_TCP. */
enum td_decode_result td_decode_packet(int linktype, const uint8_t *data, size_t caplen,
				       size_t wirelen, struct td_tcp_seg *out);

/* The same, also filling info (when not NULL) whatever the result. */
enum td_decode_result td_decode_packet_info(int linktype, const uint8_t *data, size_t caplen,
					    size_t wirelen, struct td_tcp_seg *out,
					    struct td_decode_info *info);

/* Writes what an unknown field was as text ("ethertype 0x88cc", "GRE
 * protocol 0x880b", "PPP protocol 0xc021") into buf; returns buf. */
const char *td_decode_unknown_str(enum td_decode_unknown kind, uint32_t value, char *buf,
				  size_t n);

/* "tcp", "not-tcp", "fragment", "truncated", "malformed", "unsupported-link" */
const char *td_decode_result_name(enum td_decode_result r);

/* Writes the address as text (inet_ntop form; IPv4 by hand, without
 * inet_ntop's sprintf: reports print both endpoints of every connection)
 * into buf; returns buf ("?" for an unknown family or a buffer too small). */
const char *td_addr_str(const struct td_addr *a, char *buf, size_t n);

/* "192.0.2.1:443" or "[2001:db8::1]:443" into buf (n bytes, cut like
 * snprintf). Returns buf. */
char *td_addr_port_str(const struct td_addr *a, uint16_t port, char *buf, size_t n);

/* Name of a link type for messages ("Ethernet", "Linux cooked (SLL)"), or
 * NULL when decode does not handle it. */
const char *td_decode_link_name(int linktype);

#endif
