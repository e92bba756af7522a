/* defrag.c - IPv4 and IPv6 fragment reassembly (see td_defrag.h).
 *
 * Each datagram being rebuilt keeps its pieces in a list sorted by offset,
 * each piece a copy of one fragment's bytes. A new piece is checked
 * against the ones it overlaps before it is kept, so a datagram's pieces
 * always agree; the datagram is whole when the pieces cover 0 up to the
 * end the last fragment (M clear) set. Datagrams are kept oldest first, so
 * the timeout and eviction look at the head of the list only.
 */
#include "td_defrag.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define IPV4_HDR_LEN 20
#define IPV6_HDR_LEN 40
#define IP_MAX_LEN 65535

struct piece {
	struct piece *next;
	uint32_t off, len;
	uint8_t data[]; /* len bytes */
};

/* One datagram being rebuilt: RFC 791 §3.2 identifies it by source,
 * destination, protocol and identification; RFC 8200 §4.5 by source,
 * destination and identification (the protocol is kept as well: two
 * datagrams differing in it cannot be one). */
struct dgram {
	struct dgram *prev, *next; /* in order of first piece */
	struct td_addr src, dst;
	uint32_t id;
	uint8_t proto;
	struct td_time first;
	struct piece *pieces; /* sorted by off */
	unsigned n_pieces;
	bool have_end;
	uint32_t end; /* when have_end: the length of the fragmentable part */
	size_t held;  /* bytes of its pieces */
};

struct td_defrag {
	struct td_defrag_limits lim;
	struct td_defrag_stats st;
	struct dgram *oldest, *newest;
	size_t n_dgrams;
	size_t held;
	uint8_t out[IPV6_HDR_LEN + IP_MAX_LEN]; /* the last datagram rebuilt */
};

void td_defrag_limits_default(struct td_defrag_limits *l)
{
	l->max_datagram = IP_MAX_LEN;
	l->max_bytes = 4u << 20;
	l->max_datagrams = 1024;
	l->max_fragments = 64;
	l->timeout = 30;
}

struct td_defrag *td_defrag_new(const struct td_defrag_limits *limits)
{
	struct td_defrag *d = calloc(1, sizeof *d);

	if (!d)
		return NULL;
	d->lim = *limits;
	if (d->lim.max_datagram > IP_MAX_LEN)
		d->lim.max_datagram = IP_MAX_LEN;
	return d;
}

static void dgram_drop(struct td_defrag *d, struct dgram *g)
{
	struct piece *p = g->pieces;

	while (p) {
		struct piece *next = p->next;
		free(p);
		p = next;
	}
	if (g->prev)
		g->prev->next = g->next;
	else
		d->oldest = g->next;
	if (g->next)
		g->next->prev = g->prev;
	else
		d->newest = g->prev;
	d->held -= g->held;
	d->n_dgrams--;
	free(g);
}

void td_defrag_free(struct td_defrag *d)
{
	if (!d)
		return;
	while (d->oldest)
		dgram_drop(d, d->oldest);
	free(d);
}

static bool same_addr(const struct td_addr *a, const struct td_addr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, sizeof a->bytes) == 0;
}

static struct dgram *dgram_find(struct td_defrag *d, const struct td_ip_frag *f)
{
	for (struct dgram *g = d->oldest; g; g = g->next) {
		if (g->id == f->id && g->proto == f->proto && same_addr(&g->src, &f->src) &&
		    same_addr(&g->dst, &f->dst))
			return g;
	}
	return NULL;
}

static struct dgram *dgram_new(struct td_defrag *d, const struct td_ip_frag *f,
			       struct td_time ts)
{
	struct dgram *g = calloc(1, sizeof *g);

	if (!g)
		return NULL;
	g->src = f->src;
	g->dst = f->dst;
	g->id = f->id;
	g->proto = f->proto;
	g->first = ts;
	g->prev = d->newest;
	if (d->newest)
		d->newest->next = g;
	else
		d->oldest = g;
	d->newest = g;
	d->n_dgrams++;
	return g;
}

/* Capture time moves on: datagrams whose first piece is older than the
 * timeout will not be completed any more. */
static void expire(struct td_defrag *d, struct td_time now)
{
	while (d->oldest && now.sec - d->oldest->first.sec > (int64_t)d->lim.timeout) {
		d->st.timed_out++;
		dgram_drop(d, d->oldest);
	}
}

void td_defrag_expire(struct td_defrag *d, struct td_time now)
{
	expire(d, now);
}

/* How a new piece [off, off+len) fits the ones held. */
enum fit {
	FIT_NEW,       /* overlaps nothing, or (IPv4) only the same bytes */
	FIT_DUPLICATE, /* the very same piece is held already */
	FIT_CONFLICT,  /* an overlap RFC 5722 or differing bytes forbid */
};

static enum fit piece_fit(const struct dgram *g, const struct td_ip_frag *f)
{
	uint32_t off = f->offset, end = f->offset + (uint32_t)f->len;
	bool overlap = false;

	for (const struct piece *p = g->pieces; p; p = p->next) {
		uint32_t pend = p->off + p->len;
		if (pend <= off || p->off >= end)
			continue;
		if (p->off == off && p->len == f->len && memcmp(p->data, f->data, f->len) == 0)
			return FIT_DUPLICATE; /* RFC 8200 §4.5: may be dropped alone */
		uint32_t lo = off > p->off ? off : p->off;
		uint32_t hi = end < pend ? end : pend;
		if (memcmp(p->data + (lo - p->off), f->data + (lo - off), hi - lo) != 0)
			return FIT_CONFLICT;
		overlap = true;
	}
	/* RFC 5722 §4: in IPv6 any overlap discards the whole datagram. */
	return overlap && g->src.family == 6 ? FIT_CONFLICT : FIT_NEW;
}

static bool piece_add(struct td_defrag *d, struct dgram *g, const struct td_ip_frag *f)
{
	struct piece *p = malloc(sizeof *p + f->len);
	struct piece **at = &g->pieces;

	if (!p)
		return false;
	p->off = f->offset;
	p->len = (uint32_t)f->len;
	if (f->len)
		memcpy(p->data, f->data, f->len);
	while (*at && (*at)->off <= p->off)
		at = &(*at)->next;
	p->next = *at;
	*at = p;
	g->n_pieces++;
	g->held += f->len;
	d->held += f->len;
	return true;
}

static bool dgram_whole(const struct dgram *g)
{
	uint32_t covered = 0;

	if (!g->have_end)
		return false;
	for (const struct piece *p = g->pieces; p; p = p->next) {
		if (p->off > covered)
			return false;
		if (p->off + p->len > covered)
			covered = p->off + p->len;
	}
	return covered >= g->end;
}

/* Writes the datagram as a raw IP packet into d->out; returns its length. */
static size_t dgram_build(struct td_defrag *d, const struct dgram *g)
{
	uint8_t *o = d->out;
	size_t h;

	if (g->src.family == 4) {
		/* RFC 791 §3.1: version 4, IHL 5, no fragment bits; the
		 * checksum is left 0: nothing downstream checks it. */
		uint32_t total = IPV4_HDR_LEN + g->end;
		h = IPV4_HDR_LEN;
		memset(o, 0, h);
		o[0] = 0x45;
		o[2] = (uint8_t)(total >> 8);
		o[3] = (uint8_t)total;
		o[4] = (uint8_t)(g->id >> 8);
		o[5] = (uint8_t)g->id;
		o[8] = 64;
		o[9] = g->proto;
		memcpy(o + 12, g->src.bytes, 4);
		memcpy(o + 16, g->dst.bytes, 4);
	} else {
		/* RFC 8200 §3 */
		h = IPV6_HDR_LEN;
		memset(o, 0, h);
		o[0] = 0x60;
		o[4] = (uint8_t)(g->end >> 8);
		o[5] = (uint8_t)g->end;
		o[6] = g->proto;
		o[7] = 64;
		memcpy(o + 8, g->src.bytes, 16);
		memcpy(o + 24, g->dst.bytes, 16);
	}
	for (const struct piece *p = g->pieces; p; p = p->next) {
		uint32_t len = p->off + p->len > g->end ? g->end - p->off : p->len;
		if (p->off < g->end)
			memcpy(o + h + p->off, p->data, len);
	}
	return h + g->end;
}

/* Drops datagram g, counting why. */
static enum td_defrag_result drop(struct td_defrag *d, struct dgram *g, uint64_t *counter)
{
	(*counter)++;
	if (g)
		dgram_drop(d, g);
	return TD_DEFRAG_DROPPED;
}

enum td_defrag_result td_defrag_add(struct td_defrag *d, const struct td_ip_frag *f,
				    struct td_time ts, const uint8_t **dgram, size_t *len)
{
	struct dgram *g;
	size_t hdr = f->src.family == 4 ? IPV4_HDR_LEN : 0;

	d->st.fragments++;
	expire(d, ts);
	if (f->missing)
		return drop(d, NULL, &d->st.truncated);
	g = dgram_find(d, f);
	/* IPv4 counts its header in the 65535 (RFC 791 §3.1 Total Length),
	 * IPv6 only the payload (RFC 8200 §3 Payload Length). */
	size_t room = d->lim.max_datagram > hdr ? d->lim.max_datagram - hdr : 0;
	if (f->len > room || f->offset > room - f->len)
		return drop(d, g, &d->st.oversized);
	if (f->len > d->lim.max_bytes)
		return drop(d, g, &d->st.evicted);
	if (!g) {
		if (d->n_dgrams >= d->lim.max_datagrams && d->oldest)
			drop(d, d->oldest, &d->st.evicted);
		g = dgram_new(d, f, ts);
		if (!g)
			return drop(d, NULL, &d->st.evicted);
	}

	uint32_t end = f->offset + (uint32_t)f->len;
	/* The last fragment fixes the end; nothing may lie beyond it, and a
	 * second last fragment must agree. */
	if (!f->more) {
		if (g->have_end && g->end != end)
			return drop(d, g, &d->st.inconsistent);
		for (const struct piece *p = g->pieces; p; p = p->next)
			if (p->off + p->len > end)
				return drop(d, g, &d->st.inconsistent);
		g->have_end = true;
		g->end = end;
	} else if (g->have_end && end > g->end) {
		return drop(d, g, &d->st.inconsistent);
	}

	switch (piece_fit(g, f)) {
	case FIT_DUPLICATE:
		return TD_DEFRAG_HELD;
	case FIT_CONFLICT:
		return drop(d, g, &d->st.overlaps);
	case FIT_NEW:
		break;
	}
	if (g->n_pieces >= d->lim.max_fragments)
		return drop(d, g, &d->st.too_many);
	/* Room for the bytes: the oldest other datagrams go first. */
	while (d->held + f->len > d->lim.max_bytes && d->oldest != g)
		drop(d, d->oldest, &d->st.evicted);
	while (d->held + f->len > d->lim.max_bytes && g->next)
		drop(d, g->next, &d->st.evicted);
	if (d->held + f->len > d->lim.max_bytes || !piece_add(d, g, f))
		return drop(d, g, &d->st.evicted);
	if (!dgram_whole(g))
		return TD_DEFRAG_HELD;
	*len = dgram_build(d, g);
	*dgram = d->out;
	d->st.reassembled++;
	dgram_drop(d, g);
	return TD_DEFRAG_DONE;
}

size_t td_defrag_held(const struct td_defrag *d)
{
	return d->held;
}

void td_defrag_stats(const struct td_defrag *d, struct td_defrag_stats *out)
{
	*out = d->st;
	out->pending = d->n_dgrams;
}
