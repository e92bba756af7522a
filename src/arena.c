/* arena.c - a region for a library's start-up blocks (see td_arena.h). */
#include "td_arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

/* LeakSanitizer looks for pointers to heap blocks in globals, stacks and
 * other heap blocks, not in a mapping of ours: a block the arena's owner
 * malloc'd later and hangs on its tables (nDPI's caches, made as flows
 * need them) would be reported as leaked. Under ASan the region is one of
 * its roots. */
#if defined(__SANITIZE_ADDRESS__)
#define TD_ARENA_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TD_ARENA_LSAN 1
#endif
#endif
#ifdef TD_ARENA_LSAN
#include <sanitizer/lsan_interface.h>
#endif

/* Transparent huge pages come in 2 MiB pages on x86-64 and arm64; the
 * region starts on that boundary so that the kernel can use them. */
#define HUGE_PAGE ((size_t)2 << 20)

struct td_arena {
	void *map;      /* the mapping, for munmap */
	size_t map_len;
	uintptr_t base; /* the first block: map rounded up to HUGE_PAGE */
	size_t cap;     /* bytes from base */
	size_t used;
};

struct td_arena *td_arena_new(size_t cap)
{
	struct td_arena *a;

	if (cap == 0 || cap > SIZE_MAX / 2 - HUGE_PAGE)
		return NULL;
	a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	a->map_len = cap + HUGE_PAGE;
	/* MAP_NORESERVE: address space only; a page is taken when first
	 * written, as with malloc */
	a->map = mmap(NULL, a->map_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (a->map == MAP_FAILED) {
		free(a);
		return NULL;
	}
	a->base = ((uintptr_t)a->map + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	a->cap = cap;
#ifdef MADV_HUGEPAGE
	/* a hint: refused (no THP in this kernel, or "never"), the arena
	 * still works on 4 KiB pages */
	(void)madvise((void *)a->base, cap, MADV_HUGEPAGE);
#endif
#ifdef TD_ARENA_LSAN
	__lsan_register_root_region((void *)a->base, cap);
#endif
	return a;
}

void td_arena_free(struct td_arena *a)
{
	if (!a)
		return;
#ifdef TD_ARENA_LSAN
	__lsan_unregister_root_region((void *)a->base, a->cap);
#endif
	munmap(a->map, a->map_len);
	free(a);
}

void *td_arena_alloc(struct td_arena *a, size_t n)
{
	size_t len;
	void *p;

	if (n == 0 || n > a->cap - a->used)
		return NULL;
	len = (n + TD_ARENA_ALIGN - 1) & ~(size_t)(TD_ARENA_ALIGN - 1);
	if (len > a->cap - a->used) /* n fits, its padding may not */
		len = a->cap - a->used;
	p = (void *)(a->base + a->used);
	a->used += len;
	return p; /* zero: a fresh anonymous mapping, never handed out twice */
}

bool td_arena_owns(const struct td_arena *a, const void *p)
{
	uintptr_t u = (uintptr_t)p;

	return a && u >= a->base && u - a->base < a->cap;
}

size_t td_arena_used(const struct td_arena *a)
{
	return a->used;
}
