/* SPDX-License-Identifier: MIT */
/*
 * image_zstd.c — zstd compression of the writer's sections, in a file of
 * its own and reached only through cairn__writer_zstd, so that a program
 * that never compresses (the runtime, linked with --gc-sections) carries no
 * reference to libzstd (internal/cairn_writer.h).
 */
#include <errno.h>
#include <stdlib.h>

#include <zstd.h>

#include "cairn.h"
#include "cairn_mac.h"
#include "cairn_writer.h"

#define CHUNK CAIRN__WRITER_CHUNK

static int zstd_setup(struct cairn__writer *w, int level)
{
    if (!w->zc) {
        w->zc = ZSTD_createCCtx();
        if (!w->zc)
            return -ENOMEM;
    }
    if (!w->zbuf) {
        w->zbuf_len = ZSTD_CStreamOutSize() * 4;
        w->zbuf = malloc(w->zbuf_len);
        if (!w->zbuf)
            return -ENOMEM;
    }
    ZSTD_CCtx_reset(w->zc, ZSTD_reset_session_and_parameters);
    if (ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_compressionLevel, level)))
        return CAIRN_ECODEC;
    return 0;
}

/* zstd payload: hash and compress each input chunk, write the output. */
static int put_zstd(struct cairn__writer *w, const unsigned char *data, uint64_t size,
                    int level, XXH3_state_t *st)
{
    int rc = zstd_setup(w, level);
    if (rc < 0)
        return rc;
    ZSTD_CCtx_setPledgedSrcSize(w->zc, size);
    uint64_t left = size;
    for (;;) {
        size_t n = left < CHUNK ? (size_t)left : CHUNK;
        XXH3_64bits_update(st, data, n);
        if (w->mac)
            cairn__mac_section_data(w->mac, data, n);
        ZSTD_inBuffer in = {data, n, 0};
        ZSTD_EndDirective mode = (n == left) ? ZSTD_e_end : ZSTD_e_continue;
        size_t pending;
        do {
            ZSTD_outBuffer out = {w->zbuf, w->zbuf_len, 0};
            pending = ZSTD_compressStream2(w->zc, &out, &in, mode);
            if (ZSTD_isError(pending))
                return CAIRN_ECODEC;
            rc = cairn__writer_append(w, w->zbuf, out.pos);
            if (rc < 0)
                return rc;
        } while (in.pos < in.size || (mode == ZSTD_e_end && pending > 0));
        data += n;
        left -= n;
        if (mode == ZSTD_e_end)
            return 0;
    }
}

static void zstd_release(struct cairn__writer *w)
{
    ZSTD_freeCCtx(w->zc);
    w->zc = NULL;
}

const struct cairn__writer_codec cairn__writer_zstd = {put_zstd, zstd_release};
