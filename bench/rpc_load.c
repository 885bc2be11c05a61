/*
 * rpc_load.c - the load generator: N client threads, each with its own REQ
 * socket and connection, send the same request back to back for a while and
 * time every round trip. The request is a packed clus.v1 IsAlive (or State)
 * call; against the echo server the very same bytes come back.
 *
 *   bench-rpc-load URL CALL RESOURCE CLIENTS SECONDS
 *     CALL: is-alive | is-alive-cached | state | status
 * Prints one line: clients=N calls=N rps=N p50_us=N p99_us=N errors=N
 */
#include "clock.h"
#include "clus/v1/clus.pb-c.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SAMPLES 4000000

struct load {
    const char *url;
    uint8_t frame[256];
    size_t len;
    uint64_t until_us;
    uint32_t *samples; /* shared, indexed by an atomic counter */
    unsigned long count;
    unsigned long errors;
    size_t reply_bytes;
    pthread_mutex_t lock;
};

static size_t build_request(const char *call, const char *resource, uint8_t *out)
{
    Clus__V1__Request req = CLUS__V1__REQUEST__INIT;
    Clus__V1__IsAliveCall ia = CLUS__V1__IS_ALIVE_CALL__INIT;
    Clus__V1__ResourceRef ref = CLUS__V1__RESOURCE_REF__INIT;
    Clus__V1__AgentStatusCall st = CLUS__V1__AGENT_STATUS_CALL__INIT;

    req.request_id = 1;
    ia.resource = ref.resource = (char *)resource;
    if (strncmp(call, "is-alive", 8) == 0) {
        ia.cached = strcmp(call, "is-alive-cached") == 0;
        req.call_case = CLUS__V1__REQUEST__CALL_IS_ALIVE;
        req.is_alive = &ia;
    } else if (strcmp(call, "state") == 0) {
        req.call_case = CLUS__V1__REQUEST__CALL_STATE;
        req.state = &ref;
    } else {
        req.call_case = CLUS__V1__REQUEST__CALL_STATUS;
        req.status = &st;
    }
    return clus__v1__request__pack(&req, out);
}

static void *client_thread(void *arg)
{
    struct load *l = arg;
    nng_socket sock;
    uint32_t local[4096];
    size_t n = 0, last_rlen = 0;
    unsigned long errors = 0;

    if (nng_req0_open(&sock) != 0 || nng_dial(sock, l->url, NULL, 0) != 0) {
        pthread_mutex_lock(&l->lock);
        l->errors++;
        pthread_mutex_unlock(&l->lock);
        return NULL;
    }
    nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, 5000);
    while (clus_mono_us() < l->until_us) {
        uint64_t t0 = clus_mono_us();
        void *reply = NULL;
        size_t rlen = 0;
        if (nng_send(sock, l->frame, l->len, 0) != 0 ||
            nng_recv(sock, &reply, &rlen, NNG_FLAG_ALLOC) != 0) {
            errors++;
            continue;
        }
        last_rlen = rlen; /* the same for every reply of one call */
        nng_free(reply, rlen);
        local[n++] = (uint32_t)(clus_mono_us() - t0);
        if (n == 4096 || clus_mono_us() >= l->until_us) {
            pthread_mutex_lock(&l->lock);
            for (size_t i = 0; i < n && l->count < MAX_SAMPLES; i++)
                l->samples[l->count++] = local[i];
            pthread_mutex_unlock(&l->lock);
            n = 0;
        }
    }
    pthread_mutex_lock(&l->lock);
    for (size_t i = 0; i < n && l->count < MAX_SAMPLES; i++)
        l->samples[l->count++] = local[i];
    l->errors += errors;
    if (last_rlen > 0)
        l->reply_bytes = last_rlen;
    pthread_mutex_unlock(&l->lock);
    nng_close(sock);
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    struct load l = {0};
    int clients;
    double seconds;
    pthread_t *threads;
    uint64_t start;

    if (argc != 6) {
        fprintf(stderr, "usage: bench-rpc-load URL CALL RESOURCE CLIENTS SECONDS\n");
        return 2;
    }
    l.url = argv[1];
    clients = atoi(argv[4]);
    seconds = atof(argv[5]);
    l.len = build_request(argv[2], argv[3], l.frame);
    l.samples = malloc(MAX_SAMPLES * sizeof(*l.samples));
    threads = calloc((size_t)clients, sizeof(*threads));
    pthread_mutex_init(&l.lock, NULL);
    start = clus_mono_us();
    l.until_us = start + (uint64_t)(seconds * 1e6);
    for (int i = 0; i < clients; i++)
        pthread_create(&threads[i], NULL, client_thread, &l);
    for (int i = 0; i < clients; i++)
        pthread_join(threads[i], NULL);
    qsort(l.samples, l.count, sizeof(*l.samples), cmp_u32);
    printf("clients=%d calls=%lu rps=%.0f p50_us=%u p99_us=%u errors=%lu bytes=%zu "
           "reply_bytes=%zu\n",
           clients, l.count, l.count / ((clus_mono_us() - start) / 1e6),
           l.count ? l.samples[l.count / 2] : 0, l.count ? l.samples[l.count * 99 / 100] : 0,
           l.errors, l.len, l.reply_bytes);
    free(l.samples);
    free(threads);
    return l.errors > 0 && l.count == 0;
}
