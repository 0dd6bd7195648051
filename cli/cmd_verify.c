/* SPDX-License-Identifier: MIT */
/*
 * cmd_verify.c — `cairn verify PATH`: does the newest image read back
 * intact? Reads every payload and checks every checksum, so the answer is
 * the one a restore would get. The reason for a failure names the file, the
 * section and the byte offset.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"

static const char usage[] =
    "usage: cairn verify [--all] [-q] [--json] PATH\n"
    "\n"
    "Reads the newest image of the store PATH (or the image file PATH) completely\n"
    "(a process tree's generation: its member images too)\n"
    "and checks its structure and every section's XXH3 checksum, as a restore\n"
    "would (with $CAIRN_KEY_FILE set, its MAC too; for a process image, the\n"
    "records cairn run checks before a restore). Prints one line per image\n"
    "verified; a failure's reason (file, section, byte offset) goes to stderr.\n"
    "\n"
    "Options:\n"
    "  --all         verify every generation in the store, not only the newest\n"
    "  -q, --quiet   print nothing on success\n"
    "  --json        print the result as one JSON object: path, kind (\"store\" or\n"
    "                \"image\"), images (each: path, generation, size, sections,\n"
    "                ok, reason), ok, status (\"ok\", \"invalid\", \"no-image\" or\n"
    "                \"error\": the exit status below), reason, and\n"
    "                fallback_generation (the valid generation a restore would\n"
    "                fall back to, or null); messages still go to stderr\n"
    "  -h, --help    show this help\n"
    "\n"
    "Exit status:\n"
    "  0  the newest image (with --all: every image) verified completely\n"
    "  1  an image is invalid: corrupt, truncated, empty or not a cairn image\n"
    "     (if an older generation is valid, stderr says that a restore would\n"
    "     fall back to it)\n"
    "  2  usage error\n"
    "  3  no image: the store is empty or finished, PATH is not a store, or\n"
    "     PATH does not exist\n"
    "  4  PATH cannot be read\n";

static const struct cli_opt opts[] = {
    {"all", 0, 0}, {"quiet", 'q', 0}, {"help", 'h', 0}, {"json", 0, 0}, {NULL, 0, 0}};

struct verify_flags {
    int all;
    int quiet;
    struct json *j;        /* --json: the images go here */
    char reason[300];      /* why there is no image, or why PATH cannot be read */
    uint64_t fallback;     /* a valid older generation, after a bad newest */
};

/* One image's member of "images". */
static void json_image(struct json *j, const char *path, const struct image_scan *s, int ok)
{
    const cairn_image_info_t *in = s->open_rc == 0 ? cairn_image_info(s->img) : NULL;
    json_object(j, NULL);
    json_str(j, "path", path);
    if (in) {
        json_u64(j, "generation", in->generation);
        json_u64(j, "sections", in->section_count);
    } else {
        json_null(j, "generation");
        json_null(j, "sections");
    }
    json_u64(j, "size", s->file_size);
    json_bool(j, "ok", ok);
    json_str(j, "reason", ok ? NULL : s->why);
    json_end_object(j);
}

/* Verifies one image; prints "PATH: ok ..." or the reason. 1 if ok. */
static int verify_one(const char *path, const struct verify_flags *fl)
{
    struct image_scan s;
    scan_image(&s, path, 1);
    int ok = scan_image_ok(&s);
    if (fl->j)
        json_image(fl->j, path, &s, ok);
    if (!ok) {
        cli_error("verify", "%s: invalid: %s", path, s.why);
    } else if (!fl->quiet && !fl->j) {
        const cairn_image_info_t *in = cairn_image_info(s.img);
        printf("%s: ok (generation %" PRIu64 ", %" PRIu64 " bytes, %u sections)\n", path,
               in->generation, s.file_size, in->section_count);
    }
    scan_image_release(&s);
    return ok;
}

/* Generation i of the store: its own image, then each member image of a
   process tree (ckpt-GEN.pPID.cairn, lib/store_members.c; a delta on its
   own image of an older generation is verified as any image). 1 if all ok. */
static int verify_gen(const struct store_scan *st, size_t i, const struct verify_flags *fl)
{
    char p[4200], prefix[40];
    scan_store_gen_path(st, i, p, sizeof p);
    int ok = verify_one(p, fl);
    snprintf(prefix, sizeof prefix, "ckpt-%020" PRIu64 ".p", st->gens[i]);
    DIR *d = opendir(st->path);
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 || n < 6 ||
            strcmp(e->d_name + n - 6, ".cairn") != 0)
            continue;
        if (snprintf(p, sizeof p, "%s/%s", st->path, e->d_name) >= (int)sizeof p)
            continue; /* no such path: the store's own is shorter */
        ok &= verify_one(p, fl);
    }
    if (d)
        closedir(d);
    return ok;
}

/* After a bad newest image: says which generation a restore would use. */
static void note_fallback(const struct store_scan *st, struct verify_flags *fl)
{
    for (size_t i = st->ngens - 1; i-- > 0;) {
        char p[4200];
        struct image_scan s;
        scan_store_gen_path(st, i, p, sizeof p);
        scan_image(&s, p, 1);
        int ok = scan_image_ok(&s);
        scan_image_release(&s);
        if (ok) {
            fl->fallback = st->gens[i];
            cli_error("verify", "%s: note: generation %" PRIu64 " (%s) is valid; a restore "
                      "would fall back to it", st->path, st->gens[i], p);
            return;
        }
    }
    cli_error("verify", "%s: note: no older generation is valid either", st->path);
}

static int verify_store(const char *path, struct verify_flags *fl)
{
    struct store_scan st;
    if (scan_store(&st, "verify", path) < 0)
        return CLI_EXIT_ERROR;
    int rc = CLI_EXIT_OK;
    if (st.ngens == 0) {
        snprintf(fl->reason, sizeof fl->reason, "no image: %s",
                 st.finished ? "the job finished (the store holds a finished marker)"
                 : scan_is_store(path) ? "the store holds no generation"
                                       : "not a checkpoint store (no ckpt-*.cairn files)");
        cli_error("verify", "%s: %s", path, fl->reason);
        rc = CLI_EXIT_NOIMAGE;
    } else if (fl->all) {
        for (size_t i = st.ngens; i-- > 0;)
            if (!verify_gen(&st, i, fl))
                rc = CLI_EXIT_INVALID;
    } else {
        if (!verify_gen(&st, st.ngens - 1, fl)) {
            rc = CLI_EXIT_INVALID;
            note_fallback(&st, fl);
        }
    }
    scan_store_release(&st);
    return rc;
}

/* Verifies PATH, a store or an image: the exit status. */
static int verify_path(const char *path, struct verify_flags *fl)
{
    struct stat sb;
    int rc = cli_stat_path("verify", path, &sb);
    if (rc) {
        snprintf(fl->reason, sizeof fl->reason, "%s",
                 rc == CLI_EXIT_NOIMAGE ? "does not exist (no image)" : "cannot be read");
        return rc;
    }
    if (S_ISDIR(sb.st_mode))
        return verify_store(path, fl);
    return verify_one(path, fl) ? CLI_EXIT_OK : CLI_EXIT_INVALID;
}

/* --json: the whole result as one object. */
static int verify_json(const char *path, struct verify_flags *fl)
{
    static const char *const status[] = {"ok", "invalid", "usage", "no-image", "error"};
    static struct json j; /* fl->j points at it while the images are written */
    struct stat sb;
    json_init(&j, stdout);
    fl->j = &j;
    json_object(&j, NULL);
    json_str(&j, "path", path);
    json_str(&j, "kind", stat(path, &sb) < 0 ? NULL : S_ISDIR(sb.st_mode) ? "store" : "image");
    json_array(&j, "images");
    int rc = verify_path(path, fl);
    json_end_array(&j);
    json_bool(&j, "ok", rc == CLI_EXIT_OK);
    json_str(&j, "status", rc >= 0 && rc <= CLI_EXIT_ERROR ? status[rc] : "error");
    json_str(&j, "reason", fl->reason[0] ? fl->reason : NULL);
    if (fl->fallback)
        json_u64(&j, "fallback_generation", fl->fallback);
    else
        json_null(&j, "fallback_generation");
    json_end_object(&j);
    return rc;
}

int cmd_verify(int argc, char **argv)
{
    const char *path;
    unsigned f; /* bits: opts[] --all, --quiet, --help, --json */
    int rc = cli_args_flags_one(argc, argv, "verify", opts, usage, "PATH",
                                "missing PATH (a store directory or an image file)", &path, &f);
    if (rc >= 0)
        return rc;
    struct verify_flags fl = {.all = (f & 1) != 0, .quiet = (f & 2) != 0};
    return f & 8 ? verify_json(path, &fl) : verify_path(path, &fl);
}
