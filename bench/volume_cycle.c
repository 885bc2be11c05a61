/*
 * volume_cycle.c - P8 as a program drives it: Online --wait and Offline
 * --wait of one resource through libclus-client, on one connection, the
 * way the coordinator (or an orchestration program) does it.
 *
 *   bench-volume-cycle URL NAME N
 *       prints one line per cycle: the microseconds from the Online call
 *       to the end of the Offline, and exits 1 at the first cycle that does
 *       not end Online and then Offline.
 */
#include <clus/client.h>
#include <clus/restype.h>

#include "clock.h"
#include "status.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* Online or Offline, then the wait for its end; true when it ended in want. */
static bool step(clus_client *c, const char *name, bool online, int want)
{
    clus_reply *r = NULL, *done = NULL;
    uint32_t st =
        online ? clus_online(c, name, 0, false, &r) : clus_offline(c, name, 0, NULL, false, &r);
    bool ok;

    if (st == CLUS_E_IO_PENDING) {
        st = clus_wait(c, name, clus_reply_seq(r), 30000, &done);
        ok = st == CLUS_OK && clus_reply_state(done) == want;
    } else {
        ok = st == CLUS_OK && clus_reply_state(r) == want;
    }
    if (!ok)
        fprintf(stderr, "bench-volume-cycle: %s of %s: %u\n", online ? "online" : "offline", name,
                st);
    clus_reply_free(r);
    clus_reply_free(done);
    return ok;
}

int main(int argc, char **argv)
{
    clus_client *c;
    char err[256];
    long n = argc == 4 ? atol(argv[3]) : 0;

    if (n <= 0) {
        fprintf(stderr, "usage: bench-volume-cycle URL NAME N\n");
        return 2;
    }
    if (clus_client_connect(argv[1], NULL, &c, err, sizeof(err)) != CLUS_OK) {
        fprintf(stderr, "bench-volume-cycle: %s\n", err);
        return 1;
    }
    for (long i = 0; i < n; i++) {
        uint64_t t0 = clus_mono_us();
        if (!step(c, argv[2], true, CLUS_STATE_ONLINE) ||
            !step(c, argv[2], false, CLUS_STATE_OFFLINE)) {
            clus_client_close(c);
            return 1;
        }
        printf("%llu\n", (unsigned long long)(clus_mono_us() - t0));
        fflush(stdout);
    }
    clus_client_close(c);
    return 0;
}
