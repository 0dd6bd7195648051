/* SPDX-License-Identifier: MIT */
/*
 * scan.c — gathers what the CLI reports about stores and images.
 *
 * A store is a directory of generations (ckpt-<20 digits>.cairn) plus, maybe,
 * a lock file, a finished marker, quarantined *.corrupt files and .tmp-*
 * leftovers of interrupted writes (lib/store.c describes the layout). An
 * image is opened with cairn_image_open (structure) and, when asked,
 * cairn_image_verify (every payload and checksum). Nothing here writes.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cairn_store.h"
#include "cli.h"
#include "image_format.h"
#include "proc_check.h"

/* Reads and decodes the job section (lib/cairn.c write_sections). */
static void read_job(struct image_scan *s)
{
    int idx = cairn_image_find(s->img, CAIRN_SEC_JOB, NULL);
    unsigned char m[CAIRN_JOB_META_SIZE];
    if (idx < 0 || cairn_image_section(s->img, (unsigned)idx)->raw_size != sizeof m ||
        cairn_image_read(s->img, (unsigned)idx, m, sizeof m) < 0)
        return;
    s->has_job = 1;
    cairn_job_meta_decode(m, &s->job);
}

/* Says which section failed and where its payload lies. The library's
   message may begin with its own "section N 'name' (type): "; that part is
   replaced by the fuller description. */
static void describe_bad_section(struct image_scan *s)
{
    const cairn_section_info_t *sec = cairn_image_section(s->img, s->bad_section);
    const char *msg = cairn_image_error(s->img);
    if (!msg[0])
        msg = cairn_strerror(s->verify_rc);
    if (!sec) {
        snprintf(s->why, sizeof s->why, "%s", msg);
        return;
    }
    const char *colon = strstr(msg, ": ");
    if (strncmp(msg, "section ", 8) == 0 && colon)
        msg = colon + 2;
    snprintf(s->why, sizeof s->why,
             "section %u '%s' (%s, codec %s, payload at byte %llu, %llu bytes): %s",
             s->bad_section, sec->name, cairn_section_type_name(sec->type),
             cairn_codec_name(sec->codec), (unsigned long long)sec->data_offset,
             (unsigned long long)sec->stored_size, msg);
}

/* Reasons quote names from the image: keep control characters out of them so
   that a message stays on one line. */
static void sanitize(char *why)
{
    for (; *why; why++)
        if ((unsigned char)*why < 0x20 || *why == 0x7f)
            *why = '?';
}

/* With CAIRN_KEY_FILE set, images are also authenticated (its MAC checked).
   Returns 0, or a negative error after printing why the key is unusable. */
static int image_key(const unsigned char **key)
{
    static unsigned char buf[CAIRN_KEY_SIZE];
    static int state; /* 0 not loaded, 1 loaded, < 0 error */
    const char *spec = cli_env()->key_file;
    *key = NULL;
    if (!spec || !*spec)
        return 0;
    if (state == 0)
        state = cairn_key_load(spec, buf) < 0 ? -1 : 1;
    if (state < 0)
        return CAIRN_EAUTH;
    *key = buf;
    return 0;
}

void scan_image(struct image_scan *s, const char *path, int verify)
{
    memset(s, 0, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s", path);
    struct stat st;
    if (stat(path, &st) == 0)
        s->file_size = (uint64_t)st.st_size;
    s->open_rc = cairn_image_open(&s->img, path, s->why, sizeof s->why);
    if (s->open_rc < 0) {
        sanitize(s->why);
        return;
    }
    read_job(s);
    if (!verify)
        return;
    s->verified = 1;
    const unsigned char *key;
    s->verify_rc = image_key(&key);
    if (s->verify_rc == 0 && key)
        s->verify_rc = cairn_image_set_key(s->img, key);
    if (s->verify_rc == 0)
        s->verify_rc = cairn_image_verify(s->img, &s->bad_section);
    if (s->verify_rc < 0) {
        describe_bad_section(s);
        sanitize(s->why);
    } else if ((s->verify_rc = proc_check_image(s->img, s->why, sizeof s->why)) < 0) {
        s->bad_section = cairn_image_info(s->img)->section_count; /* none in particular */
        sanitize(s->why); /* what the restorer would trip on, as `cairn run` says */
    }
}

void scan_image_release(struct image_scan *s)
{
    cairn_image_close(s->img);
    s->img = NULL;
    free(s->sec_status);
    s->sec_status = NULL;
}

/* Sections after the first bad one are read whole, up to this size. */
#define SECTION_READ_MAX (64u << 20)

/* Reads one section into a temporary buffer to check its checksum. */
static const char *check_one(struct image_scan *s, unsigned i)
{
    uint64_t raw = cairn_image_section(s->img, i)->raw_size;
    if (raw > SECTION_READ_MAX)
        return "unchecked";
    void *buf = malloc(raw ? (size_t)raw : 1);
    if (!buf)
        return "unchecked";
    int rc = cairn_image_read(s->img, i, buf, (size_t)raw);
    free(buf);
    return rc == 0 ? "ok" : "corrupt";
}

void scan_image_sections(struct image_scan *s)
{
    if (s->open_rc < 0)
        return;
    unsigned n = cairn_image_info(s->img)->section_count;
    s->sec_status = calloc(n ? n : 1, sizeof *s->sec_status);
    if (!s->sec_status)
        return;
    for (unsigned i = 0; i < n; i++) {
        if (!s->verified)
            s->sec_status[i] = "unchecked";
        else if (s->verify_rc == 0 || i < s->bad_section)
            s->sec_status[i] = "ok";
        else if (i == s->bad_section)
            s->sec_status[i] = "corrupt";
        else
            s->sec_status[i] = check_one(s, i);
    }
}

int scan_image_ok(const struct image_scan *s)
{
    return s->open_rc == 0 && s->verify_rc == 0;
}

const char *scan_image_status(const struct image_scan *s)
{
    if (!scan_image_ok(s))
        return "corrupt";
    return s->verified ? "valid" : "unverified";
}

/* ---- stores ------------------------------------------------------------- */

static int is_gen_name(const char *n)
{
    uint64_t gen;
    return cairn__store_parse_name(n, &gen);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* The finished marker is a regular file (a directory named "finished", say
   a job's output folder, does not make its parent a store). */
static int is_marker(DIR *d, const char *name)
{
    struct stat sb;
    return strcmp(name, "finished") == 0 &&
           fstatat(dirfd(d), name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode);
}

int scan_is_store(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d)))
        found = is_gen_name(e->d_name) || is_marker(d, e->d_name);
    closedir(d);
    return found;
}

static int list_add(struct name_list *l, const char *name, uint64_t size)
{
    char **n = realloc(l->names, (l->n + 1) * sizeof *n);
    if (!n)
        return -ENOMEM;
    l->names = n;
    uint64_t *z = realloc(l->sizes, (l->n + 1) * sizeof *z);
    if (!z)
        return -ENOMEM;
    l->sizes = z;
    if (!(l->names[l->n] = strdup(name)))
        return -ENOMEM;
    l->sizes[l->n++] = size;
    return 0;
}

static void list_free(struct name_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->names[i]);
    free(l->names);
    free(l->sizes);
    memset(l, 0, sizeof *l);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts names (and their sizes) so the output does not depend on readdir. */
static void list_sort(struct name_list *l)
{
    for (size_t i = 1; i < l->n; i++)
        for (size_t k = i; k > 0 && cmp_name(&l->names[k - 1], &l->names[k]) > 0; k--) {
            char *t = l->names[k];
            l->names[k] = l->names[k - 1];
            l->names[k - 1] = t;
            uint64_t z = l->sizes[k];
            l->sizes[k] = l->sizes[k - 1];
            l->sizes[k - 1] = z;
        }
}

/* Finds the pid holding a flock on the file, from /proc/locks. Reading it
   does not disturb the job, unlike trying to take the lock ourselves. */
long scan_lock_holder(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return -1;
    FILE *f = fopen("/proc/locks", "re");
    if (!f)
        return -1;
    char line[256];
    long pid = 0;
    while (pid == 0 && fgets(line, sizeof line, f)) {
        char kind[16], mode[16], rw[16];
        long p;
        unsigned maj, min;
        unsigned long long ino;
        if (strstr(line, "->"))
            continue; /* a waiter, not a holder */
        if (sscanf(line, "%*d: %15s %15s %15s %ld %x:%x:%llu", kind, mode, rw, &p, &maj, &min,
                   &ino) == 7 &&
            strcmp(kind, "FLOCK") == 0 && ino == (unsigned long long)st.st_ino &&
            maj == major(st.st_dev) && min == minor(st.st_dev))
            pid = p > 0 ? p : -1;
    }
    fclose(f);
    return pid;
}

/* Sorts one directory entry into the scan. */
static int classify(struct store_scan *st, DIR *d, const char *name)
{
    char path[sizeof st->path + 300];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", st->path, name);
    uint64_t size = lstat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    if (is_marker(d, name))
        st->finished = 1;
    else if (strcmp(name, "lock") == 0)
        st->lock_exists = 1;
    else if (ends_with(name, ".corrupt"))
        return list_add(&st->corrupt, name, size);
    else if (strncmp(name, ".tmp-", 5) == 0 && strcmp(name, ".tmp-finished") != 0)
        return list_add(&st->temps, name, size);
    return 0;
}

/* Fills st->gens; retries if a running job commits a generation meanwhile. */
static int list_generations(struct store_scan *st, const char *dir)
{
    size_t n = 0;
    int rc = cairn_store_list(dir, NULL, 0, &n);
    for (int tries = 0; rc == 0 && n > 0 && tries < 5; tries++) {
        free(st->gens);
        if (!(st->gens = calloc(n + 4, sizeof *st->gens)))
            return -ENOMEM;
        rc = cairn_store_list(dir, st->gens, n + 4, &st->ngens);
        if (rc < 0 || st->ngens <= n + 4)
            break;
        n = st->ngens;
    }
    if (st->ngens > n + 4)
        st->ngens = n + 4; /* still growing after 5 tries: report what we have */
    return rc;
}

int scan_store(struct store_scan *st, const char *cmd, const char *dir)
{
    memset(st, 0, sizeof *st);
    snprintf(st->path, sizeof st->path, "%s", dir);
    for (size_t n = strlen(st->path); n > 1 && st->path[n - 1] == '/'; n--)
        st->path[n - 1] = '\0'; /* "store/" -> "store", for the paths printed */
    DIR *d = opendir(dir);
    if (!d) {
        int e = errno;
        cli_error(cmd, "%s: cannot read directory: %s", dir, strerror(e));
        return -e;
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)))
        rc = classify(st, d, e->d_name);
    closedir(d);
    if (rc == 0)
        rc = list_generations(st, dir);
    if (rc < 0) {
        cli_error(cmd, "%s: cannot list the store: %s", dir, cairn_strerror(rc));
        scan_store_release(st);
        return rc;
    }
    list_sort(&st->corrupt);
    list_sort(&st->temps);
    if (st->lock_exists) {
        char lp[4200];
        snprintf(lp, sizeof lp, "%s/lock", dir);
        st->lock_pid = scan_lock_holder(lp);
    }
    return 0;
}

void scan_store_release(struct store_scan *st)
{
    free(st->gens);
    st->gens = NULL;
    list_free(&st->corrupt);
    list_free(&st->temps);
}

void scan_store_gen_path(const struct store_scan *st, size_t i, char *buf, size_t len)
{
    if (cairn_store_image_path(st->path, st->gens[i], buf, len) < 0)
        snprintf(buf, len, "%s/?", st->path);
}

const char *scan_store_state(const struct store_scan *st, const struct image_scan *newest)
{
    if (st->finished)
        return "finished";
    if (st->ngens == 0 || !newest)
        return "empty";
    return scan_image_ok(newest) ? "ok" : "corrupt-newest";
}

const char *job_policy_name(uint32_t policy)
{
    switch (policy) {
    case CAIRN_POLICY_TIME: return "time";
    case CAIRN_POLICY_STEPS: return "steps";
    case CAIRN_POLICY_AUTO: return "auto";
    default: return "unknown";
    }
}
