/* SPDX-License-Identifier: MIT */
/*
 * run_compress.c — `cairn run --compress zstd[:LEVEL]` (CAIRN_COMPRESS):
 * compressed process images (docs/TRANSPARENT.md, "Compressed images").
 *
 * With compression on, each writer of a checkpoint (the first process's
 * and every member's) gets a memfd of cairn's instead of its temp file;
 * once every process answered, cairn packs each memfd into its temp file
 * (cli/image_pack.c), and the commit goes on as without compression. The
 * job runs on meanwhile: it is not paused for the compression. On
 * restore, the picked generation's compressed images are expanded into
 * sealed memfds before the restorer is started on them.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cairn.h"
#include "cairn_time.h"
#include "cli.h"
#include "image_pack.h"
#include "process_format.h"
#include "run.h"

int run_compress_parse(const char *spec, int *level)
{
    if (!strcmp(spec, "off") || !strcmp(spec, "none")) {
        *level = RUN_COMPRESS_OFF;
        return 0;
    }
    if (!strcmp(spec, "zstd")) {
        *level = RUN_COMPRESS_DEFAULT_LEVEL;
        return 0;
    }
    long v;
    if (strncmp(spec, "zstd:", 5) || cairn__parse_long(spec + 5, -7, 19, &v) < 0 || v == 0)
        return -1;
    *level = (int)v;
    return 0;
}

void run_compress_env(struct run_ctx *r)
{
    const char *env = getenv("CAIRN_COMPRESS");
    if (env && *env && run_compress_parse(env, &r->compress) < 0)
        fprintf(stderr, "cairn: CAIRN_COMPRESS=%s: neither off, zstd nor zstd:LEVEL (-7..19, "
                        "not 0); off kept\n", env);
}

int run_compress_target(const struct run_ctx *r, struct cairn__pending *p)
{
    if (r->compress == RUN_COMPRESS_OFF)
        return p->fd;
    p->raw_fd = memfd_create("cairn-raw-image", MFD_CLOEXEC);
    return p->raw_fd;
}

/* CAIRN_TEST_PACK_DIE=GEN: cairn dies (SIGKILL) while it packs generation
   GEN, just after its first memory section (tests/transparent/compress.sh). */
static void die_in_pack(unsigned section, unsigned type)
{
    (void)section;
    if (type == CAIRN_SEC_PROC_MEM)
        kill(getpid(), SIGKILL);
}

static void test_hooks(uint64_t gen)
{
    const char *at = getenv("CAIRN_TEST_PACK_DIE");
    image_pack_hook = at && strtoull(at, NULL, 10) == gen ? die_in_pack : NULL;
}

static int workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

/* Packs one image; its memfd is closed either way. */
static int pack_one(const struct run_ctx *r, struct cairn__pending *p, struct pack_stats *sum,
                    char *why, size_t len)
{
    struct pack_opts po = {.level = r->compress, .workers = workers(),
                           .key = r->keyed ? r->key : NULL};
    struct pack_stats st;
    char what[400];
    int rc = image_pack(p->raw_fd, p->fd, &po, &st, what, sizeof what);
    close(p->raw_fd);
    p->raw_fd = -1;
    if (rc < 0) {
        snprintf(why, len, "cannot compress the image into %s: %s", r->store_abs, what);
        return -1;
    }
    sum->raw += st.raw;
    sum->stored += st.stored;
    sum->compressed += st.compressed;
    sum->passed += st.passed;
    sum->raw_blocks += st.raw_blocks;
    return 0;
}

/* cairn's own soft file size limit raised to the hard one, as the writer
   does (runtime/writer.c): the packed image is cairn's file. Only once the
   job runs, which keeps the limits it was started with. */
static void raise_file_size_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_FSIZE, &rl);
    }
}

int run_compress_round(struct run_ctx *r, uint64_t *stored, char *why, size_t len)
{
    if (r->compress == RUN_COMPRESS_OFF || r->tmp.raw_fd < 0)
        return 0;
    raise_file_size_limit();
    uint64_t t0 = cairn__now_ns(CLOCK_MONOTONIC);
    struct pack_stats sum = {0};
    test_hooks(r->tmp.generation);
    int rc = pack_one(r, &r->tmp, &sum, why, len);
    for (size_t i = 0; rc == 0 && i < r->nmembers; i++)
        if (r->members[i].tmp.fd >= 0 && r->members[i].tmp.raw_fd >= 0)
            rc = pack_one(r, &r->members[i].tmp, &sum, why, len);
    if (rc < 0)
        return -1;
    *stored = sum.stored;
    double s = (double)(cairn__now_ns(CLOCK_MONOTONIC) - t0) / 1e9;
    if (r->verbose) /* cairn-bench-transparent reads this line */
        fprintf(stderr, "cairn: checkpoint %" PRIu64 " compressed: %" PRIu64 " bytes to %" PRIu64
                        " (%.0f%%) in %.3f ms (%.2f GB/s), fsync included; %" PRIu64
                        " memory sections compressed (%" PRIu64 " bytes of them in raw blocks), %"
                        PRIu64 " stored as they were\n",
                r->tmp.generation, sum.raw, sum.stored,
                sum.raw ? 100.0 * (double)sum.stored / (double)sum.raw : 0, s * 1e3,
                s > 0 ? (double)sum.raw / s / 1e9 : 0, sum.compressed, sum.raw_blocks, sum.passed);
    return 0;
}

/* Replaces *fd by its expanded form if it has compressed sections: 1 if
   it had, 0 if not, -1 with why. */
static int expand_one(int *fd, char *why, size_t len)
{
    int mfd;
    int rc = image_expand(*fd, &mfd, why, len);
    if (rc == 1) {
        close(*fd);
        *fd = mfd;
    }
    return rc;
}

int run_compress_expand(struct run_ctx *r, char *why, size_t len)
{
    char what[400];
    int rc = expand_one(&r->image_fd, what, sizeof what);
    if (rc < 0) {
        snprintf(why, len, "%s", what);
        return -1;
    }
    if (rc == 1) /* a delta names its parent's stored bytes: none on this one */
        r->chain.valid = 0;
    for (size_t i = 0; i < r->nmember_fds; i++)
        if (expand_one(&r->member_fd[i], what, sizeof what) < 0) {
            snprintf(why, len, "the image of its process %d: %s", (int)r->member_pid[i], what);
            return -1;
        }
    return 0;
}
