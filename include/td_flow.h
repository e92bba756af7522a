/* td_flow.h - the table of bidirectional connections.
 *
 * Stage 3 of the pipeline (DESIGN.md). Keyed by the 5-tuple in canonical
 * order (the lower address:port first), with a hash keyed by a random
 * per-table secret (SipHash-2-4, as the Linux kernel and Python use for
 * the same reason): crafted 5-tuples cannot force collisions. Entries are
 * kept on a list in order of last activity so the engine can expire idle
 * connections and evict the least recently active one first.
 *
 * The table owns struct td_flow; what a flow carries (conn) belongs to the
 * caller, who must take it off before td_flow_remove().
 */
#ifndef TD_FLOW_H
#define TD_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "td_decode.h"
#include "td_time.h"

struct td_flow_key {
	struct td_addr a, b; /* canonical order: (a, pa) < (b, pb) */
	uint16_t pa, pb;
};

struct td_flow {
	struct td_flow_key key;
	uint64_t hash;
	struct td_time last;          /* last activity */
	struct td_flow *bucket_next;  /* private */
	struct td_flow *lru_prev, *lru_next; /* private: most recent first */
	void *conn;                   /* the caller's */
};

struct td_flow_table;

/* max_flows bounds the table; key16 is the 16-byte hash secret, or NULL to
 * draw one from getrandom(2). */
struct td_flow_table *td_flow_table_new(size_t max_flows, const uint8_t *key16);
void td_flow_table_free(struct td_flow_table *t);

/* Finds the flow of a packet from (src, sport) to (dst, dport). *from_a is
 * set when the packet's source is key.a. With create, a missing flow is
 * added (NULL when the table is full or out of memory) and *created set. */
struct td_flow *td_flow_lookup(struct td_flow_table *t, const struct td_addr *src,
			       uint16_t sport, const struct td_addr *dst, uint16_t dport,
			       bool create, bool *created, bool *from_a);
/* Marks activity: moves f to the head of the activity list. */
void td_flow_touch(struct td_flow_table *t, struct td_flow *f, struct td_time now);
/* The least recently active flow, or NULL when empty. */
struct td_flow *td_flow_oldest(const struct td_flow_table *t);
void td_flow_remove(struct td_flow_table *t, struct td_flow *f);
size_t td_flow_count(const struct td_flow_table *t);
/* SipHash-2-4 of m under key (exposed for its test vectors). */
uint64_t td_flow_siphash24(const uint8_t key[16], const uint8_t *m, size_t n);
size_t td_flow_capacity(const struct td_flow_table *t);

#endif
