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
#define VLAN_VID_MASK 0x0FFF

/* ARPHRD_NETLINK: an SLL/SLL2 "protocol" is then a netlink family, not an
 * EtherType (Linux include/uapi/linux/if_arp.h). */
#define ARPHRD_NETLINK 824

/* IP protocol numbers (IANA "Assigned Internet Protocol Numbers"). */
#define IPPROTO_NUM_HOPOPTS 0
#define IPPROTO_NUM_TCP 6
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
};

static enum td_decode_result decode_ipv4(struct td_reader *r, struct decode *dc);
static enum td_decode_result decode_ipv6(struct td_reader *r, struct decode *dc);

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
	if ((h.flags_frag & IPV4_MF) || (h.flags_frag & IPV4_OFFMASK))
		return TD_DECODE_FRAGMENT;
	if (h.proto != IPPROTO_NUM_TCP)
		return TD_DECODE_NOT_TCP;

	dc->seg.src.family = 4;
	memcpy(dc->seg.src.bytes, h.src, sizeof h.src);
	dc->seg.dst.family = 4;
	memcpy(dc->seg.dst.bytes, h.dst, sizeof h.dst);
	return decode_tcp(&d, dc);
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
 * walk as not TCP: ESP (50) hides what follows, No Next Header (59) has
 * nothing after it, and upper layers (UDP, ICMPv6...) are not TCP. */
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
static enum td_decode_result decode_ipv6_ext(struct dgram *d, enum ext_kind kind, uint8_t *next)
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
			return TD_DECODE_FRAGMENT;
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
		if (next == IPPROTO_NUM_TCP)
			return decode_tcp(&d, dc);
		if (!ext_kind_of(next, &kind))
			return TD_DECODE_NOT_TCP;
		if (n == IPV6_MAX_EXT_HDRS)
			return TD_DECODE_MALFORMED;
		if ((res = decode_ipv6_ext(&d, kind, &next)) != DECODE_GO_ON)
			return res;
	}
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

/* Dispatches on an EtherType, through any stack of VLAN tags. Each tag takes
 * four bytes, so the stack ends with the packet at the latest. Values up to
 * 1500 are IEEE 802.3 lengths (LLC follows): not IP. */
static enum td_decode_result decode_ethertype(struct td_reader *r, uint16_t type,
					      struct decode *dc)
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
	if (type == ETHERTYPE_IPV4)
		return decode_ipv4(r, dc);
	if (type == ETHERTYPE_IPV6)
		return decode_ipv6(r, dc);
	return TD_DECODE_NOT_TCP;
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
	return decode_ethertype(r, h.type, dc);
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
		return TD_DECODE_NOT_TCP;
	/* Otherwise the protocol is an EtherType, VLAN tags included when
	 * the kernel left them in the data. */
	return decode_ethertype(r, h.protocol, dc);
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
		return TD_DECODE_NOT_TCP;
	return decode_ethertype(r, h.protocol, dc);
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
	return TD_DECODE_NOT_TCP;
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

enum td_decode_result td_decode_packet(int linktype, const uint8_t *data, size_t caplen,
				       size_t wirelen, struct td_tcp_seg *out)
{
	size_t i = link_index(linktype);
	if (i == sizeof links / sizeof links[0])
		return TD_DECODE_UNSUPPORTED_LINK;

	struct td_reader r;
	struct decode dc;
	td_reader_init(&r, data, caplen);
	memset(&dc, 0, sizeof dc);
	/* The IP length fields, not wirelen, say how much of a datagram was on
	 * the wire (wirelen also counts link headers and Ethernet padding);
	 * wirelen serves only when the IPv4 total length is 0 (TSO). */
	dc.uncaptured = wirelen > caplen ? wirelen - caplen : 0;
	enum td_decode_result res = links[i].decode(&r, &dc);
	/* out is left alone unless the packet is a TCP segment. */
	if (res == TD_DECODE_TCP && out)
		*out = dc.seg;
	return res;
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

const char *td_addr_str(const struct td_addr *a, char *buf, size_t n)
{
	int af = a->family == 4 ? AF_INET : a->family == 6 ? AF_INET6 : AF_UNSPEC;

	if (n == 0)
		return buf;
	if (n > INET6_ADDRSTRLEN)
		n = INET6_ADDRSTRLEN; /* inet_ntop takes a socklen_t */
	if (af == AF_UNSPEC || !inet_ntop(af, a->bytes, buf, (socklen_t)n))
		snprintf(buf, n, "?");
	return buf;
}

const char *td_decode_link_name(int linktype)
{
	size_t i = link_index(linktype);

	return i < sizeof links / sizeof links[0] ? links[i].name : NULL;
}
