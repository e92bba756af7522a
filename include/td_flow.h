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

/* The 5-tuple in canonical order ((a, pa) < (b, pb)), as flow.c packs
 * it: each address's 16 bytes as two little-endian words (IPv4: its 4
 * bytes, the rest zero), then both families and both ports in one word.
 * Built and compared in registers, a whole word at a time. */
struct td_flow_key {
	uint64_t w[5];
};

/* Idle-timeout states: one activity list each (td_flow_set_state). */
enum td_flow_state {
	TD_FLOW_HALF_OPEN,   /* a SYN, no answer and no data yet */
	TD_FLOW_ESTABLISHED, /* data or a SYN-ACK seen, no FIN or RST */
	TD_FLOW_CLOSING,     /* a FIN or an RST seen */
	TD_FLOW_FINISHED,    /* the connection ended: its tombstone */
	TD_FLOW_STATES
};

struct td_flow {
	struct td_flow_key key;
	uint64_t hash;
	struct td_time last;          /* last activity */
	uint8_t state;                /* enum td_flow_state; new flows: half-open */
	size_t charged;               /* bytes charged by td_flow_charge() */
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
/* Marks activity: moves f to the head of its state's activity list. */
void td_flow_touch(struct td_flow_table *t, struct td_flow *f, struct td_time now);
/* Moves f to the head of the list of state st (a no-op when it is there
 * already). Lists stay in order of activity when this is called at f's
 * latest activity, right after td_flow_touch(). */
void td_flow_set_state(struct td_flow_table *t, struct td_flow *f, enum td_flow_state st);
/* The least recently active flow of all, or NULL when empty. */
struct td_flow *td_flow_oldest(const struct td_flow_table *t);
/* The least recently active flow in state st, or NULL. */
struct td_flow *td_flow_oldest_in(const struct td_flow_table *t, enum td_flow_state st);
void td_flow_remove(struct td_flow_table *t, struct td_flow *f);
size_t td_flow_count(const struct td_flow_table *t);
/* Sets the bytes f's conn holds (replacing what was charged before); they
 * count in td_flow_bytes() until f is removed. */
void td_flow_charge(struct td_flow_table *t, struct td_flow *f, size_t bytes);
/* Bytes held now: the table, its entries and what was charged to them. */
size_t td_flow_bytes(const struct td_flow_table *t);
/* The most td_flow_bytes() has been. */
size_t td_flow_peak_bytes(const struct td_flow_table *t);
/* What one more entry costs the table before anything is charged to it. */
size_t td_flow_entry_bytes(void);
/* What inserting one more entry into t adds to td_flow_bytes(): the entry,
 * and the bucket array's growth when that insert doubles it. */
size_t td_flow_insert_bytes(const struct td_flow_table *t);
/* SipHash-2-4 of m under key (exposed for its test vectors). */
uint64_t td_flow_siphash24(const uint8_t key[16], const uint8_t *m, size_t n);
size_t td_flow_capacity(const struct td_flow_table *t);

#endif
