/* SPDX-License-Identifier: MIT */
/*
 * proc_ipc_check.c — the rules of the IPC section (docs/FORMAT.md 0x114):
 * the job's SysV semaphore sets and message queues and its POSIX message
 * queues. The namespace's init walks the same records to make the objects
 * again (cli/run_ipc.c), so it acts only on what was checked here.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn.h"
#include "cairn_image.h"
#include "proc_check.h"

#define SEMVMX 32767u     /* the largest semaphore value */
#define MQ_PRIO_LIMIT 32768 /* the kernel's MQ_PRIO_MAX */

static int fail(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (why && len)
        vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return CAIRN_ECORRUPT;
}

static uint64_t pad8(uint64_t n)
{
    return (n + 7) & ~(uint64_t)7;
}

int proc_mq_name(const char *name)
{
    size_t n = strnlen(name, 256);
    return n >= 2 && n < 256 && name[0] == '/' && !strchr(name + 1, '/');
}

/* A POSIX queue's name in the IPC section: "" (unlinked) or a name. */
static int good_name(const char *name)
{
    return !name[0] || proc_mq_name(name);
}

/* The messages of a queue: count records and their bytes, exactly data_len. */
static int check_msgs(const struct cairn_proc_ipc_obj *o, const unsigned char *d, char *why,
                      size_t len)
{
    uint64_t at = 0, max = o->kind == CAIRN_IPC_MQ ? o->msgsize : CAIRN_PROC_MAX_IPC_MSG;
    for (uint32_t i = 0; i < o->count; i++) {
        struct cairn_proc_ipc_msg m;
        if (o->data_len - at < sizeof m)
            return fail(why, len, "ipc: queue %d: message %u past its data", o->id, i);
        memcpy(&m, d + at, sizeof m);
        at += sizeof m;
        int bad_type = o->kind == CAIRN_IPC_MQ ? m.type < 0 || m.type >= MQ_PRIO_LIMIT : m.type < 1;
        if (bad_type || m.len > max || pad8(m.len) > o->data_len - at)
            return fail(why, len, "ipc: queue %d: message %u: type %" PRId64 ", %" PRIu64
                        " bytes", o->id, i, m.type, m.len);
        at += pad8(m.len);
    }
    if (at != o->data_len)
        return fail(why, len, "ipc: queue %d: %" PRIu64 " bytes of data, its messages take %"
                    PRIu64, o->id, o->data_len, at);
    return 0;
}

static int check_sem(const struct cairn_proc_ipc_obj *o, const unsigned char *d, char *why,
                     size_t len)
{
    if (o->count < 1 || o->count > CAIRN_PROC_MAX_SEMS || o->data_len != pad8(o->count * 2ull))
        return fail(why, len, "ipc: semaphore set %d: %u semaphores in %" PRIu64 " bytes",
                    o->id, o->count, o->data_len);
    for (uint32_t i = 0; i < o->count; i++) {
        uint16_t v;
        memcpy(&v, d + 2 * i, sizeof v);
        if (v > SEMVMX)
            return fail(why, len, "ipc: semaphore set %d: value %u of semaphore %u", o->id, v, i);
    }
    return 0;
}

static int check_object(const struct cairn_proc_ipc_obj *o, const unsigned char *d, char *why,
                        size_t len)
{
    if (o->reserved || o->mode > 0777 || o->id < 0 || o->data_len % 8)
        return fail(why, len, "ipc: object %d: mode 0%o, reserved %u, %" PRIu64 " bytes",
                    o->id, o->mode, o->reserved, o->data_len);
    if (o->kind == CAIRN_IPC_SHM) {
        if (o->msgsize || o->ino || o->name[0] || o->count > CAIRN_IPC_SHM_REMOVED ||
            o->qbytes < 1 || o->qbytes > CAIRN_PROC_MAX_IPC_DATA || o->data_len != pad8(o->qbytes))
            return fail(why, len, "ipc: SysV shared memory segment %d: %" PRIu64 " bytes in %"
                        PRIu64 ", flags %u", o->id, o->qbytes, o->data_len, o->count);
        return 0;
    }
    if (o->kind == CAIRN_IPC_SEM || o->kind == CAIRN_IPC_MSG) {
        if (o->msgsize || o->ino || o->name[0])
            return fail(why, len, "ipc: SysV object %d has POSIX fields", o->id);
        if (o->kind == CAIRN_IPC_SEM)
            return check_sem(o, d, why, len);
        if (o->count > CAIRN_PROC_MAX_IPC_MSGS || o->qbytes > CAIRN_PROC_MAX_IPC_DATA)
            return fail(why, len, "ipc: message queue %d: %u messages, %" PRIu64 " bytes",
                        o->id, o->count, o->qbytes);
        return check_msgs(o, d, why, len);
    }
    if (o->kind != CAIRN_IPC_MQ)
        return fail(why, len, "ipc: object %d: unknown kind %u", o->id, o->kind);
    if (!good_name(o->name) || !o->ino || o->key || o->qbytes < 1 ||
        o->qbytes > CAIRN_PROC_MAX_IPC_MSGS || o->msgsize < 1 ||
        o->msgsize > CAIRN_PROC_MAX_IPC_DATA || o->count > o->qbytes)
        return fail(why, len, "ipc: POSIX queue %d: a bad name, inode, or sizes (%" PRIu64
                    " messages of %" PRIu64 " bytes, %u queued)", o->id, o->qbytes, o->msgsize,
                    o->count);
    return check_msgs(o, d, why, len);
}

/* Two objects of one kind with the same id (or, POSIX, inode or name). */
static int clash(const struct cairn_proc_ipc_obj *a, const struct cairn_proc_ipc_obj *b)
{
    if (a->kind != b->kind)
        return 0;
    if (a->kind != CAIRN_IPC_MQ)
        return a->id == b->id || (a->key && a->key == b->key);
    return a->ino == b->ino || a->id == b->id || (a->name[0] && !strcmp(a->name, b->name));
}

int proc_ipc_walk(const unsigned char *buf, size_t size, proc_ipc_fn fn, void *arg, char *why,
                  size_t len)
{
    struct cairn_proc_ipc h;
    if (size < sizeof h || size > CAIRN_PROC_MAX_IPC_DATA)
        return fail(why, len, "ipc: %zu bytes", size);
    memcpy(&h, buf, sizeof h);
    if (h.length != size || h.reserved || h.nobjects > CAIRN_PROC_MAX_IPC_OBJECTS)
        return fail(why, len, "ipc: header (%u objects, %" PRIu64 " bytes)", h.nobjects,
                    h.length);
    static uint64_t at_of[CAIRN_PROC_MAX_IPC_OBJECTS];
    uint64_t at = sizeof h;
    for (uint32_t i = 0; i < h.nobjects; i++) {
        struct cairn_proc_ipc_obj o;
        if (size - at < sizeof o)
            return fail(why, len, "ipc: object %u past the section's end", i);
        memcpy(&o, buf + at, sizeof o);
        if (o.data_len > size - at - sizeof o)
            return fail(why, len, "ipc: object %u: data past the section's end", i);
        int rc = check_object(&o, buf + at + sizeof o, why, len);
        if (rc < 0)
            return rc;
        for (uint32_t k = 0; k < i; k++) {
            struct cairn_proc_ipc_obj e;
            memcpy(&e, buf + at_of[k], sizeof e);
            if (clash(&o, &e))
                return fail(why, len, "ipc: objects %u and %u: the same id, key or name", k, i);
        }
        at_of[i] = at;
        at += sizeof o + o.data_len;
    }
    if (at != size)
        return fail(why, len, "ipc: %" PRIu64 " bytes after the last object", size - at);
    for (uint32_t i = 0; fn && i < h.nobjects; i++) {
        struct cairn_proc_ipc_obj o;
        memcpy(&o, buf + at_of[i], sizeof o);
        int rc = fn(&o, buf + at_of[i] + sizeof o, arg);
        if (rc)
            return rc;
    }
    return 0;
}

int proc_ipc_load(cairn_image_t *img, unsigned char **buf, size_t *size, char *why, size_t len)
{
    *buf = NULL;
    *size = 0;
    int sec = proc_only_section(img, CAIRN_SEC_PROC_IPC);
    if (sec == -2)
        return fail(why, len, "more than one IPC section");
    if (sec < 0)
        return 0;
    uint64_t raw = cairn_image_section(img, (unsigned)sec)->raw_size;
    if (raw < sizeof(struct cairn_proc_ipc) || raw > CAIRN_PROC_MAX_IPC_DATA)
        return fail(why, len, "ipc: %" PRIu64 " bytes", raw);
    unsigned char *b = malloc((size_t)raw);
    if (!b)
        return fail(why, len, "ipc: out of memory");
    int rc = cairn_image_read(img, (unsigned)sec, b, (size_t)raw);
    if (rc < 0) {
        fail(why, len, "ipc: %s", cairn_image_error(img));
        free(b);
        return rc;
    }
    rc = proc_ipc_walk(b, (size_t)raw, NULL, NULL, why, len);
    if (rc < 0) {
        free(b);
        return rc;
    }
    *buf = b;
    *size = (size_t)raw;
    return 0;
}

int proc_check_ipc(cairn_image_t *img, char *why, size_t len)
{
    unsigned char *b;
    size_t n;
    int rc = proc_ipc_load(img, &b, &n, why, len);
    free(b);
    return rc;
}
