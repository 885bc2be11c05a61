/*
 * rpc_client.c - one REQ socket per client; every call opens its own nng
 * context on it. tls+tcp:// dials with clus's TLS configuration (tls.h).
 */
#include "rpc_client.h"
#include "clock.h"
#include "log.h"
#include "status.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* nng 1.5.2 also gives a dialer up for good when a server goes away during
 * the TLS negotiation at the wrong moment (the NNG_ECLOSED of a closed
 * stream reads as "dialer closed"; nng issue #1518): it never redials. A
 * TLS client that has had no connection for this long while a call fails
 * therefore replaces its dialer (which costs nothing when the old one was
 * merely still trying). */
#define REDIAL_IDLE_MS 5000

struct clus_rpc_client {
    nng_socket socket;
    atomic_uint_fast64_t next_id;
    char *url; /* for messages and a new dialer */
    /* tls+tcp:// only */
    nng_tls_config *tls_config;  /* held: for a new dialer */
    pthread_mutex_t redial_lock; /* guards dialer and redial_ms */
    nng_dialer dialer;
    uint64_t redial_ms;
    atomic_int pipes;                     /* connected now */
    atomic_uint_fast64_t pipes_change_ms; /* monotonic, last connect/disconnect */
};

/* Code and sentence for a failed dial; a TLS refusal seen during it is
 * named (the engine counts refusals: failures is the count before). */
static uint32_t dial_failed(const char *url, int rv, uint64_t failures, bool own_cert,
                            uint32_t connect_ms, char *err, size_t errlen)
{
    char why[512] = "";

    if (clus_url_is_tls(url) && clus_tls_failure_count() != failures)
        clus_tls_last_failure(why, sizeof(why));
    if (rv == NNG_ETIMEDOUT && connect_ms > 0) /* dialer_start's bound */
        snprintf(err, errlen,
                 "cannot connect to %s: no connection within %u ms (nothing answers there: a "
                 "host down, or a firewall dropping packets?)",
                 url, connect_ms);
    else if (why[0] != '\0')
        snprintf(err, errlen, "cannot connect to %s: TLS: %s", url, why);
    else if (clus_url_is_tls(url) && (rv == NNG_ECONNSHUT || rv == NNG_ECLOSED ||
                                      rv == NNG_ECONNRESET || rv == NNG_EPEERAUTH))
        /* The server ends a handshake it refuses, often without saying why
         * (mbed TLS sends no alert for a missing certificate). */
        snprintf(err, errlen,
                 "cannot connect to %s: the server ended the TLS handshake: it refused our "
                 "certificate (%s; its log says why)",
                 url,
                 own_cert ? "expired, revoked or of another CA?"
                          : "we sent none: give --tls-cert and --tls-key");
    else
        snprintf(err, errlen, "cannot connect to %s: %s", url, nng_strerror(rv));
    return rv == NNG_EADDRINVAL || rv == NNG_ENOTSUP || rv == NNG_EINVAL
               ? CLUS_E_INVALID_PARAMETER
               : CLUS_E_CLUSTER_NODE_UNREACHABLE;
}

/* nng's thread: a connection came or went. */
static void client_on_pipe(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
    clus_rpc_client *client = arg;

    (void)pipe;
    atomic_fetch_add(&client->pipes, ev == NNG_PIPE_EV_ADD_POST ? 1 : -1);
    atomic_store(&client->pipes_change_ms, clus_mono_ms());
}

/* After a failed call: a new dialer when the client has been without a
 * connection for REDIAL_IDLE_MS (see the top). Any thread. */
static void client_redial_if_idle(clus_rpc_client *client)
{
    uint64_t now = clus_mono_ms();
    nng_dialer dialer = NNG_DIALER_INITIALIZER;

    if (client->tls_config == NULL || atomic_load(&client->pipes) > 0 ||
        now - atomic_load(&client->pipes_change_ms) < REDIAL_IDLE_MS)
        return;
    pthread_mutex_lock(&client->redial_lock);
    if (now - client->redial_ms >= REDIAL_IDLE_MS) {
        client->redial_ms = now;
        nng_dialer_close(client->dialer);
        if (nng_dialer_create(&dialer, client->socket, client->url) == 0 &&
            nng_dialer_set_ptr(dialer, NNG_OPT_TLS_CONFIG, client->tls_config) == 0 &&
            nng_dialer_start(dialer, NNG_FLAG_NONBLOCK) == 0)
            client->dialer = dialer;
        clus_debug("rpc: %s: no connection for %d s: dialling anew", client->url,
                   REDIAL_IDLE_MS / 1000);
    }
    pthread_mutex_unlock(&client->redial_lock);
}

/* What the socket needs until nng_close has returned: freed then. */
static void client_release(clus_rpc_client *client)
{
    if (client->tls_config != NULL)
        nng_tls_config_free(client->tls_config);
    pthread_mutex_destroy(&client->redial_lock);
    free(client->url);
    free(client);
}

/* A thread that runs fn(arg) while its starter waits for it, at most so
 * long. If the starter gives up, the thread finishes alone and calls
 * abandon(arg) when fn returns: it then owns what fn uses. */
struct bounded_run {
    void (*fn)(void *);
    void (*abandon)(void *);
    void *arg;
    pthread_mutex_t lock; /* guards done and abandoned */
    pthread_cond_t done_cond;
    bool done, abandoned;
};

static void bounded_free(struct bounded_run *run)
{
    pthread_cond_destroy(&run->done_cond);
    pthread_mutex_destroy(&run->lock);
    free(run);
}

static void *bounded_main(void *p)
{
    struct bounded_run *run = p;
    bool abandoned;

    run->fn(run->arg);
    pthread_mutex_lock(&run->lock);
    run->done = true;
    abandoned = run->abandoned;
    pthread_cond_signal(&run->done_cond);
    pthread_mutex_unlock(&run->lock);
    if (abandoned) {
        run->abandon(run->arg);
        bounded_free(run);
    }
    return NULL;
}

/* Runs fn(arg) and waits up to wait_ms for it. True when it returned in
 * time (or ran here, when no thread could be had); false when it was left
 * behind to call abandon(arg) once it returns. */
static bool run_bounded(void (*fn)(void *), void (*abandon)(void *), void *arg, uint32_t wait_ms)
{
    struct bounded_run *run = calloc(1, sizeof(*run));
    pthread_condattr_t attr;
    struct timespec until;
    pthread_t thread;
    bool done;

    if (run == NULL) {
        fn(arg);
        return true;
    }
    *run = (struct bounded_run){.fn = fn, .abandon = abandon, .arg = arg};
    pthread_mutex_init(&run->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* the wall clock may jump */
    pthread_cond_init(&run->done_cond, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&thread, NULL, bounded_main, run) != 0) {
        bounded_free(run);
        fn(arg);
        return true;
    }
    until = clus_mono_deadline(wait_ms);
    pthread_mutex_lock(&run->lock);
    while (!run->done && pthread_cond_timedwait(&run->done_cond, &run->lock, &until) == 0)
        ;
    done = run->done;
    run->abandoned = !done;
    pthread_mutex_unlock(&run->lock);
    if (!done) {
        pthread_detach(thread);
        return false;
    }
    pthread_join(thread, NULL);
    bounded_free(run);
    return true;
}

/* nng 1.5.2's nng_close can wait for ever when the socket is closed while a
 * connection is being set up: seen after a peer dropped connection after
 * connection (a 16 MiB frame re-sent on each; tests/integration/
 * itest_agent_client.c), every nng thread idle and close waiting on a
 * reference nobody holds. A caller must not hang with it (clusctl at exit,
 * a coordinator stopping), so the close runs on a thread of its own; one
 * that has not returned within CLOSE_WAIT_MS is left behind, logged, and
 * frees the client if it ever returns. */
#define CLOSE_WAIT_MS 5000

static void client_close_socket(void *arg)
{
    clus_rpc_client *client = arg;

    nng_close(client->socket); /* no pipe callback after this */
}

static void client_release_abandoned(void *arg)
{
    client_release(arg);
}

static void client_free(clus_rpc_client *client)
{
    if (!run_bounded(client_close_socket, client_release_abandoned, client, CLOSE_WAIT_MS)) {
        clus_warn("rpc: closing the connection to %s did not finish in %d s (nng 1.5.2); left "
                  "behind",
                  client->url != NULL ? client->url : "its peer", CLOSE_WAIT_MS / 1000);
        return;
    }
    client_release(client);
}

/* nng's blocking dial returns when the first connection is up or refused;
 * for an address that drops packets that is after the kernel's SYN retries,
 * about two minutes. It runs on a thread of its own so that the caller
 * waits at most connect_ms; a dial left behind ends when the caller closes
 * the socket, which aborts it. */
struct dial_job {
    nng_dialer dialer;
    int rv;
};

static void dial_job_run(void *arg)
{
    struct dial_job *job = arg;

    job->rv = nng_dialer_start(job->dialer, 0);
}

/* Starts dialer: in the background (connect_ms 0), or waiting up to
 * connect_ms for the first connection (NNG_ETIMEDOUT when none came). */
static int dialer_start(nng_dialer dialer, uint32_t connect_ms)
{
    struct dial_job *job;
    int rv;

    if (connect_ms == 0)
        return nng_dialer_start(dialer, NNG_FLAG_NONBLOCK);
    if ((job = calloc(1, sizeof(*job))) == NULL)
        return NNG_ENOMEM;
    job->dialer = dialer;
    if (!run_bounded(dial_job_run, free, job, connect_ms))
        return NNG_ETIMEDOUT;
    rv = job->rv;
    free(job);
    return rv;
}

/* Dials url over mutual TLS with files, or the process identity when files
 * is NULL. The client keeps the configuration for a later new dialer. */
static uint32_t dial_tls(clus_rpc_client *client, const char *url, const clus_tls_files *files,
                         uint32_t connect_ms, char *err, size_t errlen)
{
    clus_tls_identity *own = NULL;
    const clus_tls_identity *id;
    bool has_cert;
    nng_tls_config *cfg = NULL;
    nng_dialer dialer = NNG_DIALER_INITIALIZER;
    uint64_t failures = clus_tls_failure_count();
    uint32_t status = CLUS_OK;
    int rv;

    if (files != NULL && (status = clus_tls_identity_load(files, false, &own, err, errlen)) != 0)
        return status;
    id = own != NULL ? own : clus_tls_process_identity();
    has_cert = clus_tls_identity_has_cert(id);
    status = clus_tls_config_client(id, url, &cfg, err, errlen);
    clus_tls_identity_free(own);
    if (status != CLUS_OK)
        return status;
    client->tls_config = cfg;
    atomic_store(&client->pipes_change_ms, clus_mono_ms());
    rv = nng_pipe_notify(client->socket, NNG_PIPE_EV_ADD_POST, client_on_pipe, client);
    if (rv == 0)
        rv = nng_pipe_notify(client->socket, NNG_PIPE_EV_REM_POST, client_on_pipe, client);
    if (rv == 0)
        rv = nng_dialer_create(&dialer, client->socket, url);
    if (rv == 0)
        rv = nng_dialer_set_ptr(dialer, NNG_OPT_TLS_CONFIG, cfg);
    if (rv == 0)
        rv = dialer_start(dialer, connect_ms);
    client->dialer = dialer;
    return rv == 0 ? CLUS_OK : dial_failed(url, rv, failures, has_cert, connect_ms, err, errlen);
}

uint32_t clus_rpc_client_open_tls(const char *url, uint32_t connect_ms, const clus_tls_files *files,
                                  clus_rpc_client **out, char *err, size_t errlen)
{
    clus_rpc_client *client = calloc(1, sizeof(*client));
    nng_dialer dialer;
    uint32_t status = CLUS_OK;
    int rv;

    if (client == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    pthread_mutex_init(&client->redial_lock, NULL);
    rv = nng_req0_open(&client->socket);
    if (rv == 0 && (client->url = strdup(url)) == NULL)
        rv = NNG_ENOMEM;
    if (rv == 0) {
        /* No silent re-sends: Online/Offline are not idempotent. */
        nng_socket_set_ms(client->socket, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
        nng_socket_set_ms(client->socket, NNG_OPT_RECONNMINT, 20);
        nng_socket_set_ms(client->socket, NNG_OPT_RECONNMAXT, 500);
        nng_socket_set_size(client->socket, NNG_OPT_RECVMAXSZ, 64u << 20);
        if (clus_url_is_tls(url))
            status = dial_tls(client, url, files, connect_ms, err, errlen);
        else if ((rv = nng_dialer_create(&dialer, client->socket, url)) != 0 ||
                 (rv = dialer_start(dialer, connect_ms)) != 0)
            status = dial_failed(url, rv, 0, false, connect_ms, err, errlen);
    } else {
        status = dial_failed(url, rv, 0, false, connect_ms, err, errlen);
    }
    if (status != CLUS_OK) {
        client_free(client);
        return status;
    }
    atomic_init(&client->next_id, ((uint64_t)rand() << 20) | 1);
    *out = client;
    return CLUS_OK;
}

uint32_t clus_rpc_client_open(const char *url, uint32_t connect_ms, clus_rpc_client **out,
                              char *err, size_t errlen)
{
    return clus_rpc_client_open_tls(url, connect_ms, NULL, out, err, errlen);
}

void clus_rpc_client_close(clus_rpc_client *client)
{
    if (client != NULL)
        client_free(client);
}

uint32_t clus_rpc_client_call_raw(clus_rpc_client *client, const void *frame, size_t len,
                                  void **reply, size_t *reply_len, uint32_t timeout_ms)
{
    /* One deadline for both halves: nng re-sends a handed request on a new
     * connection while the receive waits, and that must end by it too. */
    uint64_t deadline = clus_mono_ms() + timeout_ms, now;
    nng_ctx ctx;
    nng_aio *aio = NULL;
    nng_msg *msg = NULL;
    bool handed = false; /* the send completed: a connection took it */
    int rv = nng_ctx_open(&ctx, client->socket);

    if (rv != 0)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    rv = nng_aio_alloc(&aio, NULL, NULL);
    if (rv == 0)
        rv = nng_msg_alloc(&msg, len);
    if (rv == 0) {
        memcpy(nng_msg_body(msg), frame, len);
        nng_aio_set_timeout(aio, (nng_duration)timeout_ms);
        nng_aio_set_msg(aio, msg);
        nng_ctx_send(ctx, aio);
        nng_aio_wait(aio);
        rv = nng_aio_result(aio);
        if (rv != 0)
            nng_msg_free(msg);
        handed = rv == 0;
    }
    if (rv == 0 && (now = clus_mono_ms()) >= deadline)
        rv = NNG_ETIMEDOUT;
    if (rv == 0) {
        nng_aio_set_timeout(aio, (nng_duration)(deadline - now));
        nng_ctx_recv(ctx, aio);
        nng_aio_wait(aio);
        rv = nng_aio_result(aio);
    }
    if (rv == 0) {
        msg = nng_aio_get_msg(aio);
        *reply_len = nng_msg_len(msg);
        *reply = malloc(*reply_len ? *reply_len : 1);
        if (*reply != NULL)
            memcpy(*reply, nng_msg_body(msg), *reply_len);
        nng_msg_free(msg);
        rv = *reply == NULL ? NNG_ENOMEM : 0;
    }
    if (aio != NULL)
        nng_aio_free(aio);
    nng_ctx_close(ctx);
    if (rv != 0)
        client_redial_if_idle(client);
    if (rv == 0)
        return CLUS_OK;
    if (rv == NNG_ENOMEM)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    return handed ? CLUS_E_TIMEOUT : CLUS_E_CLUSTER_NODE_UNREACHABLE;
}

uint32_t clus_rpc_client_call(clus_rpc_client *client, Clus__V1__Request *req,
                              Clus__V1__Response **resp, uint32_t timeout_ms, char *err,
                              size_t errlen)
{
    size_t len, reply_len = 0;
    uint8_t *frame;
    void *reply = NULL;
    uint64_t started;
    uint32_t status;
    bool early;

    req->request_id = atomic_fetch_add(&client->next_id, 1);
    len = clus__v1__request__get_packed_size(req);
    frame = malloc(len ? len : 1);
    if (frame == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    clus__v1__request__pack(req, frame);
    started = clus_mono_ms();
    status = clus_rpc_client_call_raw(client, frame, len, &reply, &reply_len, timeout_ms);
    free(frame);
    /* a failure well before the deadline was not a wait running out */
    early = clus_mono_ms() - started + 50 < timeout_ms;
    if (status == CLUS_E_TIMEOUT) {
        if (early)
            snprintf(err, errlen, "the connection failed after the request was sent; no reply");
        else
            snprintf(err, errlen, "no reply within %u ms", timeout_ms);
        return status;
    }
    if (status == CLUS_E_CLUSTER_NODE_UNREACHABLE) {
        if (early)
            snprintf(err, errlen, "the request could not be sent: no connection to the peer");
        else
            snprintf(err, errlen,
                     "no connection to the peer within %u ms: the request was not sent",
                     timeout_ms);
        return status;
    }
    if (status != CLUS_OK) {
        snprintf(err, errlen, "%s", clus_status_text(status));
        return status;
    }
    *resp = clus__v1__response__unpack(NULL, reply_len, reply);
    free(reply);
    if (*resp == NULL) {
        snprintf(err, errlen, "the reply is not a valid clus.v1.Response message");
        return CLUS_E_INVALID_PARAMETER;
    }
    return CLUS_OK;
}
