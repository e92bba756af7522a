/* fuzz.h - what the fuzz targets share: the libFuzzer entry point's
 * prototype, an invariant check that stops the run the way a sanitizer
 * does, and a small deterministic generator for the targets that draw
 * split sizes and directions from their input.
 *
 * Every target defines LLVMFuzzerTestOneInput and nothing else global; it
 * is linked either with libFuzzer (make fuzz) or with replay.c (make
 * check), which calls it once per corpus file.
 */
#ifndef TD_FUZZ_H
#define TD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant the code under test promises: a violation is a finding,
 * reported like a sanitizer would (abort, so libFuzzer saves the input). */
#define FUZZ_ASSERT(cond)                                                              \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,     \
				__LINE__, #cond);                                      \
			abort();                                                       \
		}                                                                      \
	} while (0)

/* xorshift32, seeded from the input: the same input always replays the
 * same splits. */
struct fuzz_rng {
	uint32_t s;
};

static inline void fuzz_rng_seed(struct fuzz_rng *r, uint32_t seed)
{
	r->s = seed ? seed : 0x9e3779b9u;
}

#ifdef _GNU_SOURCE /* memfd_create: for the targets that define it first */
/* The input as a regular file (a memfd) with a path, /proc/self/fd/N in
 * path, as `tlsdiag -r FILE` opens it. Returns the descriptor, to be
 * closed by the caller, or -1. */
static inline int fuzz_input_path(const uint8_t *data, size_t size, char *path, size_t n)
{
	int fd = memfd_create("fuzz-capture", 0);
	size_t off = 0;

	if (fd < 0)
		return -1;
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);
		if (w <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	snprintf(path, n, "/proc/self/fd/%d", fd);
	return fd;
}
#endif

static inline uint32_t fuzz_rng_next(struct fuzz_rng *r)
{
	uint32_t x = r->s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	r->s = x;
	return x;
}

#endif
