/* td_defrag.h - IPv4 and IPv6 fragment reassembly (RFC 791 §3.2,
 * RFC 8200 §4.5, RFC 5722).
 *
 * Part of the decode stage (DESIGN.md): td_decode_packet_info() hands out
 * one fragment (struct td_ip_frag) at a time; this module holds the
 * fragments of each datagram until it is whole and gives it back as a raw
 * IP packet, which the caller decodes again (TD_LINK_RAW). The state is a
 * caller-owned context: no globals, every byte held counted against caps
 * set at creation.
 *
 * Anomalies drop the whole datagram and are counted: overlapping
 * fragments whose bytes differ (IPv4), any overlap that is not an exact
 * duplicate (IPv6, RFC 5722 §4), a datagram beyond max_datagram bytes,
 * more than max_fragments pieces, fragments that contradict the datagram's
 * end. Datagrams not complete within timeout seconds of capture time are
 * dropped; when max_bytes or max_datagrams would be passed, the oldest
 * datagrams go first.
 */
#ifndef TD_DEFRAG_H
#define TD_DEFRAG_H

#include <stddef.h>
#include <stdint.h>

#include "td_decode.h"
#include "td_error.h"
#include "td_time.h"

struct td_defrag_limits {
	size_t max_datagram;    /* largest datagram rebuilt, header included (IPv4) or
				 * payload (IPv6): 65535, the most either can say */
	size_t max_bytes;       /* fragment bytes held at once, all datagrams */
	size_t max_datagrams;   /* datagrams being rebuilt at once */
	unsigned max_fragments; /* pieces of one datagram */
	uint32_t timeout;       /* seconds of capture time from a datagram's first piece */
};

/* 65535, 4 MiB, 1024 datagrams, 64 pieces each, 30 s (as Linux's
 * ipfrag_time); documented in the man page. */
void td_defrag_limits_default(struct td_defrag_limits *l);

struct td_defrag_stats {
	uint64_t fragments;   /* fragments given */
	uint64_t reassembled; /* datagrams rebuilt whole */
	/* datagrams dropped, by reason */
	uint64_t timed_out;      /* not complete within the timeout */
	uint64_t overlaps;       /* overlapping pieces (see above) */
	uint64_t oversized;      /* beyond max_datagram */
	uint64_t too_many;       /* more than max_fragments pieces */
	uint64_t inconsistent;   /* pieces past the datagram's end, two different ends */
	uint64_t evicted;        /* to stay within max_bytes or max_datagrams */
	uint64_t truncated;      /* fragments not captured whole (snaplen): not used */
	uint64_t pending;        /* datagrams incomplete now (held) */
};

enum td_defrag_result {
	TD_DEFRAG_HELD,    /* kept: the datagram is not whole yet */
	TD_DEFRAG_DONE,    /* the datagram is whole: *dgram, *len */
	TD_DEFRAG_DROPPED, /* the fragment (and maybe its datagram) was dropped */
};

struct td_defrag;

/* NULL when out of memory. limits is copied. */
struct td_defrag *td_defrag_new(const struct td_defrag_limits *limits);
void td_defrag_free(struct td_defrag *d);

/* Takes one fragment seen at ts (its bytes are copied). On TD_DEFRAG_DONE,
 * *dgram and *len are the whole datagram as a raw IP packet: a 20-byte IPv4
 * header without options, or a 40-byte IPv6 header whose Next Header is
 * the Fragment header's (the unfragmentable extension headers are left
 * out), then the reassembled payload. It is owned by d and valid until the
 * next call on d. Datagrams older than the timeout are dropped first. */
TD_MUST_CHECK enum td_defrag_result td_defrag_add(struct td_defrag *d, const struct td_ip_frag *f,
						  struct td_time ts, const uint8_t **dgram,
						  size_t *len);

/* Time moves on without a fragment (a quiet live interface): drops the
 * datagrams older than the timeout at now, as td_defrag_add() would. */
void td_defrag_expire(struct td_defrag *d, struct td_time now);

/* Fragment bytes held now, for tests and the memory accounting. */
size_t td_defrag_held(const struct td_defrag *d);
/* The counters so far. */
void td_defrag_stats(const struct td_defrag *d, struct td_defrag_stats *out);

#endif
