/* capture.c - saved capture files through libpcap (see td_capture.h). */
#include "td_capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "td_decode.h"

struct td_capture {
	pcap_t *pcap;
	FILE *fp;
	char *path;
	bool have_filter;
	struct bpf_program prog;
	int linktype;
	struct td_capture_stats st;
};

/* libpcap returns DLT_* values; decode takes the file's LINKTYPE_* ones.
 * They are equal for every link type handled except raw IP, whose DLT
 * value is platform specific; decode accepts those too. */
static int linktype_of(pcap_t *p)
{
	return pcap_datalink(p);
}

static void fail(char *err, size_t errlen, const char *path, const char *what)
{
	snprintf(err, errlen, "%s: %s", path, what);
}

struct td_capture *td_capture_open_file(const char *path, const char *filter,
					enum td_capture_status *status, char *err,
					size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct td_capture *c = calloc(1, sizeof *c);
	const char *name = strcmp(path, "-") == 0 ? "(standard input)" : path;

	if (!c) {
		*status = TD_CAP_ERR_OPEN;
		fail(err, errlen, name, strerror(ENOMEM));
		return NULL;
	}
	c->path = strdup(name);
	if (!c->path) {
		*status = TD_CAP_ERR_OPEN;
		fail(err, errlen, name, strerror(ENOMEM));
		goto error;
	}
	/* Opened here rather than by pcap_open_offline so that "cannot open"
	 * (errno) stays apart from "not a capture" (libpcap's verdict). */
	if (strcmp(path, "-") == 0) {
		c->fp = stdin;
	} else {
		struct stat sb;
		c->fp = fopen(path, "rb");
		if (!c->fp) {
			*status = TD_CAP_ERR_OPEN;
			fail(err, errlen, name, strerror(errno));
			goto error;
		}
		if (fstat(fileno(c->fp), &sb) == 0 && S_ISDIR(sb.st_mode)) {
			*status = TD_CAP_ERR_OPEN;
			fail(err, errlen, name, strerror(EISDIR));
			goto error;
		}
	}
	c->pcap = pcap_fopen_offline_with_tstamp_precision(c->fp, PCAP_TSTAMP_PRECISION_MICRO,
							    ebuf);
	if (!c->pcap) {
		*status = TD_CAP_ERR_FORMAT;
		snprintf(err, errlen, "%s: not a readable pcap or pcapng capture (%s)", name, ebuf);
		goto error;
	}
	/* pcap_close() closes the FILE from now on */
	c->linktype = linktype_of(c->pcap);
	if (!td_decode_link_name(c->linktype)) {
		const char *dlt = pcap_datalink_val_to_name(c->linktype);
		*status = TD_CAP_ERR_LINKTYPE;
		snprintf(err, errlen, "%s: unsupported link type %d (%s)", name, c->linktype,
			 dlt ? dlt : "unknown");
		goto error_pcap;
	}
	if (filter && *filter) {
		if (pcap_compile(c->pcap, &c->prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
			*status = TD_CAP_ERR_FILTER;
			snprintf(err, errlen, "%s: bad filter '%s': %s", name, filter,
				 pcap_geterr(c->pcap));
			goto error_pcap;
		}
		c->have_filter = true;
	}
	*status = TD_CAP_OK;
	return c;

error_pcap:
	pcap_close(c->pcap);
	c->fp = NULL;
error:
	if (c->fp && c->fp != stdin)
		fclose(c->fp);
	free(c->path);
	free(c);
	return NULL;
}

enum td_capture_status td_capture_next(struct td_capture *c, struct td_packet *pkt, char *err,
				       size_t errlen)
{
	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *data;
		long where = c->fp ? ftell(c->fp) : -1;
		int rc = pcap_next_ex(c->pcap, &h, &data);

		if (rc == PCAP_ERROR_BREAK)
			return TD_CAP_EOF;
		if (rc != 1) {
			if (where >= 0)
				snprintf(err, errlen,
					 "%s: capture stops early after frame %llu, at byte offset %ld: %s",
					 c->path, (unsigned long long)c->st.packets, where,
					 pcap_geterr(c->pcap));
			else
				snprintf(err, errlen, "%s: capture stops early after frame %llu: %s",
					 c->path, (unsigned long long)c->st.packets,
					 pcap_geterr(c->pcap));
			return TD_CAP_ERR_READ;
		}
		c->st.packets++;
		c->st.bytes += h->caplen;
		if (c->have_filter && !pcap_offline_filter(&c->prog, h, data)) {
			c->st.filtered_out++;
			continue;
		}
		pkt->frame = (uint32_t)c->st.packets;
		pkt->ts.sec = h->ts.tv_sec;
		pkt->ts.usec = (int32_t)h->ts.tv_usec;
		pkt->linktype = c->linktype;
		pkt->data = data;
		pkt->caplen = h->caplen;
		pkt->wirelen = h->len;
		return TD_CAP_OK;
	}
}

void td_capture_stats(const struct td_capture *c, struct td_capture_stats *out)
{
	*out = c->st;
}

int td_capture_linktype(const struct td_capture *c)
{
	return c->linktype;
}

void td_capture_close(struct td_capture *c)
{
	if (!c)
		return;
	if (c->have_filter)
		pcap_freecode(&c->prog);
	pcap_close(c->pcap); /* closes c->fp, stdin included */
	free(c->path);
	free(c);
}
