/*
 * pick.c — the one store policy, for libcairn's cairn_restore() and for
 * `cairn run`: which generation a restart uses.
 *
 *   - Generations are tried newest first. Each is opened relative to the
 *     store's descriptor, without following links and without blocking,
 *     and used only if it is a regular file of ours nobody else may write
 *     (cairn__store_open_image); the caller's check then sees that very
 *     descriptor, and the one that passes is the one handed back.
 *   - A generation that fails is skipped with a message naming the file and
 *     the reason. If it is damaged (corrupt, truncated, not an image) it is
 *     set aside as *.corrupt, but only once an older generation has been
 *     found usable: when none is, every image stays where it is.
 *   - A store holding images none of which is usable is an error, never a
 *     fresh start: the next run fails the same way instead of silently
 *     starting the job from scratch (and retention deleting its images).
 *   - A check may stop the search (CAIRN_EMISMATCH: the store holds another
 *     job, which an older generation would not change).
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "cairn_image.h"
#include "cairn_store.h"
#include "internal.h"

static int is_damage(int rc)
{
    return rc == CAIRN_ECORRUPT || rc == CAIRN_ETRUNCATED || rc == CAIRN_EFOREIGN;
}

/* Opens generation gen and hands it to the check: 0 usable (*fd open),
   else the error (*fd closed, why says what). */
static int try_one(struct cairn__store *s, uint64_t gen, cairn__pick_check check, void *ctx,
                   int *fd, char *why, size_t why_len)
{
    int rc = cairn__store_open_image(s, gen, fd, why, why_len);
    if (rc == 0 && (rc = check(ctx, gen, *fd, why, why_len)) < 0) {
        close(*fd);
        *fd = -1;
    }
    return rc;
}

int cairn__store_pick(struct cairn__store *s, cairn__pick_check check, void *ctx,
                      uint64_t *gen, int *fd)
{
    uint64_t *gens;
    size_t n;
    int rc = cairn__store_generations(s, &gens, &n);
    if (rc < 0)
        return rc;
    unsigned char *damaged = calloc(n ? n : 1, 1);
    if (!damaged) {
        free(gens);
        return -ENOMEM;
    }
    int found = 0, stop = 0, last_err = CAIRN_ENOIMAGE;
    for (size_t i = n; i-- > 0 && !found && !stop;) {
        char why[512] = "", name[64];
        rc = try_one(s, gens[i], check, ctx, fd, why, sizeof why);
        if (rc == 0) {
            *gen = gens[i];
            found = 1;
            continue;
        }
        cairn__store_name(gens[i], name, sizeof name);
        cairn__log(s->verbosity, CAIRN_LOG_ERROR, "skipping %s/%s: %s", s->path, name,
                   why[0] ? why : cairn_strerror(rc));
        if (rc == CAIRN_EMISMATCH || rc == -ENOMEM)
            stop = rc;
        last_err = rc;
        damaged[i] = is_damage(rc);
    }
    for (size_t i = 0; found && i < n; i++)
        if (damaged[i])
            cairn__store_quarantine(s, gens[i], "failed verification, see above");
    free(damaged);
    free(gens);
    if (stop)
        return stop;
    if (!found && n > 0) {
        cairn__log(s->verbosity, CAIRN_LOG_ERROR,
                   "%s: none of the %zu checkpoint images is usable: refusing to start the "
                   "job afresh, which would lose them (move the store away to start from "
                   "scratch)", s->path, n);
        return last_err;
    }
    return found;
}
