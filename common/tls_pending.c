/*
 * tls_pending.c - deadlines for TLS handshakes (see tls_engine.h): a list
 * in deadline order (every handshake gets the same bound, so appending
 * keeps it sorted) and one reaper thread that closes what expired.
 *
 * Lock order: a connection's nng lock, then pending_lock (the engine's ops
 * run under the former and call in here). The reaper therefore never holds
 * pending_lock while it ends a connection; the victim's memory stays
 * valid meanwhile because clus_tls_pending_fini waits while it is marked
 * evicting.
 */
#include "tls_engine.h"

#include "clock.h"

#include <nng/nng.h>

#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pending_wake = PTHREAD_COND_INITIALIZER;  /* the reaper: work to do */
static pthread_cond_t pending_freed = PTHREAD_COND_INITIALIZER; /* fini: an eviction ended */
static clus_tls_pending *pending_head, *pending_tail;
static size_t pending_count;
static bool reaper_running;

/* Under pending_lock. */
static void pending_unlink(clus_tls_pending *p)
{
    if (p->prev != NULL)
        p->prev->next = p->next;
    else
        pending_head = p->next;
    if (p->next != NULL)
        p->next->prev = p->prev;
    else
        pending_tail = p->prev;
    p->prev = p->next = NULL;
    p->listed = false;
    pending_count--;
}

/* Under pending_lock: the next connection to close (unlinked and marked),
 * or NULL. */
static clus_tls_pending *pending_victim(uint64_t now)
{
    clus_tls_pending *p = pending_head;

    if (p == NULL || (p->deadline_ms > now && pending_count <= CLUS_TLS_PENDING_MAX))
        return NULL;
    pending_unlink(p);
    p->evicting = true;
    return p;
}

/* nng's address as the kernel's, for comparison. false for other families. */
static bool sockaddr_of(const nng_sockaddr *in, struct sockaddr_storage *out, socklen_t *len)
{
    memset(out, 0, sizeof(*out));
    if (in->s_family == NNG_AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)out;
        sin->sin_family = AF_INET;
        sin->sin_port = in->s_in.sa_port;
        memcpy(&sin->sin_addr, &in->s_in.sa_addr, sizeof(sin->sin_addr));
        *len = sizeof(*sin);
        return true;
    }
    if (in->s_family == NNG_AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = in->s_in6.sa_port;
        memcpy(&sin6->sin6_addr, in->s_in6.sa_addr, sizeof(sin6->sin6_addr));
        sin6->sin6_scope_id = in->s_in6.sa_scope;
        *len = sizeof(*sin6);
        return true;
    }
    return false;
}

/* True when fd is a socket with exactly these two ends. */
static bool socket_is(int fd, const struct sockaddr_storage *local, socklen_t local_len,
                      const struct sockaddr_storage *remote, socklen_t remote_len)
{
    struct sockaddr_storage a;
    socklen_t len = sizeof(a);

    if (getsockname(fd, (struct sockaddr *)&a, &len) != 0 || len != local_len ||
        memcmp(&a, local, len) != 0)
        return false;
    len = sizeof(a);
    return getpeername(fd, (struct sockaddr *)&a, &len) == 0 && len == remote_len &&
           memcmp(&a, remote, len) == 0;
}

/* Shuts down the process's TCP socket with these ends (if it still has
 * one): nng then sees a peer that hung up. The descriptor stays nng's. */
static void socket_shutdown(const nng_sockaddr *local, const nng_sockaddr *remote)
{
    struct sockaddr_storage l, r;
    socklen_t llen, rlen;
    DIR *dir;
    struct dirent *e;

    if (!sockaddr_of(local, &l, &llen) || !sockaddr_of(remote, &r, &rlen) ||
        (dir = opendir("/proc/self/fd")) == NULL)
        return;
    while ((e = readdir(dir)) != NULL) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (*end != '\0' || end == e->d_name || fd == dirfd(dir))
            continue;
        if (socket_is((int)fd, &l, llen, &r, rlen)) {
            shutdown((int)fd, SHUT_RDWR);
            break;
        }
    }
    closedir(dir);
}

static void pending_evict(clus_tls_pending *p, uint64_t now)
{
    char text[384];

    if (p->deadline_ms <= now)
        snprintf(text, sizeof(text),
                 "closed the connection with %s: its TLS handshake did not finish within %d s "
                 "(a stopped, overloaded or silent peer?)",
                 p->what, CLUS_TLS_HANDSHAKE_MS / 1000);
    else
        snprintf(text, sizeof(text),
                 "closed the connection with %s: more than %d TLS handshakes were pending", p->what,
                 CLUS_TLS_PENDING_MAX);
    clus_tls_engine_refusal(text);
    socket_shutdown(&p->local, &p->remote);
    pthread_mutex_lock(&pending_lock);
    p->evicting = false;
    pthread_cond_broadcast(&pending_freed);
    pthread_mutex_unlock(&pending_lock);
}

/* Wakes when told or every second; closes whatever is due. Runs for the
 * life of the process. */
static void *pending_reaper(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&pending_lock);
    for (;;) {
        struct timespec until;
        clus_tls_pending *victim;
        uint64_t now = clus_mono_ms();

        while ((victim = pending_victim(now)) != NULL) {
            pthread_mutex_unlock(&pending_lock);
            pending_evict(victim, now);
            pthread_mutex_lock(&pending_lock);
        }
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&pending_wake, &pending_lock, &until);
    }
    return NULL;
}

/* Under pending_lock. */
static bool reaper_start(void)
{
    pthread_attr_t attr;
    pthread_t thread;

    if (reaper_running)
        return true;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    reaper_running = pthread_create(&thread, &attr, pending_reaper, NULL) == 0;
    pthread_attr_destroy(&attr);
    return reaper_running;
}

bool clus_tls_pending_add(clus_tls_pending *p, const char *what)
{
    bool listed;

    snprintf(p->what, sizeof(p->what), "%s", what);
    p->deadline_ms = clus_mono_ms() + CLUS_TLS_HANDSHAKE_MS;
    pthread_mutex_lock(&pending_lock);
    listed = reaper_start();
    if (listed) {
        p->prev = pending_tail;
        p->next = NULL;
        if (pending_tail != NULL)
            pending_tail->next = p;
        else
            pending_head = p;
        pending_tail = p;
        p->listed = true;
        if (++pending_count > CLUS_TLS_PENDING_MAX)
            pthread_cond_signal(&pending_wake);
    }
    pthread_mutex_unlock(&pending_lock);
    return listed;
}

void clus_tls_pending_done(clus_tls_pending *p)
{
    pthread_mutex_lock(&pending_lock);
    if (p->listed)
        pending_unlink(p);
    pthread_mutex_unlock(&pending_lock);
}

void clus_tls_pending_fini(clus_tls_pending *p)
{
    pthread_mutex_lock(&pending_lock);
    while (p->evicting)
        pthread_cond_wait(&pending_freed, &pending_lock);
    if (p->listed)
        pending_unlink(p);
    pthread_mutex_unlock(&pending_lock);
}
