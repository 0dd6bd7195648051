/* SPDX-License-Identifier: MIT */
/*
 * image.c — reads a process image's section index in the restorer.
 *
 * `cairn run` checked the image's structure and its records before exec'ing
 * the restorer, but not the memory payloads: the restorer checks those as it
 * reads them into place (memory.c), so the image is read once. Here the walk
 * checks again what the restorer relies on, since the file may have changed
 * since, with the same rules as libcairn's reader (format/container.h): the
 * header, the trailer, `section_count` section headers tiling the file
 * exactly between them, the chain binding the sections, and the records'
 * data checksums. The restorer also requires what only it needs: a process
 * image, with no compressed section. Every mismatch ends the restorer with
 * R_EXIT_CORRUPT before it has changed anything, and `cairn run` falls back
 * to the previous generation.
 */
#include "hash.h"
#include "image_format.h"
#include "restore.h"
#include "rlib.h"
#include "sys_x86_64.h"

struct r_image img;


/* Where the walk keeps each record section it meets. */
static struct r_record *record_for(unsigned type)
{
    switch (type) {
    case CAIRN_SEC_PROC_CORE:
        return &img.rec_core;
    case CAIRN_SEC_PROC_MAPS:
        return &img.rec_maps;
    case CAIRN_SEC_PROC_FILES:
        return &img.rec_files;
    case CAIRN_SEC_PROC_TASK:
        return &img.rec_task;
    case CAIRN_SEC_PROC_SIGQ:
        return &img.rec_sigq;
    case CAIRN_SEC_PROC_FILEID:
        return &img.rec_fileid;
    case CAIRN_SEC_PROC_THREADS:
        return &img.rec_threads;
    case CAIRN_SEC_PROC_TSIGQ:
        return &img.rec_tsigq;
    case CAIRN_SEC_PROC_TIMERS:
        return &img.rec_timers;
    case CAIRN_SEC_PROC_TREE:
        return &img.rec_tree;
    case CAIRN_SEC_PROC_PIPEDATA:
        return &img.rec_pipedata;
    case CAIRN_SEC_PROC_EPOLL:
        return &img.rec_epoll;
    case CAIRN_SEC_PROC_PARENT:
        return &img.rec_parent;
    case CAIRN_SEC_PROC_TRACK:
        return &img.rec_track;
    case CAIRN_SEC_PROC_MAPNOTE:
        return &img.rec_mapnote;
    default:
        return 0;
    }
}

/* Keeps what the rest of the restorer needs of one checked section. */
static void note_section(const struct cairn_section_header *s)
{
    struct r_record *r = record_for(s->type);
    if (s->type == CAIRN_SEC_PROC_MEM && s->arg < CAIRN_PROC_MAX_MAPS) {
        img.mem_off[s->arg] = s->data_offset;
        img.mem_len[s->arg] = s->stored_size;
        img.mem_sum[s->arg] = s->data_checksum;
    } else if (s->type == CAIRN_SEC_PROC_EXTENTS && s->arg < CAIRN_PROC_MAX_MAPS) {
        img.ext_off[s->arg] = s->data_offset;
        img.ext_len[s->arg] = s->stored_size;
        img.ext_sum[s->arg] = s->data_checksum;
    } else if (s->type == CAIRN_SEC_PROC_BASE && s->arg < CAIRN_PROC_MAX_MAPS) {
        img.base_off[s->arg] = s->data_offset;
        img.base_len[s->arg] = s->stored_size;
        img.base_sum[s->arg] = s->data_checksum;
    } else if (r) {
        r->off = s->data_offset;
        r->len = s->stored_size;
        r->sum = s->data_checksum;
        r->present = 1;
    }
}

/* Section header at *off, checked as libcairn's reader checks it and
   folded into *chain; advances *off. 0, or -1 if corrupt. */
static int walk_one(uint64_t *off, uint64_t trailer_off, uint64_t *chain)
{
    unsigned char h[CAIRN_SECTION_HEADER_SIZE + CAIRN_NAME_MAX];
    struct cairn_section_header s;
    uint64_t at = *off;
    if (cairn_section_fits(at, trailer_off) != CAIRN_SECTION_OK ||
        r_pread_all(img.fd, h, CAIRN_SECTION_HEADER_SIZE, at) < 0 ||
        cairn_section_check_fixed(h, at, trailer_off) != CAIRN_SECTION_OK)
        return -1;
    cairn_section_decode(h, &s);
    if (r_pread_all(img.fd, h + CAIRN_SH_NAME, s.name_len, at + CAIRN_SH_NAME) < 0)
        return -1;
    r_hash_reset();
    r_hash_update(h, CAIRN_SH_SUMMED);
    r_hash_update(h + CAIRN_SH_NAME, s.name_len);
    uint64_t hsum = r_hash_digest();
    if (cairn_section_check(&s, hsum, at, trailer_off) != CAIRN_SECTION_OK ||
        s.codec != CAIRN_CODEC_NONE)
        return -1;
    note_section(&s);
    unsigned char link[CAIRN_CHAIN_LINK_SIZE];
    cairn_chain_link(link, hsum, s.data_checksum);
    *chain = r_hash_seed(link, sizeof link, *chain);
    *off = cairn_section_next(&s);
    return 0;
}

/* The trailer of a file of `size` bytes: its section count and chain. */
static int read_trailer(uint64_t size, struct cairn_trailer *tr)
{
    unsigned char t[CAIRN_TRAILER_SIZE];
    if (size < CAIRN_IMAGE_MIN_SIZE ||
        r_pread_all(img.fd, t, sizeof t, size - CAIRN_TRAILER_SIZE) < 0 ||
        cairn_trailer_check(t, r_hash(t, CAIRN_TR_SUMMED), size) != CAIRN_TRAILER_OK)
        return -1;
    cairn_trailer_decode(t, tr);
    return 0;
}

int r_read_record(const char *what, const struct r_record *rec, void *dst, uint64_t cap)
{
    if (rec->len > cap) {
        r_say("image has a ", what, " section larger than this restorer handles", (char *)0);
        return -1;
    }
    if (r_pread_all(img.fd, dst, rec->len, rec->off) < 0 || r_hash(dst, rec->len) != rec->sum) {
        r_say("the ", what, " section is unreadable or corrupt (checksum mismatch)", (char *)0);
        return -2;
    }
    return 0;
}

/* Reads the file header: 0, -1 not a process image, -2 corrupt. */
static int check_header(const char *path, uint64_t *chain)
{
    unsigned char h[CAIRN_HEADER_SIZE];
    if (r_pread_all(img.fd, h, sizeof h, 0) < 0) {
        r_say(path, " is not a process image (shorter than a header)", (char *)0);
        return -1;
    }
    switch (cairn_header_check(h, r_hash(h, CAIRN_HDR_SUMMED))) {
    case CAIRN_HEADER_OK:
        break;
    case CAIRN_HEADER_CHECKSUM:
        r_say(path, ": header checksum mismatch", (char *)0);
        return -2;
    case CAIRN_HEADER_NEWER:
    case CAIRN_HEADER_FLAGS_UNKNOWN:
        r_say(path, ": written by a newer cairn (format or flags unknown here)", (char *)0);
        return -1;
    default:
        r_say(path, " is not a cairn image", (char *)0);
        return -1;
    }
    if (!(cairn_get32(h + CAIRN_HDR_FLAGS) & CAIRN_IMG_PROCESS)) {
        r_say(path, " is not a process image", (char *)0);
        return -1;
    }
    *chain = cairn_get64(h + CAIRN_HDR_CHECKSUM);
    return 0;
}

/* Checks the header, trailer and every section header (not the payloads). */
static int check_structure(const char *path)
{
    uint64_t chain = 0;
    int rc = check_header(path, &chain);
    if (rc < 0)
        return rc;
    long size = sys3(NR_lseek, img.fd, 0, 2 /* SEEK_END */);
    struct cairn_trailer tr;
    if (size < 0 || read_trailer((uint64_t)size, &tr) < 0) {
        r_say(path, ": no valid trailer (truncated, or not completely written)", (char *)0);
        return -2;
    }
    uint64_t off = CAIRN_HEADER_SIZE;
    for (uint32_t i = 0; i < tr.section_count; i++)
        if (walk_one(&off, tr.trailer_offset, &chain) < 0) {
            r_say(path, ": a section header does not match its checksum or the rules of "
                  "the format", (char *)0);
            return -2;
        }
    if (off != tr.trailer_offset || chain != tr.chain) {
        r_say(path, ": the sections do not tile the image or the chain of sections does "
              "not match", (char *)0);
        return -2;
    }
    return 0;
}

/* Strings from the image are used as C strings (paths for open and chdir,
   names compared and printed): cut each at its buffer's end. cairn run
   refuses unterminated ones (format/proc_check.c); this keeps the restorer
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

/* The core, mappings and files records, and their agreement. */
static int load_records(const char *path)
{
    int rc;
    if (!img.rec_core.present || img.rec_core.len != sizeof img.core) {
        r_say(path, ": process record of another version", (char *)0);
        return -1;
    }
    if ((rc = r_read_record("core", &img.rec_core, &img.core, sizeof img.core)) < 0 ||
        (rc = r_read_record("mappings", &img.rec_maps, img.maps, sizeof img.maps)) < 0 ||
        (rc = r_read_record("files", &img.rec_files, img.files, sizeof img.files)) < 0)
        return rc;
    /* The counts are bounded before they are multiplied: nmaps * 104 wraps
       around for nmaps = n + 2^61, and every loop below indexes img.maps. */
    if (img.core.magic != CAIRN_PROC_MAGIC || img.core.version != CAIRN_PROC_VERSION ||
        img.core.arch != CAIRN_PROC_ARCH_X86_64 || img.core.nmaps > CAIRN_PROC_MAX_MAPS ||
        img.core.nfiles > CAIRN_PROC_MAX_FILES || img.core.nmaps * sizeof img.maps[0] != img.rec_maps.len ||
        img.core.nfiles * sizeof img.files[0] != img.rec_files.len) {
        r_say(path, ": process record of another version or architecture", (char *)0);
        return -1;
    }
    terminate_strings();
    if (img.rec_fileid.present) { /* optional: older images lack it */
        if (img.rec_fileid.len != img.core.nfiles * sizeof img.fileid[0]) {
            r_say(path, ": the file-id section does not match the files", (char *)0);
            return -2;
        }
        if ((rc = r_read_record("file ids", &img.rec_fileid, img.fileid, sizeof img.fileid)) < 0)
            return rc;
        img.have_fileid = 1;
    }
    return 0;
}

int r_load_image(int fd, const char *path)
{
    img.fd = fd;
    int rc = check_structure(path);
    if (rc < 0 || (rc = load_records(path)) < 0)
        return rc;
    for (uint64_t i = 0; i < img.core.nmaps; i++) {
        const struct cairn_proc_map *m = &img.maps[i];
        if (m->start >= m->end || m->end > CAIRN_PROC_TASK_TOP || (m->start | m->end) % 4096) {
            r_say(path, ": a mapping is not a range of whole pages in user space", (char *)0);
            return -1;
        }
        int sparse = (m->flags & CAIRN_MAPF_SPARSE) != 0;
        if ((m->flags & CAIRN_MAPF_DATA) && !sparse && img.mem_len[i] != m->end - m->start) {
            r_say(path, ": a mapping's contents are missing", (char *)0);
            return -2;
        }
        if (sparse && (!(m->flags & CAIRN_MAPF_DATA) || img.mem_len[i] > m->end - m->start ||
                       img.ext_len[i] % sizeof(struct cairn_proc_extent) ||
                       img.ext_len[i] > CAIRN_PROC_MAX_EXTENTS * sizeof(struct cairn_proc_extent) ||
                       (m->kind != CAIRN_MAP_ANON && m->kind != CAIRN_MAP_STACK))) {
            r_say(path, ": a sparse mapping's page list is missing or too long", (char *)0);
            return -2;
        }
    }
    return 0;
}
