/*
 * json.c - a reply as one JSON object (jansson), for clusctl -o json and
 * for scripts using the library. Names and numbers both: "state": "Online"
 * beside "state_value": 2, "status" beside "status_name".
 */
#include "client_internal.h"

#include "names.h"
#include "status.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* A JSON string; text that is not UTF-8 is replaced, not dropped. */
static json_t *jstr(const char *s)
{
    json_t *v = json_string(s ? s : "");

    return v != NULL ? v : json_string("(not UTF-8)");
}

/* 64-bit identifiers as hex strings: JSON numbers lose them past 2^53. */
static json_t *hex64(uint64_t v)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)v);
    return json_string(buf);
}

static json_t *params_object(Clus__V1__Param **params, size_t n)
{
    json_t *o = json_object();

    for (size_t i = 0; i < n; i++)
        json_object_set_new(o, params[i]->key, jstr(params[i]->value));
    return o;
}

static json_t *flags_json(enum clus_flag_space space, uint32_t flags)
{
    char names[256];

    clus_flags_format(space, flags, names, sizeof(names));
    return jstr(names);
}

static void set_state(json_t *o, const char *key, int state)
{
    char value_key[64];

    snprintf(value_key, sizeof(value_key), "%s_value", key);
    json_object_set_new(o, key, jstr(clus_state_name(state)));
    json_object_set_new(o, value_key, json_integer(state));
}

static void set_status(json_t *o, const char *key, uint32_t status)
{
    char name_key[64];

    snprintf(name_key, sizeof(name_key), "%s_name", key);
    json_object_set_new(o, key, json_integer(status));
    json_object_set_new(o, name_key, jstr(clus_status_name(status)));
}

static void tri(json_t *o, const char *key, int value)
{
    json_object_set_new(o, key, value < 0 ? json_null() : json_boolean(value));
}

/* The fields of a resource, into o (flattened for single-resource replies). */
static void resource_fields(json_t *o, const Clus__V1__ResourceInfo *r)
{
    if (r == NULL) /* an optional message a broken peer left out (HealthResult) */
        return;
    json_object_set_new(o, "resource", jstr(r->name));
    json_object_set_new(o, "type", jstr(r->type));
    set_state(o, "state", r->state);
    set_status(o, "last_status", r->last_status);
    json_object_set_new(o, "last_message", jstr(r->last_message));
    json_object_set_new(o, "checkpoint", json_integer(r->checkpoint));
    json_object_set_new(o, "online_flags", json_integer(r->online_flags));
    json_object_set_new(o, "online_flag_names", flags_json(CLUS_FLAGS_ONLINE, r->online_flags));
    json_object_set_new(o, "offline_flags", json_integer(r->offline_flags));
    json_object_set_new(o, "offline_flag_names", flags_json(CLUS_FLAGS_OFFLINE, r->offline_flags));
    set_state(o, "persisted_state", r->persisted_state);
    json_object_set_new(o, "pending_timeout_ms", json_integer(r->pending_timeout_ms));
    json_object_set_new(o, "looks_alive_ms", json_integer(r->looks_alive_ms));
    json_object_set_new(o, "is_alive_ms", json_integer(r->is_alive_ms));
    json_object_set_new(o, "event_handle", json_boolean(r->event_handle));
    tri(o, "looks_alive", r->looks_alive);
    tri(o, "is_alive", r->is_alive);
    json_object_set_new(o, "locked", json_boolean(r->locked));
    json_object_set_new(o, "arbitrated", json_boolean(r->arbitrated));
    json_object_set_new(o, "seq", json_integer((json_int_t)r->seq));
    json_object_set_new(o, "params", params_object(r->params, r->n_params));
}

static bool printable(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (data[i] == 0 || (data[i] < 0x20 && data[i] != '\n' && data[i] != '\t'))
            return false;
    }
    return true;
}

static json_t *control_json(const Clus__V1__ControlResult *cr)
{
    json_t *o = json_object();

    json_object_set_new(o, "properties", params_object(cr->properties, cr->n_properties));
    json_object_set_new(o, "bytes_returned", json_integer(cr->bytes_returned));
    if (cr->out_buffer.len > 0 && printable(cr->out_buffer.data, cr->out_buffer.len)) {
        json_object_set_new(o, "output",
                            json_stringn((const char *)cr->out_buffer.data, cr->out_buffer.len));
    } else if (cr->out_buffer.len > 0) {
        char *hex = malloc(cr->out_buffer.len * 2 + 1);
        for (size_t i = 0; hex != NULL && i < cr->out_buffer.len; i++)
            snprintf(hex + 2 * i, 3, "%02x", cr->out_buffer.data[i]);
        json_object_set_new(o, "output_hex", hex ? jstr(hex) : json_null());
        free(hex);
    }
    return o;
}

static const char *event_kind_name(int kind)
{
    static const char *const names[] = {"state", "failure", "control_done", "fenced", "closed"};

    return kind >= 0 && kind < 5 ? names[kind] : "unknown";
}

json_t *clus_event_json(const Clus__V1__Event *ev);
json_t *clus_event_json(const Clus__V1__Event *ev)
{
    json_t *o = json_object();

    json_object_set_new(o, "seq", json_integer((json_int_t)ev->seq));
    json_object_set_new(o, "boot_id", hex64(ev->boot_id));
    json_object_set_new(o, "kind", jstr(event_kind_name(ev->kind)));
    json_object_set_new(o, "resource", jstr(ev->resource));
    set_state(o, "old_state", ev->old_state);
    set_state(o, "new_state", ev->new_state);
    set_status(o, "status", ev->status);
    json_object_set_new(o, "checkpoint", json_integer(ev->checkpoint));
    json_object_set_new(o, "flags", json_integer(ev->flags));
    json_object_set_new(o, "timestamp_ms", json_integer((json_int_t)ev->timestamp_ms));
    json_object_set_new(o, "message", jstr(ev->message));
    if (ev->call_id != 0)
        json_object_set_new(o, "call_id", json_integer((json_int_t)ev->call_id));
    if (ev->control != NULL)
        json_object_set_new(o, "control", control_json(ev->control));
    return o;
}

static void agent_fields(json_t *o, const Clus__V1__AgentStatus *st)
{
    json_t *agent = json_object(), *list = json_array();

    json_object_set_new(agent, "version", jstr(st->version));
    json_object_set_new(agent, "boot_id", hex64(st->boot_id));
    json_object_set_new(agent, "last_seq", json_integer((json_int_t)st->last_seq));
    json_object_set_new(agent, "listen", jstr(st->listen_url));
    json_object_set_new(agent, "uptime_ms", json_integer((json_int_t)st->uptime_ms));
    json_object_set_new(agent, "lease_bound", json_boolean(st->lease_bound));
    json_object_set_new(agent, "lease_valid", json_boolean(st->lease_valid));
    json_object_set_new(agent, "lease_holder", jstr(st->lease_holder));
    json_object_set_new(agent, "lease_remaining_ms", json_integer(st->lease_remaining_ms));
    json_object_set_new(o, "agent", agent);
    for (size_t i = 0; i < st->n_resources; i++) {
        json_t *r = json_object();
        resource_fields(r, st->resources[i]);
        json_array_append_new(list, r);
    }
    json_object_set_new(o, "resources", list);
}

static void result_fields(json_t *o, const Clus__V1__Response *resp)
{
    json_t *list;

    switch (resp->result_case) {
    case CLUS__V1__RESPONSE__RESULT_RESOURCE:
        resource_fields(o, resp->resource);
        break;
    case CLUS__V1__RESPONSE__RESULT_HEALTH:
        resource_fields(o, resp->health->resource);
        json_object_set_new(o, "alive", json_boolean(resp->health->alive));
        json_object_set_new(o, "cached", json_boolean(resp->health->cached));
        json_object_set_new(o, "age_ms", json_integer((json_int_t)resp->health->age_ms));
        break;
    case CLUS__V1__RESPONSE__RESULT_CONTROL:
        list = control_json(resp->control);
        json_object_update(o, list);
        json_decref(list);
        break;
    case CLUS__V1__RESPONSE__RESULT_AGENT:
        agent_fields(o, resp->agent);
        break;
    case CLUS__V1__RESPONSE__RESULT_TYPES:
        list = json_array();
        for (size_t i = 0; i < resp->types->n_types; i++) {
            const Clus__V1__TypeInfo *t = resp->types->types[i];
            json_t *ti = json_object();
            json_object_set_new(ti, "name", jstr(t->name));
            json_object_set_new(ti, "origin", jstr(t->origin));
            json_object_set_new(ti, "version", json_integer(t->version));
            json_object_set_new(ti, "loop_native", json_boolean(t->loop_native));
            if (t->n_info > 0)
                json_object_set_new(ti, "info", params_object(t->info, t->n_info));
            json_array_append_new(list, ti);
        }
        json_object_set_new(o, "types", list);
        break;
    case CLUS__V1__RESPONSE__RESULT_TYPE_INFO:
        json_object_set_new(o, "type", jstr(resp->type_info->name));
        json_object_set_new(o, "version", json_integer(resp->type_info->version));
        json_object_set_new(o, "origin", jstr(resp->type_info->origin));
        break;
    case CLUS__V1__RESPONSE__RESULT_EVENTS:
        list = json_array();
        for (size_t i = 0; i < resp->events->n_events; i++)
            json_array_append_new(list, clus_event_json(resp->events->events[i]));
        json_object_set_new(o, "events", list);
        json_object_set_new(o, "gap", json_boolean(resp->events->gap));
        json_object_set_new(o, "last_seq", json_integer((json_int_t)resp->events->last_seq));
        json_object_set_new(o, "boot_id", hex64(resp->events->boot_id));
        break;
    case CLUS__V1__RESPONSE__RESULT_LEASE:
        json_object_set_new(o, "granted", json_boolean(resp->lease->granted));
        json_object_set_new(o, "remaining_ms", json_integer(resp->lease->remaining_ms));
        break;
    default:
        break;
    }
    if (resp->call_id != 0)
        json_object_set_new(o, "call_id", json_integer((json_int_t)resp->call_id));
}

char *clus_reply_json(const clus_reply *r, bool pretty)
{
    json_t *o = json_object();
    char *text;

    if (r == NULL)
        return NULL;
    set_status(o, "status", r->status);
    json_object_set_new(o, "message", jstr(r->message));
    if (r->resp != NULL)
        result_fields(o, r->resp);
    /* "message" is ours, whatever a control result said. */
    json_object_set_new(o, "message", jstr(r->message));
    text = json_dumps(o, (pretty ? JSON_INDENT(2) : JSON_COMPACT) | JSON_PRESERVE_ORDER);
    json_decref(o);
    return text;
}
