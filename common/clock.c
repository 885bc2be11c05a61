#include "clock.h"

#include <time.h>

static uint64_t clock_read_us(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t clus_mono_ms(void)
{
    return clock_read_us(CLOCK_MONOTONIC) / 1000u;
}

uint64_t clus_mono_us(void)
{
    return clock_read_us(CLOCK_MONOTONIC);
}

uint64_t clus_wall_ms(void)
{
    return clock_read_us(CLOCK_REALTIME) / 1000u;
}

struct timespec clus_mono_deadline(uint32_t ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}
