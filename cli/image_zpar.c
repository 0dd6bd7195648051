/* SPDX-License-Identifier: MIT */
/*
 * image_zpar.c — a memory payload compressed as a run of zstd frames, one
 * or more per 1 MiB chunk, the chunks compressed by a pool of threads and
 * handed back in order (docs/FORMAT.md, "Compressed process images").
 *
 * Why not zstd's own workers (ZSTD_c_nbWorkers): the cairn command is a
 * static-pie executable (cmake/CairnStaticDeps.cmake) and Debian's
 * libzstd.a is built without threads, so that parameter is refused there
 * and everything ran on one core. Independent frames also let a block
 * that does not compress be stored as a raw block without zstd looking at
 * it: a 4 KiB sample at its start, middle and end is compressed first
 * (about 1/10 of the block), and only if none of them shrinks is the
 * block stored raw.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "cairn.h"
#include "image_zpar.h"

#define SLOTS 8           /* chunks in flight */
#define SAMPLE 4096u      /* bytes of each sample of the test */
#define MAX_RUNS (ZPAR_CHUNK / ZPAR_BLOCK)

enum { SLOT_FREE, SLOT_QUEUED, SLOT_DONE };

struct slot {
    int expand;                /* a frame to decompress into dst, not a chunk */
    unsigned char *dst;        /* with expand: room for len bytes */
    const unsigned char *src;
    size_t len;                /* raw bytes: the chunk's, or the frame's content */
    size_t src_len;            /* with expand: the frame's bytes at src */
    unsigned char *out;
    size_t out_len;
    uint64_t raw_bytes;
    int rc;
    int state;
};

/* One worker's zstd contexts: frames, and the samples of the test. */
struct wctx {
    ZSTD_CCtx *frame, *sample;
    ZSTD_DCtx *d;              /* made on the first frame to expand */
    unsigned char sbuf[SAMPLE + 512];
};

struct zpar {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    struct slot slot[SLOTS];
    uint64_t submitted, taken; /* chunk sequence numbers */
    int stop, level, nthreads, nw;
    size_t cap;                /* each slot's out buffer */
    pthread_t *th;
    struct wctx *w;            /* nthreads of them, or one for the caller */
};

/* ---- a raw frame ----------------------------------------------------------- */

size_t zpar_raw_frame_size(size_t len)
{
    return 4 + 1 + 4 + len + 3 * ((len + ZPAR_BLOCK - 1) / ZPAR_BLOCK);
}

/* RFC 8878: magic, a frame header with Single_Segment and a 4-byte
   Frame_Content_Size, no checksum; then Raw_Blocks of up to 128 KiB. */
size_t zpar_raw_frame(unsigned char *dst, const unsigned char *src, size_t len)
{
    static const unsigned char head[5] = {0x28, 0xb5, 0x2f, 0xfd, 0xa0};
    memcpy(dst, head, sizeof head);
    for (int i = 0; i < 4; i++)
        dst[5 + i] = (unsigned char)((uint64_t)len >> (8 * i));
    size_t o = 9;
    for (size_t done = 0; done < len;) {
        size_t n = len - done < ZPAR_BLOCK ? len - done : ZPAR_BLOCK;
        uint32_t bh = (uint32_t)(n << 3) | (done + n == len); /* type 0: raw */
        dst[o] = (unsigned char)bh;
        dst[o + 1] = (unsigned char)(bh >> 8);
        dst[o + 2] = (unsigned char)(bh >> 16);
        memcpy(dst + o + 3, src + done, n);
        o += 3 + n;
        done += n;
    }
    return o;
}

/* ---- one chunk --------------------------------------------------------------- */

/* Whether none of three samples of the block (start, middle, end) gets
   smaller than 31/32 of itself at level 1. Short blocks: compressible. */
static int incompressible(struct wctx *w, const unsigned char *p, size_t n)
{
    if (n < 4 * SAMPLE)
        return 0;
    const size_t at[3] = {0, n / 2, n - SAMPLE};
    for (int i = 0; i < 3; i++) {
        size_t z = ZSTD_compressCCtx(w->sample, w->sbuf, sizeof w->sbuf, p + at[i], SAMPLE, 1);
        if (ZSTD_isError(z) || z < SAMPLE - SAMPLE / 32)
            return 0;
    }
    return 1;
}

/* The chunk's frames: each run of blocks of one kind is one frame. */
static int pack_chunk(struct wctx *w, struct slot *s, size_t cap)
{
    unsigned char raw[MAX_RUNS];
    size_t nblocks = (s->len + ZPAR_BLOCK - 1) / ZPAR_BLOCK, o = 0;
    for (size_t b = 0; b < nblocks; b++) {
        size_t off = b * ZPAR_BLOCK;
        raw[b] = (unsigned char)incompressible(w, s->src + off,
                                               s->len - off < ZPAR_BLOCK ? s->len - off
                                                                         : ZPAR_BLOCK);
    }
    s->raw_bytes = 0;
    for (size_t b = 0; b < nblocks;) {
        size_t e = b + 1;
        while (e < nblocks && raw[e] == raw[b])
            e++;
        size_t off = b * ZPAR_BLOCK, n = (e * ZPAR_BLOCK < s->len ? e * ZPAR_BLOCK : s->len) - off;
        if (raw[b]) {
            o += zpar_raw_frame(s->out + o, s->src + off, n);
            s->raw_bytes += n;
        } else {
            size_t z = ZSTD_compress2(w->frame, s->out + o, cap - o, s->src + off, n);
            if (ZSTD_isError(z))
                return CAIRN_ECODEC;
            o += z;
        }
        b = e;
    }
    s->out_len = o;
    return 0;
}

/* A frame decompressed to exactly the content size its header gave. */
static int expand_frame(struct wctx *w, struct slot *s)
{
    if (!w->d && !(w->d = ZSTD_createDCtx()))
        return -ENOMEM;
    size_t n = ZSTD_decompressDCtx(w->d, s->dst, s->len, s->src, s->src_len);
    return ZSTD_isError(n) || n != s->len ? CAIRN_ECORRUPT : 0;
}

/* ---- the pool ---------------------------------------------------------------- */

static void *worker(void *arg)
{
    struct zpar *z = arg;
    pthread_mutex_lock(&z->mu);
    struct wctx *w = &z->w[0];
    for (int i = 0; i < z->nthreads; i++) /* which one am I */
        if (pthread_equal(z->th[i], pthread_self()))
            w = &z->w[i];
    for (;;) {
        while (!z->stop && z->taken == z->submitted)
            pthread_cond_wait(&z->work, &z->mu);
        if (z->stop)
            break;
        struct slot *s = &z->slot[z->taken++ % SLOTS];
        pthread_mutex_unlock(&z->mu);
        int rc = s->expand ? expand_frame(w, s) : pack_chunk(w, s, z->cap);
        pthread_mutex_lock(&z->mu);
        s->rc = rc;
        s->state = SLOT_DONE;
        pthread_cond_broadcast(&z->done);
    }
    pthread_mutex_unlock(&z->mu);
    return NULL;
}

static int wctx_init(struct wctx *w, int level)
{
    w->frame = ZSTD_createCCtx();
    w->sample = ZSTD_createCCtx();
    if (!w->frame || !w->sample)
        return -ENOMEM;
    ZSTD_CCtx_setParameter(w->frame, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(w->frame, ZSTD_c_checksumFlag, 0); /* the section's XXH3 covers it */
    return 0;
}

struct zpar *zpar_new(int level, int threads)
{
    struct zpar *z = calloc(1, sizeof *z);
    if (!z)
        return NULL;
    z->level = level;
    z->cap = ZSTD_compressBound(ZPAR_CHUNK) + MAX_RUNS * 64;
    z->w = calloc(threads > 0 ? (size_t)threads : 1, sizeof *z->w);
    z->th = calloc(threads > 0 ? (size_t)threads : 1, sizeof *z->th);
    int ok = z->w && z->th && !pthread_mutex_init(&z->mu, NULL) &&
             !pthread_cond_init(&z->work, NULL) && !pthread_cond_init(&z->done, NULL);
    for (int i = 0; ok && i < SLOTS; i++)
        ok = (z->slot[i].out = malloc(z->cap)) != NULL;
    z->nw = threads > 0 ? threads : 1;
    for (int i = 0; ok && i < z->nw; i++)
        ok = wctx_init(&z->w[i], level) == 0;
    if (!ok) {
        zpar_free(z);
        return NULL;
    }
    pthread_mutex_lock(&z->mu); /* the workers find their wctx once all are started */
    for (int i = 0; i < threads; i++)
        if (pthread_create(&z->th[z->nthreads], NULL, worker, z) == 0)
            z->nthreads++;
    pthread_mutex_unlock(&z->mu); /* none started: the caller compresses */
    return z;
}

void zpar_free(struct zpar *z)
{
    if (!z)
        return;
    if (z->th) {
        pthread_mutex_lock(&z->mu);
        z->stop = 1;
        pthread_cond_broadcast(&z->work);
        pthread_mutex_unlock(&z->mu);
        for (int i = 0; i < z->nthreads; i++)
            pthread_join(z->th[i], NULL);
    }
    for (int i = 0; z->w && i < z->nw; i++) {
        ZSTD_freeCCtx(z->w[i].frame);
        ZSTD_freeCCtx(z->w[i].sample);
        ZSTD_freeDCtx(z->w[i].d);
    }
    for (int i = 0; i < SLOTS; i++)
        free(z->slot[i].out);
    free(z->w);
    free(z->th);
    free(z);
}

/* Waits (mu held) until the chunk with sequence number seq is done. */
static struct slot *wait_done(struct zpar *z, uint64_t seq)
{
    struct slot *s = &z->slot[seq % SLOTS];
    while (s->state != SLOT_DONE)
        pthread_cond_wait(&z->done, &z->mu);
    return s;
}

int zpar_run(struct zpar *z, const unsigned char *p, uint64_t size, zpar_emit_fn emit,
             void *ctx, uint64_t *raw_bytes)
{
    uint64_t nchunks = (size + ZPAR_CHUNK - 1) / ZPAR_CHUNK, sub = 0, got = 0, raw = 0;
    uint64_t base = z->submitted;
    int rc = 0;
    pthread_mutex_lock(&z->mu);
    while (got < nchunks) {
        for (; sub < nchunks && sub - got < SLOTS && rc == 0; sub++) {
            struct slot *s = &z->slot[(base + sub) % SLOTS];
            uint64_t off = sub * ZPAR_CHUNK;
            *s = (struct slot){.src = p + off, .out = s->out, .state = SLOT_QUEUED,
                               .len = size - off < ZPAR_CHUNK ? (size_t)(size - off) : ZPAR_CHUNK};
            if (z->nthreads == 0) { /* no pool: done here */
                s->rc = pack_chunk(&z->w[0], s, z->cap);
                s->state = SLOT_DONE;
                continue;
            }
            z->submitted++;
            pthread_cond_signal(&z->work);
        }
        if (got == sub) /* stopped by an error, and all handed back */
            break;
        struct slot *s = wait_done(z, base + got);
        got++;
        if (rc != 0) /* draining what the workers still read */
            continue;
        pthread_mutex_unlock(&z->mu);
        rc = s->rc ? s->rc : emit(ctx, s->src, s->len, s->out, s->out_len);
        raw += s->raw_bytes;
        pthread_mutex_lock(&z->mu);
    }
    pthread_mutex_unlock(&z->mu);
    if (z->nthreads == 0)
        z->submitted = base; /* no sequence used */
    if (raw_bytes)
        *raw_bytes = raw;
    return rc;
}

/* Hands the frame (or does it here without a pool) and waits for slots
   to come back while SLOTS are out; *rc gets the first error. */
static void expand_submit(struct zpar *z, const struct slot *job, uint64_t *sub, uint64_t *got,
                          int *rc)
{
    pthread_mutex_lock(&z->mu);
    for (; *sub - *got >= (job ? SLOTS : 1) && *got < *sub; ++*got) {
        struct slot *s = wait_done(z, *got);
        if (*rc == 0)
            *rc = s->rc;
    }
    if (job) {
        struct slot *s = &z->slot[*sub % SLOTS];
        unsigned char *out = s->out;
        *s = *job;
        s->out = out;
        if (z->nthreads == 0) {
            s->rc = expand_frame(&z->w[0], s);
            s->state = SLOT_DONE;
        } else {
            s->state = SLOT_QUEUED;
            z->submitted++;
            pthread_cond_signal(&z->work);
        }
        ++*sub;
    }
    pthread_mutex_unlock(&z->mu);
}

int zpar_expand(struct zpar *z, const unsigned char *src, size_t src_len, unsigned char *dst,
                uint64_t room, int final, size_t *used, uint64_t *made)
{
    uint64_t sub = z->submitted, got = sub, done = 0;
    const unsigned char *p = src;
    int rc = 0;
    while (rc == 0 && (size_t)(p - src) < src_len) {
        size_t left = src_len - (size_t)(p - src), n = ZSTD_findFrameCompressedSize(p, left);
        if (ZSTD_isError(n) && !final)
            break; /* cut by the window, or not a frame: the caller reads on */
        unsigned long long c = ZSTD_isError(n) ? ZSTD_CONTENTSIZE_ERROR
                                               : ZSTD_getFrameContentSize(p, n);
        if (c == ZSTD_CONTENTSIZE_UNKNOWN) { /* not cairn's: the caller streams it */
            rc = -E2BIG;
            break;
        }
        if (c == ZSTD_CONTENTSIZE_ERROR || c > room - done) {
            rc = CAIRN_ECORRUPT;
            break;
        }
        struct slot job = {.expand = 1, .dst = dst + done, .src = p, .len = (size_t)c,
                           .src_len = n};
        expand_submit(z, &job, &sub, &got, &rc);
        done += c;
        p += n;
    }
    while (got < sub) /* all back before the buffers go */
        expand_submit(z, NULL, &sub, &got, &rc);
    *used = (size_t)(p - src);
    *made = done;
    return rc;
}
