/* td_arena.h - one region for the many small blocks a library allocates
 * at start-up and keeps until it is torn down.
 *
 * nDPI 4.2 builds its protocol, host-name and IP-address tables in
 * ndpi_init_detection_module: tens of thousands of small blocks, 5 MB in
 * all, and a malloc and a page fault per 4 KiB page for them took a
 * quarter of a short run (then a free per block when the module is torn
 * down, which tlsdiag leaves to exit). An arena hands them out from one
 * mapping, in order, backed by huge pages where the kernel allows it
 * (MADV_HUGEPAGE); a block is never freed on its own, the whole region goes
 * with td_arena_free(). The caller falls back to malloc() when the arena is
 * full, and must not free() a block the arena owns (td_arena_owns()).
 */
#ifndef TD_ARENA_H
#define TD_ARENA_H

#include <stdbool.h>
#include <stddef.h>

/* Every block is aligned as malloc() aligns (16 bytes on x86-64). */
#define TD_ARENA_ALIGN 16

struct td_arena;

/* An arena of cap bytes at most (address space only, pages are taken as
 * blocks are handed out; cap > 0). NULL when the mapping fails. */
struct td_arena *td_arena_new(size_t cap);
/* Unmaps the region: every block it handed out goes with it. */
void td_arena_free(struct td_arena *a);

/* n bytes, zero-filled and aligned to TD_ARENA_ALIGN; NULL when fewer than
 * n bytes are left (the arena is unchanged, later smaller requests may
 * still fit) or n is 0. */
void *td_arena_alloc(struct td_arena *a, size_t n);
/* Whether p lies in the region a hands blocks out of. */
bool td_arena_owns(const struct td_arena *a, const void *p);
/* Bytes handed out so far, alignment included. */
size_t td_arena_used(const struct td_arena *a);

#endif
