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
