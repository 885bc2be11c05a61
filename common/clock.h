/*
 * clock.h - time for clus. Every timeout, lease and interval is measured on
 * the monotonic clock; the wall clock is only for people (event timestamps).
 */
#ifndef CLUS_CLOCK_H
#define CLUS_CLOCK_H

#include <stdint.h>
#include <time.h>

uint64_t clus_mono_ms(void); /* CLOCK_MONOTONIC in milliseconds */
uint64_t clus_mono_us(void); /* CLOCK_MONOTONIC in microseconds */
uint64_t clus_wall_ms(void); /* CLOCK_REALTIME in milliseconds since the epoch */

/* CLOCK_MONOTONIC ms from now, as pthread_cond_timedwait takes it (on a
 * condition variable set to that clock: the wall clock may jump). */
struct timespec clus_mono_deadline(uint32_t ms);

#endif
