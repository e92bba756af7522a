/* file.c - see td_file.h. */
#include "td_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void too_big(const char *path, size_t max, char *err, size_t errlen)
{
	if (max >= ((size_t)1 << 20))
		td_err_format(err, errlen, "%s: larger than %zu MiB", path, max >> 20);
	else
		td_err_format(err, errlen, "%s: larger than %zu KiB", path, max >> 10);
}

/* Grows b (holding n bytes) to cap bytes; the old buffer is wiped. */
static uint8_t *grow(uint8_t *b, size_t n, size_t cap)
{
	uint8_t *nb = malloc(cap);
	if (!nb)
		return NULL;
	if (n)
		memcpy(nb, b, n);
	explicit_bzero(b, n);
	free(b);
	return nb;
}

/* Opens path for reading and checks it is a regular file of at most max
 * bytes (its size in *size): -1 with err written (td_file_read's
 * messages) and *ret set otherwise. */
static int open_checked(const char *path, size_t max, size_t *size, enum td_err *ret, char *err,
			size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	*ret = TD_ERR_IO;
	if (fd < 0) {
		if (errno == ENOENT)
			td_err_format(err, errlen, "%s: no such file", path);
		else
			td_err_format(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		td_err_format(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_size < 0 || (uintmax_t)st.st_size > max) {
		too_big(path, max, err, errlen);
		*ret = TD_ERR_TOO_BIG;
		close(fd);
		return -1;
	}
	*size = (size_t)st.st_size;
	return fd;
}

/* read(2) that goes on after a signal: bytes read, 0 at the end, -1 on
 * error (errno kept). */
static ssize_t read_some(int fd, uint8_t *p, size_t n)
{
	ssize_t r;

	do
		r = read(fd, p, n);
	while (r < 0 && errno == EINTR);
	return r;
}

size_t td_file_pread(int fd, void *buf, size_t n, long long off)
{
	uint8_t *p = buf;
	size_t got = 0;

	while (got < n) {
		ssize_t k = pread(fd, p + got, n - got, (off_t)off + (off_t)got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	return got;
}

enum td_err td_file_read(const char *path, size_t max, uint8_t **buf, size_t *len, char *err,
			 size_t errlen)
{
	enum td_err ret;
	uint8_t *b = NULL;
	size_t n = 0, cap, size;
	int fd = open_checked(path, max, &size, &ret, err, errlen);

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return ret;
	ret = TD_ERR_IO;
	/* room for the data, one byte to notice growth, and the NUL */
	cap = size + 2;
	b = malloc(cap);
	if (!b)
		goto nomem;
	for (;;) {
		if (n == cap - 1) {
			if (n > max) {
				too_big(path, max, err, errlen);
				ret = TD_ERR_TOO_BIG;
				goto out;
			}
			size_t ncap = cap > (max + 2) / 2 ? max + 2 : cap * 2;
			uint8_t *nb = grow(b, n, ncap);
			if (!nb)
				goto nomem;
			b = nb;
			cap = ncap;
		}
		ssize_t r = read_some(fd, b + n, cap - 1 - n);
		if (r < 0) {
			td_err_format(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		too_big(path, max, err, errlen);
		ret = TD_ERR_TOO_BIG;
		goto out;
	}
	b[n] = 0;
	*buf = b;
	*len = n;
	b = NULL;
	ret = TD_OK;
	goto out;
nomem:
	td_err_format(err, errlen, "%s: out of memory", path);
	ret = TD_ERR_NOMEM;
out:
	if (b) {
		explicit_bzero(b, n);
		free(b);
	}
	close(fd);
	return ret;
}

enum td_err td_file_read_pieces(const char *path, size_t max, size_t chunk,
				enum td_err (*piece)(void *user, const uint8_t *p, size_t n),
				void *user, char *err, size_t errlen)
{
	enum td_err ret;
	size_t total = 0, size;
	uint8_t *b;
	int fd = open_checked(path, max, &size, &ret, err, errlen);

	if (fd < 0)
		return ret;
	if (chunk == 0)
		chunk = 1;
	if (chunk > size + 1)
		chunk = size + 1; /* a small file: no more than it needs (and 1 to see its end) */
	b = malloc(chunk);
	if (!b) {
		td_err_format(err, errlen, "%s: out of memory", path);
		close(fd);
		return TD_ERR_NOMEM;
	}
	for (;;) {
		ssize_t r = read_some(fd, b, chunk);

		if (r < 0) {
			td_err_format(err, errlen, "%s: %s", path, strerror(errno));
			ret = TD_ERR_IO;
			break;
		}
		if (r == 0) {
			ret = TD_OK;
			break;
		}
		if ((size_t)r > max - total) {
			too_big(path, max, err, errlen);
			ret = TD_ERR_TOO_BIG;
			break;
		}
		total += (size_t)r;
		ret = piece(user, b, (size_t)r);
		if (ret != TD_OK)
			break;
	}
	explicit_bzero(b, chunk);
	free(b);
	close(fd);
	return ret;
}

/* What may be written to where a name exists already: a character device
 * (/dev/null, a terminal: only root makes one) or a FIFO of the user's own
 * (another user's could be read by that user). */
static bool is_stream(const struct stat *sb)
{
	return S_ISCHR(sb->st_mode) || (S_ISFIFO(sb->st_mode) && sb->st_uid == geteuid());
}

/* Opens the existing path when it is such a stream: without O_CREAT,
 * never truncated, the type checked on what was opened; a FIFO without a
 * reader fails with ENXIO rather than being waited for. -1 with errno
 * EEXIST when the name is anything else, so the caller refuses it as a
 * file. */
static int open_existing_stream(const char *path)
{
	struct stat sb;
	int fd, flags;

	/* what the name is, before opening it (another user's FIFO is not
	 * opened at all); then what was opened, which is what counts */
	if (lstat(path, &sb) != 0 || !is_stream(&sb)) {
		errno = EEXIST;
		return -1;
	}
	fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) != 0 || !is_stream(&sb)) {
		close(fd);
		errno = EEXIST;
		return -1;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* td_file_create(), and with streams an existing stream opened instead
 * (*made false). */
static int create(const char *path, bool streams, bool *made, char *err, size_t errlen)
{
	struct stat sb;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	int saved = errno;

	if (made)
		*made = fd >= 0;
	if (fd >= 0)
		return fd;
	/* O_EXCL reports a symbolic link at the name as EEXIST; O_NOFOLLOW
	 * without it as ELOOP */
	if (saved == ELOOP || (saved == EEXIST && lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode))) {
		td_err_format(err, errlen, "%s: is a symbolic link; not followed, not replaced",
			      path);
		errno = saved;
		return -1;
	}
	if (saved == EEXIST && streams) {
		if ((fd = open_existing_stream(path)) >= 0)
			return fd;
		saved = errno;
	}
	if (saved == EEXIST)
		td_err_format(err, errlen, "%s: file exists; tlsdiag does not overwrite it", path);
	else if (saved == ENXIO)
		td_err_format(err, errlen, "%s: a FIFO that nothing reads", path);
	else
		td_err_format(err, errlen, "%s: %s", path, strerror(saved));
	errno = saved;
	return -1;
}

int td_file_create(const char *path, char *err, size_t errlen)
{
	return create(path, false, NULL, err, errlen);
}

int td_file_create_output(const char *path, bool *made, char *err, size_t errlen)
{
	return create(path, true, made, err, errlen);
}
