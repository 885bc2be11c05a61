/*
 * ocf_control.c - the type-wide controls of `ocf`, for the agent's default
 * OCF_ROOT (ocf_default_root()):
 *
 *   CLUSCTL_RESOURCE_TYPE_GET_INFO      the agents found: agent.<provider>:<type>=<path>
 *                                       (readdir and stat only: it runs on the loop
 *                                       whenever the types are listed)
 *   CLUSCTL_RESOURCE_TYPE_GET_METADATA  for type name ocf:<provider>:<type>: the parsed
 *                                       meta-data as properties, the XML in the output
 *                                       buffer when it fits
 *
 * A failure is given as the property error=<sentence> (type controls have
 * no other way to say why).
 */
#include "ocf_internal.h"

#include "status.h"

#include <stdio.h>
#include <string.h>

#define INFO_AGENTS_MAX 4096

static void add_agent(void *arg, const char *provider, const char *type, const char *path)
{
    clus_control *ctl = arg;
    char key[2 * OCF_PART_MAX + 16];

    snprintf(key, sizeof(key), "agent.%s:%s", provider, type);
    ctl->add_property(ctl, key, path);
}

static uint32_t control_info(clus_control *ctl)
{
    const char *root = ocf_default_root();
    char count[24];
    size_t n;

    ctl->add_property(ctl, "ocf_root", root);
    n = ocf_agents_each(root, INFO_AGENTS_MAX, add_agent, ctl);
    snprintf(count, sizeof(count), "%zu", n);
    ctl->add_property(ctl, "agents", count);
    return CLUS_OK;
}

static void add_u32(clus_control *ctl, const char *key, uint32_t value)
{
    char text[16];

    snprintf(text, sizeof(text), "%u", value);
    ctl->add_property(ctl, key, text);
}

static void add_param(clus_control *ctl, const struct ocf_meta_param *p)
{
    char key[OCF_PART_MAX + 16], value[4200];

    snprintf(key, sizeof(key), "parameter.%s", p->name);
    snprintf(value, sizeof(value), "%s%s%s%s%s%.4096s", p->required ? "required" : "optional",
             p->unique ? ",unique" : "", p->type ? ",type=" : "", p->type ? p->type : "",
             p->default_value ? ",default=" : "", p->default_value ? p->default_value : "");
    ctl->add_property(ctl, key, value);
}

static void add_action(clus_control *ctl, const struct ocf_meta_action *a)
{
    char prefix[OCF_PART_MAX + 32], key[OCF_PART_MAX + 64];

    if (a->depth > 0)
        snprintf(prefix, sizeof(prefix), "action.%s.depth%d", a->name, a->depth);
    else
        snprintf(prefix, sizeof(prefix), "action.%s", a->name);
    snprintf(key, sizeof(key), "%s.timeout_ms", prefix);
    if (a->timeout_ms > 0)
        add_u32(ctl, key, a->timeout_ms);
    else
        ctl->add_property(ctl, key, "not advertised");
    if (a->interval_ms > 0) {
        snprintf(key, sizeof(key), "%s.interval_ms", prefix);
        add_u32(ctl, key, a->interval_ms);
    }
}

static void add_meta(clus_control *ctl, const struct ocf_meta *m)
{
    if (m->name != NULL)
        ctl->add_property(ctl, "name", m->name);
    if (m->version != NULL)
        ctl->add_property(ctl, "version", m->version);
    if (m->shortdesc != NULL)
        ctl->add_property(ctl, "shortdesc", m->shortdesc);
    for (size_t i = 0; i < m->n_params; i++)
        add_param(ctl, &m->params[i]);
    for (size_t i = 0; i < m->n_actions; i++)
        add_action(ctl, &m->actions[i]);
}

/* The raw XML into the output buffer when it fits. */
static void add_xml(clus_control *ctl, const char *xml, size_t len)
{
    char note[128];

    add_u32(ctl, "meta_data_bytes", (uint32_t)len);
    if (ctl->out != NULL && len <= ctl->out_size) {
        memcpy(ctl->out, xml, len);
        if (ctl->bytes_returned != NULL)
            *ctl->bytes_returned = len;
        return;
    }
    snprintf(note, sizeof(note), "not returned: %zu bytes do not fit the %zu-byte output buffer",
             len, ctl->out_size);
    ctl->add_property(ctl, "xml", note);
}

static uint32_t control_error(clus_control *ctl, uint32_t status, const char *err)
{
    ctl->add_property(ctl, "error", err);
    return status;
}

static uint32_t control_metadata(const char *type_name, clus_control *ctl)
{
    char provider[OCF_PART_MAX + 1], type[OCF_PART_MAX + 1], path[OCF_PATH_MAX], err[512];
    const char *agent = strchr(type_name, ':'), *root = ocf_default_root(), *xml;
    const struct ocf_meta *meta;
    size_t xml_len;
    uint32_t status;

    if (agent == NULL)
        return control_error(ctl, CLUS_E_INVALID_PARAMETER,
                             "name the agent: ocf:PROVIDER:TYPE (e.g. ocf:heartbeat:Dummy)");
    if ((status = ocf_agent_split(agent + 1, provider, type, err, sizeof(err))) != CLUS_OK ||
        (status = ocf_agent_resolve(root, provider, type, path, err, sizeof(err))) != CLUS_OK ||
        (status = ocf_meta_get(root, provider, type, path, &meta, &xml, &xml_len, err,
                               sizeof(err))) != CLUS_OK)
        return control_error(ctl, status, err);
    ctl->add_property(ctl, "agent", agent + 1);
    ctl->add_property(ctl, "path", path);
    add_meta(ctl, meta);
    add_xml(ctl, xml, xml_len);
    return CLUS_OK;
}

uint32_t ocf_type_control(const char *type_name, clus_control *ctl)
{
    switch (ctl->code) {
    case CLUSCTL_RESOURCE_TYPE_GET_INFO:
        return control_info(ctl);
    case CLUSCTL_RESOURCE_TYPE_GET_METADATA:
        return control_metadata(type_name, ctl);
    default:
        return CLUS_E_INVALID_FUNCTION; /* the agent's default processing */
    }
}
