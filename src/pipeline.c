/* pipeline.c - -j: reading, analysis and reporting on two or three threads. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "td_pipeline.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "td_session.h"
#include "td_x509.h"

/* ---- a bounded FIFO of pointers between two threads --------------------- */

/* A counter bumped by every push onto the queues that point at it: how a
 * thread waits for the first of two queues to get something (the caller's
 * thread when it also reports: a free packet batch or a finished one). */
struct wake {
	pthread_mutex_t m;
	pthread_cond_t c;
	unsigned long seq;
};

static unsigned long wake_seq(struct wake *w)
{
	unsigned long seq;

	pthread_mutex_lock(&w->m);
	seq = w->seq;
	pthread_mutex_unlock(&w->m);
	return seq;
}

/* Waits until a push after wake_seq() returned seq. */
static void wake_wait(struct wake *w, unsigned long seq)
{
	pthread_mutex_lock(&w->m);
	while (w->seq == seq)
		pthread_cond_wait(&w->c, &w->m);
	pthread_mutex_unlock(&w->m);
}

struct queue {
	pthread_mutex_t m;
	pthread_cond_t nonempty, nonfull;
	void *slot[TD_PIPELINE_BATCHES];
	unsigned head, n;
	struct wake *wake; /* bumped on every push; NULL: none */
};

static void queue_init(struct queue *q)
{
	memset(q, 0, sizeof *q);
	pthread_mutex_init(&q->m, NULL);
	pthread_cond_init(&q->nonempty, NULL);
	pthread_cond_init(&q->nonfull, NULL);
}

static void queue_destroy(struct queue *q)
{
	pthread_mutex_destroy(&q->m);
	pthread_cond_destroy(&q->nonempty);
	pthread_cond_destroy(&q->nonfull);
}

static void queue_push(struct queue *q, void *v)
{
	pthread_mutex_lock(&q->m);
	while (q->n == TD_PIPELINE_BATCHES)
		pthread_cond_wait(&q->nonfull, &q->m);
	q->slot[(q->head + q->n++) % TD_PIPELINE_BATCHES] = v;
	pthread_cond_signal(&q->nonempty);
	pthread_mutex_unlock(&q->m);
	if (q->wake) {
		pthread_mutex_lock(&q->wake->m);
		q->wake->seq++;
		pthread_cond_broadcast(&q->wake->c);
		pthread_mutex_unlock(&q->wake->m);
	}
}

/* The oldest entry, or NULL at once when there is none (block: wait for
 * one). */
static void *queue_take(struct queue *q, bool block)
{
	void *v;

	pthread_mutex_lock(&q->m);
	while (q->n == 0 && block)
		pthread_cond_wait(&q->nonempty, &q->m);
	if (q->n == 0) {
		pthread_mutex_unlock(&q->m);
		return NULL;
	}
	v = q->slot[q->head];
	q->head = (q->head + 1) % TD_PIPELINE_BATCHES;
	q->n--;
	pthread_cond_signal(&q->nonfull);
	pthread_mutex_unlock(&q->m);
	return v;
}

static void *queue_pop(struct queue *q)
{
	return queue_take(q, true);
}

/* ---- batches ------------------------------------------------------------- */

/* A packet in a batch: this header, then caplen bytes, padded to 8. */
struct rec {
	struct td_time ts;
	uint32_t frame, caplen, wirelen;
	int32_t linktype;
};

static size_t rec_size(size_t caplen)
{
	return (sizeof(struct rec) + caplen + 7) & ~(size_t)7;
}

struct pkt_batch {
	uint8_t *buf;
	size_t used, cap;
	double first;         /* monotonic clock when its first packet came */
	bool advance, end;    /* after the packets: td_engine_advance, _finish */
	struct td_time now;   /* for advance */
};

/* A finished connection on its way to the reporting thread. */
struct held {
	struct td_session s;
	struct td_engine_evidence ev;
};

struct ses_batch {
	unsigned n;
	bool idle, end;
	struct held h[];
};

struct td_pipeline {
	struct td_engine *eng;
	struct td_x509_cache *cache;
	td_engine_emit_fn emit;
	td_engine_evidence_fn evidence;
	void (*idle)(void *user);
	void *user;
	size_t batch_bytes;
	unsigned batch_sessions;

	struct pkt_batch pkt[TD_PIPELINE_BATCHES];
	struct ses_batch *ses[TD_PIPELINE_BATCHES];
	struct queue pkt_full, pkt_free, ses_full, ses_free;
	struct pkt_batch *filling;  /* the caller's: being filled */
	struct ses_batch *handing;  /* the analysis thread's: being filled */

	pthread_mutex_t stats_lock;
	struct td_engine_stats stats;

	bool analysis_thread; /* else the engine runs on the caller's thread */
	bool report_here;     /* no reporting thread: the caller's reports */
	struct wake wake;     /* report_here: pkt_free's and ses_full's pushes */
	bool reported_end;    /* report_here: the last batch was reported */
	pthread_t analysis, reporting;
	bool finished;
	/* the caller's thread, without an analysis thread: when the oldest
	 * connection not handed over ended (live: not held back) */
	double handing_since;
};

static double monotonic(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* ---- the analysis thread ------------------------------------------------- */

/* The engine's handoff: the connection joins the batch for the reporting
 * thread; its certificates are released for the cache's bookkeeping now,
 * as td_session_clear() would, and stay readable until unpinned. */
static void handoff(void *user, struct td_session *s, struct td_engine_evidence *ev)
{
	struct td_pipeline *p = user;
	struct held *h;

	if (!p->handing)
		p->handing = queue_pop(&p->ses_free);
	h = &p->handing->h[p->handing->n++];
	td_session_move(&h->s, s);
	for (unsigned i = 0; i < h->s.n_certs; i++)
		td_x509_cert_release_pinned(p->cache, h->s.certs[i]);
	for (unsigned i = 0; i < h->s.n_client_certs; i++)
		td_x509_cert_release_pinned(p->cache, h->s.client_certs[i]);
	h->ev = *ev;
	ev->first = NULL; /* the frames are the reporting thread's now */
	if (p->handing->n == p->batch_sessions) {
		queue_push(&p->ses_full, p->handing);
		p->handing = NULL;
		p->handing_since = 0;
	}
}

/* The connections the engine ended so far go to the reporting thread;
 * with idle or end, even none (the flags travel). */
static void hand_over(struct td_pipeline *p, bool idle, bool end)
{
	if (!p->handing && !idle && !end)
		return;
	if (!p->handing)
		p->handing = queue_pop(&p->ses_free);
	p->handing->idle = idle;
	p->handing->end = end;
	queue_push(&p->ses_full, p->handing);
	p->handing = NULL;
}

/* The next packet's record and its first 192 bytes (the link, IP and TCP
 * headers the decoder reads first), fetched into this core's cache while
 * the engine works on the packet before it. The reading thread wrote them
 * on the other core: the load of each record's header was 5.6% of this
 * thread's samples (perf), and this took 3.5% off -j 2's CPU time
 * (bench/README.md). Nothing past the batch's packets is asked for. */
static inline void prefetch_rec(const struct pkt_batch *b, size_t at)
{
	for (size_t off = 0; off < 192 && at + off < b->used; off += 64)
		__builtin_prefetch(b->buf + at + off);
}

static void *analysis_main(void *arg)
{
	struct td_pipeline *p = arg;
	bool end;

	do {
		struct pkt_batch *b = queue_pop(&p->pkt_full);
		struct rec r;

		for (size_t at = 0; at < b->used; at += rec_size(r.caplen)) {
			memcpy(&r, b->buf + at, sizeof r);
			prefetch_rec(b, at + rec_size(r.caplen));
			td_engine_packet(p->eng, r.linktype, r.frame, r.ts, b->buf + at + sizeof r,
					 r.caplen, r.wirelen);
		}
		if (b->advance)
			td_engine_advance(p->eng, b->now);
		end = b->end;
		if (end)
			td_engine_finish(p->eng);
		pthread_mutex_lock(&p->stats_lock);
		td_engine_stats(p->eng, &p->stats);
		pthread_mutex_unlock(&p->stats_lock);
		hand_over(p, b->advance, end);
		b->used = 0;
		b->advance = b->end = false;
		if (b->cap > p->batch_bytes) { /* a huge packet's: back to size */
			uint8_t *small = realloc(b->buf, p->batch_bytes);
			if (small) {
				b->buf = small;
				b->cap = p->batch_bytes;
			}
		}
		queue_push(&p->pkt_free, b);
	} while (!end);
	return NULL;
}

/* ---- the reporting thread ------------------------------------------------ */

/* Reports a batch of finished connections, gives it back; true when it
 * was the last. */
static bool report_batch(struct td_pipeline *p, struct ses_batch *b)
{
	bool end;

	for (unsigned i = 0; i < b->n; i++) {
		struct held *h = &b->h[i];

		p->emit(p->user, &h->s);
		if (p->evidence)
			p->evidence(p->user, &h->s, &h->ev);
		td_engine_evidence_free(&h->ev);
		for (unsigned k = 0; k < h->s.n_certs; k++)
			td_x509_cert_unpin(p->cache, h->s.certs[k]);
		for (unsigned k = 0; k < h->s.n_client_certs; k++)
			td_x509_cert_unpin(p->cache, h->s.client_certs[k]);
		td_session_clear(&h->s, NULL); /* references given back already */
	}
	if (b->idle && p->idle)
		p->idle(p->user);
	end = b->end;
	b->n = 0;
	b->idle = b->end = false;
	queue_push(&p->ses_free, b);
	return end;
}

static void *reporting_main(void *arg)
{
	struct td_pipeline *p = arg;

	while (!report_batch(p, queue_pop(&p->ses_full)))
		;
	return NULL;
}

/* report_here: the caller reports the batches the analysis has finished,
 * without waiting for more. */
static void report_ready(struct td_pipeline *p)
{
	struct ses_batch *b;

	while (p->report_here && !p->reported_end && (b = queue_take(&p->ses_full, false)))
		p->reported_end = report_batch(p, b);
}

/* A free packet batch for the caller. report_here: while none is free the
 * caller reports what the analysis finished (the analysis may be waiting
 * for a free batch of connections: the caller frees them), and sleeps
 * until the analysis pushes either. */
static struct pkt_batch *free_batch(struct td_pipeline *p)
{
	struct pkt_batch *b;

	if (!p->report_here)
		return queue_pop(&p->pkt_free);
	for (;;) {
		unsigned long seq = wake_seq(&p->wake);

		report_ready(p);
		if ((b = queue_take(&p->pkt_free, false)))
			return b;
		wake_wait(&p->wake, seq);
	}
}

/* ---- the caller's side --------------------------------------------------- */

static void free_batches(struct td_pipeline *p)
{
	for (int i = 0; i < TD_PIPELINE_BATCHES; i++) {
		free(p->pkt[i].buf);
		free(p->ses[i]);
	}
}

struct td_pipeline *td_pipeline_new(const struct td_engine_config *cfg,
				    const struct td_pipeline_config *pcfg,
				    struct td_x509_cache *cache, td_engine_emit_fn emit, void *user)
{
	struct td_pipeline *p = calloc(1, sizeof *p);
	struct td_engine_config ecfg = *cfg;
	sigset_t all, old;
	bool ok = true, started;

	if (!p)
		return NULL;
	p->cache = cache;
	p->emit = emit;
	p->evidence = cfg->evidence;
	p->idle = pcfg ? pcfg->idle : NULL;
	p->analysis_thread = pcfg && pcfg->analysis_thread;
	p->report_here = p->analysis_thread && pcfg->report_on_caller;
	p->user = user;
	p->batch_bytes = pcfg && pcfg->batch_bytes ? pcfg->batch_bytes : TD_PIPELINE_BATCH_BYTES;
	p->batch_sessions = pcfg && pcfg->batch_sessions ? pcfg->batch_sessions
							  : TD_PIPELINE_BATCH_SESSIONS;
	queue_init(&p->pkt_full);
	queue_init(&p->pkt_free);
	queue_init(&p->ses_full);
	queue_init(&p->ses_free);
	pthread_mutex_init(&p->stats_lock, NULL);
	pthread_mutex_init(&p->wake.m, NULL);
	pthread_cond_init(&p->wake.c, NULL);
	if (p->report_here)
		p->pkt_free.wake = p->ses_full.wake = &p->wake;
	for (int i = 0; i < TD_PIPELINE_BATCHES; i++) {
		if (p->analysis_thread) {
			p->pkt[i].buf = malloc(p->batch_bytes);
			p->pkt[i].cap = p->batch_bytes;
			ok = ok && p->pkt[i].buf;
		}
		p->ses[i] = calloc(1, sizeof *p->ses[i] + p->batch_sessions * sizeof(struct held));
		ok = ok && p->ses[i];
	}
	ecfg.handoff = handoff; /* evidence stays set: the engine keeps frames */
	if (ok)
		p->eng = td_engine_new(&ecfg, cache, emit, p);
	if (!p->eng)
		goto fail;
	for (int i = 0; i < TD_PIPELINE_BATCHES; i++) {
		queue_push(&p->pkt_free, &p->pkt[i]);
		queue_push(&p->ses_free, p->ses[i]);
	}
	/* the caller's thread takes the signals tlsdiag handles; a write to
	 * a closed pipe still ends the process (as with one thread), and a
	 * fault is a fault */
	sigfillset(&all);
	sigdelset(&all, SIGPIPE);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	started = p->report_here || pthread_create(&p->reporting, NULL, reporting_main, p) == 0;
	if (started && p->analysis_thread &&
	    pthread_create(&p->analysis, NULL, analysis_main, p) != 0) {
		if (!p->report_here) {
			hand_over(p, false, true); /* end the reporting thread */
			pthread_join(p->reporting, NULL);
		}
		started = false;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!started) {
		td_engine_free(p->eng);
		goto fail;
	}
	/* what top -H and perf show */
	if (!p->report_here)
		pthread_setname_np(p->reporting, "tlsdiag-report");
	if (p->analysis_thread)
		pthread_setname_np(p->analysis, "tlsdiag-analyse");
	return p;
fail:
	free_batches(p);
	free(p);
	return NULL;
}

static void send_batch(struct td_pipeline *p, bool advance, struct td_time now, bool end)
{
	struct pkt_batch *b = p->filling ? p->filling : free_batch(p);

	b->advance = advance;
	b->now = now;
	b->end = end;
	p->filling = NULL;
	queue_push(&p->pkt_full, b);
	report_ready(p);
}

void td_pipeline_packet(struct td_pipeline *p, int linktype, uint32_t frame, struct td_time ts,
			const uint8_t *data, size_t caplen, size_t wirelen)
{
	size_t need = rec_size(caplen);
	struct pkt_batch *b = p->filling;
	struct rec r = {.ts = ts,
			.frame = frame,
			.caplen = (uint32_t)caplen,
			.wirelen = (uint32_t)wirelen,
			.linktype = linktype};

	if (!p->analysis_thread) {
		td_engine_packet(p->eng, linktype, frame, ts, data, caplen, wirelen);
		if (p->handing && !p->handing_since)
			p->handing_since = monotonic();
		return;
	}
	if (b && need > b->cap - b->used) {
		send_batch(p, false, (struct td_time){0, 0}, false);
		b = NULL;
	}
	if (!b) {
		b = p->filling = free_batch(p);
		b->first = monotonic();
	}
	if (need > b->cap) { /* larger than a batch: this one grows for it */
		uint8_t *big = realloc(b->buf, need);
		if (!big)
			return; /* out of memory: the packet is lost, like a drop */
		b->buf = big;
		b->cap = need;
	}
	memcpy(b->buf + b->used, &r, sizeof r);
	memcpy(b->buf + b->used + sizeof r, data, caplen);
	b->used += need;
}

void td_pipeline_flush(struct td_pipeline *p)
{
	if (!p->analysis_thread) {
		hand_over(p, false, false);
		p->handing_since = 0;
	} else if (p->filling) {
		send_batch(p, false, (struct td_time){0, 0}, false);
	}
}

double td_pipeline_pending_age(const struct td_pipeline *p, double now)
{
	if (!p->analysis_thread)
		return p->handing_since ? now - p->handing_since : 0;
	return p->filling ? now - p->filling->first : 0;
}

void td_pipeline_advance(struct td_pipeline *p, struct td_time now)
{
	if (p->analysis_thread) {
		send_batch(p, true, now, false);
		return;
	}
	td_engine_advance(p->eng, now);
	hand_over(p, true, false);
	p->handing_since = 0;
}

void td_pipeline_finish(struct td_pipeline *p)
{
	if (p->finished)
		return;
	if (p->analysis_thread) {
		send_batch(p, false, (struct td_time){0, 0}, true);
		/* report_here: every connection reported before the join (the
		 * analysis may be waiting for a batch the caller frees) */
		while (p->report_here && !p->reported_end)
			p->reported_end = report_batch(p, queue_pop(&p->ses_full));
		pthread_join(p->analysis, NULL);
	} else {
		td_engine_finish(p->eng);
		hand_over(p, false, true);
	}
	if (!p->report_here)
		pthread_join(p->reporting, NULL);
	p->finished = true;
}

void td_pipeline_stats(struct td_pipeline *p, struct td_engine_stats *out)
{
	if (!p->analysis_thread) {
		td_engine_stats(p->eng, out);
		return;
	}
	pthread_mutex_lock(&p->stats_lock);
	*out = p->stats;
	pthread_mutex_unlock(&p->stats_lock);
}

void td_pipeline_free(struct td_pipeline *p)
{
	if (!p)
		return;
	td_pipeline_finish(p);
	td_engine_free(p->eng);
	free_batches(p);
	queue_destroy(&p->pkt_full);
	queue_destroy(&p->pkt_free);
	queue_destroy(&p->ses_full);
	queue_destroy(&p->ses_free);
	pthread_mutex_destroy(&p->stats_lock);
	pthread_mutex_destroy(&p->wake.m);
	pthread_cond_destroy(&p->wake.c);
	free(p);
}
