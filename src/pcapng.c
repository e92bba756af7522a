/* pcapng.c - Decryption Secrets Blocks of a pcapng file (td_pcapng.h). */
#include "td_pcapng.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "td_file.h"
#include "td_reader.h"

#define BT_SHB 0x0A0D0D0Au /* Section Header Block */
#define BT_DSB 0x0000000Au /* Decryption Secrets Block */
#define BT_PB 0x00000002u  /* the packet blocks: obsolete, simple, enhanced */
#define BT_SPB 0x00000003u
#define BT_EPB 0x00000006u
#define BOM 0x1A2B3C4Du    /* byte-order magic */
/* The scan reads the file in windows of this size and walks the block
 * headers inside them: a block it skips costs no call of its own, and a
 * block longer than the window is jumped over unread. */
#define SCAN_WINDOW ((size_t)256 << 10)

struct scan {
	int fd;
	uint8_t *buf;
	long long at; /* file offset of buf[0] */
	size_t n;     /* bytes of buf read */
};

/* A reader over the file's bytes [off, off + need): from the window, or
 * from a window read anew at off. False at the end of the file or on a
 * read error. */
static bool scan_at(struct scan *sc, long long off, size_t need, struct td_reader *r)
{
	if (off < sc->at || (unsigned long long)(off - sc->at) + need > sc->n) {
		sc->at = off;
		sc->n = td_file_pread(sc->fd, sc->buf, SCAN_WINDOW, off);
		if (need > sc->n)
			return false;
	}
	td_reader_init(r, sc->buf + (off - sc->at), need);
	return true;
}

enum td_err td_pcapng_secrets(const char *path, void (*fn)(void *user, const uint8_t *p, size_t n),
			      void *user, unsigned *blocks, char *err, size_t errlen)
{
	enum td_err ret = TD_OK;
	uint8_t *body = NULL;
	size_t body_n = 0;
	bool swap = false;
	long long off = 0;
	struct stat sb;
	struct scan sc = {.fd = -1, .buf = NULL, .at = 0, .n = 0};

	*blocks = 0;
	/* stdin, a FIFO (tlsdiag -r <(zcat x.pcap)), a device: what is read
	 * here would be gone for the capture; not opened, as opening a FIFO
	 * and closing it unread would end its writer. */
	if (strcmp(path, "-") == 0 || (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)))
		return TD_OK;
	sc.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (sc.fd < 0) {
		td_err_format(err, errlen, "%s: %s", path, strerror(errno));
		return TD_ERR_IO;
	}
	sc.buf = malloc(SCAN_WINDOW);
	if (!sc.buf) {
		td_err_format(err, errlen, "%s: out of memory", path);
		ret = TD_ERR_NOMEM;
		goto out;
	}
	for (;;) {
		struct td_reader r;
		uint32_t type, len;

		if (!scan_at(&sc, off, 8, &r))
			break; /* end of file */
		if (td_read_u32(&r, &type) != TD_OK || td_read_u32(&r, &len) != TD_OK)
			break;
		if (off == 0 && type != BT_SHB)
			goto out; /* not pcapng: nothing to look for */
		if (type == BT_SHB) {
			/* the byte-order magic follows and sets how the rest of
			 * the section reads (pcapng §4.1) */
			uint32_t bom;
			if (!scan_at(&sc, off + 8, 4, &r) || td_read_u32(&r, &bom) != TD_OK)
				goto damaged;
			if (bom == BOM)
				swap = false;
			else if (__builtin_bswap32(bom) == BOM)
				swap = true;
			else
				goto damaged;
		}
		/* td_read_u32 reads big-endian: a little-endian section
		 * needs the swap */
		if (swap) {
			len = __builtin_bswap32(len);
			type = type == BT_SHB ? type : __builtin_bswap32(type);
		}
		/* the first packet: the secrets are those before it (a second
		 * pass over a file of gigabytes would double its reading) */
		if (type == BT_EPB || type == BT_SPB || type == BT_PB)
			break;
		/* pcapng §3.1: a block is at least 12 bytes, 32-bit aligned */
		if (len < 12 || len % 4 != 0)
			goto damaged;
		if (type == BT_DSB) {
			/* struct { u32 secrets_type; u32 secrets_length; data; padding } */
			size_t n = len - 12;
			uint32_t stype, slen;
			if (n < 8 || n > TD_PCAPNG_MAX_SECRETS + 8)
				goto damaged;
			body = malloc(n);
			body_n = n;
			if (!body) {
				td_err_format(err, errlen, "%s: out of memory", path);
				ret = TD_ERR_NOMEM;
				goto out;
			}
			if (td_file_pread(sc.fd, body, n, off + 8) != n)
				goto damaged;
			td_reader_init(&r, body, n);
			if (td_read_u32(&r, &stype) != TD_OK || td_read_u32(&r, &slen) != TD_OK)
				goto damaged;
			if (swap) {
				stype = __builtin_bswap32(stype);
				slen = __builtin_bswap32(slen);
			}
			const uint8_t *data;
			if (slen > td_reader_left(&r) || td_read_ptr(&r, &data, slen) != TD_OK)
				goto damaged;
			if (stype == TD_PCAPNG_SECRETS_TLS) {
				fn(user, data, slen);
				(*blocks)++;
			}
			explicit_bzero(body, n);
			free(body);
			body = NULL;
			body_n = 0;
		}
		off += len;
	}
	goto out;
damaged:
	td_err_format(err, errlen, "%s: damaged pcapng block at byte %lld", path, off);
	ret = TD_ERR_MALFORMED;
out:
	if (body) {
		explicit_bzero(body, body_n);
		free(body);
	}
	if (sc.buf) {
		/* the window may hold a secrets block */
		explicit_bzero(sc.buf, sc.n);
		free(sc.buf);
	}
	close(sc.fd);
	return ret;
}
