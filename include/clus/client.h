/*
 * clus/client.h - libclus-client: drive a clus-agent from C.
 *
 * One clus_client is one connection (nng REQ over tcp://, ipc:// or
 * tls+tcp://). It is safe to use from several threads at once. Every call
 * returns a Win32 status code (0 success, 997 pending, 5007 no such
 * resource, ...) and, unless reply is NULL, a clus_reply that holds the
 * status, a sentence for people and what the call returns. Transport
 * failures are codes too: 5051 (no agent there), 1460 (no answer in time).
 *
 *   clus_client *c;
 *   clus_reply *r;
 *   if (clus_client_connect("tcp://127.0.0.1:7700", NULL, &c, err, sizeof err) == 0) {
 *       uint32_t st = clus_online(c, "web", 0, true, &r);
 *       if (st == 997)
 *           st = clus_wait(c, "web", clus_reply_seq(r), 30000, NULL);
 *       clus_reply_free(r);
 *       clus_client_close(c);
 *   }
 */
#ifndef CLUS_CLIENT_H
#define CLUS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clus_client clus_client;
typedef struct clus_reply clus_reply;

typedef struct clus_client_options {
    uint32_t timeout_ms; /* per call, and for the first connection; default 10000 */
    bool lazy_connect;   /* do not fail when nobody listens yet; keep dialling */
    /* tls+tcp:// (mutual TLS, docs/security.md): PEM files of the cluster CA
     * (required there) and of this client's certificate (OU=admin or
     * OU=reader) and key. A refused handshake fails the connect with 5051
     * and the reason in err. Ignored for other URLs. */
    const char *tls_ca;
    const char *tls_cert;
    const char *tls_key;
} clus_client_options;

uint32_t clus_client_connect(const char *url, const clus_client_options *options, clus_client **out,
                             char *err, size_t errlen);
void clus_client_close(clus_client *client);

/* params: NULL-terminated "key=value" strings (may be NULL). */
uint32_t clus_open(clus_client *c, const char *name, const char *type, const char *const *params,
                   uint32_t open_flags, bool v2, clus_reply **reply);
uint32_t clus_close_resource(clus_client *c, const char *name, clus_reply **reply);
/* v2 selects OnlineV2/OfflineV2 (flags must be 0 otherwise). */
uint32_t clus_online(clus_client *c, const char *name, uint32_t flags, bool v2, clus_reply **reply);
uint32_t clus_offline(clus_client *c, const char *name, uint32_t flags, const char *destination,
                      bool v2, clus_reply **reply);
uint32_t clus_terminate(clus_client *c, const char *name, clus_reply **reply);
uint32_t clus_looks_alive(clus_client *c, const char *name, clus_reply **reply);
/* cached: the last polled result instead of a call into the type. */
uint32_t clus_is_alive(clus_client *c, const char *name, bool cached, clus_reply **reply);
uint32_t clus_arbitrate(clus_client *c, const char *name, clus_reply **reply);
uint32_t clus_release(clus_client *c, const char *name, clus_reply **reply);
uint32_t clus_cancel(clus_client *c, const char *name, clus_reply **reply);

enum clus_control_mode {
    CLUS_CONTROL_SYNC,         /* ResourceControl / ResourceTypeControl */
    CLUS_CONTROL_BEGIN,        /* Begin*: 997 + call id, result by event */
    CLUS_CONTROL_BEGIN_AS_USER /* Begin*AsUser: also names a local user */
};

/* props: NULL-terminated "key=value" strings for SET/VALIDATE codes. */
uint32_t clus_resource_control(clus_client *c, const char *name, uint32_t code,
                               const char *const *props, const void *in, size_t in_len,
                               enum clus_control_mode mode, const char *user, clus_reply **reply);
uint32_t clus_type_control(clus_client *c, const char *type, uint32_t code,
                           enum clus_control_mode mode, const char *user, clus_reply **reply);

uint32_t clus_state(clus_client *c, const char *name, clus_reply **reply);
uint32_t clus_status(clus_client *c, clus_reply **reply); /* the agent and every resource */
uint32_t clus_types(clus_client *c, clus_reply **reply);
uint32_t clus_startup(clus_client *c, const char *type, uint32_t min_version, uint32_t max_version,
                      bool ex, clus_reply **reply);
uint32_t clus_load_plugin(clus_client *c, const char *path, clus_reply **reply);
uint32_t clus_lease(clus_client *c, const char *holder, uint32_t ttl_ms, uint64_t epoch,
                    clus_reply **reply);

/* Events newer than after_seq (of one resource, or all with NULL), waiting
 * up to wait_ms for the first. */
uint32_t clus_watch(clus_client *c, uint64_t after_seq, uint64_t boot_id, uint32_t wait_ms,
                    const char *resource, clus_reply **reply);

/* Waits until name leaves OnlinePending/OfflinePending (events after
 * after_seq, e.g. clus_reply_seq() of the Online's reply), at most
 * timeout_ms. Returns the status of the completion (0 when it ended Online
 * or Offline) and, in *reply, the resource as it then is. */
uint32_t clus_wait(clus_client *c, const char *name, uint64_t after_seq, uint32_t timeout_ms,
                   clus_reply **reply);

/* Waits for the EVENT_CONTROL_DONE of a Begin* call. */
uint32_t clus_wait_control(clus_client *c, uint64_t call_id, uint64_t after_seq,
                           uint32_t timeout_ms, clus_reply **reply);

/* ---- replies */
uint32_t clus_reply_status(const clus_reply *r);
const char *clus_reply_message(const clus_reply *r);
const char *clus_reply_resource(const clus_reply *r); /* NULL when not about one */
int clus_reply_state(const clus_reply *r);            /* -1 when not about one */
bool clus_reply_alive(const clus_reply *r);           /* LooksAlive/IsAlive */
uint64_t clus_reply_seq(const clus_reply *r);         /* the resource's last event */
uint64_t clus_reply_call_id(const clus_reply *r);     /* Begin* calls */
/* The whole reply as one JSON object (malloc'ed; free()). At least
 * status, status_name, message; with a resource also resource, state
 * (name) and state_value. */
char *clus_reply_json(const clus_reply *r, bool pretty);
void clus_reply_free(clus_reply *r);

/* Names for numbers. */
const char *clus_state_to_name(int state);
const char *clus_status_to_name(uint32_t status);

#ifdef __cplusplus
}
#endif

#endif
