/* td_time.h - packet timestamps (seconds and microseconds, UTC). */
#ifndef TD_TIME_H
#define TD_TIME_H

#include <stdint.h>

struct td_time {
	int64_t sec;
	/* 0..999999; a whole word, so that a copy of the struct is two
	 * word stores and loads */
	int64_t usec;
};

/* a - b in microseconds. */
static inline int64_t td_time_diff_us(struct td_time a, struct td_time b)
{
	return (a.sec - b.sec) * 1000000 + (a.usec - b.usec);
}

#endif
