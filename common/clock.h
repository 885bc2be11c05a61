/*
 * clock.h - time for clus. Every timeout, lease and interval is measured on
 * the monotonic clock; the wall clock is only for people (event timestamps).
 */
#ifndef CLUS_CLOCK_H
#define CLUS_CLOCK_H

#include <stdint.h>

uint64_t clus_mono_ms(void); /* CLOCK_MONOTONIC in milliseconds */
uint64_t clus_mono_us(void); /* CLOCK_MONOTONIC in microseconds */
uint64_t clus_wall_ms(void); /* CLOCK_REALTIME in milliseconds since the epoch */

#endif
