/* classify.c - nDPI behind a narrow interface (see td_classify.h). */
#include "td_classify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ndpi_api.h>

struct td_classify {
	struct ndpi_detection_module_struct *ndpi;
};

struct td_classify_flow {
	struct ndpi_flow_struct *flow;
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
	c->ndpi = ndpi_init_detection_module(ndpi_no_prefs);
	if (!c->ndpi) {
		free(c);
		return NULL;
	}
	NDPI_BITMASK_SET_ALL(all);
	ndpi_set_protocol_detection_bitmask2(c->ndpi, &all);
	ndpi_finalize_initialization(c->ndpi);
	return c;
}

void td_classify_free(struct td_classify *c)
{
	if (!c)
		return;
	ndpi_exit_detection_module(c->ndpi);
	free(c);
}

struct td_classify_flow *td_classify_flow_new(struct td_classify *c)
{
	struct td_classify_flow *f = calloc(1, sizeof *f);

	(void)c;
	if (!f)
		return NULL;
	f->flow = calloc(1, ndpi_detection_get_sizeof_ndpi_flow_struct());
	if (!f->flow) {
		free(f);
		return NULL;
	}
	return f;
}

size_t td_classify_flow_bytes(void)
{
	/* two blocks, each with the allocator's header (glibc: 16 bytes at
	 * most) */
	return sizeof(struct td_classify_flow) + ndpi_detection_get_sizeof_ndpi_flow_struct() + 2 * 16;
}

void td_classify_flow_free(struct td_classify_flow *f)
{
	if (!f)
		return;
	ndpi_free_flow(f->flow); /* frees what nDPI hung on it, and it */
	free(f);
}

bool td_classify_packet(struct td_classify *c, struct td_classify_flow *f, const uint8_t *ip,
			size_t ip_len, uint64_t ms)
{
	if (f->done || !ip || ip_len == 0)
		return f->done;
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
	ndpi_protocol p = f->proto;

	memset(out, 0, sizeof *out);
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
