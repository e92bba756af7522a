/* decode.c - link layer, IPv4, IPv6 and TCP headers of one packet.
 *
 * Each header is read whole from a td_reader into a host-order struct by a
 * *_parse() function (the wire layout from the RFC above it, one read per
 * field, in order), then checked and dispatched by a decode_*() function:
 * reading and deciding are apart (STYLE.md rule 7).
 *
 * Truncated and malformed are kept apart as tcpdump does: a parse that runs
 * out of captured bytes is TRUNCATED; fields that contradict each other (a
 * header length below its minimum, a length that leaves no room for the
 * next header) are MALFORMED. Once the IP header gives the datagram's length
 * on the wire, "the next header does not fit" is MALFORMED when that length
 * leaves no room for it and TRUNCATED when the capture merely stopped first.
 *
 * No allocation, no state: everything lives on the stack of one call.
 */
#include "td_decode.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "td_reader.h"

/* A header was read and checked; decoding goes on to the next one. It is
 * TD_DECODE_TCP so that "go on" from the last layer is the final answer. */
#define DECODE_GO_ON TD_DECODE_TCP

/* EtherTypes (IEEE Registration Authority). */
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86DD
#define ETHERTYPE_8021Q 0x8100  /* IEEE 802.1Q customer VLAN tag */
#define ETHERTYPE_8021AD 0x88A8 /* IEEE 802.1ad service VLAN tag */
#define ETHERTYPE_QINQ 0x9100   /* pre-802.1ad vendor QinQ tag */
#define ETHERTYPE_MPLS 0x8847   /* MPLS unicast (RFC 5332) */
#define ETHERTYPE_MPLS_MC 0x8848 /* MPLS multicast */
#define ETHERTYPE_PPPOE 0x8864  /* PPPoE session stage (RFC 2516) */
#define ETHERTYPE_TEB 0x6558    /* Transparent Ethernet Bridging: Ethernet follows */
#define ETHERTYPE_ERSPAN 0x88BE /* ERSPAN type I and II (in GRE) */
#define ETHERTYPE_ERSPAN3 0x22EB /* ERSPAN type III (in GRE) */
#define ETHERTYPE_CMD 0x8909    /* Cisco MetaData (TrustSec SGT tag) */
#define ETHERTYPE_MAX_LEN 1500  /* up to here the field is an IEEE 802.3 length */
#define VLAN_VID_MASK 0x0FFF

/* PPP protocol numbers (IANA "PPP DLL Protocol Numbers"). */
#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057
#define PPP_MPLS 0x0281
#define PPP_ADDRESS 0xFF /* RFC 1662 §3.1: all-stations address, */
#define PPP_CONTROL 0x03 /* then Unnumbered Information */
#define CHDLC_UNICAST 0x0F /* Cisco HDLC address bytes */
#define CHDLC_BCAST 0x8F

/* UDP ports of the UDP-borne tunnels (IANA service names registry). */
#define UDP_PORT_VXLAN 4789
#define UDP_PORT_GENEVE 6081
#define UDP_PORT_GTPU 2152
#define UDP_PORT_CAPWAP_DATA 5247
#define UDP_HDR_LEN 8

/* ARPHRD_NETLINK: an SLL/SLL2 "protocol" is then a netlink family, not an
 * EtherType (Linux include/uapi/linux/if_arp.h). */
#define ARPHRD_NETLINK 824

/* IP protocol numbers (IANA "Assigned Internet Protocol Numbers"). */
#define IPPROTO_NUM_HOPOPTS 0
#define IPPROTO_NUM_IPV4 4 /* IP in IP (RFC 2003), IPv4 in IPv6 (RFC 2473) */
#define IPPROTO_NUM_TCP 6
#define IPPROTO_NUM_UDP 17
#define IPPROTO_NUM_IPV6 41 /* IPv6 in IPv4 (RFC 4213), IPv6 in IPv6 (RFC 2473) */
#define IPPROTO_NUM_GRE 47
#define IPPROTO_NUM_ROUTING 43
#define IPPROTO_NUM_FRAGMENT 44
#define IPPROTO_NUM_AH 51
#define IPPROTO_NUM_DSTOPTS 60

#define IPV4_HDR_MIN 20
#define IPV4_MF 0x2000      /* more fragments (RFC 791 §3.1) */
#define IPV4_OFFMASK 0x1FFF /* fragment offset */
#define IPV6_HDR_LEN 40
#define IPV6_FRAG_OFFMASK 0xFFF8 /* RFC 8200 §4.5 */
#define IPV6_FRAG_M 0x0001
/* Extension headers followed before giving up. RFC 8200 §4.1 recommends
 * each one at most once (destination options twice): 16 is generous, and
 * bounds the work a crafted chain of tiny headers can cause. */
#define IPV6_MAX_EXT_HDRS 16
#define TCP_HDR_MIN 20

/* The datagram behind an IP header: the bytes captured, and how many more
 * the IP length says were on the wire. */
struct dgram {
	struct td_reader r;
	size_t missing;
};

/* One call's decoding: the segment being filled, and what the IP layer
 * may need from the pcap record. */
struct decode {
	struct td_tcp_seg seg;
	size_t uncaptured; /* wirelen - caplen: bytes of the frame not captured */
	unsigned depth;    /* tunnels entered so far */
	struct td_ip_frag frag;
	uint8_t unknown; /* enum td_decode_unknown */
	uint32_t unknown_value;
};

static enum td_decode_result decode_ipv4(struct td_reader *r, struct decode *dc);
static enum td_decode_result decode_ipv6(struct td_reader *r, struct decode *dc);
static enum td_decode_result decode_ethernet(struct td_reader *r, struct decode *dc);
static enum td_decode_result decode_ethertype(struct td_reader *r, uint16_t type,
					      enum td_decode_unknown kind, struct decode *dc);
static enum td_decode_result decode_ip_payload(struct dgram *d, uint8_t proto,
					       struct decode *dc);
static enum td_decode_result decode_80211(struct td_reader *r, bool in_capwap,
					  struct decode *dc);

/* Entering a tunnel (or a link header inside one): notes the
 * encapsulation, and stops a crafted nesting at TD_DECODE_MAX_NESTING. */
static enum td_decode_result tunnel_enter(struct decode *dc, uint16_t encap)
{
	if (dc->depth == TD_DECODE_MAX_NESTING)
		return TD_DECODE_MALFORMED;
	dc->depth++;
	dc->seg.encap |= encap;
	return DECODE_GO_ON;
}

/* Decoding stops at a protocol field it does not know: NOT_TCP, and the
 * field is kept for the summary ("not decoded: 3 ethertype 0x88cc"). */
static enum td_decode_result not_decoded(struct decode *dc, enum td_decode_unknown kind,
					 uint32_t value)
{
	dc->unknown = (uint8_t)kind;
	dc->unknown_value = value;
	return TD_DECODE_NOT_TCP;
}

/* Every read of a header parse is TD_OK or TD_ERR_SHORT. */
static enum td_decode_result from_read(enum td_err e)
{
	return e == TD_OK ? DECODE_GO_ON : TD_DECODE_TRUNCATED;
}

/* ---- the datagram after an IP header ---- */

/* wire_len bytes follow the IP header on the wire. Fewer may have been
 * captured (snaplen, a cut packet): the rest is missing. More may be
 * present (Ethernet pads short frames to 60 bytes): they are not part of
 * the datagram and stay unread. */
static enum td_decode_result dgram_open(struct td_reader *r, size_t wire_len, struct dgram *d)
{
	size_t have = td_reader_left(r);
	size_t take = wire_len < have ? wire_len : have;

	d->missing = wire_len - take;
	return from_read(td_read_sub(r, take, &d->r));
}

/* Can the next n bytes of the datagram be read? MALFORMED when the IP
 * length leaves no room for them, TRUNCATED when it does but the capture
 * stopped first. */
static enum td_decode_result dgram_need(const struct dgram *d, size_t n)
{
	size_t have = td_reader_left(&d->r);

	if (n <= have)
		return DECODE_GO_ON;
	if (n - have > d->missing)
		return TD_DECODE_MALFORMED;
	return TD_DECODE_TRUNCATED;
}

/* ---- TCP ---- */

/* RFC 9293 §3.1:
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Source Port          |       Destination Port        |
 * |                        Sequence Number                        |
 * |                    Acknowledgment Number                      |
 * |  Data |       |C|E|U|A|P|R|S|F|                               |
 * | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 * |           Checksum            |         Urgent Pointer        |
 * |                    [Options]                                  |
 */
struct tcp_hdr {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t doff_rsrvd; /* data offset in the high nibble, 32-bit words */
	uint8_t flags;
	uint16_t window;
	uint16_t checksum;
	uint16_t urgent;
};

static enum td_err tcp_parse(struct td_reader *r, struct tcp_hdr *h)
{
	TD_TRY(td_read_u16(r, &h->sport));
	TD_TRY(td_read_u16(r, &h->dport));
	TD_TRY(td_read_u32(r, &h->seq));
	TD_TRY(td_read_u32(r, &h->ack));
	TD_TRY(td_read_u8(r, &h->doff_rsrvd));
	TD_TRY(td_read_u8(r, &h->flags));
	TD_TRY(td_read_u16(r, &h->window));
	TD_TRY(td_read_u16(r, &h->checksum));
	TD_TRY(td_read_u16(r, &h->urgent));
	return TD_OK;
}

static enum td_decode_result decode_tcp(struct dgram *d, struct decode *dc)
{
	struct tcp_hdr h;
	enum td_decode_result res;

	if ((res = dgram_need(d, TCP_HDR_MIN)) != DECODE_GO_ON)
		return res;
	if ((res = from_read(tcp_parse(&d->r, &h))) != DECODE_GO_ON)
		return res;
	size_t hlen = (size_t)(h.doff_rsrvd >> 4) * 4;
	if (hlen < TCP_HDR_MIN)
		return TD_DECODE_MALFORMED;
	/* Options (RFC 9293 §3.1) are skipped: reassembly needs none of them. */
	if ((res = dgram_need(d, hlen - TCP_HDR_MIN)) != DECODE_GO_ON)
		return res;
	if ((res = from_read(td_read_skip(&d->r, hlen - TCP_HDR_MIN))) != DECODE_GO_ON)
		return res;

	dc->seg.sport = h.sport;
	dc->seg.dport = h.dport;
	dc->seg.seq = h.seq;
	dc->seg.ack = h.ack;
	/* The whole flags byte, CWR and ECE (RFC 3168) included. */
	dc->seg.flags = h.flags;
	dc->seg.window = h.window;
	dc->seg.payload_len = td_reader_left(&d->r);
	dc->seg.payload_missing = d->missing;
	return from_read(td_read_ptr(&d->r, &dc->seg.payload, dc->seg.payload_len));
}

/* ---- IPv4 ---- */

/* RFC 791 §3.1:
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version|  IHL  |Type of Service|          Total Length         |
 * |         Identification        |Flags|      Fragment Offset    |
 * |  Time to Live |    Protocol   |         Header Checksum       |
 * |                       Source Address                          |
 * |                    Destination Address                        |
 * |                    Options                    |    Padding    |
 */
struct ipv4_hdr {
	uint8_t version_ihl;
	uint8_t tos;
	uint16_t total_len;
	uint16_t id;
	uint16_t flags_frag;
	uint8_t ttl;
	uint8_t proto;
	uint16_t checksum;
	uint8_t src[4];
	uint8_t dst[4];
};

static enum td_err ipv4_parse(struct td_reader *r, struct ipv4_hdr *h)
{
	TD_TRY(td_read_u8(r, &h->version_ihl));
	TD_TRY(td_read_u8(r, &h->tos));
	TD_TRY(td_read_u16(r, &h->total_len));
	TD_TRY(td_read_u16(r, &h->id));
	TD_TRY(td_read_u16(r, &h->flags_frag));
	TD_TRY(td_read_u8(r, &h->ttl));
	TD_TRY(td_read_u8(r, &h->proto));
	TD_TRY(td_read_u16(r, &h->checksum));
	TD_TRY(td_read_bytes(r, h->src, sizeof h->src));
	TD_TRY(td_read_bytes(r, h->dst, sizeof h->dst));
	return TD_OK;
}

/* Notes where the IP header starts, for td_tcp_seg.ip. */
static void note_ip_start(const struct td_reader *r, struct decode *dc)
{
	struct td_reader rest = *r;
	dc->seg.ip_len = td_reader_left(&rest);
	if (td_read_ptr(&rest, &dc->seg.ip, dc->seg.ip_len) != TD_OK)
		dc->seg.ip_len = 0;
}

/* An IP fragment: what reassembly needs of it (the addresses are already
 * in dc->seg), its data borrowed from the packet. */
static enum td_decode_result note_fragment(struct dgram *d, struct decode *dc, uint32_t id,
					   uint8_t proto, uint32_t offset, bool more)
{
	struct td_ip_frag *f = &dc->frag;

	f->src = dc->seg.src;
	f->dst = dc->seg.dst;
	f->id = id;
	f->proto = proto;
	f->offset = offset;
	f->more = more;
	f->len = td_reader_left(&d->r);
	f->missing = d->missing;
	if (td_read_ptr(&d->r, &f->data, f->len) != TD_OK) {
		f->data = NULL; /* cannot happen: len is what is left */
		f->len = 0;
	}
	return TD_DECODE_FRAGMENT;
}

static enum td_decode_result decode_ipv4(struct td_reader *r, struct decode *dc)
{
	struct ipv4_hdr h;
	struct dgram d;
	enum td_decode_result res;

	note_ip_start(r, dc);
	if ((res = from_read(ipv4_parse(r, &h))) != DECODE_GO_ON)
		return res;
	size_t hlen = (size_t)(h.version_ihl & 0x0F) * 4;
	if (h.version_ihl >> 4 != 4 || hlen < IPV4_HDR_MIN)
		return TD_DECODE_MALFORMED;
	size_t total = h.total_len;
	/* A total length of 0 is how a capture taken on the sending host can
	 * show a segment handed to TCP segmentation offload before the NIC
	 * cut it up (seen with Npcap and large send offload). Wireshark, and
	 * tcpdump built with GUESS_TSO, take the datagram to be the rest of
	 * the frame on the wire; so does this. Any other total length below
	 * the header length is MALFORMED. */
	if (total == 0)
		total = td_reader_left(r) + IPV4_HDR_MIN + dc->uncaptured;
	if (total < hlen)
		return TD_DECODE_MALFORMED;
	if ((res = from_read(td_read_skip(r, hlen - IPV4_HDR_MIN))) != DECODE_GO_ON)
		return res; /* options */
	if ((res = dgram_open(r, total - hlen, &d)) != DECODE_GO_ON)
		return res;

	/* An outer IPv6 header (IPv4 in IPv6) may have filled the rest. */
	memset(&dc->seg.src, 0, sizeof dc->seg.src);
	memset(&dc->seg.dst, 0, sizeof dc->seg.dst);
	dc->seg.src.family = 4;
	memcpy(dc->seg.src.bytes, h.src, sizeof h.src);
	dc->seg.dst.family = 4;
	memcpy(dc->seg.dst.bytes, h.dst, sizeof h.dst);
	if ((h.flags_frag & IPV4_MF) || (h.flags_frag & IPV4_OFFMASK))
		return note_fragment(&d, dc, h.id, h.proto,
				     (uint32_t)(h.flags_frag & IPV4_OFFMASK) * 8,
				     h.flags_frag & IPV4_MF);
	return decode_ip_payload(&d, h.proto, dc);
}

/* ---- IPv6 ---- */

/* RFC 8200 §3:
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version| Traffic Class |           Flow Label                  |
 * |         Payload Length        |  Next Header  |   Hop Limit   |
 * |                       Source Address (128)                    |
 * |                    Destination Address (128)                  |
 */
struct ipv6_hdr {
	uint32_t version_class_flow;
	uint16_t payload_len;
	uint8_t next;
	uint8_t hop_limit;
	uint8_t src[16];
	uint8_t dst[16];
};

static enum td_err ipv6_parse(struct td_reader *r, struct ipv6_hdr *h)
{
	TD_TRY(td_read_u32(r, &h->version_class_flow));
	TD_TRY(td_read_u16(r, &h->payload_len));
	TD_TRY(td_read_u8(r, &h->next));
	TD_TRY(td_read_u8(r, &h->hop_limit));
	TD_TRY(td_read_bytes(r, h->src, sizeof h->src));
	TD_TRY(td_read_bytes(r, h->dst, sizeof h->dst));
	return TD_OK;
}

/* The first two bytes every length-carrying extension header starts with:
 * hop-by-hop and destination options (RFC 8200 §4.3, §4.6), routing
 * (§4.4) and AH (RFC 4302 §2), whose length is in other units.
 *   | Next Header |  Hdr Ext Len  |  ... */
struct ext_hdr {
	uint8_t next;
	uint8_t len;
};

static enum td_err ext_parse(struct td_reader *r, struct ext_hdr *h)
{
	TD_TRY(td_read_u8(r, &h->next));
	TD_TRY(td_read_u8(r, &h->len));
	return TD_OK;
}

/* RFC 8200 §4.5:
 * |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
 * |                         Identification                        |
 */
struct frag_hdr {
	uint8_t next;
	uint8_t reserved;
	uint16_t offset_m;
	uint32_t id;
};

#define FRAG_HDR_LEN 8

static enum td_err frag_parse(struct td_reader *r, struct frag_hdr *h)
{
	TD_TRY(td_read_u8(r, &h->next));
	TD_TRY(td_read_u8(r, &h->reserved));
	TD_TRY(td_read_u16(r, &h->offset_m));
	TD_TRY(td_read_u32(r, &h->id));
	return TD_OK;
}

enum ext_kind {
	EXT_UNITS_8, /* (Hdr Ext Len + 1) * 8 bytes */
	EXT_UNITS_4, /* AH: (Payload Len + 2) * 4 bytes */
	EXT_FRAGMENT,
};

/* The extension headers walked on the way to TCP. Anything else ends the
 * walk (decode_ip_payload): ESP (50) hides what follows, No Next Header
 * (59) has nothing after it, upper layers other than TCP and the tunnels
 * (UDP, ICMPv6...) are not TCP. */
static const struct {
	uint8_t proto;
	enum ext_kind kind;
} ipv6_exts[] = {
	{IPPROTO_NUM_HOPOPTS, EXT_UNITS_8},
	{IPPROTO_NUM_ROUTING, EXT_UNITS_8},
	{IPPROTO_NUM_DSTOPTS, EXT_UNITS_8},
	{IPPROTO_NUM_FRAGMENT, EXT_FRAGMENT},
	{IPPROTO_NUM_AH, EXT_UNITS_4},
};

static int ext_kind_of(uint8_t proto, enum ext_kind *kind)
{
	for (size_t i = 0; i < sizeof ipv6_exts / sizeof ipv6_exts[0]; i++) {
		if (ipv6_exts[i].proto == proto) {
			*kind = ipv6_exts[i].kind;
			return 1;
		}
	}
	return 0;
}

/* Reads one extension header and sets *next to the header after it. */
static enum td_decode_result decode_ipv6_ext(struct dgram *d, struct decode *dc,
					     enum ext_kind kind, uint8_t *next)
{
	enum td_decode_result res;

	if (kind == EXT_FRAGMENT) {
		struct frag_hdr f;
		if ((res = dgram_need(d, FRAG_HDR_LEN)) != DECODE_GO_ON)
			return res;
		if ((res = from_read(frag_parse(&d->r, &f))) != DECODE_GO_ON)
			return res;
		/* An atomic fragment (offset 0, M clear; RFC 6946) is a whole
		 * datagram: go on through it. */
		if ((f.offset_m & IPV6_FRAG_OFFMASK) || (f.offset_m & IPV6_FRAG_M))
			return note_fragment(d, dc, f.id, f.next, f.offset_m & IPV6_FRAG_OFFMASK,
					     f.offset_m & IPV6_FRAG_M);
		*next = f.next;
		return DECODE_GO_ON;
	}

	struct ext_hdr h;
	if ((res = dgram_need(d, 2)) != DECODE_GO_ON)
		return res;
	if ((res = from_read(ext_parse(&d->r, &h))) != DECODE_GO_ON)
		return res;
	size_t len = kind == EXT_UNITS_4 ? ((size_t)h.len + 2) * 4 : ((size_t)h.len + 1) * 8;
	/* Options and routing data are skipped: nothing downstream uses them. */
	if ((res = dgram_need(d, len - 2)) != DECODE_GO_ON)
		return res;
	if ((res = from_read(td_read_skip(&d->r, len - 2))) != DECODE_GO_ON)
		return res;
	*next = h.next;
	return DECODE_GO_ON;
}

static enum td_decode_result decode_ipv6(struct td_reader *r, struct decode *dc)
{
	struct ipv6_hdr h;
	struct dgram d;
	enum td_decode_result res;

	note_ip_start(r, dc);
	if ((res = from_read(ipv6_parse(r, &h))) != DECODE_GO_ON)
		return res;
	if (h.version_class_flow >> 28 != 6)
		return TD_DECODE_MALFORMED;
	/* Payload Length 0 with a hop-by-hop header is how a jumbogram
	 * (RFC 2675) announces that its length is in a Jumbo Payload option.
	 * Jumbograms are not supported: they are MALFORMED here. */
	if (h.payload_len == 0 && h.next == IPPROTO_NUM_HOPOPTS)
		return TD_DECODE_MALFORMED;
	if ((res = dgram_open(r, h.payload_len, &d)) != DECODE_GO_ON)
		return res;

	dc->seg.src.family = 6;
	memcpy(dc->seg.src.bytes, h.src, sizeof h.src);
	dc->seg.dst.family = 6;
	memcpy(dc->seg.dst.bytes, h.dst, sizeof h.dst);

	uint8_t next = h.next;
	for (unsigned n = 0;; n++) {
		enum ext_kind kind;
		if (!ext_kind_of(next, &kind))
			return decode_ip_payload(&d, next, dc);
		if (n == IPV6_MAX_EXT_HDRS)
			return TD_DECODE_MALFORMED;
		if ((res = decode_ipv6_ext(&d, dc, kind, &next)) != DECODE_GO_ON)
			return res;
	}
}

/* ---- what an IP header carries: TCP, or a tunnel ---- */

/* The inner IP header of IP-in-IP (RFC 2003), IPv6 in IPv4 (RFC 4213 §3.5)
 * and the IPv6 tunnels of RFC 2473: the innermost header gives the
 * connection's addresses. */
static enum td_decode_result decode_ipip4(struct dgram *d, struct decode *dc)
{
	enum td_decode_result res;

	if ((res = tunnel_enter(dc, TD_ENCAP_IPIP)) != DECODE_GO_ON)
		return res;
	return decode_ipv4(&d->r, dc);
}

static enum td_decode_result decode_ipip6(struct dgram *d, struct decode *dc)
{
	enum td_decode_result res;

	if ((res = tunnel_enter(dc, TD_ENCAP_IPIP)) != DECODE_GO_ON)
		return res;
	return decode_ipv6(&d->r, dc);
}

/* RFC 2784 §2.1 with the Key and Sequence Number of RFC 2890 §2:
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |C| |K|S| Reserved0       | Ver |         Protocol Type         |
 * |      Checksum (optional)      |       Reserved1 (Optional)    |
 * |                         Key (optional)                        |
 * |                 Sequence Number (Optional)                    |
 */
#define GRE_C 0x8000
#define GRE_R 0x4000 /* RFC 1701 routing present: obsolete, not decoded */
#define GRE_K 0x2000
#define GRE_S 0x1000
#define GRE_VER 0x0007

struct gre_hdr {
	uint16_t flags_ver;
	uint16_t proto;
	uint16_t checksum, reserved1; /* when C */
	uint32_t key;                 /* when K */
	uint32_t seq;                 /* when S */
};

static enum td_err gre_parse(struct td_reader *r, struct gre_hdr *h)
{
	TD_TRY(td_read_u16(r, &h->flags_ver));
	TD_TRY(td_read_u16(r, &h->proto));
	if (h->flags_ver & GRE_VER)
		return TD_OK; /* another header layout (RFC 2637): not read */
	if (h->flags_ver & GRE_C) {
		TD_TRY(td_read_u16(r, &h->checksum));
		TD_TRY(td_read_u16(r, &h->reserved1));
	}
	if (h->flags_ver & GRE_K)
		TD_TRY(td_read_u32(r, &h->key));
	if (h->flags_ver & GRE_S)
		TD_TRY(td_read_u32(r, &h->seq));
	return TD_OK;
}

/* ERSPAN type II (draft-foschiano-erspan-03 §4.1), after a GRE header
 * with S set:
 * |  Ver  |          VLAN         | COS | En|T|    Session ID     |
 * |      Reserved         |                  Index                |
 * Type III (§4.2), GRE protocol 0x22EB:
 * |  Ver  |          VLAN         | COS |BSO|T|     Session ID    |
 * |                          Timestamp                            |
 * |             SGT               |P|    FT   |   Hw ID   |D|Gra|O|
 * | Platform Specific SubHeader (8 octets, when O)                |
 * Then the mirrored frame: Ethernet (type III: when FT is 0). */
#define ERSPAN2_VER 1
#define ERSPAN3_VER 2
#define ERSPAN3_FT(x) ((x) >> 10 & 0x1F)
#define ERSPAN3_O 0x0001
#define ERSPAN3_SUBHDR_LEN 8

struct erspan_hdr {
	uint16_t ver_vlan;
	uint16_t cos_session;
	uint32_t index_or_ts; /* type II: reserved + index; III: timestamp */
	uint16_t sgt;         /* type III */
	uint16_t flags;       /* type III: P, FT, Hw ID, D, Gra, O */
};

static enum td_err erspan2_parse(struct td_reader *r, struct erspan_hdr *h)
{
	TD_TRY(td_read_u16(r, &h->ver_vlan));
	TD_TRY(td_read_u16(r, &h->cos_session));
	TD_TRY(td_read_u32(r, &h->index_or_ts));
	return TD_OK;
}

static enum td_err erspan3_parse(struct td_reader *r, struct erspan_hdr *h)
{
	TD_TRY(erspan2_parse(r, h));
	TD_TRY(td_read_u16(r, &h->sgt));
	TD_TRY(td_read_u16(r, &h->flags));
	if (h->flags & ERSPAN3_O)
		TD_TRY(td_read_skip(r, ERSPAN3_SUBHDR_LEN));
	return TD_OK;
}

static enum td_decode_result decode_erspan(struct dgram *d, const struct gre_hdr *g,
					   struct decode *dc)
{
	struct erspan_hdr h;
	enum td_decode_result res;

	if ((res = tunnel_enter(dc, TD_ENCAP_ERSPAN)) != DECODE_GO_ON)
		return res;
	if (g->proto == ETHERTYPE_ERSPAN3) {
		if ((res = from_read(erspan3_parse(&d->r, &h))) != DECODE_GO_ON)
			return res;
		if (h.ver_vlan >> 12 != ERSPAN3_VER)
			return TD_DECODE_MALFORMED;
		if (ERSPAN3_FT(h.flags) != 0)
			return not_decoded(dc, TD_UNKNOWN_ERSPAN, ERSPAN3_FT(h.flags));
	} else if (g->flags_ver & GRE_S) {
		/* type II; type I has no sequence number and no header */
		if ((res = from_read(erspan2_parse(&d->r, &h))) != DECODE_GO_ON)
			return res;
		if (h.ver_vlan >> 12 != ERSPAN2_VER)
			return TD_DECODE_MALFORMED;
	}
	return decode_ethernet(&d->r, dc);
}

static enum td_decode_result decode_gre(struct dgram *d, struct decode *dc)
{
	struct gre_hdr h;
	enum td_decode_result res;

	if ((res = tunnel_enter(dc, TD_ENCAP_GRE)) != DECODE_GO_ON)
		return res;
	if ((res = from_read(gre_parse(&d->r, &h))) != DECODE_GO_ON)
		return res;
	/* Version 1 is PPTP's enhanced GRE (RFC 2637): named by its
	 * protocol (0x880B, PPP), not decoded. */
	if (h.flags_ver & GRE_VER)
		return not_decoded(dc, TD_UNKNOWN_GRE, h.proto);
	if (h.flags_ver & GRE_R)
		return TD_DECODE_MALFORMED; /* RFC 2784 §2.3: reserved, must be 0 */
	if (h.proto == ETHERTYPE_ERSPAN || h.proto == ETHERTYPE_ERSPAN3)
		return decode_erspan(d, &h, dc);
	return decode_ethertype(&d->r, h.proto, TD_UNKNOWN_GRE, dc);
}

/* RFC 768:
 * |          Source Port          |       Destination Port        |
 * |            Length             |           Checksum            | */
struct udp_hdr {
	uint16_t sport, dport;
	uint16_t len;
	uint16_t checksum;
};

static enum td_err udp_parse(struct td_reader *r, struct udp_hdr *h)
{
	TD_TRY(td_read_u16(r, &h->sport));
	TD_TRY(td_read_u16(r, &h->dport));
	TD_TRY(td_read_u16(r, &h->len));
	TD_TRY(td_read_u16(r, &h->checksum));
	return TD_OK;
}

/* RFC 7348 §5:
 * |R|R|R|R|I|R|R|R|            Reserved                           |
 * |                VXLAN Network Identifier (VNI) |   Reserved    |
 * then an Ethernet frame. */
struct vxlan_hdr {
	uint32_t flags_reserved;
	uint32_t vni_reserved;
};

static enum td_err vxlan_parse(struct td_reader *r, struct vxlan_hdr *h)
{
	TD_TRY(td_read_u32(r, &h->flags_reserved));
	TD_TRY(td_read_u32(r, &h->vni_reserved));
	return TD_OK;
}

static enum td_decode_result decode_vxlan(struct dgram *d, struct decode *dc)
{
	struct vxlan_hdr h;
	enum td_decode_result res;

	if ((res = tunnel_enter(dc, TD_ENCAP_VXLAN)) != DECODE_GO_ON)
		return res;
	if ((res = from_read(vxlan_parse(&d->r, &h))) != DECODE_GO_ON)
		return res;
	/* The I flag "MUST be set to 1 for a valid VNI" (§5); a frame without
	 * it is still a frame, as Wireshark shows it: decoded anyway. */
	return decode_ethernet(&d->r, dc);
}

/* RFC 8926 §3.4:
 * |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |
 * |        Virtual Network Identifier (VNI)       |    Reserved   |
 * |                    Variable-Length Options                    |
 * Opt Len counts 4-byte words; Protocol Type is an EtherType. */
struct geneve_hdr {
	uint8_t ver_optlen;
	uint8_t flags;
	uint16_t proto;
	uint32_t vni_reserved;
};

static enum td_err geneve_parse(struct td_reader *r, struct geneve_hdr *h)
{
	TD_TRY(td_read_u8(r, &h->ver_optlen));
	TD_TRY(td_read_u8(r, &h->flags));
	TD_TRY(td_read_u16(r, &h->proto));
	TD_TRY(td_read_u32(r, &h->vni_reserved));
	return TD_OK;
}

static enum td_decode_result decode_geneve(struct dgram *d, struct decode *dc)
{
	struct geneve_hdr h;
	enum td_decode_result res;

	if ((res = tunnel_enter(dc, TD_ENCAP_GENEVE)) != DECODE_GO_ON)
		return res;
	if ((res = from_read(geneve_parse(&d->r, &h))) != DECODE_GO_ON)
		return res;
	/* §3.4: a packet of an unknown version MUST be dropped. */
	if (h.ver_optlen >> 6 != 0)
		return TD_DECODE_MALFORMED;
	/* Options (§3.5) are skipped: none says anything about the frame. */
	if ((res = dgram_need(d, (size_t)(h.ver_optlen & 0x3F) * 4)) != DECODE_GO_ON)
		return res;
	if ((res = from_read(td_read_skip(&d->r, (size_t)(h.ver_optlen & 0x3F) * 4))) !=
	    DECODE_GO_ON)
		return res;
	return decode_ethertype(&d->r, h.proto, TD_UNKNOWN_ETHERTYPE, dc);
}

/* 3GPP TS 29.281 §5.1, GTP-U:
 * | Version (3) |PT| * |E|S|PN| Message Type (8) |     Length (16)     |
 * |                 Tunnel Endpoint Identifier (32)                    |
 * | Sequence Number (16), N-PDU Number (8), Next Ext. Header Type (8)  |
 *   (the last word when any of E, S, PN is set)
 * then extension headers (§5.2: a length in 4-byte units, content, next
 * type) while the next type is not 0. A G-PDU (type 255) carries a user
 * IP packet; the other types are signalling. */
#define GTPU_VERSION 1
#define GTPU_PT 0x10
#define GTPU_OPTIONAL 0x07 /* E, S, PN */
#define GTPU_E 0x04
#define GTPU_GPDU 255

struct gtpu_hdr {
	uint8_t flags;
	uint8_t type;
	uint16_t len;
	uint32_t teid;
	uint16_t seq;   /* when E, S or PN */
	uint8_t npdu;
	uint8_t next;   /* next extension header type, when E */
};

static enum td_err gtpu_parse(struct td_reader *r, struct gtpu_hdr *h)
{
	TD_TRY(td_read_u8(r, &h->flags));
	TD_TRY(td_read_u8(r, &h->type));
	TD_TRY(td_read_u16(r, &h->len));
	TD_TRY(td_read_u32(r, &h->teid));
	h->next = 0;
	if (h->flags & GTPU_OPTIONAL) {
		TD_TRY(td_read_u16(r, &h->seq));
		TD_TRY(td_read_u8(r, &h->npdu));
		TD_TRY(td_read_u8(r, &h->next));
	}
	return TD_OK;
}

static enum td_decode_result decode_gtpu(struct dgram *d, struct decode *dc)
{
	struct gtpu_hdr h;
	enum td_decode_result res;
	uint8_t next, units, first;

	if ((res = tunnel_enter(dc, TD_ENCAP_GTP)) != DECODE_GO_ON)
		return res;
	if ((res = from_read(gtpu_parse(&d->r, &h))) != DECODE_GO_ON)
		return res;
	if (h.flags >> 5 != GTPU_VERSION || !(h.flags & GTPU_PT))
		return TD_DECODE_MALFORMED;
	if (h.type != GTPU_GPDU)
		return not_decoded(dc, TD_UNKNOWN_GTP, h.type);
	/* Each extension header takes at least 4 bytes (a length of 0 is
	 * invalid), so the chain ends with the packet at the latest. */
	next = (h.flags & GTPU_E) ? h.next : 0;
	while (next != 0) {
		if ((res = from_read(td_read_u8(&d->r, &units))) != DECODE_GO_ON)
			return res;
		if (units == 0)
			return TD_DECODE_MALFORMED;
		if ((res = from_read(td_read_skip(&d->r, (size_t)units * 4 - 2))) != DECODE_GO_ON)
			return res;
		if ((res = from_read(td_read_u8(&d->r, &next))) != DECODE_GO_ON)
			return res;
	}
	if ((res = from_read(td_peek_u8(&d->r, 0, &first))) != DECODE_GO_ON)
		return res;
	if (first >> 4 == 4)
		return decode_ipv4(&d->r, dc);
	if (first >> 4 == 6)
		return decode_ipv6(&d->r, dc);
	return TD_DECODE_NOT_TCP; /* a non-IP PDU session (Ethernet, unstructured) */
}

/* RFC 5415 §4.3, the CAPWAP header of a data channel packet:
 * |CAPWAP Preamble|  HLEN   |   RID   | WBID    |T|F|L|W|M|K|Flags|
 * |          Fragment ID          |     Frag Offset         |Rsvd |
 * |                 (optional) Radio MAC Address                  |
 * |            (optional) Wireless Specific Information           |
 * The preamble (§4.1) is a version (4 bits, 0) and a type (4 bits: 0 this
 * header, 1 a CAPWAP DTLS header and a DTLS record). HLEN counts the whole
 * header, the optional fields (M, W) with their padding included, in
 * 4-byte words. T: the payload is in the native format of the wireless
 * binding WBID (1: IEEE 802.11, RFC 5416), otherwise an IEEE 802.3 frame.
 * F: a fragment. K: a data channel keep-alive, no payload (§4.4.1). */
#define CAPWAP_VERSION 0
#define CAPWAP_TYPE_HEADER 0
#define CAPWAP_TYPE_DTLS 1
#define CAPWAP_HLEN_MIN 2 /* the two fixed words */
#define CAPWAP_WBID_IEEE80211 1
#define CAPWAP_T 0x000100u
#define CAPWAP_F 0x000080u
#define CAPWAP_K 0x000008u

struct capwap_hdr {
	uint8_t preamble;
	uint32_t bits; /* HLEN, RID, WBID, T, F, L, W, M, K, Flags */
	uint16_t frag_id;
	uint16_t frag_off_rsvd;
};

static enum td_err capwap_parse(struct td_reader *r, struct capwap_hdr *h)
{
	TD_TRY(td_read_u8(r, &h->preamble));
	TD_TRY(td_read_u24(r, &h->bits));
	TD_TRY(td_read_u16(r, &h->frag_id));
	TD_TRY(td_read_u16(r, &h->frag_off_rsvd));
	return TD_OK;
}

static enum td_decode_result decode_capwap(struct dgram *d, struct decode *dc)
{
	struct capwap_hdr h;
	enum td_decode_result res;
	uint8_t type;

	if ((res = tunnel_enter(dc, TD_ENCAP_CAPWAP)) != DECODE_GO_ON)
		return res;
	/* The DTLS header (§4.2) is one preamble and three reserved bytes:
	 * the preamble alone tells it. */
	if ((res = from_read(td_peek_u8(&d->r, 0, &type))) != DECODE_GO_ON)
		return res;
	if (type >> 4 == CAPWAP_VERSION && (type & 0x0F) == CAPWAP_TYPE_DTLS)
		return not_decoded(dc, TD_UNKNOWN_CAPWAP, TD_CAPWAP_DTLS);
	if ((res = from_read(capwap_parse(&d->r, &h))) != DECODE_GO_ON)
		return res;
	size_t hlen = (size_t)(h.bits >> 19) * 4;
	unsigned wbid = h.bits >> 9 & 0x1F;
	if (h.preamble != (CAPWAP_VERSION << 4 | CAPWAP_TYPE_HEADER) ||
	    hlen < CAPWAP_HLEN_MIN * 4)
		return TD_DECODE_MALFORMED;
	/* The Radio MAC Address and Wireless Specific Information say nothing
	 * about the frame: skipped with the rest of HLEN. */
	if ((res = dgram_need(d, hlen - CAPWAP_HLEN_MIN * 4)) != DECODE_GO_ON)
		return res;
	if ((res = from_read(td_read_skip(&d->r, hlen - CAPWAP_HLEN_MIN * 4))) != DECODE_GO_ON)
		return res;
	if (h.bits & CAPWAP_K)
		return TD_DECODE_NOT_TCP; /* a keep-alive: message elements, no frame */
	if (h.bits & CAPWAP_F)
		return not_decoded(dc, TD_UNKNOWN_CAPWAP, TD_CAPWAP_FRAGMENT);
	if (!(h.bits & CAPWAP_T))
		return decode_ethernet(&d->r, dc);
	if (wbid != CAPWAP_WBID_IEEE80211)
		return not_decoded(dc, TD_UNKNOWN_CAPWAP_WBID, wbid);
	return decode_80211(&d->r, true, dc);
}

/* UDP-borne tunnels, by destination port as Wireshark dissects them;
 * other UDP is not TCP. CAPWAP data goes to the WTP's port as well as from
 * it, so either port counts. */
static const struct {
	uint16_t port;
	bool either_port;
	enum td_decode_result (*decode)(struct dgram *d, struct decode *dc);
} udp_tunnels[] = {
	{UDP_PORT_VXLAN, false, decode_vxlan},
	{UDP_PORT_GENEVE, false, decode_geneve},
	{UDP_PORT_GTPU, false, decode_gtpu},
	{UDP_PORT_CAPWAP_DATA, true, decode_capwap},
};

static enum td_decode_result decode_udp(struct dgram *d, struct decode *dc)
{
	struct udp_hdr h;
	enum td_decode_result res;

	if ((res = dgram_need(d, UDP_HDR_LEN)) != DECODE_GO_ON)
		return res;
	if ((res = from_read(udp_parse(&d->r, &h))) != DECODE_GO_ON)
		return res;
	for (size_t i = 0; i < sizeof udp_tunnels / sizeof udp_tunnels[0]; i++) {
		if (udp_tunnels[i].port == h.dport ||
		    (udp_tunnels[i].either_port && udp_tunnels[i].port == h.sport))
			return udp_tunnels[i].decode(d, dc);
	}
	return TD_DECODE_NOT_TCP;
}

/* What follows an IP header (or the IPv6 extension headers), by protocol
 * number; anything not here is not TCP. */
static const struct {
	uint8_t proto;
	enum td_decode_result (*decode)(struct dgram *d, struct decode *dc);
} ip_payloads[] = {
	{IPPROTO_NUM_TCP, decode_tcp},     {IPPROTO_NUM_IPV4, decode_ipip4},
	{IPPROTO_NUM_IPV6, decode_ipip6},  {IPPROTO_NUM_GRE, decode_gre},
	{IPPROTO_NUM_UDP, decode_udp},
};

static enum td_decode_result decode_ip_payload(struct dgram *d, uint8_t proto,
					       struct decode *dc)
{
	for (size_t i = 0; i < sizeof ip_payloads / sizeof ip_payloads[0]; i++) {
		if (ip_payloads[i].proto == proto)
			return ip_payloads[i].decode(d, dc);
	}
	return TD_DECODE_NOT_TCP;
}

/* ---- MPLS and PPP ---- */

/* RFC 3032 §2.1, one label stack entry:
 * |                Label                  | TC  |S|       TTL     |
 * The stack ends at S. No field says what follows it (RFC 3032 §3): as
 * routers and Wireshark do, the first nibble tells: 4 IPv4, 6 IPv6, 0 the
 * pseudowire control word of RFC 4385 §3, then (an Ethernet pseudowire,
 * RFC 4448) an Ethernet frame. */
#define MPLS_S 0x00000100u
#define MPLS_CW_LEN 4

static enum td_decode_result decode_mpls(struct td_reader *r, struct decode *dc)
{
	enum td_decode_result res;
	uint32_t entry = 0;
	uint8_t first;

	if ((res = tunnel_enter(dc, TD_ENCAP_MPLS)) != DECODE_GO_ON)
		return res;
	/* Each entry takes four bytes: the packet ends the stack at the latest. */
	while (!(entry & MPLS_S)) {
		if ((res = from_read(td_read_u32(r, &entry))) != DECODE_GO_ON)
			return res;
	}
	if ((res = from_read(td_peek_u8(r, 0, &first))) != DECODE_GO_ON)
		return res;
	switch (first >> 4) {
	case 4:
		return decode_ipv4(r, dc);
	case 6:
		return decode_ipv6(r, dc);
	case 0:
		if ((res = from_read(td_read_skip(r, MPLS_CW_LEN))) != DECODE_GO_ON)
			return res;
		return decode_ethernet(r, dc);
	default:
		return not_decoded(dc, TD_UNKNOWN_MPLS, first >> 4);
	}
}

/* RFC 1661 §2: | Protocol (8 or 16) | Information |. A protocol number is
 * odd in its low byte and even in its high byte, so a first byte that is
 * odd is a compressed one-byte protocol (§6.5). */
static enum td_decode_result decode_ppp_proto(struct td_reader *r, struct decode *dc)
{
	enum td_decode_result res;
	uint8_t first;
	uint16_t proto;

	if ((res = from_read(td_peek_u8(r, 0, &first))) != DECODE_GO_ON)
		return res;
	if (first & 1) {
		if ((res = from_read(td_read_u8(r, &first))) != DECODE_GO_ON)
			return res;
		proto = first;
	} else if ((res = from_read(td_read_u16(r, &proto))) != DECODE_GO_ON) {
		return res;
	}
	switch (proto) {
	case PPP_IPV4:
		return decode_ipv4(r, dc);
	case PPP_IPV6:
		return decode_ipv6(r, dc);
	case PPP_MPLS:
		return decode_mpls(r, dc);
	default:
		return not_decoded(dc, TD_UNKNOWN_PPP, proto);
	}
}

/* RFC 2516 §4 (session stage, CODE 0):
 * |  VER  | TYPE  |      CODE     |          SESSION_ID           |
 * |            LENGTH             |           payload             ~
 * LENGTH counts the PPP frame that follows: Ethernet padding after it is
 * not part of it. */
#define PPPOE_VER_TYPE 0x11
#define PPPOE_CODE_SESSION 0x00

struct pppoe_hdr {
	uint8_t ver_type;
	uint8_t code;
	uint16_t session;
	uint16_t len;
};

static enum td_err pppoe_parse(struct td_reader *r, struct pppoe_hdr *h)
{
	TD_TRY(td_read_u8(r, &h->ver_type));
	TD_TRY(td_read_u8(r, &h->code));
	TD_TRY(td_read_u16(r, &h->session));
	TD_TRY(td_read_u16(r, &h->len));
	return TD_OK;
}

static enum td_decode_result decode_pppoe(struct td_reader *r, struct decode *dc)
{
	struct pppoe_hdr h;
	struct td_reader ppp;
	enum td_decode_result res;

	if ((res = tunnel_enter(dc, TD_ENCAP_PPPOE)) != DECODE_GO_ON)
		return res;
	if ((res = from_read(pppoe_parse(r, &h))) != DECODE_GO_ON)
		return res;
	if (h.ver_type != PPPOE_VER_TYPE || h.code != PPPOE_CODE_SESSION)
		return TD_DECODE_MALFORMED;
	/* A capture cut inside the frame leaves fewer bytes than LENGTH. */
	size_t take = h.len < td_reader_left(r) ? h.len : td_reader_left(r);
	if ((res = from_read(td_read_sub(r, take, &ppp))) != DECODE_GO_ON)
		return res;
	return decode_ppp_proto(&ppp, dc);
}

/* ---- link layers ---- */

static int is_vlan_tpid(uint16_t type)
{
	return type == ETHERTYPE_8021Q || type == ETHERTYPE_8021AD || type == ETHERTYPE_QINQ;
}

/* IEEE 802.1Q §9.6, after the TPID:
 * | PCP (3) | DEI (1) | VID (12) |  EtherType of what follows (16)  | */
struct vlan_tag {
	uint16_t tci;
	uint16_t type;
};

static enum td_err vlan_parse(struct td_reader *r, struct vlan_tag *t)
{
	TD_TRY(td_read_u16(r, &t->tci));
	TD_TRY(td_read_u16(r, &t->type));
	return TD_OK;
}

/* An Ethernet frame carried by a tunnel (GRE protocol or Geneve protocol
 * type 0x6558, "Transparent Ethernet Bridging"). */
static enum td_decode_result decode_teb(struct td_reader *r, struct decode *dc)
{
	return decode_ethernet(r, dc);
}

/* Cisco MetaData, a tag between the MAC addresses and the EtherType as
 * Cisco TrustSec inserts it (Wireshark packet-cmd.c):
 * | Version (1) | Length (1) | Option length/type (2) | SGT (2) | EtherType (2) |
 * Counted as a nesting level, so a chain of them stays bounded. */
struct cmd_hdr {
	uint8_t version;
	uint8_t len;
	uint16_t option;
	uint16_t sgt;
	uint16_t type;
};

static enum td_err cmd_parse(struct td_reader *r, struct cmd_hdr *h)
{
	TD_TRY(td_read_u8(r, &h->version));
	TD_TRY(td_read_u8(r, &h->len));
	TD_TRY(td_read_u16(r, &h->option));
	TD_TRY(td_read_u16(r, &h->sgt));
	TD_TRY(td_read_u16(r, &h->type));
	return TD_OK;
}

static enum td_decode_result decode_cmd(struct td_reader *r, struct decode *dc)
{
	struct cmd_hdr h;
	enum td_decode_result res;

	if ((res = tunnel_enter(dc, 0)) != DECODE_GO_ON)
		return res;
	if ((res = from_read(cmd_parse(r, &h))) != DECODE_GO_ON)
		return res;
	return decode_ethertype(r, h.type, TD_UNKNOWN_ETHERTYPE, dc);
}

/* IEEE 802.2 LLC after an 802.3 length: one summary row per DSAP, and per
 * protocol ID after a SNAP header (DSAP 0xAA, SSAP 0xAA, UI, an OUI and a
 * PID): the value is the DSAP, with the PID in bits 8-23 and LLC_SNAP_CISCO
 * when the OUI is Cisco's (its PIDs are Cisco's: CDP, VTP, DTP, PVST+;
 * with OUI 00-00-00 the PID is an EtherType). A header cut short is a row
 * of its own, DSAP 0. */
#define LLC_SAP_SNAP 0xAA
#define LLC_UI 0x03
#define LLC_SNAP_PID(v) (((v) >> 8) & 0xFFFF)
#define LLC_SNAP_CISCO (1u << 24)
#define LLC_SNAP_OTHER_OUI (1u << 25)
#define OUI_CISCO 0x00000C
#define OUI_ETHERTYPE 0x000000 /* RFC 1042: the PID is an EtherType */
#define OUI_BRIDGE_TUNNEL 0x0000F8 /* IEEE 802.1H: also an EtherType */

/* IEEE 802.2 §3.2: | DSAP (1) | SSAP (1) | Control (1) |, and after the
 * SNAP SAPs with UI (IEEE 802 §10.3): | OUI (3) | Protocol ID (2) |. */
struct llc_hdr {
	uint8_t dsap, ssap, ctrl;
	uint32_t oui;
	uint16_t pid;
	bool snap; /* the SNAP header was read whole */
};

static enum td_err llc_parse(struct td_reader *r, struct llc_hdr *h)
{
	h->snap = false;
	TD_TRY(td_read_u8(r, &h->dsap));
	TD_TRY(td_read_u8(r, &h->ssap));
	TD_TRY(td_read_u8(r, &h->ctrl));
	if (h->dsap != LLC_SAP_SNAP || h->ssap != LLC_SAP_SNAP || h->ctrl != LLC_UI)
		return TD_OK;
	TD_TRY(td_read_u24(r, &h->oui));
	TD_TRY(td_read_u16(r, &h->pid));
	h->snap = true;
	return TD_OK;
}

/* The summary value of an LLC header read as far as it goes. */
static uint32_t llc_value(const struct llc_hdr *h)
{
	if (!h->snap)
		return h->dsap;
	return h->dsap | (uint32_t)h->pid << 8 |
	       (h->oui == OUI_CISCO ? LLC_SNAP_CISCO : h->oui ? LLC_SNAP_OTHER_OUI : 0);
}

/* What an EtherType announces. */
static const struct {
	uint16_t type;
	enum td_decode_result (*decode)(struct td_reader *r, struct decode *dc);
} ethertypes[] = {
	{ETHERTYPE_IPV4, decode_ipv4},     {ETHERTYPE_IPV6, decode_ipv6},
	{ETHERTYPE_MPLS, decode_mpls},     {ETHERTYPE_MPLS_MC, decode_mpls},
	{ETHERTYPE_PPPOE, decode_pppoe},   {ETHERTYPE_TEB, decode_teb},
	{ETHERTYPE_CMD, decode_cmd},
};

/* Dispatches on an EtherType, through any stack of VLAN tags. Each tag takes
 * four bytes, so the stack ends with the packet at the latest. Values up to
 * 1500 are IEEE 802.3 lengths (LLC follows): not IP. An EtherType not
 * handled is named as kind (an EtherType, or a GRE protocol type). */
static enum td_decode_result decode_ethertype(struct td_reader *r, uint16_t type,
					      enum td_decode_unknown kind, struct decode *dc)
{
	enum td_decode_result res;

	while (is_vlan_tpid(type)) {
		struct vlan_tag t;
		if ((res = from_read(vlan_parse(r, &t))) != DECODE_GO_ON)
			return res;
		if (!(dc->seg.encap & TD_ENCAP_VLAN)) {
			dc->seg.encap |= TD_ENCAP_VLAN;
			dc->seg.vlan_id = t.tci & VLAN_VID_MASK;
		}
		type = t.type;
	}
	for (size_t i = 0; i < sizeof ethertypes / sizeof ethertypes[0]; i++) {
		if (ethertypes[i].type == type)
			return ethertypes[i].decode(r, dc);
	}
	if (type <= ETHERTYPE_MAX_LEN) {
		struct llc_hdr llc = {0};
		/* A header cut short is named by what was read of it. */
		(void)llc_parse(r, &llc);
		return not_decoded(dc, TD_UNKNOWN_LLC, llc_value(&llc));
	}
	return not_decoded(dc, kind, type);
}

/* Ethernet II (IEEE 802.3 §3.1.1), no preamble and no FCS as captured:
 * | Destination (6) | Source (6) | EtherType or length (2) | */
struct eth_hdr {
	uint8_t dst[6];
	uint8_t src[6];
	uint16_t type;
};

static enum td_err eth_parse(struct td_reader *r, struct eth_hdr *h)
{
	TD_TRY(td_read_bytes(r, h->dst, sizeof h->dst));
	TD_TRY(td_read_bytes(r, h->src, sizeof h->src));
	TD_TRY(td_read_u16(r, &h->type));
	return TD_OK;
}

static enum td_decode_result decode_ethernet(struct td_reader *r, struct decode *dc)
{
	struct eth_hdr h;
	enum td_decode_result res;

	if ((res = from_read(eth_parse(r, &h))) != DECODE_GO_ON)
		return res;
	return decode_ethertype(r, h.type, TD_UNKNOWN_ETHERTYPE, dc);
}

/* IEEE 802.11-2020 §9.3.2.1, the MAC header of a data frame:
 * | Frame Control (2) | Duration/ID (2) | Address 1 (6) | Address 2 (6) |
 * | Address 3 (6) | Sequence Control (2) | Address 4 (6) | QoS Control (2) |
 * | HT Control (4) | Frame Body ...
 * Address 4 is there when To DS and From DS are both set (a WDS or mesh
 * frame), QoS Control in the QoS subtypes (subtype bit 3), HT Control in
 * a QoS data frame with the +HTC bit (§9.2.4.1.10; in a non-QoS data frame
 * that bit means "Order" and adds nothing). Frame Control (§9.2.4.1) goes
 * least significant bit first: its first byte is Protocol Version (2 bits),
 * Type (2) and Subtype (4) from the low bits up, the second the flags. The
 * other fields are little-endian: read as bytes, only the fragment number
 * (low nibble of Sequence Control's first byte) and QoS Control's A-MSDU
 * Present bit (bit 7 of its first byte) are used. A data frame's body is
 * LLC/SNAP (IEEE 802.2, RFC 1042) and then the EtherType's packet. */
#define WLAN_PV(fc0) ((fc0)&0x03)
#define WLAN_TYPE(fc0) ((fc0) >> 2 & 0x03)
#define WLAN_SUBTYPE(fc0) ((fc0) >> 4)
#define WLAN_PV_S1G 1
#define WLAN_TYPE_DATA 2
#define WLAN_SUBTYPE_QOS 0x08    /* subtype bit 3 */
#define WLAN_SUBTYPE_NODATA 0x04 /* subtype bit 2: Null, CF-Ack, CF-Poll: no body */
#define WLAN_TO_DS 0x01
#define WLAN_FROM_DS 0x02
#define WLAN_MORE_FRAG 0x04
#define WLAN_PROTECTED 0x40
#define WLAN_HTC 0x80
#define WLAN_FRAG_NUM(seq0) ((seq0)&0x0F)
#define WLAN_QOS_AMSDU 0x80

struct wlan_hdr {
	uint8_t fc[2]; /* as the standard numbers them, after any swap */
	uint16_t duration;
	uint8_t addr1[6], addr2[6], addr3[6];
	uint8_t seq[2];
	uint8_t addr4[6]; /* when To DS and From DS */
	uint8_t qos[2];   /* in QoS subtypes */
	uint32_t htc;     /* in QoS subtypes with +HTC */
};

/* Frame Control. Cisco's access points send it over CAPWAP with its two
 * bytes swapped (Wireshark's capwap.swap_fc, on by default). */
static enum td_err wlan_fc_parse(struct td_reader *r, bool swapped, struct wlan_hdr *h)
{
	TD_TRY(td_read_u8(r, &h->fc[swapped ? 1 : 0]));
	TD_TRY(td_read_u8(r, &h->fc[swapped ? 0 : 1]));
	return TD_OK;
}

/* The rest of a data frame's MAC header, Frame Control read. */
static enum td_err wlan_data_parse(struct td_reader *r, struct wlan_hdr *h)
{
	TD_TRY(td_read_u16(r, &h->duration));
	TD_TRY(td_read_bytes(r, h->addr1, sizeof h->addr1));
	TD_TRY(td_read_bytes(r, h->addr2, sizeof h->addr2));
	TD_TRY(td_read_bytes(r, h->addr3, sizeof h->addr3));
	TD_TRY(td_read_bytes(r, h->seq, sizeof h->seq));
	if ((h->fc[1] & (WLAN_TO_DS | WLAN_FROM_DS)) == (WLAN_TO_DS | WLAN_FROM_DS))
		TD_TRY(td_read_bytes(r, h->addr4, sizeof h->addr4));
	if (WLAN_SUBTYPE(h->fc[0]) & WLAN_SUBTYPE_QOS) {
		TD_TRY(td_read_bytes(r, h->qos, sizeof h->qos));
		if (h->fc[1] & WLAN_HTC)
			TD_TRY(td_read_u32(r, &h->htc));
	}
	return TD_OK;
}

/* An IEEE 802.11 frame, alone (LINKTYPE_IEEE802_11) or in CAPWAP. Two
 * things differ in CAPWAP. Its Frame Control may be swapped: that shows as
 * a first byte with a protocol version other than 0 and a second with 0
 * (a data frame to or from an access point has To DS or From DS set, so
 * its flags byte read first is never version 0). And the WTP reassembles
 * 802.11 fragments before it forwards a frame (RFC 5416 §2.2.1, §2.2.2):
 * Cisco's access points leave another value in the fragment number, which
 * is not read there. Frames without data are named, and so are the data
 * frames whose body cannot be read. */
static enum td_decode_result decode_80211(struct td_reader *r, bool in_capwap,
					  struct decode *dc)
{
	struct wlan_hdr h;
	struct llc_hdr llc = {0};
	enum td_decode_result res;
	uint8_t b0, b1;

	if ((res = tunnel_enter(dc, TD_ENCAP_80211)) != DECODE_GO_ON)
		return res;
	if ((res = from_read(td_peek_u8(r, 0, &b0))) != DECODE_GO_ON ||
	    (res = from_read(td_peek_u8(r, 1, &b1))) != DECODE_GO_ON)
		return res;
	bool swapped = in_capwap && WLAN_PV(b0) != 0 && WLAN_PV(b1) == 0;
	if ((res = from_read(wlan_fc_parse(r, swapped, &h))) != DECODE_GO_ON)
		return res;
	/* Version 1 is the short S1G format (§9.8), 2 and 3 are reserved. */
	if (WLAN_PV(h.fc[0]) == WLAN_PV_S1G)
		return not_decoded(dc, TD_UNKNOWN_80211_UNREAD, TD_80211_S1G);
	if (WLAN_PV(h.fc[0]) != 0)
		return TD_DECODE_MALFORMED;
	if (WLAN_TYPE(h.fc[0]) != WLAN_TYPE_DATA || (WLAN_SUBTYPE(h.fc[0]) & WLAN_SUBTYPE_NODATA))
		return not_decoded(dc, TD_UNKNOWN_80211,
				   (uint32_t)WLAN_TYPE(h.fc[0]) << 4 | WLAN_SUBTYPE(h.fc[0]));
	if ((res = from_read(wlan_data_parse(r, &h))) != DECODE_GO_ON)
		return res;
	if (h.fc[1] & WLAN_PROTECTED)
		return not_decoded(dc, TD_UNKNOWN_80211_UNREAD, TD_80211_PROTECTED);
	if ((h.fc[1] & WLAN_MORE_FRAG) || (!in_capwap && WLAN_FRAG_NUM(h.seq[0]) != 0))
		return not_decoded(dc, TD_UNKNOWN_80211_UNREAD, TD_80211_FRAGMENT);
	if ((WLAN_SUBTYPE(h.fc[0]) & WLAN_SUBTYPE_QOS) && (h.qos[0] & WLAN_QOS_AMSDU))
		return not_decoded(dc, TD_UNKNOWN_80211_UNREAD, TD_80211_AMSDU);
	if ((res = from_read(llc_parse(r, &llc))) != DECODE_GO_ON)
		return res;
	if (!llc.snap || (llc.oui != OUI_ETHERTYPE && llc.oui != OUI_BRIDGE_TUNNEL))
		return not_decoded(dc, TD_UNKNOWN_LLC, llc_value(&llc));
	return decode_ethertype(r, llc.pid, TD_UNKNOWN_ETHERTYPE, dc);
}

static enum td_decode_result decode_80211_link(struct td_reader *r, struct decode *dc)
{
	return decode_80211(r, false, dc);
}

/* LINKTYPE_LINUX_SLL (https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html):
 * | packet type (2) | ARPHRD type (2) | address length (2) |
 * | link-layer address (8)            | protocol type (2)  | */
struct sll_hdr {
	uint16_t pkttype;
	uint16_t hatype;
	uint16_t halen;
	uint8_t addr[8];
	uint16_t protocol;
};

static enum td_err sll_parse(struct td_reader *r, struct sll_hdr *h)
{
	TD_TRY(td_read_u16(r, &h->pkttype));
	TD_TRY(td_read_u16(r, &h->hatype));
	TD_TRY(td_read_u16(r, &h->halen));
	TD_TRY(td_read_bytes(r, h->addr, sizeof h->addr));
	TD_TRY(td_read_u16(r, &h->protocol));
	return TD_OK;
}

static enum td_decode_result decode_sll(struct td_reader *r, struct decode *dc)
{
	struct sll_hdr h;
	enum td_decode_result res;

	if ((res = from_read(sll_parse(r, &h))) != DECODE_GO_ON)
		return res;
	if (h.hatype == ARPHRD_NETLINK)
		return not_decoded(dc, TD_UNKNOWN_SLL_HATYPE, h.hatype);
	/* Otherwise the protocol is an EtherType, VLAN tags included when
	 * the kernel left them in the data. */
	return decode_ethertype(r, h.protocol, TD_UNKNOWN_ETHERTYPE, dc);
}

/* LINKTYPE_LINUX_SLL2 (https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html):
 * | protocol type (2) | reserved (2) | interface index (4)            |
 * | ARPHRD type (2)   | packet type (1) | address length (1)          |
 * | link-layer address (8)                                            | */
struct sll2_hdr {
	uint16_t protocol;
	uint16_t reserved;
	uint32_t ifindex;
	uint16_t hatype;
	uint8_t pkttype;
	uint8_t halen;
	uint8_t addr[8];
};

static enum td_err sll2_parse(struct td_reader *r, struct sll2_hdr *h)
{
	TD_TRY(td_read_u16(r, &h->protocol));
	TD_TRY(td_read_u16(r, &h->reserved));
	TD_TRY(td_read_u32(r, &h->ifindex));
	TD_TRY(td_read_u16(r, &h->hatype));
	TD_TRY(td_read_u8(r, &h->pkttype));
	TD_TRY(td_read_u8(r, &h->halen));
	TD_TRY(td_read_bytes(r, h->addr, sizeof h->addr));
	return TD_OK;
}

static enum td_decode_result decode_sll2(struct td_reader *r, struct decode *dc)
{
	struct sll2_hdr h;
	enum td_decode_result res;

	if ((res = from_read(sll2_parse(r, &h))) != DECODE_GO_ON)
		return res;
	if (h.hatype == ARPHRD_NETLINK)
		return not_decoded(dc, TD_UNKNOWN_SLL_HATYPE, h.hatype);
	return decode_ethertype(r, h.protocol, TD_UNKNOWN_ETHERTYPE, dc);
}

/* BSD address family values as loopback headers carry them: AF_INET6
 * differs between the BSDs (tcpdump af.h), so all of them are accepted. */
static const struct {
	uint32_t af;
	int ip_version;
} bsd_afs[] = {
	{2, 4},  /* AF_INET everywhere */
	{24, 6}, /* AF_INET6 on NetBSD, OpenBSD, BSD/OS */
	{28, 6}, /* AF_INET6 on FreeBSD, DragonFly BSD */
	{30, 6}, /* AF_INET6 on Darwin (macOS, iOS) */
};

static enum td_decode_result decode_bsd_af(struct td_reader *r, uint32_t af,
					   struct decode *dc)
{
	for (size_t i = 0; i < sizeof bsd_afs / sizeof bsd_afs[0]; i++) {
		if (bsd_afs[i].af == af)
			return bsd_afs[i].ip_version == 4 ? decode_ipv4(r, dc)
							  : decode_ipv6(r, dc);
	}
	return not_decoded(dc, TD_UNKNOWN_AF, af);
}

/* LINKTYPE_NULL: | address family (4), byte order of the capturing host |.
 * The file does not say which host that was; as tcpdump does, a value with
 * bits in its upper half was written in the other byte order. */
static enum td_decode_result decode_null(struct td_reader *r, struct decode *dc)
{
	uint32_t af;
	enum td_decode_result res;

	if ((res = from_read(td_read_u32(r, &af))) != DECODE_GO_ON)
		return res;
	if (af & 0xFFFF0000u)
		af = (af >> 24) | (af >> 8 & 0xFF00u) | (af << 8 & 0xFF0000u) | (af << 24);
	return decode_bsd_af(r, af, dc);
}

/* LINKTYPE_LOOP: | address family (4), network byte order | */
static enum td_decode_result decode_loop(struct td_reader *r, struct decode *dc)
{
	uint32_t af;
	enum td_decode_result res;

	if ((res = from_read(td_read_u32(r, &af))) != DECODE_GO_ON)
		return res;
	return decode_bsd_af(r, af, dc);
}

/* LINKTYPE_PPP: PPP (RFC 1661), the frame starting with the HDLC-like
 * address and control bytes FF 03 (RFC 1662 §3.1) or without them. */
static enum td_decode_result decode_ppp(struct td_reader *r, struct decode *dc)
{
	enum td_decode_result res;
	uint8_t address;

	if ((res = tunnel_enter(dc, TD_ENCAP_PPP)) != DECODE_GO_ON)
		return res;
	if ((res = from_read(td_peek_u8(r, 0, &address))) != DECODE_GO_ON)
		return res;
	if (address == PPP_ADDRESS) {
		uint8_t control = 0;
		if ((res = from_read(td_read_u8(r, &address))) != DECODE_GO_ON ||
		    (res = from_read(td_read_u8(r, &control))) != DECODE_GO_ON)
			return res;
		if (control != PPP_CONTROL)
			return TD_DECODE_MALFORMED;
	}
	return decode_ppp_proto(r, dc);
}

/* Cisco HDLC (LINKTYPE_C_HDLC; RFC 1547 §4.3.1):
 * | address (0x0F or 0x8F) | control (0) | protocol: an EtherType (2) | */
struct chdlc_hdr {
	uint8_t address;
	uint8_t control;
	uint16_t proto;
};

static enum td_err chdlc_parse(struct td_reader *r, struct chdlc_hdr *h)
{
	TD_TRY(td_read_u8(r, &h->address));
	TD_TRY(td_read_u8(r, &h->control));
	TD_TRY(td_read_u16(r, &h->proto));
	return TD_OK;
}

static enum td_decode_result decode_chdlc(struct td_reader *r, struct decode *dc)
{
	struct chdlc_hdr h;
	enum td_decode_result res;

	if ((res = tunnel_enter(dc, TD_ENCAP_PPP)) != DECODE_GO_ON)
		return res;
	if ((res = from_read(chdlc_parse(r, &h))) != DECODE_GO_ON)
		return res;
	return decode_ethertype(r, h.proto, TD_UNKNOWN_ETHERTYPE, dc);
}

/* LINKTYPE_PPP_HDLC: PPP in HDLC-like framing (FF 03, RFC 1662) or Cisco
 * HDLC (address 0x0F or 0x8F), told apart by the address byte. */
static enum td_decode_result decode_ppp_hdlc(struct td_reader *r, struct decode *dc)
{
	enum td_decode_result res;
	uint8_t address;

	if ((res = from_read(td_peek_u8(r, 0, &address))) != DECODE_GO_ON)
		return res;
	if (address == CHDLC_UNICAST || address == CHDLC_BCAST)
		return decode_chdlc(r, dc);
	if (address != PPP_ADDRESS)
		return TD_DECODE_MALFORMED;
	return decode_ppp(r, dc);
}

/* Raw IP: no link header, the version nibble says IPv4 or IPv6. */
static enum td_decode_result decode_raw(struct td_reader *r, struct decode *dc)
{
	uint8_t first;
	enum td_decode_result res;

	if ((res = from_read(td_peek_u8(r, 0, &first))) != DECODE_GO_ON)
		return res;
	if (first >> 4 == 4)
		return decode_ipv4(r, dc);
	if (first >> 4 == 6)
		return decode_ipv6(r, dc);
	return TD_DECODE_MALFORMED;
}

static const struct {
	int linktype;
	const char *name;
	enum td_decode_result (*decode)(struct td_reader *r, struct decode *dc);
} links[] = {
	{TD_LINK_NULL, "BSD loopback (NULL)", decode_null},
	{TD_LINK_ETHERNET, "Ethernet", decode_ethernet},
	{TD_LINK_PPP, "PPP", decode_ppp},
	{TD_LINK_PPP_HDLC, "PPP in HDLC-like framing", decode_ppp_hdlc},
	{TD_LINK_PPP_ETHER, "PPPoE", decode_pppoe},
	{TD_LINK_C_HDLC, "Cisco HDLC", decode_chdlc},
	{TD_LINK_IEEE802_11, "IEEE 802.11", decode_80211_link},
	{TD_LINK_RAW_DLT12, "raw IP", decode_raw},
	{TD_LINK_RAW_DLT14, "raw IP", decode_raw},
	{TD_LINK_RAW, "raw IP", decode_raw},
	{TD_LINK_LOOP, "OpenBSD loopback (LOOP)", decode_loop},
	{TD_LINK_LINUX_SLL, "Linux cooked (SLL)", decode_sll},
	{TD_LINK_IPV4, "raw IPv4", decode_ipv4},
	{TD_LINK_IPV6, "raw IPv6", decode_ipv6},
	{TD_LINK_LINUX_SLL2, "Linux cooked v2 (SLL2)", decode_sll2},
};

static size_t link_index(int linktype)
{
	size_t i;

	for (i = 0; i < sizeof links / sizeof links[0]; i++) {
		if (links[i].linktype == linktype)
			break;
	}
	return i;
}

/* ---- public ---- */

enum td_decode_result td_decode_packet_info(int linktype, const uint8_t *data, size_t caplen,
					    size_t wirelen, struct td_tcp_seg *out,
					    struct td_decode_info *info)
{
	size_t i = link_index(linktype);
	struct td_reader r;
	struct decode dc;
	enum td_decode_result res = TD_DECODE_UNSUPPORTED_LINK;

	/* Set here: what a decode may read before it writes. The segment's
	 * encapsulation bits and VLAN id, which only a tunnel or a tag sets;
	 * every other field of it is written on the way to a TCP result (the
	 * IP decoders: the addresses and ip; decode_tcp: the rest), and only
	 * a TCP result copies it out. Not the fragment: only a FRAGMENT
	 * result reads it, and note_fragment() wrote every field of it
	 * first. A memset of the whole struct, then of the segment (about
	 * 200, then 100 bytes), was a `rep stos`, with its start-up cost,
	 * on every packet. */
	dc.seg.encap = 0;
	dc.seg.vlan_id = 0;
	dc.uncaptured = 0;
	dc.depth = 0;
	dc.unknown = TD_UNKNOWN_NONE;
	dc.unknown_value = 0;
	if (i < sizeof links / sizeof links[0]) {
		td_reader_init(&r, data, caplen);
		/* The IP length fields, not wirelen, say how much of a datagram
		 * was on the wire (wirelen also counts link headers and
		 * Ethernet padding); wirelen serves only when the IPv4 total
		 * length is 0 (TSO). */
		dc.uncaptured = wirelen > caplen ? wirelen - caplen : 0;
		res = links[i].decode(&r, &dc);
	}
	/* out is left alone unless the packet is a TCP segment. */
	if (res == TD_DECODE_TCP && out)
		*out = dc.seg;
	if (info) {
		info->encap = dc.seg.encap;
		info->vlan_id = dc.seg.vlan_id;
		info->unknown = res == TD_DECODE_NOT_TCP ? dc.unknown : TD_UNKNOWN_NONE;
		info->unknown_value = res == TD_DECODE_NOT_TCP ? dc.unknown_value : 0;
		if (res == TD_DECODE_FRAGMENT)
			info->frag = dc.frag;
	}
	return res;
}

enum td_decode_result td_decode_packet(int linktype, const uint8_t *data, size_t caplen,
				       size_t wirelen, struct td_tcp_seg *out)
{
	return td_decode_packet_info(linktype, data, caplen, wirelen, out, NULL);
}

static const char *const result_names[TD_DECODE_RESULT_COUNT] = {
	[TD_DECODE_TCP] = "tcp",
	[TD_DECODE_NOT_TCP] = "not-tcp",
	[TD_DECODE_FRAGMENT] = "fragment",
	[TD_DECODE_TRUNCATED] = "truncated",
	[TD_DECODE_MALFORMED] = "malformed",
	[TD_DECODE_UNSUPPORTED_LINK] = "unsupported-link",
};

const char *td_decode_result_name(enum td_decode_result r)
{
	if ((unsigned)r >= TD_DECODE_RESULT_COUNT)
		return "unknown";
	return result_names[r];
}

/* v in decimal at p, without a NUL; returns the end. */
static char *put_dec(char *p, unsigned v)
{
	char t[10];
	int k = 0;

	do
		t[k++] = (char)('0' + v % 10);
	while (v /= 10);
	while (k)
		*p++ = t[--k];
	return p;
}

const char *td_addr_str(const struct td_addr *a, char *buf, size_t n)
{
	int af = a->family == 4 ? AF_INET : a->family == 6 ? AF_INET6 : AF_UNSPEC;

	if (n == 0)
		return buf;
	if (af == AF_INET && n >= sizeof "255.255.255.255") {
		/* inet_ntop's "%u.%u.%u.%u" without the format parser (every
		 * report prints both endpoints) */
		char *p = buf;

		for (int i = 0; i < 4; i++) {
			if (i)
				*p++ = '.';
			p = put_dec(p, a->bytes[i]);
		}
		*p = '\0';
		return buf;
	}
	if (n > INET6_ADDRSTRLEN)
		n = INET6_ADDRSTRLEN; /* inet_ntop takes a socklen_t */
	if (af == AF_UNSPEC || !inet_ntop(af, a->bytes, buf, (socklen_t)n))
		snprintf(buf, n, "?");
	return buf;
}

char *td_addr_port_str(const struct td_addr *a, uint16_t port, char *buf, size_t n)
{
	/* "[" + an address (td_addr_str: at most 63) + "]:" + 5 digits */
	char full[80], *p = full;
	size_t len;

	if (n == 0)
		return buf;
	if (a->family == 6)
		*p++ = '[';
	td_addr_str(a, p, 64);
	p += strlen(p);
	if (a->family == 6)
		*p++ = ']';
	*p++ = ':';
	p = put_dec(p, port);
	/* cut to n - 1, as snprintf(buf, n, "[%s]:%u" or "%s:%u") */
	len = (size_t)(p - full) < n ? (size_t)(p - full) : n - 1;
	memcpy(buf, full, len);
	buf[len] = '\0';
	return buf;
}

const char *td_decode_link_name(int linktype)
{
	size_t i = link_index(linktype);

	return i < sizeof links / sizeof links[0] ? links[i].name : NULL;
}

/* Bit i of td_tcp_seg.encap, as reports name it. */
static const char *const encap_names[TD_ENCAP_COUNT] = {
	"vlan", "mpls", "ppp", "pppoe", "gre", "erspan", "vxlan", "geneve", "ip-in-ip", "gtp-u",
	"capwap", "802.11", "openvpn",
};

const char *td_encap_name(unsigned i)
{
	return i < TD_ENCAP_COUNT ? encap_names[i] : NULL;
}

/* How each kind of unknown field is written: its value in hex, in
 * decimal, or not at all. */
enum value_style { VALUE_NONE, VALUE_DEC, VALUE_HEX, VALUE_LLC };

/* The names a summary row most often needs, so that "ethertype 0x0806"
 * reads "ethertype 0x0806 (ARP)": the frames every LAN capture has besides
 * the TCP. EtherTypes from the IEEE EtherType registry (also what GRE
 * carries, RFC 2784 §2.4); PPP protocols from IANA's PPP DLL Protocol
 * Numbers; LLC SAPs from IEEE 802 (ISO/IEC 8802-2) and Cisco's SNAP PIDs
 * from Cisco's documentation, as Wireshark's llc dissector names them. */
struct value_name {
	uint32_t value;
	const char *name;
};

static const struct value_name ethertype_names[] = {
	{0x0806, "ARP"},
	{0x0842, "Wake-on-LAN"},
	{0x22EA, "IEEE 802.1Qat SRP"},
	{0x22F0, "IEEE 1722 AVTP"},
	{0x6002, "DEC MOP"},
	{0x6003, "DECnet"},
	{0x8035, "RARP"},
	{0x809B, "AppleTalk"},
	{0x80F3, "AARP"},
	{0x8137, "IPX"},
	{0x8808, "Ethernet flow control"},
	{0x8809, "Slow Protocols: LACP, OAM"},
	{0x880B, "PPP"},
	{0x8863, "PPPoE discovery"},
	{0x886D, "Intel ANS"},
	{0x887B, "HomePlug 1.0"},
	{0x888E, "EAPOL, 802.1X"},
	{0x8892, "PROFINET"},
	{0x8899, "Realtek RRCP"},
	{0x889A, "HyperSCSI"},
	{0x88A2, "ATA over Ethernet"},
	{0x88A4, "EtherCAT"},
	{0x88AB, "Ethernet Powerlink"},
	{0x88B5, "IEEE 802 local experimental"},
	{0x88B6, "IEEE 802 local experimental"},
	{0x88B8, "IEC 61850 GOOSE"},
	{0x88BA, "IEC 61850 SV"},
	{0x88CC, "LLDP"},
	{0x88CD, "SERCOS III"},
	{0x88E1, "HomePlug AV"},
	{0x88E3, "IEC 62439-2 MRP"},
	{0x88E5, "MACsec"},
	{0x88E7, "IEEE 802.1ah PBB"},
	{0x88F7, "PTP"},
	{0x88FB, "PRP"},
	{0x8902, "IEEE 802.1ag CFM"},
	{0x8906, "FCoE"},
	{0x890D, "IEEE 802.11 data, TDLS"},
	{0x8914, "FCoE Initialization Protocol"},
	{0x8915, "RoCE"},
	{0x891D, "TTEthernet"},
	{0x892F, "HSR"},
	{0x893A, "IEEE 1905.1"},
	{0x894F, "NSH"},
	{0x9000, "Ethernet loopback (CTP)"},
};

static const struct value_name ppp_names[] = {
	{0x0021, "IPv4"}, /* only when the payload was not IP after all */
	{0x002B, "IPX"},
	{0x003D, "Multilink"},
	{0x00FD, "compressed datagram"},
	{0x8021, "IPCP"},
	{0x802B, "IPXCP"},
	{0x8057, "IPv6CP"},
	{0x80FD, "CCP"},
	{0xC021, "LCP"},
	{0xC023, "PAP"},
	{0xC025, "Link Quality Report"},
	{0xC223, "CHAP"},
	{0xC227, "EAP"},
};

static const struct value_name llc_sap_names[] = {
	{0x00, "null SAP"},
	{0x04, "SNA"},
	{0x06, "IP"},
	{0x42, "STP"},
	{0x80, "XNS"},
	{0x8E, "PROWAY"},
	{0xE0, "IPX"},
	{0xF0, "NetBIOS"},
	{0xF4, "LAN Management"},
	{0xFE, "OSI: IS-IS, ES-IS, CLNP"},
	{0xFF, "global SAP"},
};

static const struct value_name cisco_pid_names[] = {
	{0x0104, "PAgP"},
	{0x010B, "PVST+"},
	{0x0111, "UDLD"},
	{0x2000, "CDP"},
	{0x2003, "VTP"},
	{0x2004, "DTP"},
};

/* IEEE 802.11-2020 Table 9-1, type << 4 | subtype of the frames without
 * data, as Wireshark's wlan.fc.type_subtype names them. */
static const struct value_name wlan_type_names[] = {
	{0x00, "Association Request"},
	{0x01, "Association Response"},
	{0x02, "Reassociation Request"},
	{0x03, "Reassociation Response"},
	{0x04, "Probe Request"},
	{0x05, "Probe Response"},
	{0x08, "Beacon"},
	{0x0A, "Disassociation"},
	{0x0B, "Authentication"},
	{0x0C, "Deauthentication"},
	{0x0D, "Action"},
	{0x0E, "Action No Ack"},
	{0x18, "Block Ack Request"},
	{0x19, "Block Ack"},
	{0x1A, "PS-Poll"},
	{0x1B, "RTS"},
	{0x1C, "CTS"},
	{0x1D, "ACK"},
	{0x24, "Null function"},
	{0x2C, "QoS Null function"},
};

static const struct value_name capwap_reasons[] = {
	{TD_CAPWAP_FRAGMENT, "a fragment, not reassembled"},
	{TD_CAPWAP_DTLS, "DTLS-encrypted"},
};

/* RFC 5415 §4.3 */
static const struct value_name capwap_wbid_names[] = {
	{3, "EPCGlobal"},
};

static const struct value_name wlan_unread_reasons[] = {
	{TD_80211_PROTECTED, "protected: encrypted"},
	{TD_80211_FRAGMENT, "a fragment, not reassembled"},
	{TD_80211_AMSDU, "an A-MSDU, not split"},
	{TD_80211_S1G, "S1G, protocol version 1"},
};

static const char *value_name(const struct value_name *t, size_t n, uint32_t v)
{
	for (size_t i = 0; i < n; i++) {
		if (t[i].value == v)
			return t[i].name;
	}
	return NULL;
}

#define NAME_IN(t, v) value_name(t, sizeof t / sizeof t[0], v)

/* The protocol a not-decoded value stands for, or NULL. */
static const char *unknown_value_name(enum td_decode_unknown kind, uint32_t v)
{
	switch (kind) {
	case TD_UNKNOWN_ETHERTYPE:
	case TD_UNKNOWN_GRE:
		return NAME_IN(ethertype_names, v);
	case TD_UNKNOWN_PPP:
		return NAME_IN(ppp_names, v);
	case TD_UNKNOWN_LLC:
		if ((v & 0xFF) != LLC_SAP_SNAP || LLC_SNAP_PID(v) == 0)
			return NAME_IN(llc_sap_names, v & 0xFF);
		if (v & LLC_SNAP_CISCO)
			return NAME_IN(cisco_pid_names, LLC_SNAP_PID(v));
		if (v & LLC_SNAP_OTHER_OUI)
			return NULL;
		return NAME_IN(ethertype_names, LLC_SNAP_PID(v));
	case TD_UNKNOWN_CAPWAP:
		return NAME_IN(capwap_reasons, v);
	case TD_UNKNOWN_CAPWAP_WBID:
		return NAME_IN(capwap_wbid_names, v);
	case TD_UNKNOWN_80211:
		return NAME_IN(wlan_type_names, v);
	case TD_UNKNOWN_80211_UNREAD:
		return NAME_IN(wlan_unread_reasons, v);
	default:
		return NULL;
	}
}

static const struct {
	const char *what;
	enum value_style style;
} unknown_kinds[TD_UNKNOWN_COUNT] = {
	[TD_UNKNOWN_NONE] = {"nothing", VALUE_NONE},
	[TD_UNKNOWN_ETHERTYPE] = {"ethertype", VALUE_HEX},
	[TD_UNKNOWN_LLC] = {"IEEE 802.3 LLC", VALUE_LLC},
	[TD_UNKNOWN_PPP] = {"PPP protocol", VALUE_HEX},
	[TD_UNKNOWN_GRE] = {"GRE protocol", VALUE_HEX},
	[TD_UNKNOWN_MPLS] = {"MPLS payload starting with nibble", VALUE_DEC},
	[TD_UNKNOWN_ERSPAN] = {"ERSPAN frame type", VALUE_DEC},
	[TD_UNKNOWN_AF] = {"loopback address family", VALUE_DEC},
	[TD_UNKNOWN_SLL_HATYPE] = {"Linux cooked ARPHRD type", VALUE_DEC},
	[TD_UNKNOWN_GTP] = {"GTP-U message type", VALUE_DEC},
	[TD_UNKNOWN_CAPWAP] = {"CAPWAP data", VALUE_NONE},
	[TD_UNKNOWN_CAPWAP_WBID] = {"CAPWAP wireless binding", VALUE_DEC},
	[TD_UNKNOWN_80211] = {"IEEE 802.11 type/subtype", VALUE_HEX},
	[TD_UNKNOWN_80211_UNREAD] = {"IEEE 802.11 data frame", VALUE_NONE},
};

const char *td_decode_unknown_str(enum td_decode_unknown kind, uint32_t value, char *buf,
				  size_t n)
{
	const char *name;
	int len;

	if (n == 0)
		return buf;
	if ((unsigned)kind >= TD_UNKNOWN_COUNT)
		len = snprintf(buf, n, "unknown %u", (unsigned)value);
	else if (unknown_kinds[kind].style == VALUE_HEX)
		len = snprintf(buf, n, "%s 0x%04x", unknown_kinds[kind].what, (unsigned)value);
	else if (unknown_kinds[kind].style == VALUE_DEC)
		len = snprintf(buf, n, "%s %u", unknown_kinds[kind].what, (unsigned)value);
	else if (unknown_kinds[kind].style == VALUE_LLC && (value & 0xFF) == LLC_SAP_SNAP &&
		 LLC_SNAP_PID(value))
		len = snprintf(buf, n, "%s SNAP%s PID 0x%04x", unknown_kinds[kind].what,
			       value & LLC_SNAP_CISCO ? " Cisco" :
			       value & LLC_SNAP_OTHER_OUI ? " (other OUI)" : "",
			       (unsigned)LLC_SNAP_PID(value));
	else if (unknown_kinds[kind].style == VALUE_LLC)
		len = snprintf(buf, n, "%s DSAP 0x%02x", unknown_kinds[kind].what,
			       (unsigned)(value & 0xFF));
	else
		len = snprintf(buf, n, "%s", unknown_kinds[kind].what);
	name = (unsigned)kind < TD_UNKNOWN_COUNT ? unknown_value_name(kind, value) : NULL;
	if (name && len > 0 && (size_t)len < n)
		snprintf(buf + len, n - (size_t)len, " (%s)", name);
	return buf;
}
