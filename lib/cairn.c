/* SPDX-License-Identifier: MIT */
/*
 * cairn.c — the application API: open, protect, restore, step, checkpoint,
 * complete, close.
 *
 * A handle moves OPEN (regions may be protected) -> READY (after
 * cairn_restore; checkpoints may be written) -> COMPLETE, or -> EXITING
 * when cairn_step() returns CAIRN_EXIT instead of calling exit().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cairn.h"
#include "cairn_image.h"
#include "handle.h"
#include "internal.h"
#include "cairn_options.h"
#include "cairn_events.h"

#define NS 1e9

static uint64_t mono_ns(void)
{
    return cairn__now_ns(CLOCK_MONOTONIC);
}

/* Appends an event to the store's log (best effort: never an error). */
static void log_event(const cairn_t *c, struct cairn__event e)
{
    cairn__event_write(c->store.dirfd, &e);
}

#define EVENT(ev) CAIRN_EVENT_INIT(ev, "libcairn")

static uint64_t coarse_ns(void)
{
    return cairn__now_ns(CLOCK_MONOTONIC_COARSE);
}

uint64_t cairn__protected_bytes(const cairn_t *c)
{
    uint64_t n = 0;
    for (size_t i = 0; i < c->nregions; i++)
        n += c->regions[i].psize ? *c->regions[i].psize : c->regions[i].size;
    return n;
}

/* Sets the next due step and time from now. */
static void schedule(cairn_t *c)
{
    c->due_step = UINT64_MAX;
    c->due_ns = UINT64_MAX;
    if (c->o.policy == CAIRN_POLICY_STEPS)
        c->due_step = c->steps + c->o.every_steps;
    else
        c->due_ns = coarse_ns() + (uint64_t)(c->interval * NS);
}

int cairn_open(cairn_t **out, const char *store_path, const cairn_options_t *opts)
{
    if (!out || !store_path || !*store_path)
        return CAIRN_EINVAL;
    *out = NULL;
    cairn_t *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    cairn_options_init(&c->o);
    if (opts) {
        /* A caller built against an older, shorter struct keeps our defaults
           for the fields it does not know. */
        size_t n = opts->struct_size < sizeof c->o ? opts->struct_size : sizeof c->o;
        if (n < sizeof(size_t)) {
            free(c);
            return CAIRN_EINVAL;
        }
        memcpy(&c->o, opts, n);
        c->o.struct_size = sizeof c->o;
    }
    cairn__options_from_env(&c->o);
    int rc = cairn__options_check(&c->o);
    if (rc < 0) {
        cairn__log(c->o.verbose, CAIRN_LOG_ERROR, "%s: invalid options", store_path);
        free(c);
        return rc;
    }
    if (c->o.key_file) {
        rc = cairn__key_load(c->o.key_file, c->key, c->o.verbose);
        if (rc < 0) {
            free(c);
            return rc;
        }
        c->keyed = 1;
        c->o.key_file = NULL; /* the key is loaded; the string may go */
    }
    rc = cairn__store_open(&c->store, store_path, c->o.verbose);
    if (rc < 0) {
        free(c);
        return rc;
    }
    c->store.prune_keep = c->o.keep;
    rc = cairn__signals_install(c);
    if (rc < 0) {
        cairn__log(c->o.verbose, CAIRN_LOG_ERROR, "cannot install checkpoint signal handlers");
        cairn__signals_restore(c);
        cairn__store_close(&c->store);
        free(c);
        return rc;
    }
    cairn__store_set_holder(&c->store, c->o.continue_signals[0]);
    struct cairn__event e = EVENT(CAIRN_EV_START);
    e.command = program_invocation_name;
    log_event(c, e);
    c->state = CAIRN_ST_OPEN;
    c->due_step = c->due_ns = UINT64_MAX; /* nothing is due before restore */
    c->exit_status = -1;
    *out = c;
    return 0;
}

static int add_region(cairn_t *c, const char *name, struct cairn__region r)
{
    if (!c || !name)
        return CAIRN_EINVAL;
    size_t len = strlen(name);
    if (len == 0 || len > CAIRN_NAME_MAX)
        return CAIRN_EINVAL;
    if (c->state != CAIRN_ST_OPEN) {
        cairn__log(c->o.verbose, CAIRN_LOG_ERROR,
                   "cairn_protect(\"%s\") after cairn_restore(): protect every region first",
                   name);
        return CAIRN_ESTATE;
    }
    for (size_t i = 0; i < c->nregions; i++)
        if (strcmp(c->regions[i].name, name) == 0) {
            cairn__log(c->o.verbose, CAIRN_LOG_ERROR, "region \"%s\" is protected twice",
                       name);
            return CAIRN_EINVAL;
        }
    if (c->nregions == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        struct cairn__region *nr = realloc(c->regions, cap * sizeof *nr);
        if (!nr)
            return -ENOMEM;
        c->regions = nr;
        c->cap = cap;
    }
    r.name = strdup(name);
    if (!r.name)
        return -ENOMEM;
    r.name_len = len;
    c->regions[c->nregions++] = r;
    return 0;
}

int cairn_protect(cairn_t *c, const char *name, void *ptr, size_t size)
{
    if (!ptr && size)
        return CAIRN_EINVAL;
    return add_region(c, name, (struct cairn__region){.ptr = ptr, .size = size});
}

int cairn_protect_buffer(cairn_t *c, const char *name, void **pptr, size_t *psize)
{
    if (!pptr || !psize)
        return CAIRN_EINVAL;
    return add_region(c, name, (struct cairn__region){.pptr = pptr, .psize = psize});
}

/* ---- restore --------------------------------------------------------------- */

static struct cairn__region *find_region(cairn_t *c, const char *name)
{
    for (size_t i = 0; i < c->nregions; i++)
        if (strcmp(c->regions[i].name, name) == 0)
            return &c->regions[i];
    return NULL;
}

/* The image must hold exactly the protected regions, with the same sizes
   for fixed ones. Says which region differs. */
static int match_regions(cairn_t *c, cairn_image_t *img, const char *path)
{
    const cairn_image_info_t *info = cairn_image_info(img);
    if (info->flags & CAIRN_IMG_PROCESS) {
        cairn__log(c->o.verbose, CAIRN_LOG_ERROR,
                   "%s: a process image from 'cairn run', not a libcairn image", path);
        return CAIRN_EMISMATCH;
    }
    size_t seen = 0;
    for (unsigned i = 0; i < info->section_count; i++) {
        const cairn_section_info_t *s = cairn_image_section(img, i);
        if (s->type != CAIRN_SEC_REGION)
            continue;
        struct cairn__region *r = find_region(c, s->name);
        if (!r) {
            cairn__log(c->o.verbose, CAIRN_LOG_ERROR,
                       "%s: image has region \"%s\" (%llu bytes) that the program does not "
                       "protect",
                       path, s->name, (unsigned long long)s->raw_size);
            return CAIRN_EMISMATCH;
        }
        if (cairn_image_find(img, CAIRN_SEC_REGION, s->name) != (int)i) {
            cairn__log(c->o.verbose, CAIRN_LOG_ERROR, "%s: region \"%s\" appears twice", path,
                       s->name);
            return CAIRN_ECORRUPT;
        }
        if (!r->psize && s->raw_size != r->size) {
            cairn__log(c->o.verbose, CAIRN_LOG_ERROR,
                       "%s: region \"%s\" has %llu bytes in the image, the program protects "
                       "%zu",
                       path, s->name, (unsigned long long)s->raw_size, r->size);
            return CAIRN_EMISMATCH;
        }
        if (r->psize && s->raw_size > SIZE_MAX)
            return CAIRN_EMISMATCH;
        seen++;
    }
    if (seen != c->nregions) {
        for (size_t i = 0; i < c->nregions; i++)
            if (cairn_image_find(img, CAIRN_SEC_REGION, c->regions[i].name) < 0) {
                cairn__log(c->o.verbose, CAIRN_LOG_ERROR,
                           "%s: the program protects region \"%s\", which the image lacks", path,
                           c->regions[i].name);
                break;
            }
        return CAIRN_EMISMATCH;
    }
    return 0;
}

static int load_buffer(cairn_image_t *img, unsigned idx, struct cairn__region *r)
{
    size_t size = (size_t)cairn_image_section(img, idx)->raw_size;
    if (size != *r->psize || (size && !*r->pptr)) {
        void *p = realloc(*r->pptr, size ? size : 1);
        if (!p)
            return -ENOMEM;
        *r->pptr = p;
        *r->psize = size;
    }
    return cairn_image_read(img, idx, *r->pptr, size);
}

/* Reads the job counters. A missing or differently sized section is
   tolerated; a damaged one fails the image like a damaged region would. */
static int load_job_meta(cairn_t *c, cairn_image_t *img)
{
    int idx = cairn_image_find(img, CAIRN_SEC_JOB, NULL);
    unsigned char m[CAIRN_JOB_META_SIZE];
    if (idx < 0 || cairn_image_section(img, (unsigned)idx)->raw_size != sizeof m)
        return 0;
    int rc = cairn_image_read(img, (unsigned)idx, m, sizeof m);
    if (rc < 0)
        return rc;
    struct cairn_job_meta j;
    cairn_job_meta_decode(m, &j);
    c->steps = j.steps;
    c->restores = j.restores;
    c->job_checkpoints = j.checkpoints;
    c->last_cost = (double)j.last_cost_ns / NS;
    return 0;
}

/* Fills every protected region from img. */
static int load(cairn_t *c, cairn_image_t *img)
{
    for (size_t i = 0; i < c->nregions; i++) {
        struct cairn__region *r = &c->regions[i];
        unsigned idx = (unsigned)cairn_image_find(img, CAIRN_SEC_REGION, r->name);
        int rc = r->psize ? load_buffer(img, idx, r) : cairn_image_read(img, idx, r->ptr, r->size);
        if (rc < 0)
            return rc;
    }
    return load_job_meta(c, img);
}

/* The store policy's check of one generation (lib/pick.c): its regions
   match the program's, it loads, and in a keyed job it authenticates. */
static int check_generation(void *ctx, uint64_t gen, int fd, char *why, size_t why_len)
{
    cairn_t *c = ctx;
    char path[PATH_MAX + 64];
    cairn_store_image_path(c->store.path, gen, path, sizeof path);
    cairn_image_t *img = NULL;
    int rc = cairn_image_open_fd(&img, fd, why, why_len);
    if (rc < 0)
        return rc;
    rc = match_regions(c, img, path);
    if (rc == 0 && c->keyed)
        rc = cairn_image_set_key(img, c->key);
    if (rc == 0)
        rc = load(c, img);
    if (rc == 0 && c->keyed)
        rc = cairn_image_authenticate(img);
    if (rc < 0)
        snprintf(why, why_len, "%s", cairn_image_error(img)[0] ? cairn_image_error(img)
                                                              : cairn_strerror(rc));
    cairn_image_close(img);
    if (rc == 0)
        c->generation = gen;
    return rc;
}

int cairn_restore(cairn_t *c)
{
    if (!c)
        return CAIRN_EINVAL;
    if (c->state != CAIRN_ST_OPEN)
        return CAIRN_ESTATE;
    uint64_t gen;
    int fd = -1;
    int rc = cairn__store_pick(&c->store, check_generation, c, &gen, &fd);
    if (rc < 0)
        return rc;
    int restored = rc == 1;
    if (restored)
        close(fd);
    c->state = CAIRN_ST_READY;
    if (restored) {
        c->restores++;
        struct cairn__event e = EVENT(CAIRN_EV_RESTORE);
        e.generation = (int64_t)c->generation;
        log_event(c, e);
        cairn__log(c->o.verbose, CAIRN_LOG_INFO, "%s: restored generation %llu (step %llu)",
                   c->store.path, (unsigned long long)c->generation,
                   (unsigned long long)c->steps);
    } else if (cairn_store_is_finished(c->store.path)) {
        cairn__log(c->o.verbose, CAIRN_LOG_INFO,
                   "%s: the previous run finished; starting a new run", c->store.path);
    }
    cairn__policy_update(c);
    schedule(c);
    return restored ? CAIRN_RESTORED : CAIRN_FRESH;
}

/* ---- checkpoint ------------------------------------------------------------ */

static int write_sections(cairn_t *c, int fd, uint64_t gen, uint64_t *bytes)
{
    c->w.zstd = &cairn__writer_zstd;
    int rc = cairn__writer_begin(&c->w, fd, 0, gen);
    struct cairn_job_meta j = {
        .steps = c->steps,
        .restores = c->restores,
        .checkpoints = c->job_checkpoints + 1,
        .interval_ns = (uint64_t)(c->interval * NS),
        .last_cost_ns = (uint64_t)(c->last_cost * NS),
        .every_steps = c->o.policy == CAIRN_POLICY_STEPS ? c->o.every_steps : 0,
        .policy = (uint32_t)c->o.policy,
    };
    unsigned char m[CAIRN_JOB_META_SIZE];
    cairn_job_meta_encode(&j, m);
    struct cairn__section js = {.type = CAIRN_SEC_JOB};
    if (rc == 0)
        rc = cairn__writer_section(&c->w, &js, m, sizeof m);
    for (size_t i = 0; rc == 0 && i < c->nregions; i++) {
        const struct cairn__region *r = &c->regions[i];
        struct cairn__section s = {
            .type = CAIRN_SEC_REGION,
            .flags = r->psize ? CAIRN_SECF_BUFFER : 0,
            .name = r->name,
            .name_len = r->name_len,
            .level = c->o.compress_level,
        };
        rc = r->psize ? cairn__writer_section(&c->w, &s, *r->pptr, *r->psize)
                      : cairn__writer_section(&c->w, &s, r->ptr, r->size);
    }
    if (rc == 0)
        rc = cairn__writer_finish(&c->w);
    *bytes = c->w.off;
    return rc;
}

/* A checkpoint that may not fit under the process's file size limit
   (ulimit -f, RLIMIT_FSIZE; a batch system may set one) is refused before
   its first byte, -EFBIG: a write past the limit raises SIGXFSZ, which
   kills the job unless it handles it. The bound: every region whole, plus
   what zstd may add to data it cannot shrink, plus the headers. */
static int check_file_size_limit(cairn_t *c)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_FSIZE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
        return 0;
    uint64_t bound = 64u << 10;
    for (size_t i = 0; i < c->nregions; i++) {
        const struct cairn__region *r = &c->regions[i];
        uint64_t size = r->psize ? *r->psize : r->size;
        bound += size + size / 128 + 1024 + r->name_len;
    }
    if (bound <= (uint64_t)rl.rlim_cur)
        return 0;
    cairn__log(c->o.verbose, CAIRN_LOG_ERROR,
               "%s: the checkpoint may need up to %llu bytes and the job's file size limit "
               "(ulimit -f) is %llu bytes",
               c->store.path, (unsigned long long)bound, (unsigned long long)rl.rlim_cur);
    return -EFBIG;
}

int cairn_set_checkpoint_hook(cairn_t *c, cairn_hook_fn fn, void *arg)
{
    if (!c)
        return CAIRN_EINVAL;
    c->hook = fn;
    c->hook_arg = fn ? arg : NULL;
    return 0;
}

/* Runs the checkpoint hook: 0, or its negative return. */
static int run_hook(cairn_t *c)
{
    if (!c->hook)
        return 0;
    c->in_hook = 1;
    int rc = c->hook(c, c->hook_arg);
    c->in_hook = 0;
    return rc < 0 ? rc : 0;
}

int cairn_checkpoint(cairn_t *c)
{
    if (!c)
        return CAIRN_EINVAL;
    if (c->in_hook) {
        cairn__log(c->o.verbose, CAIRN_LOG_ERROR,
                   "%s: checkpoint requested from inside the checkpoint hook", c->store.path);
        return CAIRN_ESTATE;
    }
    if (c->state != CAIRN_ST_READY) {
        cairn__log(c->o.verbose, CAIRN_LOG_ERROR,
                   "%s: checkpoint before cairn_restore(), after cairn_complete() or after "
                   "CAIRN_EXIT",
                   c->store.path);
        return CAIRN_ESTATE;
    }
    uint64_t t0 = mono_ns(), bytes = 0;
    struct cairn__pending p = {.fd = -1};
    c->w.mac = NULL;
    if (c->keyed && !(c->w.mac = cairn__mac_new(c->key)))
        return -ENOMEM;
    /* The hook first: it may change the protected memory and buffers. */
    int rc = run_hook(c);
    int cancelled = rc < 0;
    if (rc == 0)
        rc = check_file_size_limit(c);
    if (rc == 0)
        rc = cairn__store_begin(&c->store, &p);
    if (rc == 0)
        rc = write_sections(c, p.fd, p.generation, &bytes);
    if (rc == 0)
        rc = cairn__store_commit(&c->store, &p, c->o.keep);
    else if (p.fd >= 0)
        cairn__store_abort(&c->store, &p);
    cairn__mac_free(c->w.mac);
    c->w.mac = NULL;
    double cost = (double)(mono_ns() - t0) / NS;
    c->seconds_writing += cost;
    if (rc < 0) {
        const char *what = cancelled ? "checkpoint cancelled by its hook" : "checkpoint failed";
        c->failed++;
        char reason[160];
        snprintf(reason, sizeof reason, "%s: %s", what, cairn_strerror(rc));
        struct cairn__event e = EVENT(cancelled ? CAIRN_EV_REFUSED : CAIRN_EV_FAILED);
        e.reason = reason;
        log_event(c, e);
        if (c->generation)
            cairn__log(c->o.verbose, CAIRN_LOG_ERROR,
                       "%s: %s: %s; the previous checkpoint (generation %llu) is kept and the "
                       "job goes on",
                       c->store.path, what, cairn_strerror(rc),
                       (unsigned long long)c->generation);
        else
            cairn__log(c->o.verbose, CAIRN_LOG_ERROR,
                       "%s: %s: %s; there is no earlier checkpoint, and the job goes on",
                       c->store.path, what, cairn_strerror(rc));
        return rc;
    }
    c->generation = p.generation;
    c->checkpoints++;
    c->job_checkpoints++;
    c->bytes_written += bytes;
    c->last_cost = cost;
    struct cairn__event e = EVENT(CAIRN_EV_COMMIT);
    e.generation = (int64_t)p.generation;
    e.bytes = (int64_t)bytes;
    e.pause_ns = e.durable_ns = (int64_t)(cost * NS); /* the job waits for it all */
    log_event(c, e);
    cairn__log(c->o.verbose, CAIRN_LOG_DEBUG,
               "%s: generation %llu committed: %llu bytes in %.3f s (step %llu)", c->store.path,
               (unsigned long long)p.generation, (unsigned long long)bytes, cost,
               (unsigned long long)c->steps);
    return 0;
}

static void print_summary(const cairn_t *c)
{
    cairn__log(c->o.verbose, CAIRN_LOG_INFO,
               "%s: %llu checkpoints (%.1f MiB, %.3f s, last %.1f ms), %llu failed, "
               "%llu restores, %llu steps; interval %s",
               c->store.path, (unsigned long long)c->checkpoints,
               (double)c->bytes_written / (1 << 20), c->seconds_writing, c->last_cost * 1e3,
               (unsigned long long)c->failed, (unsigned long long)c->restores,
               (unsigned long long)c->steps, c->policy_text);
}

/* The end of the job after a checkpoint: exit(status), or with no_exit
   CAIRN_EXIT with everything done but the summary, which cairn_close()
   prints. Either way the pruner finishes first: old generations are gone
   before the job exits (HTCondor transfers the store as soon as it does). */
static int leave(cairn_t *c, int status)
{
    c->exit_status = status;
    struct cairn__event e = EVENT(CAIRN_EV_EXIT);
    e.status = status;
    e.generation = c->generation ? (int64_t)c->generation : -1;
    log_event(c, e);
    if (!c->o.no_exit) {
        print_summary(c);
        cairn__store_close(&c->store);
        exit(status);
    }
    cairn__store_close(&c->store);
    c->state = CAIRN_ST_EXITING;
    c->due_step = c->due_ns = UINT64_MAX;
    return CAIRN_EXIT;
}

/* The slow path of cairn_step(): something is due. */
static int step_due(cairn_t *c)
{
    if (c->state != CAIRN_ST_READY || c->in_hook)
        return CAIRN_ESTATE;
    int sig = cairn__signals_take();
    if (sig != 0) {
        struct cairn__event e = EVENT(CAIRN_EV_SIGNAL);
        e.signal = sig > 0 ? sig : cairn__signals_continue_signo();
        e.reason = sig > 0 ? "checkpoint, then exit" : "checkpoint, then go on";
        log_event(c, e);
    }
    int rc = cairn_checkpoint(c);
    if (c->o.policy == CAIRN_POLICY_AUTO)
        cairn__policy_update(c);
    schedule(c);
    if (sig > 0) {
        int status = c->o.signal_exit_status >= 0 ? c->o.signal_exit_status : 128 + sig;
        if (!c->o.exit_on_signal) {
            c->exit_status = status;
            return CAIRN_EXIT_REQUESTED;
        }
        cairn__log(c->o.verbose, CAIRN_LOG_INFO, "%s: signal %d: %s, exiting with status %d",
                   c->store.path, sig, rc == 0 ? "checkpoint written" : "checkpoint FAILED",
                   status);
        return leave(c, status);
    }
    if (rc < 0)
        return rc;
    if (sig == 0 && c->o.exit_code >= 0) {
        cairn__log(c->o.verbose, CAIRN_LOG_INFO,
                   "%s: generation %llu written (self-checkpoint), exiting with status %d",
                   c->store.path, (unsigned long long)c->generation, c->o.exit_code);
        return leave(c, c->o.exit_code);
    }
    return CAIRN_CHECKPOINTED;
}

int cairn_step(cairn_t *c)
{
    c->steps++;
    if (__builtin_expect(cairn__sig_pending == 0 && c->steps < c->due_step &&
                             (c->due_ns == UINT64_MAX || coarse_ns() < c->due_ns),
                         1))
        return 0;
    return step_due(c);
}

int cairn_complete(cairn_t *c)
{
    if (!c)
        return CAIRN_EINVAL;
    if (c->state != CAIRN_ST_READY || c->in_hook)
        return CAIRN_ESTATE;
    char summary[256];
    snprintf(summary, sizeof summary,
             "finished after %llu steps, %llu checkpoints, %llu restores\n",
             (unsigned long long)c->steps, (unsigned long long)c->job_checkpoints,
             (unsigned long long)c->restores);
    int rc = cairn__store_finish(&c->store, summary);
    if (rc < 0) {
        cairn__log(c->o.verbose, CAIRN_LOG_ERROR, "%s: cannot mark the job finished: %s",
                   c->store.path, cairn_strerror(rc));
        return rc;
    }
    struct cairn__event e = EVENT(CAIRN_EV_FINISHED);
    summary[strcspn(summary, "\n")] = 0;
    e.reason = summary;
    log_event(c, e);
    c->state = CAIRN_ST_COMPLETE;
    c->due_step = c->due_ns = UINT64_MAX;
    return 0;
}

void cairn_close(cairn_t *c)
{
    if (!c)
        return;
    if (c->state != CAIRN_ST_OPEN)
        print_summary(c);
    cairn__signals_restore(c);
    cairn__writer_release(&c->w);
    cairn__store_close(&c->store);
    memset(c->key, 0, sizeof c->key);
    for (size_t i = 0; i < c->nregions; i++)
        free(c->regions[i].name);
    free(c->regions);
    free(c);
}

int cairn_get_stats(const cairn_t *c, cairn_stats_t *out)
{
    if (!c || !out)
        return CAIRN_EINVAL;
    memset(out, 0, sizeof *out);
    out->checkpoints = c->checkpoints;
    out->failed = c->failed;
    out->bytes_written = c->bytes_written;
    out->seconds_writing = c->seconds_writing;
    out->last_cost = c->last_cost;
    out->interval = c->interval;
    out->steps = c->steps;
    out->restores = c->restores;
    out->generation = c->generation;
    snprintf(out->policy, sizeof out->policy, "%s", c->policy_text);
    return 0;
}

int cairn_exit_status(const cairn_t *c)
{
    if (!c)
        return CAIRN_EINVAL;
    return c->exit_status >= 0 ? c->exit_status : CAIRN_ESTATE;
}
