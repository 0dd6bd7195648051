/*
 * image.c — reads a process image's section index in the restorer.
 *
 * `cairn run` verified every checksum of this image just before exec'ing
 * the restorer, so here the walk only re-checks the structure it relies on
 * (magics, bounds, codec) without hashing again.
 */
#include "image_format.h"
#include "restore.h"
#include "rlib.h"
#include "sys_x86_64.h"

struct r_image img;

_Static_assert(R_MAX_MAPS == CAIRN_PROC_MAX_MAPS && R_MAX_FILES == CAIRN_PROC_MAX_FILES,
               "cairn run's checks (cli/proc_check.c) assume the restorer's table sizes");

static int read_record(const char *what, uint64_t off, uint64_t len, void *dst,
                       uint64_t cap)
{
    if (len > cap) {
        r_say("image has a ", what, " section larger than this restorer handles", (char *)0);
        return -1;
    }
    long rc = r_pread_all(img.fd, dst, len, off);
    if (rc < 0) {
        r_say("cannot read the ", what, " section", (char *)0);
        return -1;
    }
    return 0;
}

/* One section header at *off: records what we need, advances *off.
   Returns 1 at the trailer. */
static int walk_one(uint64_t *off, uint64_t *files_off, uint64_t *files_len,
                    uint64_t *maps_off, uint64_t *maps_len, uint64_t *core_off,
                    uint64_t *core_len)
{
    unsigned char h[CAIRN_SECTION_HEADER_SIZE];
    if (r_pread_all(img.fd, h, sizeof h, *off) < 0)
        return -1;
    if (memcmp(h, CAIRN_TRAILER_MAGIC, 8) == 0)
        return 1;
    if (memcmp(h, CAIRN_SECTION_MAGIC, 4) != 0 || cairn_get16(h + 6) != CAIRN_CODEC_NONE)
        return -1;
    unsigned type = cairn_get16(h + 4);
    uint64_t data = cairn_get64(h + 16), stored = cairn_get64(h + 24);
    uint64_t arg = cairn_get64(h + 48);
    if (data < *off + CAIRN_SECTION_HEADER_SIZE || stored > ~data)
        return -1; /* would not move forward, or wraps around */
    if (type == CAIRN_SEC_PROC_CORE)
        *core_off = data, *core_len = stored;
    else if (type == CAIRN_SEC_PROC_MAPS)
        *maps_off = data, *maps_len = stored;
    else if (type == CAIRN_SEC_PROC_FILES)
        *files_off = data, *files_len = stored;
    else if (type == CAIRN_SEC_PROC_MEM && arg < R_MAX_MAPS)
        img.mem_off[arg] = data, img.mem_len[arg] = stored;
    *off = cairn_align_up(data + stored, CAIRN_DATA_ALIGN);
    return 0;
}

/* Strings from the image are used as C strings (paths for open and chdir,
   names compared and printed): cut each at its buffer's end. cairn run
   refuses unterminated ones (cli/proc_check.c); this keeps the restorer
   inside its buffers whatever the file holds. */
static void terminate_strings(void)
{
    img.core.comm[sizeof img.core.comm - 1] = 0;
    img.core.cwd[sizeof img.core.cwd - 1] = 0;
    for (uint64_t i = 0; i < img.core.nmaps; i++)
        img.maps[i].name[sizeof img.maps[i].name - 1] = 0;
    for (uint64_t i = 0; i < img.core.nfiles; i++)
        img.files[i].path[sizeof img.files[i].path - 1] = 0;
}

int r_load_image(const char *path)
{
    img.fd = (int)sys3(NR_open, path, 0 /* O_RDONLY */, 0);
    if (img.fd < 0) {
        r_say("cannot open image ", path, (char *)0);
        return -1;
    }
    unsigned char h[CAIRN_HEADER_SIZE];
    if (r_pread_all(img.fd, h, sizeof h, 0) < 0 || memcmp(h, CAIRN_MAGIC, 8) != 0 ||
        !(cairn_get32(h + 16) & CAIRN_IMG_PROCESS)) {
        r_say(path, " is not a process image", (char *)0);
        return -1;
    }
    uint64_t off = CAIRN_HEADER_SIZE, co = 0, cl = 0, mo = 0, ml = 0, fo = 0, fl = 0;
    for (;;) {
        int rc = walk_one(&off, &fo, &fl, &mo, &ml, &co, &cl);
        if (rc < 0) {
            r_say(path, ": unreadable or compressed section (not written by cairn run)",
                  (char *)0);
            return -1;
        }
        if (rc == 1)
            break;
    }
    if (cl != sizeof img.core || read_record("core", co, cl, &img.core, sizeof img.core) < 0 ||
        read_record("mappings", mo, ml, img.maps, sizeof img.maps) < 0 ||
        read_record("files", fo, fl, img.files, sizeof img.files) < 0)
        return -1;
    /* The counts are bounded before they are multiplied: nmaps * 104 wraps
       around for nmaps = n + 2^61, and every loop below indexes img.maps. */
    if (img.core.magic != CAIRN_PROC_MAGIC || img.core.version != CAIRN_PROC_VERSION ||
        img.core.arch != CAIRN_PROC_ARCH_X86_64 || img.core.nmaps > R_MAX_MAPS ||
        img.core.nfiles > R_MAX_FILES || img.core.nmaps * sizeof img.maps[0] != ml ||
        img.core.nfiles * sizeof img.files[0] != fl) {
        r_say(path, ": process record of another version or architecture", (char *)0);
        return -1;
    }
    terminate_strings();
    for (uint64_t i = 0; i < img.core.nmaps; i++) {
        const struct cairn_proc_map *m = &img.maps[i];
        if (m->start >= m->end || m->end > CAIRN_PROC_TASK_TOP || (m->start | m->end) % 4096) {
            r_say(path, ": a mapping is not a range of whole pages in user space", (char *)0);
            return -1;
        }
        if ((m->flags & CAIRN_MAPF_DATA) && img.mem_len[i] != m->end - m->start) {
            r_say(path, ": a mapping's contents are missing", (char *)0);
            return -1;
        }
    }
    return 0;
}
