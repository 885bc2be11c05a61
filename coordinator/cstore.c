/*
 * cstore.c - the coordinator's sqlite store (see cstore.h).
 */
#include "cstore.h"

#include "clock.h"
#include "log.h"
#include "status.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct clus_cstore {
    sqlite3 *db;
    bool same_boot;
};

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS node (name TEXT PRIMARY KEY, draining INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS resource (name TEXT PRIMARY KEY, desired INTEGER NOT NULL,"
    " owner TEXT NOT NULL, state INTEGER NOT NULL, restarts INTEGER NOT NULL,"
    " failovers INTEGER NOT NULL, failures INTEGER NOT NULL, phase INTEGER NOT NULL,"
    " retry_at INTEGER NOT NULL, retry_attempt INTEGER NOT NULL,"
    " restart_times TEXT NOT NULL, failover_times TEXT NOT NULL);";

/* ------------------------------------------------------------ helpers */

static uint32_t exec_sql(clus_cstore *s, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return CLUS_OK;
    clus_error("coordinator store: %s: %s", sql, msg ? msg : sqlite3_errmsg(s->db));
    sqlite3_free(msg);
    return CLUS_E_IO_DEVICE;
}

static uint32_t step_done(clus_cstore *s, sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);

    sqlite3_finalize(stmt);
    if (rc == SQLITE_DONE)
        return CLUS_OK;
    clus_error("coordinator store: %s", sqlite3_errmsg(s->db));
    return CLUS_E_IO_DEVICE;
}

static sqlite3_stmt *prepare(clus_cstore *s, const char *sql)
{
    sqlite3_stmt *stmt = NULL;

    if (sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        clus_error("coordinator store: %s: %s", sql, sqlite3_errmsg(s->db));
        return NULL;
    }
    return stmt;
}

static bool meta_get(clus_cstore *s, const char *key, char *out, size_t len)
{
    sqlite3_stmt *stmt = prepare(s, "SELECT value FROM meta WHERE key = ?1");
    bool found = false;

    if (stmt == NULL)
        return false;
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        snprintf(out, len, "%s", (const char *)sqlite3_column_text(stmt, 0));
        found = true;
    }
    sqlite3_finalize(stmt);
    return found;
}

static uint32_t meta_put(clus_cstore *s, const char *key, const char *value)
{
    sqlite3_stmt *stmt = prepare(s, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)");

    if (stmt == NULL)
        return CLUS_E_IO_DEVICE;
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, value, -1, SQLITE_STATIC);
    return step_done(s, stmt);
}

/* Durable writes: synchronous=FULL around them, NORMAL otherwise. Inside a
 * transaction (clus_cstore_begin) the level is the transaction's: sqlite
 * refuses to change it there, and the commit is what reaches the disk. */
static void set_durable(clus_cstore *s, bool durable)
{
    if (!sqlite3_get_autocommit(s->db))
        return;
    exec_sql(s, durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
}

uint32_t clus_cstore_begin(clus_cstore *s, bool durable)
{
    set_durable(s, durable);
    return exec_sql(s, "BEGIN");
}

uint32_t clus_cstore_commit(clus_cstore *s)
{
    uint32_t status = exec_sql(s, "COMMIT");

    set_durable(s, false);
    return status;
}

/* The kernel's boot id: monotonic times are comparable only within it. */
static void kernel_boot_id(char *out, size_t len)
{
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

    snprintf(out, len, "unknown");
    if (f != NULL) {
        if (fgets(out, (int)len, f) != NULL)
            out[strcspn(out, "\n")] = '\0';
        fclose(f);
    }
}

static void check_boot(clus_cstore *s)
{
    char now[64], stored[64];

    kernel_boot_id(now, sizeof(now));
    s->same_boot = meta_get(s, "kernel_boot_id", stored, sizeof(stored)) &&
                   strcmp(now, stored) == 0 && strcmp(now, "unknown") != 0;
    meta_put(s, "kernel_boot_id", now);
}

/* ------------------------------------------------------------ open */

uint32_t clus_cstore_open(const char *dir, clus_cstore **out, char *err, size_t errlen)
{
    clus_cstore *s = calloc(1, sizeof(*s));
    char path[PATH_MAX];

    if (s == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create the state directory %s: %s", dir, strerror(errno));
        free(s);
        return clus_status_from_errno(errno);
    }
    snprintf(path, sizeof(path), "%s/coordinator.db", dir);
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        sqlite3_busy_timeout(s->db, 2000) != SQLITE_OK || exec_sql(s, schema) != CLUS_OK) {
        snprintf(err, errlen, "state store %s: %s", path, sqlite3_errmsg(s->db));
        clus_cstore_close(s);
        return CLUS_E_ACCESS_DENIED;
    }
    check_boot(s);
    *out = s;
    return CLUS_OK;
}

void clus_cstore_close(clus_cstore *s)
{
    if (s == NULL)
        return;
    sqlite3_close(s->db);
    free(s);
}

bool clus_cstore_same_boot(const clus_cstore *s)
{
    return s->same_boot;
}

uint32_t clus_cstore_next_epoch(clus_cstore *s, uint64_t *epoch)
{
    char text[32];
    uint64_t e = 0;
    uint32_t status;

    if (meta_get(s, "epoch", text, sizeof(text)))
        e = strtoull(text, NULL, 10);
    /* Higher than any before, and than any instance that lost its store
     * started earlier (agents refuse leases of an older epoch for ever). The
     * wall clock only orders instances here; no time is measured with it. */
    *epoch = e + 1 > clus_wall_ms() ? e + 1 : clus_wall_ms();
    snprintf(text, sizeof(text), "%" PRIu64, *epoch);
    set_durable(s, true);
    status = meta_put(s, "epoch", text);
    set_durable(s, false);
    return status;
}

/* ------------------------------------------------------------ resources */

static void times_format(const uint64_t *times, size_t n, char *out, size_t len)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(out + used, len - used, "%s%" PRIu64, i ? "," : "", times[i]);
}

static size_t times_parse(const char *text, uint64_t *times)
{
    size_t n = 0;
    char *end;

    while (text != NULL && *text != '\0' && n < CLUS_POLICY_MAX_THRESHOLD) {
        times[n++] = strtoull(text, &end, 10);
        if (*end != ',')
            break;
        text = end + 1;
    }
    return n;
}

uint32_t clus_cstore_get_resource(clus_cstore *s, const char *name, clus_cstore_resource *r)
{
    sqlite3_stmt *stmt =
        prepare(s, "SELECT desired, owner, state, restarts, failovers, failures, phase, retry_at,"
                   " retry_attempt, restart_times, failover_times FROM resource WHERE name = ?1");
    uint32_t status = CLUS_E_NOT_FOUND;

    if (stmt == NULL)
        return CLUS_E_IO_DEVICE;
    memset(r, 0, sizeof(*r));
    sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        snprintf(r->name, sizeof(r->name), "%s", name);
        r->desired_online = sqlite3_column_int(stmt, 0) != 0;
        snprintf(r->owner, sizeof(r->owner), "%s", (const char *)sqlite3_column_text(stmt, 1));
        r->state = sqlite3_column_int(stmt, 2);
        r->policy.restarts = (uint32_t)sqlite3_column_int64(stmt, 3);
        r->policy.failovers = (uint32_t)sqlite3_column_int64(stmt, 4);
        r->policy.failures = (uint32_t)sqlite3_column_int64(stmt, 5);
        r->policy.phase = (enum clus_pol_phase)sqlite3_column_int(stmt, 6);
        r->policy.retry_at_ms = (uint64_t)sqlite3_column_int64(stmt, 7);
        r->policy.retry_attempt = sqlite3_column_int(stmt, 8) != 0;
        r->policy.n_restart_times =
            times_parse((const char *)sqlite3_column_text(stmt, 9), r->policy.restart_times);
        r->policy.n_failover_times =
            times_parse((const char *)sqlite3_column_text(stmt, 10), r->policy.failover_times);
        if (r->policy.phase > CLUS_POL_WAITING)
            r->policy.phase = CLUS_POL_IDLE;
        status = CLUS_OK;
    }
    sqlite3_finalize(stmt);
    return status;
}

uint32_t clus_cstore_put_resource(clus_cstore *s, const clus_cstore_resource *r, bool durable)
{
    char restarts[CLUS_POLICY_MAX_THRESHOLD * 21 + 1], failovers[sizeof(restarts)];
    sqlite3_stmt *stmt = prepare(
        s, "INSERT OR REPLACE INTO resource (name, desired, owner, state, restarts, failovers,"
           " failures, phase, retry_at, retry_attempt, restart_times, failover_times)"
           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    uint32_t status;

    if (stmt == NULL)
        return CLUS_E_IO_DEVICE;
    times_format(r->policy.restart_times, r->policy.n_restart_times, restarts, sizeof(restarts));
    times_format(r->policy.failover_times, r->policy.n_failover_times, failovers,
                 sizeof(failovers));
    sqlite3_bind_text(stmt, 1, r->name, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 2, r->desired_online);
    sqlite3_bind_text(stmt, 3, r->owner, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 4, r->state);
    sqlite3_bind_int64(stmt, 5, r->policy.restarts);
    sqlite3_bind_int64(stmt, 6, r->policy.failovers);
    sqlite3_bind_int64(stmt, 7, r->policy.failures);
    sqlite3_bind_int(stmt, 8, (int)r->policy.phase);
    sqlite3_bind_int64(stmt, 9, (sqlite3_int64)r->policy.retry_at_ms);
    sqlite3_bind_int(stmt, 10, r->policy.retry_attempt);
    sqlite3_bind_text(stmt, 11, restarts, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 12, failovers, -1, SQLITE_STATIC);
    if (durable)
        set_durable(s, true);
    status = step_done(s, stmt);
    if (durable)
        set_durable(s, false);
    return status;
}

/* ------------------------------------------------------------ nodes */

bool clus_cstore_get_draining(clus_cstore *s, const char *node)
{
    sqlite3_stmt *stmt = prepare(s, "SELECT draining FROM node WHERE name = ?1");
    bool draining = false;

    if (stmt == NULL)
        return false;
    sqlite3_bind_text(stmt, 1, node, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) == SQLITE_ROW)
        draining = sqlite3_column_int(stmt, 0) != 0;
    sqlite3_finalize(stmt);
    return draining;
}

uint32_t clus_cstore_put_draining(clus_cstore *s, const char *node, bool draining)
{
    sqlite3_stmt *stmt = prepare(s, "INSERT OR REPLACE INTO node (name, draining) VALUES (?1, ?2)");
    uint32_t status;

    if (stmt == NULL)
        return CLUS_E_IO_DEVICE;
    sqlite3_bind_text(stmt, 1, node, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 2, draining);
    set_durable(s, true);
    status = step_done(s, stmt);
    set_durable(s, false);
    return status;
}
