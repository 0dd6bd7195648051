/* SPDX-License-Identifier: MIT */
/*
 * image_sync.c — the compressed image is made durable while it is being
 * packed, not after.
 *
 * On these VMs the disk's work happens at the flush: a file handed to
 * writeback with sync_file_range while the packing runs still took as long
 * to fsync at the end as one never handed over (171 MB: 0.33-0.35 s
 * against 0.36-0.41 s), while an fdatasync every 32 MiB on a thread of its
 * own left 0.02-0.03 s for the last fsync and finished the same writes,
 * spread over 0.4 s of compute, in 0.56 s instead of 0.82 s
 * (docs/BENCHMARKS.md, "The compressed writer's disk"). The packing is
 * slower than the disk's share of the work, so the two can overlap; an
 * uncompressed image (lib/image_write.c) comes at memory speed and has
 * nothing to overlap with.
 *
 * An fdatasync from this thread consumes a write-back error for the file
 * description, so the caller's fsync could then return 0: the first error
 * is kept and returned by image_sync_stop.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "image_sync.h"

#define IMAGE_SYNC_STEP (32ull << 20)

struct image_sync {
    pthread_mutex_t mu;
    pthread_cond_t more;
    pthread_t th;
    int fd, stop, err;
    uint64_t wrote, synced;
};

static void *syncer(void *arg)
{
    struct image_sync *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->stop && s->wrote - s->synced < IMAGE_SYNC_STEP)
            pthread_cond_wait(&s->more, &s->mu);
        if (s->stop)
            break;
        uint64_t upto = s->wrote;
        pthread_mutex_unlock(&s->mu);
        int rc = fdatasync(s->fd) < 0 ? -errno : 0;
        pthread_mutex_lock(&s->mu);
        if (rc < 0 && !s->err)
            s->err = rc;
        s->synced = upto;
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

struct image_sync *image_sync_start(int fd)
{
    struct image_sync *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->fd = fd;
    if (pthread_mutex_init(&s->mu, NULL) != 0 || pthread_cond_init(&s->more, NULL) != 0 ||
        pthread_create(&s->th, NULL, syncer, s) != 0) {
        free(s); /* a mutex and a condition of the default kind hold nothing */
        return NULL;
    }
    return s;
}

void image_sync_wrote(struct image_sync *s, uint64_t off)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->wrote = off;
    if (s->wrote - s->synced >= IMAGE_SYNC_STEP)
        pthread_cond_signal(&s->more);
    pthread_mutex_unlock(&s->mu);
}

int image_sync_stop(struct image_sync *s)
{
    if (!s)
        return 0;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_signal(&s->more);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->th, NULL);
    int err = s->err;
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->more);
    free(s);
    return err;
}
