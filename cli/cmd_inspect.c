/* SPDX-License-Identifier: MIT */
/*
 * cmd_inspect.c — `cairn inspect PATH`: what is in a store or an image.
 *
 * For a store: every generation (file, size, creation time, writer, host,
 * uid/pid, status), whether the job finished, the lock, quarantined and
 * leftover temp files. For an image: header fields, the decoded job section
 * and every section. Payloads are verified unless --no-verify. The same
 * facts are printed as one JSON document with --json (keys in the help).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "inspect.h"

static const char usage[] =
    "usage: cairn inspect [--json] [--no-verify] PATH\n"
    "\n"
    "Shows what a checkpoint store or a single image file holds.\n"
    "  store: each generation (number, file, size, creation time in UTC, writer\n"
    "         version, host, uid/pid, status valid or corrupt with the reason, job\n"
    "         counters), whether the job finished, the lock and who holds it,\n"
    "         quarantined *.corrupt files and leftover .tmp-* files.\n"
    "  image: header fields, the job section decoded (steps, restores,\n"
    "         checkpoints, interval, last checkpoint cost) and every section\n"
    "         (index, type, name, codec, raw and stored size, ratio, XXH3\n"
    "         checksum, status). A process image (cairn run) shows the job's\n"
    "         state, mappings (range, permissions, kind, size, saved, path)\n"
    "         and file descriptors instead of the job section, and the\n"
    "         instruction sets of the job's CPUs that this machine lacks.\n"
    "\n"
    "Options:\n"
    "  --json        print one JSON document instead of text\n"
    "  --no-verify   check the structure only; do not read every payload\n"
    "                (statuses then read \"unverified\" / \"unchecked\")\n"
    "  -h, --help    show this help\n"
    "\n"
    "JSON keys (stable):\n"
    "  store: kind=\"store\", path, state (ok|finished|corrupt-newest|empty),\n"
    "         finished, lock {present, holder_pid (0: free, null: unknown)},\n"
    "         generations [image objects, oldest first], newest_valid_generation,\n"
    "         quarantined [{file, size}], temp_files [{file, size}]\n"
    "  image: kind=\"image\", path, file, size, status (valid|unverified|corrupt),\n"
    "         reason, format, flags, generation, created (ISO 8601 UTC),\n"
    "         created_ns, writer_version, writer_version_number, host, uid, pid,\n"
    "         job {steps, restores, checkpoints, interval_s, every_steps,\n"
    "         last_cost_s, policy} or null,\n"
    "         process (process images only) {command, program, script,\n"
    "         cpu {instruction_sets, missing_here} (absent in older images),\n"
    "         arch, threads, comm, cwd, umask,\n"
    "         start_brk, brk, start_stack, fs_base, rseq, frame, control_fd,\n"
    "         sigmask, signal_handlers, mappings [{start, end, perms, kind,\n"
    "         saved, name}], files [{fd, kind, open_flags, fd_flags, rollback,\n"
    "         dup_of (dups only), offset, size, path}]} or {error},\n"
    "         sections [{index, type, type_name, name, codec, flags, offset,\n"
    "         raw_size, stored_size, ratio, checksum, status (ok|corrupt|unchecked)}]\n"
    "  Header fields are absent when the image cannot be opened at all.\n"
    "\n"
    "Exit status: 0 report printed and every image valid; 1 some image is\n"
    "corrupt; 2 usage error; 3 PATH does not exist or is not a store; 4 PATH\n"
    "cannot be read.\n";

static const struct cli_opt opts[] = {
    {"json", 0, 0}, {"no-verify", 0, 0}, {"help", 'h', 0}, {NULL, 0, 0}};

/* Inspects a store directory. */
static int inspect_store(const char *path, const struct inspect_flags *fl)
{
    struct store_scan st;
    if (scan_store(&st, "inspect", path) < 0)
        return CLI_EXIT_ERROR;
    if (st.ngens == 0 && !st.finished && !scan_is_store(path) && st.corrupt.n == 0) {
        cli_error("inspect", "%s: not a checkpoint store (no ckpt-*.cairn files, no "
                             "finished marker)", path);
        scan_store_release(&st);
        return CLI_EXIT_NOIMAGE;
    }
    struct image_scan *imgs = calloc(st.ngens ? st.ngens : 1, sizeof *imgs);
    if (!imgs) {
        cli_error("inspect", "out of memory");
        scan_store_release(&st);
        return CLI_EXIT_ERROR;
    }
    int bad = 0;
    for (size_t i = 0; i < st.ngens; i++) {
        char p[4200];
        scan_store_gen_path(&st, i, p, sizeof p);
        scan_image(&imgs[i], p, fl->verify);
        scan_image_sections(&imgs[i]);
        bad |= !scan_image_ok(&imgs[i]);
    }
    if (fl->json)
        inspect_store_json(&st, imgs);
    else
        inspect_store_text(&st, imgs);
    for (size_t i = 0; i < st.ngens; i++)
        scan_image_release(&imgs[i]);
    free(imgs);
    scan_store_release(&st);
    return bad ? CLI_EXIT_INVALID : CLI_EXIT_OK;
}

static int inspect_file(const char *path, const struct inspect_flags *fl)
{
    struct image_scan s;
    scan_image(&s, path, fl->verify);
    scan_image_sections(&s);
    if (fl->json)
        inspect_image_json(&s);
    else
        inspect_image_text(&s);
    int ok = scan_image_ok(&s);
    scan_image_release(&s);
    return ok ? CLI_EXIT_OK : CLI_EXIT_INVALID;
}

int cmd_inspect(int argc, char **argv)
{
    const char *path;
    unsigned f;
    int rc = cli_args_flags_one(argc, argv, "inspect", opts, usage, "PATH",
                                "missing PATH (a store directory or an image file)", &path, &f);
    if (rc >= 0)
        return rc;
    struct inspect_flags fl = {.json = (f & 1) != 0, .verify = !(f & 2)}; /* --no-verify */
    struct stat sb;
    rc = cli_stat_path("inspect", path, &sb);
    if (rc)
        return rc;
    return S_ISDIR(sb.st_mode) ? inspect_store(path, &fl) : inspect_file(path, &fl);
}
