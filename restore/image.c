/*
 * image.c — reads a process image's section index in the restorer.
 *
 * `cairn run` checked the image's structure and its records before exec'ing
 * the restorer, but not the memory payloads: the restorer checks those as it
 * reads them into place (memory.c), so the image is read once. Here the walk
 * checks again what the restorer relies on, since the file may have changed
 * since: the header's, every section header's and the trailer's checksums,
 * the chain binding the sections, and the records' data checksums. Every
 * mismatch ends the restorer with R_EXIT_CORRUPT before it has changed
 * anything, and `cairn run` falls back to the previous generation.
 */
#include "hash.h"
#include "image_format.h"
#include "restore.h"
#include "rlib.h"
#include "sys_x86_64.h"

struct r_image img;

_Static_assert(R_MAX_MAPS == CAIRN_PROC_MAX_MAPS && R_MAX_FILES == CAIRN_PROC_MAX_FILES,
               "cairn run's checks (cli/proc_check.c) assume the restorer's table sizes");

/* One section header at *off, its checksum checked and folded into *chain:
   records what we need, advances *off. 1 at the trailer, -1 if corrupt. */
static int walk_one(uint64_t *off, uint64_t *chain, uint64_t rec[3][3])
{
    unsigned char h[CAIRN_SECTION_HEADER_SIZE + CAIRN_NAME_MAX];
    if (r_pread_all(img.fd, h, CAIRN_SECTION_HEADER_SIZE, *off) < 0)
        return -1;
    if (memcmp(h, CAIRN_TRAILER_MAGIC, 8) == 0)
        return 1;
    unsigned name_len = cairn_get16(h + 12);
    if (memcmp(h, CAIRN_SECTION_MAGIC, 4) != 0 || cairn_get16(h + 6) != CAIRN_CODEC_NONE ||
        name_len > CAIRN_NAME_MAX ||
        r_pread_all(img.fd, h + CAIRN_SECTION_HEADER_SIZE, name_len,
                    *off + CAIRN_SECTION_HEADER_SIZE) < 0)
        return -1;
    r_hash_reset();
    r_hash_update(h, 56);
    r_hash_update(h + CAIRN_SECTION_HEADER_SIZE, name_len);
    uint64_t hsum = r_hash_digest();
    if (hsum != cairn_get64(h + 56))
        return -1;
    unsigned type = cairn_get16(h + 4);
    uint64_t data = cairn_get64(h + 16), stored = cairn_get64(h + 24);
    uint64_t sum = cairn_get64(h + 40), arg = cairn_get64(h + 48);
    if (data < *off + CAIRN_SECTION_HEADER_SIZE + name_len || stored > ~data)
        return -1;
    unsigned r = type == CAIRN_SEC_PROC_CORE ? 0 : type == CAIRN_SEC_PROC_MAPS ? 1 : 2;
    if (type == CAIRN_SEC_PROC_MEM && arg < R_MAX_MAPS)
        img.mem_off[arg] = data, img.mem_len[arg] = stored, img.mem_sum[arg] = sum;
    else if (r < 2 || type == CAIRN_SEC_PROC_FILES)
        rec[r][0] = data, rec[r][1] = stored, rec[r][2] = sum;
    unsigned char link[16];
    cairn_put64(link, hsum);
    cairn_put64(link + 8, sum);
    *chain = r_hash_seed(link, sizeof link, *chain);
    *off = cairn_align_up(data + stored, CAIRN_DATA_ALIGN);
    return 0;
}

/* The trailer at off: its checksum, its offset and the chain. */
static int check_trailer(uint64_t off, uint64_t chain)
{
    unsigned char t[CAIRN_TRAILER_SIZE];
    return r_pread_all(img.fd, t, sizeof t, off) == 0 &&
                   cairn_get64(t + 56) == r_hash(t, 56) && cairn_get64(t + 16) == off &&
                   cairn_get64(t + 24) == chain
               ? 0
               : -1;
}

/* A record section into dst, its data checksum checked. */
static int read_record(const char *what, const uint64_t rec[3], void *dst, uint64_t cap)
{
    if (rec[1] > cap) {
        r_say("image has a ", what, " section larger than this restorer handles", (char *)0);
        return -1;
    }
    if (r_pread_all(img.fd, dst, rec[1], rec[0]) < 0 || r_hash(dst, rec[1]) != rec[2]) {
        r_say("the ", what, " section is unreadable or corrupt (checksum mismatch)", (char *)0);
        return -2;
    }
    return 0;
}

/* Reads the file header: 0, -1 not a process image, -2 corrupt. */
static int check_header(const char *path, uint64_t *chain)
{
    unsigned char h[CAIRN_HEADER_SIZE];
    if (r_pread_all(img.fd, h, sizeof h, 0) < 0 || memcmp(h, CAIRN_MAGIC, 8) != 0 ||
        !(cairn_get32(h + 16) & CAIRN_IMG_PROCESS)) {
        r_say(path, " is not a process image", (char *)0);
        return -1;
    }
    if (cairn_get64(h + 120) != r_hash(h, 120)) {
        r_say(path, ": header checksum mismatch", (char *)0);
        return -2;
    }
    *chain = cairn_get64(h + 120);
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
    uint64_t off = CAIRN_HEADER_SIZE, chain = 0, rec[3][3] = {{0}};
    int rc = check_header(path, &chain);
    if (rc < 0)
        return rc;
    while ((rc = walk_one(&off, &chain, rec)) == 0)
        ;
    if (rc < 0 || check_trailer(off, chain) < 0) {
        r_say(path, ": a section header, the trailer or the chain of sections does not "
              "match its checksum", (char *)0);
        return -2;
    }
    if (rec[0][1] != sizeof img.core) {
        r_say(path, ": process record of another version", (char *)0);
        return -1;
    }
    if ((rc = read_record("core", rec[0], &img.core, sizeof img.core)) < 0 ||
        (rc = read_record("mappings", rec[1], img.maps, sizeof img.maps)) < 0 ||
        (rc = read_record("files", rec[2], img.files, sizeof img.files)) < 0)
        return rc;
    /* The counts are bounded before they are multiplied: nmaps * 104 wraps
       around for nmaps = n + 2^61, and every loop below indexes img.maps. */
    if (img.core.magic != CAIRN_PROC_MAGIC || img.core.version != CAIRN_PROC_VERSION ||
        img.core.arch != CAIRN_PROC_ARCH_X86_64 || img.core.nmaps > R_MAX_MAPS ||
        img.core.nfiles > R_MAX_FILES || img.core.nmaps * sizeof img.maps[0] != rec[1][1] ||
        img.core.nfiles * sizeof img.files[0] != rec[2][1]) {
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
            return -2;
        }
    }
    return 0;
}
