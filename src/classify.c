/* classify.c - nDPI behind a narrow interface (see td_classify.h). */
#include "td_classify.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ndpi_api.h>

#include "td_arena.h"

struct td_classify {
	struct ndpi_detection_module_struct *ndpi;
	struct td_arena *arena; /* the module's tables; NULL: all in malloc */
};

/*
 * nDPI's start-up tables in an arena (td_arena.h): they are 5 MB of small
 * blocks that live as long as the module, and malloc and the page faults
 * for them were a quarter of a run over a small capture, most of which is
 * nDPI's start-up (bench/startup: 15 ms of 23 before, 9 of 18 after;
 * bench/README.md). nDPI takes its allocator for the whole process
 * (set_ndpi_malloc), so this state is process-wide (STYLE.md rule 11 has
 * no other way here):
 * - the arena is used only by the thread inside td_classify_new(), only
 *   during it: what nDPI allocates per flow later, or in another thread
 *   meanwhile, is malloc'd and freed as usual;
 * - nDPI frees a table block when the module is torn down: every live
 *   arena is in a registry, and a block one owns is left for the arena.
 */
#define ARENA_CAP ((size_t)16 << 20) /* address space; nDPI 4.2 uses 5.1 MB */

static _Thread_local struct td_arena *filling;
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;
static pthread_rwlock_t arenas_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct td_arena *arenas[TD_CLASSIFY_ARENAS];

static void *ndpi_alloc_hook(size_t n)
{
	void *p = filling ? td_arena_alloc(filling, n) : NULL;

	return p ? p : malloc(n); /* full: the rest from malloc */
}

static void ndpi_free_hook(void *p)
{
	bool owned = false;

	if (!p)
		return;
	pthread_rwlock_rdlock(&arenas_lock);
	for (int i = 0; i < TD_CLASSIFY_ARENAS && !owned; i++)
		owned = td_arena_owns(arenas[i], p);
	pthread_rwlock_unlock(&arenas_lock);
	if (!owned)
		free(p);
}

static void hooks_install(void)
{
	set_ndpi_malloc(ndpi_alloc_hook);
	set_ndpi_free(ndpi_free_hook);
}

/* Puts a into the registry (or takes it out: a NULL, old a); false when
 * the registry is full. */
static bool arena_register(struct td_arena *a, struct td_arena *old)
{
	bool done = false;

	pthread_rwlock_wrlock(&arenas_lock);
	for (int i = 0; i < TD_CLASSIFY_ARENAS && !done; i++)
		if (arenas[i] == old) {
			arenas[i] = a;
			done = true;
		}
	pthread_rwlock_unlock(&arenas_lock);
	return done;
}

/* A flow's packets without payload (its TCP handshake, bare ACKs) wait
 * here, copied, until its first payload: nDPI's state is made then and is
 * given them first, in order, with their own times (flow_start). A flow
 * that waits for its first byte, or never sends one (a scan, a SYN that
 * gets no answer), holds their headers rather than nDPI's 688-byte state.
 * Each is [the time in ms, uint64_t][its length, uint16_t][the IP packet],
 * the two numbers copied in as they are in memory (pending_add, flow_start). */
#define PENDING_MAX 4        /* packets; one more starts nDPI's state */
#define PENDING_PKT_MAX 160  /* bytes of one: IP and TCP headers, options */
#define PENDING_HDR (sizeof(uint64_t) + sizeof(uint16_t))

struct td_classify_flow {
	struct ndpi_flow_struct *flow; /* NULL until flow_start() */
	uint8_t *pending;               /* n_pending packets, pending_len bytes */
	uint16_t pending_len;
	uint8_t n_pending;
	ndpi_protocol proto;
	uint16_t packets;
	bool done;
};

struct td_classify *td_classify_new(void)
{
	struct td_classify *c = calloc(1, sizeof *c);
	NDPI_PROTOCOL_BITMASK all;

	if (!c)
		return NULL;
	pthread_once(&hooks_once, hooks_install);
	c->arena = td_arena_new(ARENA_CAP);
	if (c->arena && !arena_register(c->arena, NULL)) {
		td_arena_free(c->arena); /* TD_CLASSIFY_ARENAS modules live: malloc */
		c->arena = NULL;
	}
	filling = c->arena;
	c->ndpi = ndpi_init_detection_module(ndpi_no_prefs);
	if (c->ndpi) {
		NDPI_BITMASK_SET_ALL(all);
		ndpi_set_protocol_detection_bitmask2(c->ndpi, &all);
		ndpi_finalize_initialization(c->ndpi);
	}
	filling = NULL;
	if (!c->ndpi) {
		td_classify_free(c);
		return NULL;
	}
	return c;
}

void td_classify_free(struct td_classify *c)
{
	if (!c)
		return;
	if (c->ndpi)
		ndpi_exit_detection_module(c->ndpi); /* the arena's blocks: left */
	if (c->arena) {
		arena_register(NULL, c->arena);
		td_arena_free(c->arena);
	}
	free(c);
}

size_t td_classify_arena_bytes(const struct td_classify *c)
{
	return c->arena ? td_arena_used(c->arena) : 0;
}

struct td_classify_flow *td_classify_flow_new(struct td_classify *c)
{
	(void)c;
	return calloc(1, sizeof(struct td_classify_flow));
}

size_t td_classify_flow_bytes(const struct td_classify_flow *f)
{
	/* each block with the allocator's header (glibc: 16 bytes at most) */
	size_t n = sizeof(struct td_classify_flow) + 16;

	if (f && f->flow)
		n += ndpi_detection_get_sizeof_ndpi_flow_struct() + 16;
	if (f && f->pending)
		n += f->pending_len + 16u;
	return n;
}

void td_classify_flow_free(struct td_classify_flow *f)
{
	if (!f)
		return;
	if (f->flow)
		ndpi_free_flow(f->flow); /* frees what nDPI hung on it, and it */
	free(f->pending);
	free(f);
}

/* Keeps a packet without payload for later; false when it cannot wait
 * (too many, too long, out of memory): nDPI's state is made now. */
static bool pending_add(struct td_classify_flow *f, const uint8_t *ip, size_t ip_len, uint64_t ms)
{
	size_t len = f->pending_len + PENDING_HDR + ip_len;
	uint16_t l16 = (uint16_t)ip_len;
	uint8_t *p;

	if (f->n_pending >= PENDING_MAX || ip_len > PENDING_PKT_MAX)
		return false;
	p = realloc(f->pending, len);
	if (!p)
		return false;
	memcpy(p + f->pending_len, &ms, sizeof ms);
	memcpy(p + f->pending_len + sizeof ms, &l16, sizeof l16);
	memcpy(p + f->pending_len + PENDING_HDR, ip, ip_len);
	f->pending = p;
	f->pending_len = (uint16_t)len;
	f->n_pending++;
	return true;
}

/* One packet to nDPI; true when its verdict is final. */
static bool feed(struct td_classify *c, struct td_classify_flow *f, const uint8_t *ip,
		 size_t ip_len, uint64_t ms)
{
	if (ip_len > 0xFFFF)
		ip_len = 0xFFFF; /* nDPI takes an unsigned short */
	f->proto = ndpi_detection_process_packet(c->ndpi, f->flow, ip, (unsigned short)ip_len, ms);
	f->packets++;
	/* nDPI has decided and has nothing more to look at, or has seen
	 * enough: the verdict stands (its "first packets only" use) */
	if ((f->proto.app_protocol != NDPI_PROTOCOL_UNKNOWN ||
	     f->proto.master_protocol != NDPI_PROTOCOL_UNKNOWN) &&
	    !ndpi_extra_dissection_possible(c->ndpi, f->flow))
		f->done = true;
	if (f->packets >= TD_CLASSIFY_MAX_PACKETS)
		f->done = true;
	return f->done;
}

/* Makes nDPI's state and gives it the packets that waited, in order, up to
 * its verdict (the same packets, with the same times, that it would have
 * had one by one). False when the state cannot be made. */
static bool flow_start(struct td_classify *c, struct td_classify_flow *f)
{
	size_t off = 0;

	if (f->flow)
		return true;
	if (f->done) /* done without a state: it could not be made */
		return false;
	f->flow = calloc(1, ndpi_detection_get_sizeof_ndpi_flow_struct());
	if (!f->flow) {
		f->done = true; /* no state, no verdict */
		return false;
	}
	for (unsigned i = 0; i < f->n_pending && !f->done; i++) {
		uint64_t ms;
		uint16_t len;

		memcpy(&ms, f->pending + off, sizeof ms);
		memcpy(&len, f->pending + off + sizeof ms, sizeof len);
		feed(c, f, f->pending + off + PENDING_HDR, len, ms);
		off += PENDING_HDR + len;
	}
	free(f->pending);
	f->pending = NULL;
	f->pending_len = 0;
	f->n_pending = 0;
	return true;
}

bool td_classify_packet(struct td_classify *c, struct td_classify_flow *f, const uint8_t *ip,
			size_t ip_len, size_t payload_len, uint64_t ms)
{
	if (f->done || !ip || ip_len == 0)
		return f->done;
	if (!f->flow && payload_len == 0 && pending_add(f, ip, ip_len, ms))
		return false;
	if (!flow_start(c, f) || f->done)
		return f->done;
	return feed(c, f, ip, ip_len, ms);
}

/* snprintf(dst, n, "%s", src) for n > 0, without the format parser:
 * once per connection. */
static void copy_name(char *dst, size_t n, const char *src)
{
	size_t len;

	if (!src)
		src = "(null)"; /* as glibc prints it */
	len = strnlen(src, n - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

void td_classify_finish(struct td_classify *c, struct td_classify_flow *f,
			struct td_classify_facts *out)
{
	char buf[TD_CLASSIFY_NAME_LEN];
	ndpi_protocol p;

	memset(out, 0, sizeof *out);
	if (!flow_start(c, f))
		return; /* no state, no verdict: out->done stays false */
	p = f->proto;
	if (p.app_protocol == NDPI_PROTOCOL_UNKNOWN && p.master_protocol == NDPI_PROTOCOL_UNKNOWN) {
		uint8_t guessed = 0;
		p = ndpi_detection_giveup(c->ndpi, f->flow, 1, &guessed);
	}
	ndpi_protocol2name(c->ndpi, p, buf, sizeof buf);
	copy_name(out->protocol, sizeof out->protocol, buf);
	copy_name(out->category, sizeof out->category, ndpi_category_get_name(c->ndpi, p.category));
	out->risks = f->flow->risk;
	out->packets = f->packets;
	out->done = true;
}

const char *td_classify_risk_name(unsigned n)
{
	if (n >= NDPI_MAX_RISK || n == NDPI_NO_RISK)
		return NULL;
	return ndpi_risk2str((ndpi_risk_enum)n);
}
