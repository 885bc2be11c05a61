#include "store.h"
#include "log.h"
#include "status.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

struct clus_store {
    sqlite3 *db;
    sqlite3_stmt *put;
    sqlite3_stmt *del;
};

static const char store_schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    /* Written on every state change, read once at start: a page cache past a
     * few pages buys nothing, and sqlite's default (2 MB) would grow with the
     * number of resources (~0.4 KiB each). */
    "PRAGMA cache_size=8;"
    "CREATE TABLE IF NOT EXISTS resource (name TEXT PRIMARY KEY, record BLOB NOT NULL);";

uint32_t clus_store_open(const char *path, clus_store **out, char *err, size_t errlen)
{
    clus_store *store = calloc(1, sizeof(*store));
    char *msg = NULL;

    if (store == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    if (sqlite3_open_v2(path, &store->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        sqlite3_busy_timeout(store->db, 2000) != SQLITE_OK ||
        sqlite3_exec(store->db, store_schema, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_prepare_v2(store->db,
                           "INSERT OR REPLACE INTO resource (name, record) VALUES (?1, ?2)", -1,
                           &store->put, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(store->db, "DELETE FROM resource WHERE name = ?1", -1, &store->del,
                           NULL) != SQLITE_OK) {
        snprintf(err, errlen, "state store %s: %s", path, msg ? msg : sqlite3_errmsg(store->db));
        sqlite3_free(msg);
        clus_store_close(store);
        return CLUS_E_ACCESS_DENIED;
    }
    *out = store;
    return CLUS_OK;
}

void clus_store_close(clus_store *store)
{
    if (store == NULL)
        return;
    sqlite3_finalize(store->put);
    sqlite3_finalize(store->del);
    sqlite3_close(store->db);
    free(store);
}

static uint32_t store_step(clus_store *store, sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);

    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (rc != SQLITE_DONE) {
        clus_error("state store: %s", sqlite3_errmsg(store->db));
        return CLUS_E_IO_DEVICE;
    }
    return CLUS_OK;
}

uint32_t clus_store_put(clus_store *store, const Clus__V1__ResourceInfo *info)
{
    size_t len = clus__v1__resource_info__get_packed_size(info);
    uint8_t *blob = malloc(len ? len : 1);
    uint32_t status;

    if (blob == NULL)
        return CLUS_E_NOT_ENOUGH_MEMORY;
    clus__v1__resource_info__pack(info, blob);
    sqlite3_bind_text(store->put, 1, info->name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(store->put, 2, blob, (int)len, SQLITE_STATIC);
    status = store_step(store, store->put);
    free(blob);
    return status;
}

uint32_t clus_store_delete(clus_store *store, const char *name)
{
    sqlite3_bind_text(store->del, 1, name, -1, SQLITE_STATIC);
    return store_step(store, store->del);
}

uint32_t clus_store_each(clus_store *store, clus_store_each_fn fn, void *arg)
{
    sqlite3_stmt *stmt;
    int rc;

    if (sqlite3_prepare_v2(store->db, "SELECT name, record FROM resource ORDER BY name", -1, &stmt,
                           NULL) != SQLITE_OK)
        return CLUS_E_IO_DEVICE;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const void *blob = sqlite3_column_blob(stmt, 1);
        size_t len = (size_t)sqlite3_column_bytes(stmt, 1);
        Clus__V1__ResourceInfo *info = clus__v1__resource_info__unpack(NULL, len, blob);
        if (info == NULL || info->name == NULL || info->type == NULL) {
            clus_error("state store: record of '%s' does not decode; skipped",
                       (const char *)sqlite3_column_text(stmt, 0));
        } else {
            fn(arg, info);
        }
        if (info != NULL)
            clus__v1__resource_info__free_unpacked(info, NULL);
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? CLUS_OK : CLUS_E_IO_DEVICE;
}
