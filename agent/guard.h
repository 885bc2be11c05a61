/*
 * guard.h - the lease guard of `process` resources.
 *
 * A process started by the agent runs in a session of its own, so that it
 * survives an agent restart and can be adopted. The price: if the agent dies
 * (kill -9) while it holds a coordinator's lease, nobody would fence the
 * process when that lease runs out, and the coordinator - which re-homes the
 * resource exactly then - would have it running twice. So the command runs
 * under a guard: `clus-agent --guard LEASEFILE FENCE -- /bin/sh -c CMD`, the
 * session leader, which waits for the command and, while FENCE is 1, kills
 * the whole session the moment the lease written in LEASEFILE has expired.
 *
 * The lease file ("<state-dir>/lease") holds one line: "unbound", or
 * "bound EXPIRES" with EXPIRES in CLOCK_MONOTONIC milliseconds (one clock for
 * every process of the machine). The agent rewrites it atomically on every
 * grant, renewal and release; a missing file means unbound.
 */
#ifndef CLUS_AGENT_GUARD_H
#define CLUS_AGENT_GUARD_H

#include <stdbool.h>
#include <stdint.h>

/* Writes the lease file (atomically: temporary file + rename). */
int clus_guard_write_lease(const char *path, bool bound, uint64_t expires_mono_ms);

/* Reads it: 1 bound (expiry in *expires), 0 unbound or missing, -1 unreadable. */
int clus_guard_read_lease(const char *path, uint64_t *expires_mono_ms);

/* The guard itself (argv after "--guard"): LEASEFILE FENCE -- PROGRAM ARGS...
 * Returns the command's exit status (128+signal when killed). */
int clus_guard_main(int argc, char **argv);

#endif
