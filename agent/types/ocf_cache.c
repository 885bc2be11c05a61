/*
 * ocf_cache.c - each agent's meta-data, run once and kept.
 *
 * The meta-data of an agent depends on the agent file only, so it is run
 * (a bounded blocking run, see ocf_sync.c) the first time an agent is
 * opened or asked about, and kept while the file stays the same (device,
 * inode, size, mtime and ctime unchanged). A failure is not kept: the next
 * Open runs it again, so fixing the agent needs no agent restart. At most
 * CACHE_MAX agents are kept; the least recently used is dropped.
 *
 * Loop thread only (no locking).
 */
#include "ocf_internal.h"

#include "status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CACHE_MAX 64

struct cache_entry {
    char path[OCF_PATH_MAX];
    struct stat st;
    char *xml;
    size_t xml_len;
    struct ocf_meta *meta;
    uint64_t used;
};

static struct cache_entry *cache[CACHE_MAX];
static uint64_t cache_tick;

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static void entry_free(struct cache_entry *e)
{
    if (e == NULL)
        return;
    ocf_meta_free(e->meta);
    free(e->xml);
    free(e);
}

void ocf_meta_cache_clear(void)
{
    for (size_t i = 0; i < CACHE_MAX; i++) {
        entry_free(cache[i]);
        cache[i] = NULL;
    }
}

/* The slot for path: its entry, else an empty slot, else the least used. */
static size_t cache_slot(const char *path)
{
    size_t free_slot = CACHE_MAX, oldest = 0;

    for (size_t i = 0; i < CACHE_MAX; i++) {
        if (cache[i] == NULL) {
            if (free_slot == CACHE_MAX)
                free_slot = i;
            continue;
        }
        if (strcmp(cache[i]->path, path) == 0)
            return i;
        if (cache[oldest] == NULL || cache[i]->used < cache[oldest]->used)
            oldest = i;
    }
    return free_slot < CACHE_MAX ? free_slot : oldest;
}

/* Why a finished meta-data run is no good, or 0. */
static uint32_t run_verdict(const struct ocf_sync *run, const char *agent, char *err, size_t errlen)
{
    char what[200], reason[OCF_LOG_LINE_MAX + 4];
    uint32_t status = ocf_result_status(&run->result);

    if (status == CLUS_OK && run->out.len == 0) {
        snprintf(err, errlen, "agent %s printed no meta-data", agent);
        return CLUS_E_REVISION_MISMATCH;
    }
    if (status == CLUS_OK)
        return CLUS_OK;
    if (run->result.overflow) {
        snprintf(err, errlen, "agent %s printed more than %d bytes of meta-data: stopped", agent,
                 OCF_META_MAX);
        return status;
    }
    ocf_result_describe(&run->result, OCF_SYNC_MAX_MS, what, sizeof(what));
    ocf_exit_reason(&run->err, reason, sizeof(reason));
    snprintf(err, errlen, "agent %s: meta-data %s%s%s", agent, what, *reason ? ": " : "", reason);
    return status;
}

/* Runs meta-data and parses it into a new entry. */
static uint32_t cache_fill(const char *root, const char *provider, const char *type,
                           const char *path, struct cache_entry **out, char *err, size_t errlen)
{
    struct ocf_identity id = {root, provider, type, NULL, NULL};
    char agent[2 * OCF_PART_MAX + 2], perr[300];
    struct cache_entry *e = calloc(1, sizeof(*e));
    struct ocf_env env;
    struct ocf_sync run;
    uint32_t status;

    snprintf(agent, sizeof(agent), "%s:%s", provider, type);
    if (e == NULL || ocf_env_base(&env, &id, NULL) != CLUS_OK) {
        free(e);
        snprintf(err, errlen, "out of memory");
        return CLUS_E_NOT_ENOUGH_MEMORY;
    }
    ocf_env_action(&env, OCF_SYNC_MAX_MS, 0, -1);
    status = ocf_run_sync(path, "meta-data", env.vars, OCF_SYNC_MAX_MS, OCF_META_MAX, true, &run);
    ocf_env_free(&env);
    status = status != CLUS_OK ? status : run_verdict(&run, agent, err, errlen);
    if (run.result.spawn_status != CLUS_OK)
        snprintf(err, errlen, "cannot run %s meta-data: %s", path, clus_status_text(status));
    if (status == CLUS_OK && (status = ocf_meta_parse(run.out.buf, run.out.len, &e->meta, perr,
                                                      sizeof(perr))) != CLUS_OK)
        snprintf(err, errlen, "agent %s: %s", agent, perr);
    if (status != CLUS_OK) {
        ocf_sync_free(&run);
        entry_free(e);
        return status;
    }
    e->xml = run.out.buf; /* the entry takes the buffer */
    e->xml_len = run.out.len;
    run.out.buf = NULL;
    ocf_sync_free(&run);
    *out = e;
    return CLUS_OK;
}

uint32_t ocf_meta_get(const char *root, const char *provider, const char *type, const char *path,
                      const struct ocf_meta **meta, const char **xml, size_t *xml_len, char *err,
                      size_t errlen)
{
    struct cache_entry *fresh;
    struct stat st;
    size_t slot;
    uint32_t status;

    if (stat(path, &st) != 0) {
        status = clus_status_from_errno(errno);
        snprintf(err, errlen, "agent %s:%s: %s: %s", provider, type, path, strerror(errno));
        return status;
    }
    slot = cache_slot(path);
    if (cache[slot] == NULL || strcmp(cache[slot]->path, path) != 0 ||
        !same_file(&cache[slot]->st, &st)) {
        if ((status = cache_fill(root, provider, type, path, &fresh, err, errlen)) != CLUS_OK)
            return status;
        snprintf(fresh->path, sizeof(fresh->path), "%s", path);
        fresh->st = st;
        entry_free(cache[slot]);
        cache[slot] = fresh;
    }
    cache[slot]->used = ++cache_tick;
    *meta = cache[slot]->meta;
    if (xml != NULL)
        *xml = cache[slot]->xml;
    if (xml_len != NULL)
        *xml_len = cache[slot]->xml_len;
    return CLUS_OK;
}
