/* capture.c - saved capture files and live interfaces through libpcap (see
 * td_capture.h). */
#include "td_capture.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "td_decode.h"
#include "td_file.h"
#include "td_reader.h"

#define NO_SOURCE SIZE_MAX

/* stdio's buffer for each file read (setvbuf) */
#define CAPTURE_READ_BUFFER ((size_t)1 << 16)

/* what a classic pcap file is read into when its records are read in place
 * (see struct source): a record longer than this goes to libpcap */
#define CAPTURE_RECORD_BUFFER ((size_t)1 << 18)

/* the classic pcap header's magic numbers read in place: microseconds and
 * nanoseconds (libpcap's TCPDUMP_MAGIC and NSEC_TCPDUMP_MAGIC) */
#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define PCAP_MAGIC_NSEC 0xa1b23c4du
#define PCAP_FILE_HEADER 24u
#define PCAP_RECORD_HEADER 16u

/* pcapng (draft-ietf-opsawg-pcapng §3, §4): block types, the byte-order
 * magic, the shortest block and the Interface Description Block's time
 * options */
#define NG_SHB 0x0A0D0D0Au
#define NG_IDB 0x00000001u
#define NG_PB 0x00000002u
#define NG_SPB 0x00000003u
#define NG_EPB 0x00000006u
#define NG_DSB 0x0000000Au
#define NG_BOM 0x1A2B3C4Du
#define NG_BLOCK_MIN 12u /* block header and trailer */
#define NG_OPT_END 0u
#define NG_OPT_TSRESOL 9u
#define NG_OPT_TSOFFSET 14u

/* One input: a file, standard input, or the live interface. */
struct source {
	pcap_t *pcap;
	FILE *fp; /* files: what pcap reads (pcap_close() closes it) */
	char *iobuf; /* a regular file's stdio buffer, freed after fp is closed */
	char *name;
	int linktype;
	bool have_filter; /* files: filtered here (live: in the kernel) */
	struct bpf_program prog;
	/* Merging: the packet read ahead, valid until the next read on this
	 * source. */
	struct pcap_pkthdr *h;
	const u_char *data;
	bool pending, done;
	uint64_t read;       /* packets read from this source */
	uint64_t last_frame; /* frame number its last packet got */
	bool sized;          /* a regular file: size is known */
	uint64_t size;       /* its size in bytes, for td_capture_progress() */
	/* A classic pcap file (version 2.4, microsecond or nanosecond, either
	 * byte order) is read here with pread() and its records handed out
	 * where they lie in buf: libpcap copies every record twice, from the
	 * kernel into stdio's buffer and from there into its own, with two
	 * fread() calls. libpcap still opens and checks the file, filters,
	 * and reads everything else: from the first record that is not whole
	 * within the file and the snapshot length, or at the file's end,
	 * inplace_stop() seeks libpcap's FILE to that record and libpcap reads
	 * on with its own checks and messages. */
	bool inplace;
	bool in_be;               /* the file is big-endian */
	bool in_nsec;             /* its fractions are nanoseconds */
	uint32_t snapshot;        /* pcap_snapshot(): longer records go to libpcap */
	uint8_t *buf;             /* CAPTURE_RECORD_BUFFER bytes */
	size_t buf_len;           /* bytes in buf, read from file offset buf_at */
	uint64_t buf_at;
	uint64_t next;            /* file offset of the next record */
	struct pcap_pkthdr in_h;  /* the header of the record read in place */
	/* A pcapng file's Enhanced Packet Blocks are read in place the same
	 * way while they come from its first interface, the one libpcap read
	 * when it opened the file: any other Interface Description Block, a
	 * new section, a Simple Packet Block or an obsolete Packet Block goes
	 * to libpcap with the rest of the file. Blocks of other types (name
	 * resolution, statistics, secrets, custom) are skipped, as libpcap
	 * skips them. */
	bool in_ng;
	uint64_t ng_tsresol;      /* the interface's time units per second */
	uint64_t ng_tsoffset;     /* its if_tsoffset, seconds (a signed value) */
	uint64_t ng_mul, ng_div;  /* fraction to microseconds: * ng_mul / ng_div */
	uint64_t late_secrets;    /* Decryption Secrets Blocks after a packet */
	uint64_t late_secrets_at; /* the first one's offset */
};

struct td_capture {
	struct source *src;
	size_t n;
	bool live;
	int fd;         /* live: pcap_get_selectable_fd(), or -1 */
	int timeout_ms; /* live */
	char *warning;  /* live: pcap_activate()'s warning */
	char *stopped;  /* files: the first file that stopped early, and where */
	char linkname[128];
	struct td_capture_writer *dump; /* -w */
	struct td_capture_stats st;
};

static void fail(char *err, size_t errlen, const char *name, const char *what)
{
	snprintf(err, errlen, "%s: %s", name, what);
}

/* Names the link type for the "listening on" line: "EN10MB (Ethernet)". */
static void set_linkname(struct td_capture *c)
{
	int lt = c->src[0].linktype;
	const char *name = pcap_datalink_val_to_name(lt);
	const char *desc = pcap_datalink_val_to_description(lt);

	snprintf(c->linkname, sizeof c->linkname, "%s (%s)", name ? name : "unknown",
		 desc ? desc : "unknown");
}

static void source_close(struct source *s)
{
	if (s->have_filter)
		pcap_freecode(&s->prog);
	if (s->pcap)
		pcap_close(s->pcap); /* closes s->fp, stdin included */
	else if (s->fp && s->fp != stdin)
		fclose(s->fp);
	free(s->iobuf);
	free(s->buf);
	free(s->name);
	memset(s, 0, sizeof *s);
}

/* libpcap returns DLT_* values; decode takes the file's LINKTYPE_* ones.
 * They are equal for every link type handled except raw IP, whose DLT
 * value is platform specific; decode accepts those too. */
static enum td_capture_status check_linktype(struct source *s, char *err, size_t errlen)
{
	s->linktype = pcap_datalink(s->pcap);
	if (!td_decode_link_name(s->linktype)) {
		const char *dlt = pcap_datalink_val_to_name(s->linktype);
		snprintf(err, errlen, "%s: unsupported link type %d (%s)", s->name, s->linktype,
			 dlt ? dlt : "unknown");
		return TD_CAP_ERR_LINKTYPE;
	}
	return TD_CAP_OK;
}

/* Makes the n bytes from file offset s->next readable in s->buf: false
 * when the file holds fewer, reading fails, or n is more than buf holds. */
static bool inplace_have(struct source *s, size_t n)
{
	size_t at = (size_t)(s->next - s->buf_at);

	if (s->buf_len - at >= n)
		return true;
	if (n > CAPTURE_RECORD_BUFFER)
		return false;
	memmove(s->buf, s->buf + at, s->buf_len - at);
	s->buf_len -= at;
	s->buf_at = s->next;
	s->buf_len += td_file_pread(fileno(s->fp), s->buf + s->buf_len,
				    CAPTURE_RECORD_BUFFER - s->buf_len,
				    (long long)(s->buf_at + s->buf_len));
	return s->buf_len >= n;
}

/* A reader over the bytes of s->buf from the next record on. */
static void inplace_reader(const struct source *s, struct td_reader *r)
{
	size_t at = (size_t)(s->next - s->buf_at);

	td_reader_init(r, s->buf + at, s->buf_len - at);
}

/* A 32-bit field of the file read in place, in the file's byte order
 * (a pcapng file: its section's). */
static bool file_u32(const struct source *s, struct td_reader *r, uint32_t *v)
{
	if (td_read_u32(r, v) != TD_OK)
		return false;
	if (!s->in_be) /* td_read_u32 reads big-endian */
		*v = __builtin_bswap32(*v);
	return true;
}

static bool file_u16(const struct source *s, struct td_reader *r, uint16_t *v)
{
	if (td_read_u16(r, v) != TD_OK)
		return false;
	if (!s->in_be)
		*v = __builtin_bswap16(*v);
	return true;
}

/* The next record in place, as libpcap 1.10 gives it (sf-pcap.c's
 * pcap_next_packet: seconds and fraction as signed 32-bit values, or
 * unsigned when byte-swapped, nanoseconds divided down to the microseconds
 * asked for); false where libpcap is to read on. */
static bool pcap_next_record(struct source *s)
{
	struct td_reader r;
	uint32_t f[4]; /* seconds, fraction, captured length, wire length */
	const uint8_t *data;

	if (!inplace_have(s, PCAP_RECORD_HEADER))
		return false;
	inplace_reader(s, &r);
	for (size_t i = 0; i < 4; i++) {
		if (!file_u32(s, &r, &f[i]))
			return false;
	}
	if (f[2] > s->snapshot || !inplace_have(s, PCAP_RECORD_HEADER + (size_t)f[2]))
		return false;
	inplace_reader(s, &r); /* the buffer may have moved */
	if (td_read_skip(&r, PCAP_RECORD_HEADER) != TD_OK || td_read_ptr(&r, &data, f[2]) != TD_OK)
		return false;
	/* byte-swapped (not our order): libpcap's SWAPLONG gives an
	 * unsigned value */
	if (s->in_be != (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)) {
		s->in_h.ts.tv_sec = (time_t)f[0];
		s->in_h.ts.tv_usec = (suseconds_t)f[1];
	} else { /* its struct pcap_timeval has signed 32-bit fields */
		s->in_h.ts.tv_sec = (int32_t)f[0];
		s->in_h.ts.tv_usec = (int32_t)f[1];
	}
	if (s->in_nsec)
		s->in_h.ts.tv_usec /= 1000;
	s->in_h.caplen = f[2];
	s->in_h.len = f[3];
	s->h = &s->in_h;
	s->data = data;
	s->next += PCAP_RECORD_HEADER + f[2];
	return true;
}

/* libpcap reads the rest of s, from where its FILE is. */
static void inplace_drop(struct source *s)
{
	s->inplace = false;
	free(s->buf);
	s->buf = NULL;
}

/* Hands s to libpcap from the record at s->next on: false when its FILE
 * cannot be put there. */
static bool inplace_stop(struct source *s)
{
	inplace_drop(s);
	return fseeko(s->fp, (off_t)s->next, SEEK_SET) == 0;
}

/* The block at s->next whole in s->buf, as libpcap's read_block() takes
 * it: at least 12 bytes, a multiple of 4, the trailer's length equal to
 * the header's; and no longer than the buffer. r is over the block after
 * its header. False where libpcap is to read on (end of file included). */
static bool ng_block(struct source *s, uint32_t *type, uint32_t *len, struct td_reader *r)
{
	uint32_t trailer;
	struct td_reader t;

	if (!inplace_have(s, 8))
		return false;
	inplace_reader(s, r);
	if (!file_u32(s, r, type) || !file_u32(s, r, len) || *len < NG_BLOCK_MIN || *len % 4 != 0 ||
	    *len > CAPTURE_RECORD_BUFFER || !inplace_have(s, *len))
		return false;
	inplace_reader(s, &t); /* the buffer may have moved */
	/* r: the block without its trailer, after its header */
	if (td_read_sub(&t, *len - 4, r) != TD_OK || !file_u32(s, &t, &trailer) ||
	    trailer != *len)
		return false;
	return td_read_skip(r, 8) == TD_OK;
}

/* Walks from s->next to the next block of type want, skipping the blocks
 * libpcap skips (all but sections, interfaces and packets), and counting
 * the secrets blocks after a packet. False at any other block, or where
 * ng_block() hands over. */
static bool ng_find(struct source *s, uint32_t want, uint32_t *len, struct td_reader *r)
{
	uint32_t type;

	for (;;) {
		if (!ng_block(s, &type, len, r))
			return false;
		if (type == want)
			return true;
		if (type == NG_SHB || type == NG_IDB || type == NG_EPB || type == NG_SPB ||
		    type == NG_PB)
			return false;
		/* secrets are read before the first packet (td_pcapng.h) */
		if (type == NG_DSB && s->read > 0 && s->late_secrets++ == 0)
			s->late_secrets_at = s->next;
		s->next += *len;
	}
}

/* The interface's time resolution and offset from its options, as
 * libpcap's process_idb_options() reads them; false for a binary
 * resolution (2^-n: left to libpcap) or options libpcap would refuse. */
static bool ng_idb_options(struct source *s, struct td_reader *r)
{
	bool saw_resol = false, saw_offset = false;
	uint64_t user = 1000000; /* microseconds, as asked of libpcap */

	s->ng_tsresol = user;
	s->ng_tsoffset = 0;
	while (td_reader_left(r) != 0) {
		uint16_t code, len;
		struct td_reader v; /* the value, padded to 32 bits */
		if (!file_u16(s, r, &code) || !file_u16(s, r, &len) ||
		    td_read_sub(r, ((size_t)len + 3) / 4 * 4, &v) != TD_OK)
			return false;
		if (code == NG_OPT_END)
			break;
		if (code == NG_OPT_TSRESOL) {
			uint8_t res;
			if (len != 1 || saw_resol || td_read_u8(&v, &res) != TD_OK || (res & 0x80) ||
			    res > 19)
				return false;
			saw_resol = true;
			s->ng_tsresol = 1;
			for (unsigned i = 0; i < res; i++)
				s->ng_tsresol *= 10;
		} else if (code == NG_OPT_TSOFFSET) {
			uint32_t w[2];
			if (len != 8 || saw_offset)
				return false;
			saw_offset = true;
			/* a 64-bit value in the section's byte order */
			if (!file_u32(s, &v, &w[0]) || !file_u32(s, &v, &w[1]))
				return false;
			s->ng_tsoffset = s->in_be ? (uint64_t)w[0] << 32 | w[1]
						  : (uint64_t)w[1] << 32 | w[0];
		}
	}
	s->ng_mul = s->ng_tsresol < user ? user / s->ng_tsresol : 1;
	s->ng_div = s->ng_tsresol > user ? s->ng_tsresol / user : 1;
	return true;
}

/* Walks a pcapng file from its Section Header Block to its first
 * Interface Description Block, as libpcap did when it opened it, and
 * reads that interface's time options: the packet blocks after it are
 * read in place. False when the file's start is not what libpcap read
 * (its FILE is not at the end of that block) or not of a kind read here. */
static bool ng_setup(struct source *s)
{
	struct td_reader r;
	uint32_t type, len, bom;
	uint16_t major;

	/* the byte-order magic sets how the length reads */
	if (!inplace_have(s, 12))
		return false;
	inplace_reader(s, &r);
	if (td_read_skip(&r, 8) != TD_OK || td_read_u32(&r, &bom) != TD_OK)
		return false;
	s->in_be = bom == NG_BOM;
	if (!s->in_be && __builtin_bswap32(bom) != NG_BOM)
		return false;
	s->in_ng = true;
	if (!ng_block(s, &type, &len, &r) || type != NG_SHB || td_read_skip(&r, 4) != TD_OK ||
	    !file_u16(s, &r, &major) || major != 1)
		return false;
	s->next += len;
	if (!ng_find(s, NG_IDB, &len, &r))
		return false;
	/* linktype and reserved (16 bits each), snapshot length */
	if (td_read_skip(&r, 8) != TD_OK || !ng_idb_options(s, &r))
		return false;
	s->next += len;
	return ftello(s->fp) == (off_t)s->next;
}

/* The next Enhanced Packet Block in place, as libpcap 1.10 gives it
 * (sf-pcapng.c's pcap_ng_next_packet: seconds t / resolution + offset,
 * the fraction scaled to microseconds); blocks of the types libpcap
 * skips are skipped. False where libpcap is to read on. */
static bool ng_next(struct source *s)
{
	struct td_reader r;
	uint32_t len, f[5]; /* interface, time high, low, captured and wire length */
	const uint8_t *data;

	if (!ng_find(s, NG_EPB, &len, &r))
		return false;
	for (size_t i = 0; i < 5; i++) {
		if (!file_u32(s, &r, &f[i]))
			return false;
	}
	if (f[0] != 0 || f[3] > s->snapshot || td_read_ptr(&r, &data, f[3]) != TD_OK)
		return false;
	uint64_t t = (uint64_t)f[1] << 32 | f[2];
	uint64_t frac = t % s->ng_tsresol * s->ng_mul / s->ng_div;
	s->in_h.ts.tv_sec = (time_t)(t / s->ng_tsresol + s->ng_tsoffset);
	s->in_h.ts.tv_usec = (suseconds_t)frac;
	s->in_h.caplen = f[3];
	s->in_h.len = f[4];
	s->h = &s->in_h;
	s->data = data;
	s->next += len;
	return true;
}

/* The next record in place, of either format. */
static bool inplace_next(struct source *s)
{
	return s->in_ng ? ng_next(s) : pcap_next_record(s);
}

/* Reads s's records in place when libpcap opened a classic pcap file of a
 * layout read here, or a pcapng file (struct source); otherwise, or out of
 * memory, libpcap reads them all. */
static void inplace_setup(struct source *s)
{
	uint8_t m[4];
	uint32_t magic;
	struct td_reader r;
	int snap = pcap_snapshot(s->pcap);

	if (!s->sized || snap <= 0 || pread(fileno(s->fp), m, sizeof m, 0) != (ssize_t)sizeof m)
		return;
	td_reader_init(&r, m, sizeof m);
	if (td_read_u32(&r, &magic) != TD_OK || !(s->buf = malloc(CAPTURE_RECORD_BUFFER)))
		return;
	s->snapshot = (uint32_t)snap;
	s->buf_len = 0;
	s->inplace = true;
	if (magic == NG_SHB) {
		s->buf_at = s->next = 0;
		if (!ng_setup(s))
			inplace_drop(s);
		return;
	}
	s->in_be = magic == PCAP_MAGIC_USEC || magic == PCAP_MAGIC_NSEC;
	if (!s->in_be)
		magic = __builtin_bswap32(magic);
	if ((magic != PCAP_MAGIC_USEC && magic != PCAP_MAGIC_NSEC) ||
	    pcap_major_version(s->pcap) != 2 || pcap_minor_version(s->pcap) != 4) {
		inplace_drop(s);
		return;
	}
	s->in_nsec = magic == PCAP_MAGIC_NSEC;
	s->buf_at = s->next = PCAP_FILE_HEADER;
}

/* Compressed files libpcap cannot read (Wireshark reads some of them
 * itself): the tool that gives the capture, by the file's first bytes. */
static const struct {
	const char *kind, *tool; /* tool, then the file's name */
	uint8_t len;
	uint8_t magic[6];
} compressed[] = {
	{"gzip", "gzip -dc <", 2, {0x1f, 0x8b}},
	{"bzip2", "bzip2 -dc <", 3, {'B', 'Z', 'h'}},
	{"xz", "xz -dc <", 6, {0xfd, '7', 'z', 'X', 'Z', 0x00}},
	{"zstd", "zstd -dc <", 4, {0x28, 0xb5, 0x2f, 0xfd}},
	{"lz4", "lz4 -dc <", 4, {0x04, 0x22, 0x4d, 0x18}},
	{"zip", "unzip -p", 4, {'P', 'K', 0x03, 0x04}}, /* not from standard input */
};

/* libpcap did not know the format of the regular file fp: when it is a
 * compressed file, err says so and how to read it; false otherwise. */
static bool compressed_hint(FILE *fp, const char *name, char *err, size_t errlen)
{
	uint8_t head[6];
	size_t n = td_file_pread(fileno(fp), head, sizeof head, 0);

	for (size_t i = 0; i < sizeof compressed / sizeof compressed[0]; i++) {
		struct td_reader r;
		const uint8_t *p;

		td_reader_init(&r, head, n);
		if (td_read_ptr(&r, &p, compressed[i].len) != TD_OK ||
		    memcmp(p, compressed[i].magic, compressed[i].len) != 0)
			continue;
		snprintf(err, errlen,
			 "%s: %s-compressed, not a capture itself: decompress it first, e.g. "
			 "%s %s | tlsdiag -r -",
			 name, compressed[i].kind, compressed[i].tool, name);
		return true;
	}
	return false;
}

static enum td_capture_status source_open_file(struct source *s, const char *path,
					       const char *filter, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	const char *name = strcmp(path, "-") == 0 ? "(standard input)" : path;
	enum td_capture_status st;

	s->name = strdup(name);
	if (!s->name) {
		fail(err, errlen, name, strerror(ENOMEM));
		return TD_CAP_ERR_OPEN;
	}
	/* Opened here rather than by pcap_open_offline so that "cannot open"
	 * (errno) stays apart from "not a capture" (libpcap's verdict). */
	if (strcmp(path, "-") == 0) {
		s->fp = stdin;
	} else {
		struct stat sb;
		s->fp = fopen(path, "rb");
		if (!s->fp) {
			fail(err, errlen, name, strerror(errno));
			return TD_CAP_ERR_OPEN;
		}
		if (fstat(fileno(s->fp), &sb) == 0 && S_ISDIR(sb.st_mode)) {
			fail(err, errlen, name, strerror(EISDIR));
			return TD_CAP_ERR_OPEN;
		}
		s->sized = S_ISREG(sb.st_mode) && sb.st_size >= 0;
		s->size = s->sized ? (uint64_t)sb.st_size : 0;
	}
	/* libpcap reads each record with fread(): with stdio's default
	 * buffer (st_blksize, 4 KiB) a 1 GB capture takes 250,000 read(2)
	 * calls, with this one 16,000. Larger buffers save no more: the copy
	 * out of the kernel then misses the caches (1 MiB was slower). glibc
	 * ignores the size without a buffer: ours, freed after the FILE is
	 * closed. Out of memory: the default. */
	if (s->sized && (s->iobuf = malloc(CAPTURE_READ_BUFFER)) != NULL)
		setvbuf(s->fp, s->iobuf, _IOFBF, CAPTURE_READ_BUFFER);
	s->pcap = pcap_fopen_offline_with_tstamp_precision(s->fp, PCAP_TSTAMP_PRECISION_MICRO,
							    ebuf);
	if (!s->pcap) {
		if (!s->sized || !compressed_hint(s->fp, name, err, errlen))
			snprintf(err, errlen, "%s: not a readable pcap or pcapng capture (%s)", name,
				 ebuf);
		return TD_CAP_ERR_FORMAT;
	}
	/* pcap_close() closes the FILE from now on */
	st = check_linktype(s, err, errlen);
	if (st != TD_CAP_OK)
		return st;
	if (filter && *filter) {
		if (pcap_compile(s->pcap, &s->prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
			snprintf(err, errlen, "%s: bad filter '%s': %s", name, filter,
				 pcap_geterr(s->pcap));
			return TD_CAP_ERR_FILTER;
		}
		s->have_filter = true;
	}
	inplace_setup(s);
	return TD_CAP_OK;
}

struct td_capture *td_capture_open_files(const char *const *paths, size_t n, const char *filter,
					 enum td_capture_status *status, char *err,
					 size_t errlen)
{
	struct td_capture *c = calloc(1, sizeof *c);
	size_t stdin_uses = 0;

	*status = TD_CAP_ERR_OPEN;
	if (!c || n == 0 || !(c->src = calloc(n, sizeof *c->src))) {
		fail(err, errlen, n ? paths[0] : "tlsdiag", n ? strerror(ENOMEM) : "no input");
		goto error;
	}
	c->fd = -1;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(paths[i], "-") == 0 && ++stdin_uses > 1) {
			fail(err, errlen, "(standard input)", "given more than once");
			goto error;
		}
		c->n = i + 1;
		*status = source_open_file(&c->src[i], paths[i], filter, err, errlen);
		if (*status != TD_CAP_OK)
			goto error;
	}
	set_linkname(c);
	return c;

error:
	td_capture_close(c);
	return NULL;
}

struct td_capture *td_capture_open_file(const char *path, const char *filter,
					enum td_capture_status *status, char *err,
					size_t errlen)
{
	return td_capture_open_files(&path, 1, filter, status, err, errlen);
}

/* One line for a failed pcap_activate(): what a person can act on first,
 * libpcap's own words after it. */
static void activate_error(char *err, size_t errlen, const char *iface, int rc, pcap_t *p)
{
	const char *why;

	switch (rc) {
	case PCAP_ERROR_NO_SUCH_DEVICE:
		why = "no such interface; tlsdiag -D lists them";
		break;
	case PCAP_ERROR_PERM_DENIED:
	case PCAP_ERROR_PROMISC_PERM_DENIED:
		why = "permission denied: live capture needs root or CAP_NET_RAW";
		break;
	case PCAP_ERROR_IFACE_NOT_UP:
		why = "interface is not up";
		break;
	default:
		why = pcap_statustostr(rc);
		break;
	}
	snprintf(err, errlen, "%s: %s (libpcap: %s)", iface, why, pcap_geterr(p));
}

struct td_capture *td_capture_open_live(const struct td_capture_live_opts *o,
					enum td_capture_status *status, char *err,
					size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct td_capture *c = calloc(1, sizeof *c);
	struct source *s;
	bpf_u_int32 net = 0, mask = PCAP_NETMASK_UNKNOWN;
	int rc;

	*status = TD_CAP_ERR_OPEN;
	if (!c || !(c->src = calloc(1, sizeof *c->src))) {
		fail(err, errlen, o->iface, strerror(ENOMEM));
		goto error;
	}
	c->n = 1;
	c->live = true;
	c->fd = -1;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 250;
	s = &c->src[0];
	s->name = strdup(o->iface);
	if (!s->name) {
		fail(err, errlen, o->iface, strerror(ENOMEM));
		goto error;
	}
	s->pcap = pcap_create(o->iface, ebuf);
	if (!s->pcap) {
		fail(err, errlen, o->iface, ebuf);
		goto error;
	}
	/* Not immediate mode: on Linux that takes the ring of fixed frames
	 * (TPACKET_V2), each as large as the snapshot length where the
	 * interface offloads segmentation (veth, most NICs): a 2 MiB buffer
	 * then holds 8 packets of the default 256 KiB snapshot, and a stall
	 * of a millisecond drops packets (5% at 100,000 packets/s, make
	 * bench-live). The default (TPACKET_V3) packs the packets as they
	 * are into blocks, handed over when full or after the buffer
	 * timeout: a connection is reported at most that much later. */
	if (pcap_set_snaplen(s->pcap, o->snaplen > 0 ? o->snaplen : TD_CAPTURE_SNAPLEN_DEFAULT) ||
	    pcap_set_promisc(s->pcap, o->promisc) ||
	    pcap_set_timeout(s->pcap, TD_CAPTURE_BUFFER_TIMEOUT_MS) ||
	    pcap_set_buffer_size(s->pcap, (o->buffer_kib > 0 ? o->buffer_kib
							      : TD_CAPTURE_BUFFER_KIB_DEFAULT) *
						      1024)) {
		fail(err, errlen, o->iface, "cannot set the capture options");
		goto error;
	}
	rc = pcap_activate(s->pcap);
	if (rc < 0) {
		activate_error(err, errlen, o->iface, rc, s->pcap);
		goto error;
	}
	if (rc > 0) {
		char w[PCAP_ERRBUF_SIZE + 64];
		snprintf(w, sizeof w, "%s: %s (%s)", o->iface, pcap_statustostr(rc),
			 pcap_geterr(s->pcap));
		c->warning = strdup(w);
	}
	*status = check_linktype(s, err, errlen);
	if (*status != TD_CAP_OK)
		goto error;
	if (o->filter && *o->filter) {
		if (pcap_lookupnet(o->iface, &net, &mask, ebuf) != 0)
			mask = PCAP_NETMASK_UNKNOWN;
		if (pcap_compile(s->pcap, &s->prog, o->filter, 1, mask) != 0 ||
		    pcap_setfilter(s->pcap, &s->prog) != 0) {
			*status = TD_CAP_ERR_FILTER;
			snprintf(err, errlen, "%s: bad filter '%s': %s", o->iface, o->filter,
				 pcap_geterr(s->pcap));
			pcap_freecode(&s->prog);
			goto error;
		}
		pcap_freecode(&s->prog); /* the kernel has its copy */
	}
	/* Non-blocking reads and our own poll() with a timeout: the read
	 * loop gets control back regularly to check for signals and the
	 * --duration deadline, whatever libpcap's timeout semantics on this
	 * platform. */
	c->fd = pcap_get_selectable_fd(s->pcap);
	if (c->fd >= 0 && pcap_setnonblock(s->pcap, 1, ebuf) != 0)
		c->fd = -1;
	c->st.live = true;
	set_linkname(c);
	*status = TD_CAP_OK;
	return c;

error:
	td_capture_close(c);
	return NULL;
}

/* Delivers h/data as the next packet (filter already passed). */
static void deliver(struct td_capture *c, const struct source *s, const struct pcap_pkthdr *h,
		    const u_char *data, struct td_packet *pkt)
{
	pkt->frame = (uint32_t)c->st.packets;
	pkt->ts.sec = h->ts.tv_sec;
	pkt->ts.usec = (int32_t)h->ts.tv_usec;
	pkt->linktype = s->linktype;
	pkt->data = data;
	pkt->caplen = h->caplen;
	pkt->wirelen = h->len;
	if (c->dump)
		td_capture_writer_put(c->dump, pkt->ts, data, h->caplen, h->len);
}

/* Reads source i's next packet ahead. A file that ends or stops early is
 * done; the first one to stop early is remembered for the end. */
static void read_ahead(struct td_capture *c, size_t i)
{
	struct source *s = &c->src[i];
	int rc;
	char msg[1024], part[96] = "", seek[128] = "";
	const char *why;
	long where;

	if (s->inplace && inplace_next(s)) {
		s->pending = true;
		s->read++;
		return;
	}
	if (s->inplace && !inplace_stop(s)) {
		snprintf(seek, sizeof seek, "cannot seek to byte offset %llu: %s",
			 (unsigned long long)s->next, strerror(errno));
		rc = PCAP_ERROR;
	} else {
		rc = pcap_next_ex(s->pcap, &s->h, &s->data);
	}
	if (rc == 1) {
		s->pending = true;
		s->read++;
		return;
	}
	s->done = true;
	if (rc == PCAP_ERROR_BREAK || c->stopped)
		return;
	/* where reading stopped: asked only now, not per packet (ftell on
	 * every packet cost as much as libpcap's read itself) */
	where = s->fp ? ftell(s->fp) : -1;
	why = seek[0] ? seek : pcap_geterr(s->pcap);
	if (c->n > 1)
		snprintf(part, sizeof part, " (its packet %llu)", (unsigned long long)s->read);
	if (where >= 0)
		snprintf(msg, sizeof msg,
			 "%s: capture stops early after frame %llu%s, reading stopped at byte offset %ld: %s",
			 s->name, (unsigned long long)s->last_frame, part, where, why);
	else
		snprintf(msg, sizeof msg, "%s: capture stops early after frame %llu%s: %s", s->name,
			 (unsigned long long)s->last_frame, part, why);
	c->stopped = strdup(msg);
	if (!c->stopped)
		c->stopped = strdup("capture stops early (out of memory describing where)");
}

static bool earlier(const struct pcap_pkthdr *a, const struct pcap_pkthdr *b)
{
	if (a->ts.tv_sec != b->ts.tv_sec)
		return a->ts.tv_sec < b->ts.tv_sec;
	return a->ts.tv_usec < b->ts.tv_usec;
}

static enum td_capture_status files_next(struct td_capture *c, struct td_packet *pkt, char *err,
					 size_t errlen)
{
	for (;;) {
		size_t best = NO_SOURCE;

		for (size_t i = 0; i < c->n; i++) {
			struct source *s = &c->src[i];
			if (!s->pending && !s->done)
				read_ahead(c, i);
			/* strictly earlier: on a tie the file named first wins */
			if (s->pending && (best == NO_SOURCE || earlier(s->h, c->src[best].h)))
				best = i;
		}
		if (best == NO_SOURCE) {
			if (c->stopped) {
				snprintf(err, errlen, "%s", c->stopped);
				return TD_CAP_ERR_READ;
			}
			return TD_CAP_EOF;
		}
		struct source *s = &c->src[best];
		s->pending = false; /* its data stays valid until its next read */
		c->st.packets++;
		c->st.bytes += s->h->caplen;
		s->last_frame = c->st.packets;
		if (s->have_filter && !pcap_offline_filter(&s->prog, s->h, s->data)) {
			c->st.filtered_out++;
			continue;
		}
		deliver(c, s, s->h, s->data, pkt);
		return TD_CAP_OK;
	}
}

static enum td_capture_status live_next(struct td_capture *c, struct td_packet *pkt, char *err,
					size_t errlen)
{
	struct source *s = &c->src[0];

	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *data;
		int rc = pcap_next_ex(s->pcap, &h, &data);

		if (rc == 1) {
			c->st.packets++;
			c->st.bytes += h->caplen;
			deliver(c, s, h, data, pkt);
			return TD_CAP_OK;
		}
		if (rc == 0) {
			if (c->fd < 0)
				return TD_CAP_TIMEOUT; /* libpcap's own timeout expired */
			struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
			int pr = poll(&pfd, 1, c->timeout_ms);
			if (pr == 0 || (pr < 0 && errno == EINTR))
				return TD_CAP_TIMEOUT;
			if (pr < 0) {
				snprintf(err, errlen, "%s: capture stopped after frame %llu: poll: %s",
					 s->name, (unsigned long long)c->st.packets, strerror(errno));
				return TD_CAP_ERR_READ;
			}
			continue;
		}
		if (rc == PCAP_ERROR_BREAK)
			return TD_CAP_EOF;
		snprintf(err, errlen, "%s: capture stopped after frame %llu: %s", s->name,
			 (unsigned long long)c->st.packets, pcap_geterr(s->pcap));
		return TD_CAP_ERR_READ;
	}
}

enum td_capture_status td_capture_next(struct td_capture *c, struct td_packet *pkt, char *err,
				       size_t errlen)
{
	return c->live ? live_next(c, pkt, err, errlen) : files_next(c, pkt, err, errlen);
}

struct td_capture_writer {
	pcap_t *dead; /* the handle the file header comes from */
	pcap_dumper_t *dumper;
	char *path;
};

struct td_capture_writer *td_capture_writer_open(const char *path, int linktype, int snaplen,
						 char *err, size_t errlen)
{
	struct td_capture_writer *w = calloc(1, sizeof *w);
	FILE *fp = NULL;
	bool made = false;
	int fd = td_file_create_output(path, &made, err, errlen);

	if (fd < 0) {
		free(w);
		return NULL;
	}
	if (!w || !(w->path = strdup(path)) || !(fp = fdopen(fd, "wb")) ||
	    !(w->dead = pcap_open_dead_with_tstamp_precision(linktype, snaplen,
							     PCAP_TSTAMP_PRECISION_MICRO))) {
		fail(err, errlen, path, strerror(ENOMEM));
		goto error;
	}
	w->dumper = pcap_dump_fopen(w->dead, fp);
	if (!w->dumper) {
		fail(err, errlen, path, pcap_geterr(w->dead));
		goto error;
	}
	return w; /* pcap_dump_close() closes fp */

error:
	if (fp)
		fclose(fp);
	else
		close(fd);
	if (made)
		unlink(path); /* ours: created by O_EXCL (not /dev/null, not a FIFO) */
	if (w && w->dead)
		pcap_close(w->dead);
	if (w)
		free(w->path);
	free(w);
	return NULL;
}

void td_capture_writer_put(struct td_capture_writer *w, struct td_time ts, const uint8_t *data,
			   uint32_t caplen, uint32_t wirelen)
{
	struct pcap_pkthdr h = {.caplen = caplen, .len = wirelen};

	h.ts.tv_sec = (time_t)ts.sec;
	h.ts.tv_usec = ts.usec;
	pcap_dump((u_char *)w->dumper, &h, data);
}

enum td_capture_status td_capture_writer_flush(struct td_capture_writer *w, char *err,
					       size_t errlen)
{
	if (pcap_dump_flush(w->dumper) != 0 || ferror(pcap_dump_file(w->dumper))) {
		fail(err, errlen, w->path, "cannot write the packets");
		return TD_CAP_ERR_OUTPUT;
	}
	return TD_CAP_OK;
}

enum td_capture_status td_capture_writer_close(struct td_capture_writer *w, char *err,
					       size_t errlen)
{
	enum td_capture_status st;

	if (!w)
		return TD_CAP_OK;
	st = td_capture_writer_flush(w, err, errlen);
	/* pcap_dump_close() fcloses the file without saying whether it
	 * could: the flush above put everything there first */
	pcap_dump_close(w->dumper);
	pcap_close(w->dead);
	free(w->path);
	free(w);
	return st;
}

enum td_capture_status td_capture_dump_open(struct td_capture *c, const char *path, char *err,
					    size_t errlen)
{
	for (size_t i = 0; i < c->n; i++) {
		if (c->src[i].linktype != c->src[0].linktype) {
			snprintf(err, errlen,
				 "%s: cannot write %s (link type %d) and %s (link type %d) into "
				 "one pcap file",
				 path, c->src[0].name, c->src[0].linktype, c->src[i].name,
				 c->src[i].linktype);
			return TD_CAP_ERR_OUTPUT;
		}
	}
	c->dump = td_capture_writer_open(path, c->src[0].linktype, td_capture_snaplen(c), err,
					 errlen);
	return c->dump ? TD_CAP_OK : TD_CAP_ERR_OUTPUT;
}

enum td_capture_status td_capture_dump_flush(struct td_capture *c, char *err, size_t errlen)
{
	return c->dump ? td_capture_writer_flush(c->dump, err, errlen) : TD_CAP_OK;
}


void td_capture_stats(const struct td_capture *c, struct td_capture_stats *out)
{
	struct pcap_stat ps;

	*out = c->st;
	for (size_t i = 0; i < c->n; i++) {
		const struct source *s = &c->src[i];
		if (s->late_secrets && !out->late_secrets_file) {
			out->late_secrets_file = s->name;
			out->late_secrets_at = s->late_secrets_at;
		}
		out->late_secrets += s->late_secrets;
	}
	if (c->live && pcap_stats(c->src[0].pcap, &ps) == 0) {
		out->dropped_kernel = ps.ps_drop;
		out->dropped_iface = ps.ps_ifdrop;
	}
}

bool td_capture_progress(const struct td_capture *c, uint64_t *done, uint64_t *total)
{
	uint64_t d = 0, t = 0;

	if (c->live)
		return false;
	for (size_t i = 0; i < c->n; i++) {
		const struct source *s = &c->src[i];
		long at;

		if (!s->sized)
			return false;
		t += s->size;
		if (s->done || !s->pcap) {
			d += s->size;
			continue;
		}
		/* read in place: the next record's offset; else libpcap reads
		 * through our FILE (pcap_fopen_offline): its position is how
		 * far that file has been read, give or take the stdio buffer */
		at = s->inplace ? (long)s->next : ftell(pcap_file(s->pcap));
		if (at > 0)
			d += (uint64_t)at < s->size ? (uint64_t)at : s->size;
	}
	*done = d;
	*total = t;
	return true;
}

int td_capture_linktype(const struct td_capture *c)
{
	return c->src[0].linktype;
}

const char *td_capture_linktype_name(const struct td_capture *c)
{
	return c->linkname;
}

int td_capture_snaplen(const struct td_capture *c)
{
	int snaplen = 0;

	for (size_t i = 0; i < c->n; i++)
		if (pcap_snapshot(c->src[i].pcap) > snaplen)
			snaplen = pcap_snapshot(c->src[i].pcap);
	return snaplen;
}

const char *td_capture_warning(const struct td_capture *c)
{
	return c->warning;
}

void td_capture_close(struct td_capture *c)
{
	if (!c)
		return;
	(void)td_capture_writer_close(c->dump, NULL, 0);
	for (size_t i = 0; c->src && i < c->n; i++)
		source_close(&c->src[i]);
	free(c->src);
	free(c->warning);
	free(c->stopped);
	free(c);
}

/* tcpdump -D's flags, in its words. */
static void iface_flags(FILE *out, bpf_u_int32 f)
{
	const char *sep = "";

	fputs(" [", out);
	if (f & PCAP_IF_UP) {
		fprintf(out, "%sUp", sep);
		sep = ", ";
	}
	if (f & PCAP_IF_RUNNING) {
		fprintf(out, "%sRunning", sep);
		sep = ", ";
	}
	if (f & PCAP_IF_WIRELESS) {
		fprintf(out, "%sWireless", sep);
		sep = ", ";
	}
	if (f & PCAP_IF_LOOPBACK) {
		fprintf(out, "%sLoopback", sep);
		sep = ", ";
	}
	switch (f & PCAP_IF_CONNECTION_STATUS) {
	case PCAP_IF_CONNECTION_STATUS_CONNECTED:
		fprintf(out, "%sConnected", sep);
		break;
	case PCAP_IF_CONNECTION_STATUS_DISCONNECTED:
		fprintf(out, "%sDisconnected", sep);
		break;
	default:
		break;
	}
	fputs("]\n", out);
}

int td_capture_list_ifaces(FILE *out, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pcap_if_t *all = NULL;
	int i = 0;

	if (pcap_findalldevs(&all, ebuf) != 0) {
		fail(err, errlen, "cannot list interfaces", ebuf);
		return -1;
	}
	for (pcap_if_t *d = all; d; d = d->next) {
		fprintf(out, "%d.%s", ++i, d->name);
		if (d->description)
			fprintf(out, " (%s)", d->description);
		iface_flags(out, d->flags);
	}
	pcap_freealldevs(all);
	if (i == 0) {
		snprintf(err, errlen, "no interfaces available for capture (live capture needs "
				      "root or CAP_NET_RAW)");
		return -1;
	}
	return 0;
}
