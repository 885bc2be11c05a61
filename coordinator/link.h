/*
 * link.h - the coordinator's connection to one agent.
 *
 * Agent calls are synchronous (common/rpc_client), so each link runs small
 * workers ("lanes"), each one thread with its own REQ connection and a
 * locked queue, so that no agent call ever blocks the loop and a slow lane
 * never delays another:
 *   LEASE - lease renewals and liveness probes (must never wait behind
 *           anything else: a late renewal fences the agent);
 *   WATCH - the long-poll for the agent's events;
 *   OPS   - Open/Online/Offline/Terminate and full status reads, in order.
 * Results come back to the loop thread through one uv_async per link; the
 * callback runs there. Only the queues are locked; no coordinator state is
 * touched off the loop.
 */
#ifndef CLUS_COORD_LINK_H
#define CLUS_COORD_LINK_H

#include "clus/v1/clus.pb-c.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct clus_link clus_link;

enum clus_lane { CLUS_LANE_LEASE, CLUS_LANE_WATCH, CLUS_LANE_OPS, CLUS_LANE_COUNT };

/* Runs on the loop thread: status 0 with the agent's response (valid during
 * the callback only; its own status is inside), or a transport error with
 * resp NULL: 5051 the call was never sent (no connection in time, or it
 * waited too long in the queue), 1460 sent and no answer in time (the
 * agent may have it), 87 the answer did not decode. The lease logic relies
 * on 5051 and 995 meaning "never sent" (nodes.c). */
typedef void (*clus_link_done_fn)(void *arg, uint32_t status, const Clus__V1__Response *resp);

/* Starts the lanes (they dial url in the background). Call on the loop. */
uint32_t clus_link_new(uv_loop_t *loop, const char *url, clus_link **out, char *err, size_t errlen);

/* Packs req (on the calling loop thread, so req may point at loop-owned
 * data) and queues it on lane. done(arg, ...) is called exactly once on the
 * loop (995 if the link is freed first). A call still queued after
 * timeout_ms is answered 5051 without being sent. */
void clus_link_call(clus_link *link, enum clus_lane lane, Clus__V1__Request *req,
                    uint32_t timeout_ms, clus_link_done_fn done, void *arg);

/* Calls queued or running on a lane (for back-pressure). */
size_t clus_link_pending(const clus_link *link, enum clus_lane lane);

/* Tells the lanes to stop after the call each is making (does not wait):
 * stop every link first, then free them, and the waits overlap. */
void clus_link_stop(clus_link *link);

/* Stops the lanes: waits for calls in flight to end (bounded by their
 * timeouts); calls not delivered yet get their callback now, with 995 and
 * no response (so that callbacks can free what they carry). The memory goes
 * once the uv handle has closed. Call on the loop. */
void clus_link_free(clus_link *link);

#endif
