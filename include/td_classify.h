/* td_classify.h - what a flow is, according to nDPI.
 *
 * The classify stage (DESIGN.md): nDPI looks at a flow's first packets
 * and names its application protocol (e.g. "TLS.Google"), its category,
 * and the risks it sees (self-signed certificate, obsolete TLS version,
 * ...). It sees at most TD_CLASSIFY_MAX_PACKETS packets per flow, then its
 * per-flow state is freed, so it costs little. The only module that
 * includes nDPI's headers; no nDPI type appears here.
 */
#ifndef TD_CLASSIFY_H
#define TD_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Packets of one flow given to nDPI at most (a documented limit). */
#define TD_CLASSIFY_MAX_PACKETS 24

#define TD_CLASSIFY_NAME_LEN 48

/* Modules alive at once whose tables are in an arena of their own. */
#define TD_CLASSIFY_ARENAS 8

struct td_classify_facts {
	bool done;                              /* nDPI has given its verdict */
	char protocol[TD_CLASSIFY_NAME_LEN];    /* "TLS.Google", "SMTPS", "Unknown" */
	char category[TD_CLASSIFY_NAME_LEN];    /* "Web", "Email", ... */
	uint64_t risks;                         /* bit n: nDPI risk n */
	uint16_t packets;                       /* packets nDPI saw */
};

struct td_classify;      /* the detection module, one per run */
struct td_classify_flow; /* one flow's detection state */

/* NULL when nDPI cannot be initialised. nDPI's tables go into an arena
 * (td_arena.h) that td_classify_free() unmaps at once; with
 * TD_CLASSIFY_ARENAS modules alive (tlsdiag has one), a further one's go to
 * malloc. */
struct td_classify *td_classify_new(void);
void td_classify_free(struct td_classify *c);
/* Bytes of nDPI's tables in c's arena (0: they are in malloc's heap). */
size_t td_classify_arena_bytes(const struct td_classify *c);

/* A flow's state; nDPI's own is made at its first packet with payload (or
 * its 5th packet, or td_classify_finish()): the packets before it wait,
 * copied, and nDPI gets them first. NULL when out of memory. */
struct td_classify_flow *td_classify_flow_new(struct td_classify *c);
/* Heap bytes f holds now (NULL: a new flow's), allocator headers included
 * (what nDPI hangs on its state later, host names and the like, is not
 * counted). */
size_t td_classify_flow_bytes(const struct td_classify_flow *f);
void td_classify_flow_free(struct td_classify_flow *f);

/* Gives one packet (ip: from the IP header on, ip_len bytes captured,
 * payload_len of them TCP payload) at time ms. Returns true when the
 * verdict is final: the caller then calls td_classify_finish() and frees
 * the flow. nDPI sees the same packets, in the same order and with the
 * same times, whether they waited or not. */
bool td_classify_packet(struct td_classify *c, struct td_classify_flow *f, const uint8_t *ip,
			size_t ip_len, size_t payload_len, uint64_t ms);
/* The verdict so far (nDPI's best guess when it has not decided). */
void td_classify_finish(struct td_classify *c, struct td_classify_flow *f,
			struct td_classify_facts *out);

/* nDPI's name of risk bit n ("Self-signed Certificate"), or NULL. */
const char *td_classify_risk_name(unsigned n);

#endif
