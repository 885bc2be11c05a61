/*
 * test_volume_type.c - the `volume` resource type through its ABI
 * (clus_restype_ops), on the image backend: real files in a mktemp -d
 * directory, no root needed. A fake monitor records logs, signals and
 * properties. The loop backend through the type is in test_volume_loop.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "clus/restype.h"
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

uint32_t clus_volume_type_startup(const char *type_name, uint32_t min_version, uint32_t max_version,
                                  const clus_monitor_callbacks *callbacks,
                                  const clus_restype_ops **ops);

/* ---- the fake monitor ---- */

static char last_log[2048];
static int signals;

static void m_log(clus_resource *h, int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(last_log, sizeof(last_log), fmt, ap);
    va_end(ap);
    if (getenv("CLUS_TEST_VERBOSE") != NULL)
        fprintf(stderr, "log %d: %s\n", level, last_log);
}

static uint32_t m_set_status(clus_resource *h, int state, uint32_t checkpoint, uint32_t status)
{
    return CLUS_EXIT_CONTINUE;
}

static uint32_t m_signal(clus_resource *h, uint32_t type, uint32_t code)
{
    __atomic_add_fetch(&signals, 1, __ATOMIC_SEQ_CST);
    return 0;
}

static char last_reason[400];

static void m_set_reason(clus_resource *h, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(last_reason, sizeof(last_reason), fmt, ap);
    va_end(ap);
}

static const clus_monitor_callbacks monitor = {
    .size = sizeof(clus_monitor_callbacks),
    .log_event = m_log,
    .set_status = m_set_status,
    .signal_failure = m_signal,
    .set_reason = m_set_reason,
};

/* Properties a control call returned. */
struct props {
    char key[16][32];
    char value[16][512];
    int n;
};

static void add_property(clus_control *ctl, const char *key, const char *value)
{
    struct props *p = ctl->sink;

    assert_true(p->n < 16);
    snprintf(p->key[p->n], sizeof(p->key[0]), "%s", key);
    snprintf(p->value[p->n], sizeof(p->value[0]), "%s", value);
    p->n++;
}

static const char *prop(const struct props *p, const char *key)
{
    for (int i = 0; i < p->n; i++) {
        if (strcmp(p->key[i], key) == 0)
            return p->value[i];
    }
    return NULL;
}

/* ---- fixture ---- */

struct fx {
    const clus_restype_ops *ops;
    char dir[64], img[128], img2[128], state[128], state2[128];
};

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));
    char cmd[1024];

    snprintf(fx->dir, sizeof(fx->dir), "/tmp/clus-voltype-XXXXXX");
    if (mkdtemp(fx->dir) == NULL)
        return -1;
    snprintf(fx->img, sizeof(fx->img), "%s/a.img", fx->dir);
    snprintf(fx->img2, sizeof(fx->img2), "%s/b.img", fx->dir);
    snprintf(fx->state, sizeof(fx->state), "%s/state", fx->dir);
    snprintf(fx->state2, sizeof(fx->state2), "%s/state2", fx->dir);
    snprintf(cmd, sizeof(cmd), "truncate -s 1M %s %s && mkdir %s %s", fx->img, fx->img2, fx->state,
             fx->state2);
    if (system(cmd) != 0)
        return -1;
    if (clus_volume_type_startup("volume", CLUS_RESTYPE_VERSION_1, CLUS_RESTYPE_VERSION_1, &monitor,
                                 &fx->ops) != 0)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
    if (system(cmd) != 0)
        return -1;
    free(fx);
    return 0;
}

static clus_resid open_image(struct fx *fx, const char *img, const char *state_dir)
{
    clus_param items[] = {{"backend", "image"}, {"image", img}};
    clus_params params = {items, 2};
    clus_open_args args = {
        .name = "v", .type = "volume", .params = &params, .state_dir = state_dir};
    clus_resid r = NULL;
    uint32_t s = fx->ops->open(&args, &r);

    if (s != CLUS_OK)
        fail_msg("open failed: %u %s", s, last_log);
    return r;
}

/* One control call; props collects what it adds. */
static uint32_t control(struct fx *fx, clus_resid r, uint32_t code, const clus_param *in, size_t n,
                        const void *data, size_t data_size, void *out, size_t out_size,
                        size_t *returned, struct props *props)
{
    clus_params list = {in, n};
    clus_control ctl = {.code = code,
                        .in_buffer = data,
                        .in_size = data_size,
                        .properties = &list,
                        .out = out,
                        .out_size = out_size,
                        .bytes_returned = returned,
                        .add_property = add_property,
                        .sink = props};

    memset(props, 0, sizeof(*props));
    return fx->ops->resource_control(r, &ctl);
}

static uint32_t simple(struct fx *fx, clus_resid r, uint32_t code, const clus_param *in, size_t n,
                       struct props *props)
{
    size_t returned;

    return control(fx, r, code, in, n, NULL, 0, NULL, 0, &returned, props);
}

/* ---- tests ---- */

static void test_startup(void **state)
{
    const clus_restype_ops *ops = NULL;
    clus_monitor_callbacks partial = monitor;

    assert_int_equal(clus_volume_type_startup("disk", 0x100, 0x100, &monitor, &ops),
                     CLUS_E_RESNAME_NOT_FOUND);
    assert_int_equal(clus_volume_type_startup("volume", 0x200, 0x300, &monitor, &ops),
                     CLUS_E_REVISION_MISMATCH);
    assert_int_equal(clus_volume_type_startup("volume", 0, 0x0ff, &monitor, &ops),
                     CLUS_E_REVISION_MISMATCH);
    partial.signal_failure = NULL;
    assert_int_equal(clus_volume_type_startup("volume", 0x100, 0x100, &partial, &ops),
                     CLUS_E_INVALID_PARAMETER);
    assert_null(ops);
    assert_int_equal(clus_volume_type_startup("volume", 0x100, 0x200, &monitor, &ops), 0);
    assert_int_equal(ops->version, CLUS_RESTYPE_VERSION_1);
    assert_int_equal(ops->size, sizeof(clus_restype_ops));
    assert_int_equal(ops->flags & CLUS_RESTYPE_F_LOOP, 0); /* worker threads: it blocks */
    assert_non_null(ops->arbitrate);
    assert_non_null(ops->release);
    assert_non_null(ops->resource_control);
}

static void test_open_rejects_bad_parameters(void **state)
{
    struct fx *fx = *state;
    clus_param unknown[] = {{"backend", "image"}, {"image", fx->img}, {"size", "1G"}};
    clus_param missing[] = {{"backend", "image"}, {"image", "/nonexistent/x.img"}};
    clus_param relative[] = {{"backend", "loop"}, {"image", fx->img}, {"mountpoint", "mnt"}};
    const struct {
        clus_param *items;
        size_t n;
        uint32_t status;
        const char *words;
    } cases[] = {
        {unknown, 3, 87, "unknown property 'size'"},
        {missing, 2, 2, "does not exist"},
        {relative, 3, 87, "absolute"},
        {NULL, 0, 87, "backend parameter is required"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        clus_params params = {cases[i].items, cases[i].n};
        clus_open_args args = {
            .name = "v", .type = "volume", .params = &params, .state_dir = fx->state};
        clus_resid r = NULL;

        last_log[0] = '\0';
        assert_int_equal(fx->ops->open(&args, &r), cases[i].status);
        assert_null(r);
        if (strstr(last_log, cases[i].words) == NULL)
            fail_msg("case %zu: log '%s' lacks '%s'", i, last_log, cases[i].words);
    }
}

static void test_lifecycle_and_controls(void **state)
{
    struct fx *fx = *state;
    clus_resid r = open_image(fx, fx->img, fx->state);
    clus_online_args on = {0};
    clus_offline_args off = {0};
    clus_param none[1];
    clus_param at2[] = {{"path", ""}, {"offset", "2"}};
    clus_param len5[] = {{"offset", "2"}, {"length", "5"}};
    clus_param len100[] = {{"length", "100"}};
    clus_param bad_offset[] = {{"offset", "-1"}};
    clus_param with_path[] = {{"path", "a.txt"}, {"length", "1"}};
    clus_param new_image[] = {{"image", fx->img2}};
    clus_param same_image[] = {{"image", fx->img}};
    clus_param bad_prop[] = {{"mountpoint", "/mnt"}};
    struct props p;
    char out[16] = "";
    size_t returned = 0;

    /* offline: 21 for everything but the queries; unknown codes: 1 */
    assert_int_equal(simple(fx, r, CLUSCTL_RESOURCE_VOLUME_IS_OFFLINE, none, 0, &p), 0);
    assert_string_equal(prop(&p, "offline"), "true");
    assert_int_equal(control(fx, r, CLUSCTL_RESOURCE_VOLUME_READ, len5, 2, NULL, 0, out,
                             sizeof(out), &returned, &p),
                     CLUS_E_NOT_READY);
    assert_int_equal(
        control(fx, r, CLUSCTL_RESOURCE_VOLUME_WRITE, at2, 2, "hello", 5, NULL, 0, &returned, &p),
        CLUS_E_NOT_READY);
    /* ... but the resource's configuration stays manageable while offline */
    assert_int_equal(simple(fx, r, CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES, same_image, 1, &p),
                     CLUS_E_RESOURCE_PROPERTIES_STORED);
    assert_int_equal(simple(fx, r, CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES, same_image, 1, &p),
                     CLUS_OK);
    assert_int_equal(simple(fx, r, CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES, none, 0, &p), 0);
    assert_int_equal(simple(fx, r, CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES, none, 0, &p), 0);
    assert_string_equal(prop(&p, "backend"), "image");
    assert_string_equal(prop(&p, "image"), fx->img);
    assert_string_equal(prop(&p, "mountpoint"), "");
    assert_int_equal(simple(fx, r, CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES, none, 0, &p), 0);
    assert_int_equal(simple(fx, r, CLUSCTL_RESOURCE_VOLUME_GET_INFO, none, 0, &p), 0);
    assert_string_equal(prop(&p, "backend"), "image");
    assert_string_equal(prop(&p, "offline_mark"), "false");
    assert_string_equal(prop(&p, "holder"), "");
    assert_int_equal(simple(fx, r, CLUSCTL_RESOURCE_GET_FLAGS, none, 0, &p),
                     CLUS_E_INVALID_FUNCTION);

    /* online */
    assert_int_equal(fx->ops->online(r, &on), 0);
    assert_true(on.event_handle);
    assert_int_equal(simple(fx, r, CLUSCTL_RESOURCE_VOLUME_IS_OFFLINE, none, 0, &p), 0);
    assert_string_equal(prop(&p, "offline"), "false");
    assert_int_equal(
        control(fx, r, CLUSCTL_RESOURCE_VOLUME_WRITE, at2, 2, "hello", 5, NULL, 0, &returned, &p),
        0);
    assert_string_equal(prop(&p, "written"), "5");
    assert_int_equal(control(fx, r, CLUSCTL_RESOURCE_VOLUME_READ, len5, 2, NULL, 0, out,
                             sizeof(out), &returned, &p),
                     0);
    assert_int_equal(returned, 5);
    assert_memory_equal(out, "hello", 5);
    assert_int_equal(control(fx, r, CLUSCTL_RESOURCE_VOLUME_READ, len100, 1, NULL, 0, out,
                             sizeof(out), &returned, &p),
                     CLUS_E_MORE_DATA);
    assert_int_equal(returned, 100);
    assert_int_equal(control(fx, r, CLUSCTL_RESOURCE_VOLUME_READ, bad_offset, 1, NULL, 0, out,
                             sizeof(out), &returned, &p),
                     CLUS_E_INVALID_PARAMETER);
    assert_int_equal(control(fx, r, CLUSCTL_RESOURCE_VOLUME_READ, with_path, 2, NULL, 0, out,
                             sizeof(out), &returned, &p),
                     CLUS_E_INVALID_PARAMETER);
    assert_int_equal(simple(fx, r, CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES, none, 0, &p), 0);
    assert_int_equal(p.n, 7);
    assert_int_equal(simple(fx, r, CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES, bad_prop, 1, &p),
                     CLUS_E_INVALID_PARAMETER);
    assert_non_null(strstr(last_log, "mounts nothing"));
    assert_int_equal(simple(fx, r, CLUSCTL_RESOURCE_VOLUME_GET_INFO, none, 0, &p), 0);
    assert_string_equal(prop(&p, "claimed"), "true");
    assert_int_equal(atol(prop(&p, "holder")), (long)getpid());
    assert_true(fx->ops->looks_alive(r));
    assert_true(fx->ops->is_alive(r));

    /* SET while online: stored, applied at the next online */
    assert_int_equal(simple(fx, r, CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES, new_image, 1, &p),
                     CLUS_E_RESOURCE_PROPERTIES_STORED);
    assert_int_equal(simple(fx, r, CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES, none, 0, &p), 0);
    assert_string_equal(prop(&p, "image"), fx->img2);
    assert_int_equal(simple(fx, r, CLUSCTL_RESOURCE_VOLUME_GET_INFO, none, 0, &p), 0);
    assert_string_equal(prop(&p, "image"), fx->img);

    assert_int_equal(fx->ops->offline(r, &off), 0);
    assert_int_equal(simple(fx, r, CLUSCTL_RESOURCE_VOLUME_GET_INFO, none, 0, &p), 0);
    assert_string_equal(prop(&p, "offline_mark"), "true");
    assert_false(fx->ops->looks_alive(r));
    assert_false(fx->ops->is_alive(r));

    assert_int_equal(fx->ops->online(r, &on), 0);
    assert_int_equal(simple(fx, r, CLUSCTL_RESOURCE_VOLUME_GET_INFO, none, 0, &p), 0);
    assert_string_equal(prop(&p, "image"), fx->img2);
    assert_string_equal(prop(&p, "offline_mark"), "false");
    fx->ops->terminate(r);
    assert_int_equal(simple(fx, r, CLUSCTL_RESOURCE_VOLUME_IS_OFFLINE, none, 0, &p), 0);
    assert_string_equal(prop(&p, "offline"), "true");
    fx->ops->close(r);
}

static void test_arbitrate_release(void **state)
{
    struct fx *fx = *state;
    clus_resid a = open_image(fx, fx->img, fx->state);
    clus_resid b = open_image(fx, fx->img, fx->state2);
    clus_online_args on = {0};

    assert_int_equal(fx->ops->arbitrate(a, NULL), 0);
    assert_int_equal(fx->ops->arbitrate(b, NULL), CLUS_E_RESOURCE_NOT_AVAILABLE);
    assert_int_equal(fx->ops->online(b, &on), CLUS_E_RESOURCE_NOT_AVAILABLE);
    assert_int_equal(fx->ops->release(a), 0);
    assert_int_equal(fx->ops->arbitrate(b, NULL), 0);
    assert_int_equal(fx->ops->online(b, &on), 0);
    assert_int_equal(fx->ops->online(a, &on), CLUS_E_RESOURCE_NOT_AVAILABLE);
    assert_int_equal(fx->ops->release(b), CLUS_E_RESOURCE_ONLINE);
    fx->ops->close(a);
    fx->ops->close(b);
}

static void test_signal_failure_when_image_deleted(void **state)
{
    struct fx *fx = *state;
    clus_resid r = open_image(fx, fx->img, fx->state);
    clus_online_args on = {0};

    __atomic_store_n(&signals, 0, __ATOMIC_SEQ_CST);
    assert_int_equal(fx->ops->online(r, &on), 0);
    usleep(1200000);
    assert_int_equal(__atomic_load_n(&signals, __ATOMIC_SEQ_CST), 0); /* healthy: quiet */
    assert_int_equal(unlink(fx->img), 0);
    for (int i = 0; i < 40 && __atomic_load_n(&signals, __ATOMIC_SEQ_CST) == 0; i++)
        usleep(100000);
    assert_int_equal(__atomic_load_n(&signals, __ATOMIC_SEQ_CST), 1);
    assert_non_null(strstr(last_log, "deleted"));
    assert_false(fx->ops->is_alive(r));
    usleep(1200000);
    assert_int_equal(__atomic_load_n(&signals, __ATOMIC_SEQ_CST), 1); /* once per failure */
    fx->ops->terminate(r);
    fx->ops->close(r);
}

static void test_mark_survives_restart(void **state)
{
    struct fx *fx = *state;
    clus_resid r = open_image(fx, fx->img, fx->state);
    clus_online_args on = {.flags = CLUS_ONLINE_RECOVER_MONITOR_STATE};
    clus_offline_args off = {0};
    clus_param none[1];
    struct props p;

    assert_int_equal(fx->ops->online(r, &on), 0); /* nothing to recover: plain online */
    assert_int_equal(fx->ops->offline(r, &off), 0);
    fx->ops->close(r);

    r = open_image(fx, fx->img, fx->state);
    assert_int_equal(simple(fx, r, CLUSCTL_RESOURCE_VOLUME_GET_INFO, none, 0, &p), 0);
    assert_string_equal(prop(&p, "offline_mark"), "true");
    assert_string_equal(prop(&p, "online"), "false");
    assert_int_equal(fx->ops->online(r, &on), 0);
    assert_int_equal(simple(fx, r, CLUSCTL_RESOURCE_VOLUME_GET_INFO, none, 0, &p), 0);
    assert_string_equal(prop(&p, "offline_mark"), "false");
    fx->ops->close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_startup),
        cmocka_unit_test_setup_teardown(test_open_rejects_bad_parameters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lifecycle_and_controls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arbitrate_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signal_failure_when_image_deleted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mark_survives_restart, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
