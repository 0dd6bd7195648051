/* SPDX-License-Identifier: MIT */
/*
 * process_format.h — the sections of a transparent process image
 * (cairn run), shared by the runtime that writes them and the freestanding
 * restorer that reads them. Documented byte by byte in docs/FORMAT.md,
 * "Process images".
 *
 * Unlike libcairn's own sections these payloads are fixed-layout records of
 * little-endian 64-bit fields, written and read as C structs: both ends are
 * cairn code for the same architecture, and the restorer has no libc to
 * decode with. The static_asserts pin the layout so that a compiler cannot
 * move a field. Only headers that exist in a freestanding build are used.
 */
#ifndef CAIRN_PROCESS_FORMAT_H
#define CAIRN_PROCESS_FORMAT_H

#include <stdint.h>

/* Section types (0x100..0x1ff belong to process images). */
#define CAIRN_SEC_PROC_CORE 0x100u   /* struct cairn_proc_core */
#define CAIRN_SEC_PROC_MAPS 0x101u   /* struct cairn_proc_map[n] */
#define CAIRN_SEC_PROC_MEM 0x102u    /* one mapping's bytes; arg = its index */
#define CAIRN_SEC_PROC_FILES 0x103u  /* struct cairn_proc_file[n] */
#define CAIRN_SEC_PROC_TASK 0x104u   /* struct cairn_proc_task */
#define CAIRN_SEC_PROC_SIGQ 0x105u   /* struct cairn_proc_siginfo[n]: pending signals */
#define CAIRN_SEC_PROC_FILEID 0x106u /* struct cairn_proc_fileid[nfiles]: who owned each */
#define CAIRN_SEC_PROC_JOB 0x107u    /* struct cairn_proc_job: the command cairn run ran */
#define CAIRN_SEC_PROC_THREADS 0x108u /* struct cairn_proc_thread[nthreads] (nthreads > 1) */
#define CAIRN_SEC_PROC_TSIGQ 0x109u  /* struct cairn_proc_tsig[n]: other threads' own signals */
#define CAIRN_SEC_PROC_TIMERS 0x10au /* struct cairn_proc_timer[n]: POSIX timers (timer_create) */
#define CAIRN_SEC_PROC_EXTENTS 0x10bu /* struct cairn_proc_extent[n]: a sparse mapping's saved pages; arg = its index */
#define CAIRN_SEC_PROC_TREE 0x10cu   /* struct cairn_proc_tree, cairn_proc_member[n], cairn_proc_pipe[m] */
#define CAIRN_SEC_PROC_PIPEDATA 0x10du /* the bytes in the tree's pipes, one after another (first process only) */
#define CAIRN_SEC_PROC_EPOLL 0x10eu  /* struct cairn_proc_epoll[n]: what the process's epoll fds watch */
#define CAIRN_SEC_PROC_BASE 0x10fu   /* struct cairn_proc_extent[n]: a delta mapping's pages kept in the parent image; arg = its index */
#define CAIRN_SEC_PROC_PARENT 0x110u /* struct cairn_proc_parent: the image a delta image is written on */
#define CAIRN_SEC_PROC_TRACK 0x111u  /* struct cairn_proc_track: the runtime tracked dirty pages */
#define CAIRN_SEC_PROC_MAPNOTE 0x115u /* struct cairn_proc_mapnote: where the restorer names the files it maps memory from */
#define CAIRN_SEC_PROC_IPC 0x114u    /* struct cairn_proc_ipc, then its objects: the job's IPC namespace (first process only) */
#define CAIRN_SEC_PROC_CPU 0x116u    /* struct cairn_proc_cpu: the instruction sets the job may use */

#define CAIRN_PROC_MAGIC 0x636f7270u /* "proc" */
#define CAIRN_PROC_VERSION 1u
#define CAIRN_PROC_ARCH_X86_64 62u   /* ELF e_machine */

#define CAIRN_PROC_NSIG 64u
#define CAIRN_PROC_NRLIMIT 16u
#define CAIRN_PROC_AUXV_WORDS 128u
#define CAIRN_PROC_PATH_MAX 4096u

/* The restorer is linked at a fixed address in a window reserved for cairn;
   a restored job carries the restorer's leftovers there until the runtime's
   next checkpoint unmaps them. A job mapping in the window cannot be
   restored. */
#define CAIRN_RESERVED_LO 0x1fff00000000ull
#define CAIRN_RESERVED_HI 0x200100000000ull
#define CAIRN_RESTORER_BASE 0x200000000000ull

/* Limits of the restorer's fixed-size tables (restore/restore.h,
   restore/memory.c) and of the x86_64 user address space: an image beyond
   them is refused by `cairn run` before the restorer sees it (format/proc_check.c). */
#define CAIRN_PROC_MAX_MAPS 16384u
#define CAIRN_PROC_MAX_FILES 256u
#define CAIRN_PROC_MAX_SPECIAL 16u
#define CAIRN_PROC_MAX_FD (1u << 20)          /* the kernel's NR_OPEN */
#define CAIRN_PROC_MAX_THREADS 512u
#define CAIRN_PROC_MAX_TSIGQ 512u
#define CAIRN_PROC_MAX_TIMERS 64u
#define CAIRN_PROC_MAX_EXTENTS 65536u        /* per sparse mapping */
#define CAIRN_PROC_MAX_CHAIN 16u             /* images in a chain: a delta and its ancestors */
#define CAIRN_PROC_TASK_TOP 0x7ffffffff000ull
/* Writers place memory payloads (CAIRN_SEC_PROC_MEM) at file offsets that
   are multiples of this, so that the restorer can map them from the file;
   readers accept any (docs/FORMAT.md, "Memory payloads"). */
#define CAIRN_PROC_MEM_ALIGN 4096u

struct cairn_proc_sigaction {       /* the kernel's struct sigaction */
    uint64_t handler;
    uint64_t flags;
    uint64_t restorer;
    uint64_t mask;
};

struct cairn_proc_itimer {          /* struct itimerval, in microseconds */
    uint64_t interval_us;
    uint64_t value_us;
};

struct cairn_proc_core {
    uint32_t magic;                 /* CAIRN_PROC_MAGIC */
    uint32_t version;               /* CAIRN_PROC_VERSION */
    uint32_t arch;                  /* CAIRN_PROC_ARCH_* */
    uint32_t nthreads;              /* threads; > 1: a threads section lists them */
    uint64_t nmaps;
    uint64_t nfiles;
    /* The main thread (tid == pid): where its signal frame's ucontext is
       (rt_sigreturn with the stack pointer there resumes it), its FS/GS
       bases and rseq area. Its record in the threads section agrees. */
    uint64_t frame_uc;
    uint64_t fs_base;
    uint64_t gs_base;
    uint64_t rseq_addr;             /* 0: no rseq registered */
    uint64_t rseq_len;
    uint64_t rseq_sig;
    /* mm fields (prctl PR_SET_MM_MAP). */
    uint64_t start_code, end_code, start_data, end_data;
    uint64_t start_brk, brk, start_stack;
    uint64_t arg_start, arg_end, env_start, env_end;
    uint64_t auxv_words;            /* used words of auxv[] */
    uint64_t auxv[CAIRN_PROC_AUXV_WORDS];
    /* Process-wide state. */
    uint64_t umask;
    uint64_t control_fd;            /* the runtime's channel to cairn */
    uint64_t sigmask;               /* blocked set when the job was stopped */
    struct cairn_proc_sigaction act[CAIRN_PROC_NSIG]; /* [signo - 1] */
    uint64_t rlim_cur[CAIRN_PROC_NRLIMIT];
    uint64_t rlim_max[CAIRN_PROC_NRLIMIT];
    struct cairn_proc_itimer itimer[3]; /* REAL, VIRTUAL, PROF */
    char comm[16];
    char cwd[CAIRN_PROC_PATH_MAX];
};

/* Kinds of mapping. */
enum {
    CAIRN_MAP_ANON = 0,      /* private anonymous, incl. [heap] */
    CAIRN_MAP_FILE = 1,      /* private file mapping: contents embedded */
    CAIRN_MAP_STACK = 2,     /* [stack]: restored MAP_GROWSDOWN */
    CAIRN_MAP_SPECIAL = 3,   /* [vdso], [vvar], ...: moved, not stored */
    CAIRN_MAP_SHARED = 4     /* MAP_SHARED memory of the job's processes (anonymous,
                                memfd, unlinked /dev/shm): `reserved` is the tree
                                section's object, `offset` the offset in it; the bytes
                                as this process sees them */,
    CAIRN_MAP_SYSV = 5       /* a SysV shared memory attach (shmat): `reserved` is the
                                segment's id, `offset` the offset in it (0, or this
                                piece continues the previous record's); no bytes: the
                                IPC section holds the segment's */
};

/* Mapping flags. */
#define CAIRN_MAPF_DATA 0x1u   /* a CAIRN_SEC_PROC_MEM section holds its bytes */
#define CAIRN_MAPF_SPARSE 0x2u /* with DATA, anonymous: only the pages its extents
                                  section lists are saved; the others are zero */
#define CAIRN_MAPF_DELTA 0x4u  /* with DATA and SPARSE: the pages its base section
                                  (CAIRN_SEC_PROC_BASE) lists are those of mapping
                                  `parent_index` of the parent image (which holds
                                  its range: the same, or a larger one) */

struct cairn_proc_map {
    uint64_t start, end;
    uint32_t prot;           /* PROT_* */
    uint32_t kind;           /* CAIRN_MAP_* */
    uint32_t flags;          /* CAIRN_MAPF_* */
    union {
        uint32_t parent_index; /* with CAIRN_MAPF_DELTA: the mapping's index in the parent image */
        uint32_t reserved;     /* kind CAIRN_MAP_SHARED: its shm record; else 0 */
    };
    uint64_t offset;         /* file offset (informational) */
    char name[64];           /* path (truncated) or [special] name */
};

/* Kinds of file descriptor. */
enum {
    CAIRN_FD_FILE = 0,       /* regular file: reopened by path, offset set */
    CAIRN_FD_DUP = 1,        /* shares fd `dup_of`'s open file */
    CAIRN_FD_INHERIT = 2,    /* stdio pipe/tty: the restoring cairn's fd */
    CAIRN_FD_DEVICE = 3,     /* /dev/null, /dev/zero, /dev/urandom: reopened */
    CAIRN_FD_PIPE = 4,       /* a pipe of the job's (process trees): `offset` is its
                                inode, the tree section's pipe of that inode; the
                                end is open_flags' access mode */
    CAIRN_FD_EPOLL = 5,      /* an epoll instance: made again with the entries of
                                the epoll section whose epfd is this fd */
    /* Kernel objects of the job (process trees): the tree section's object
       record of this process and fd says which object and its state; all
       the records of one object become one object again. `offset` is the
       socket's inode (informational), else 0. */
    CAIRN_FD_EVENTFD = 6,
    CAIRN_FD_TIMERFD = 7,
    CAIRN_FD_SIGNALFD = 8,
    CAIRN_FD_UNIX = 9,       /* a connected AF_UNIX socket (socketpair or accepted) */
    CAIRN_FD_PTY = 10,       /* reserved: ptys are refused by name */
    CAIRN_FD_MQUEUE = 11     /* a POSIX message queue: reopened by the name in
                                `path` (mq_open), `offset` is its inode, open_flags
                                its access mode and O_NONBLOCK */
};

/* File flags. */
#define CAIRN_FILEF_APPENDING 0x1u /* written at its end: roll back on restore */

struct cairn_proc_file {
    int32_t fd;
    uint32_t kind;           /* CAIRN_FD_* */
    uint32_t open_flags;     /* fcntl F_GETFL */
    uint32_t fd_flags;       /* fcntl F_GETFD */
    uint32_t flags;          /* CAIRN_FILEF_* */
    int32_t dup_of;
    uint64_t offset;
    uint64_t size;           /* file size at the checkpoint */
    char path[CAIRN_PROC_PATH_MAX];
};

/* What each file record's file was at the checkpoint, in the order of the
   files section (optional: older images lack it). The restorer reopens a
   file only if it is still the same kind of object, and one it truncates or
   appends to only if it still has the same owner. */
struct cairn_proc_fileid {
    uint32_t uid;            /* st_uid */
    uint32_t mode;           /* st_mode (type and permissions) */
    uint64_t dev, ino;       /* st_dev, st_ino (a copy in a new sandbox differs) */
};

/* The job as `cairn run` started it (optional: older images lack it). A
   rerun restores the image only if its command line is the same and the
   program, and an interpreter's script, have the same contents. Paths are
   shown, not compared: a scheduler may restart the job in a new sandbox. */
#define CAIRN_PROC_ARGV_MAX 4096u
struct cairn_proc_job {
    uint64_t argc;                  /* arguments in argv */
    uint64_t argv_len;              /* bytes of argv used, each argument NUL-ended */
    uint64_t exe_size, exe_hash;    /* the program: size, cairn_ident hash */
    uint64_t script_size, script_hash; /* an interpreter's script (0, 0: none) */
    uint64_t reserved[2];
    char exe[CAIRN_PROC_PATH_MAX];  /* where the program was found */
    char script[CAIRN_PROC_PATH_MAX]; /* the script's argument ("": none) */
    char argv[CAIRN_PROC_ARGV_MAX]; /* the command line */
};

/* Who the job is (both sections are optional: older images lack them). */
struct cairn_proc_task {
    uint64_t pid;            /* getpid() as the job saw it */
    uint64_t ppid;           /* getppid() as the job saw it */
    uint64_t reserved;       /* 0 */
    uint64_t nsigq;          /* records in the CAIRN_SEC_PROC_SIGQ section */
    char exe[CAIRN_PROC_PATH_MAX]; /* /proc/self/exe ("": unknown) */
};

/* One pending signal, dequeued at the checkpoint and queued again at once
   (and by the restorer), in the order the kernel would deliver them. */
#define CAIRN_PROC_MAX_SIGQ 128u
#define CAIRN_SIGQF_THREAD 0x1u  /* directed at the thread, not the process */

struct cairn_proc_siginfo {
    uint32_t signo;
    uint32_t flags;          /* CAIRN_SIGQF_* */
    uint8_t info[128];       /* the kernel's siginfo_t, as dequeued */
};

/* One thread of a multi-threaded job, main thread first (threads.c of the
   runtime records it in the thread's own checkpoint handler). Restored by
   the restorer in the thread it creates with the same tid. */
#define CAIRN_PROC_AFFINITY_WORDS 16u   /* 1024 CPUs */
struct cairn_proc_thread {
    uint64_t tid;                   /* gettid() in the job's pid namespace */
    uint64_t frame_uc;              /* its signal frame: rt_sigreturn resumes it */
    uint64_t fs_base, gs_base;
    uint64_t rseq_addr, rseq_len, rseq_sig; /* rseq_addr 0: none registered */
    uint64_t robust_head, robust_len;       /* set_robust_list (0: none) */
    uint64_t clear_child_tid;       /* set_tid_address (0: none) */
    uint64_t affinity_words;        /* used words of affinity (0: not recorded) */
    uint64_t affinity[CAIRN_PROC_AFFINITY_WORDS]; /* sched_getaffinity mask */
    uint64_t policy;                /* sched_getscheduler + 1 (0: not recorded) */
    int64_t nice;                   /* getpriority of the thread */
    uint64_t rt_priority;           /* sched_param.sched_priority (FIFO, RR) */
    char comm[16];                  /* the thread's name (PR_GET_NAME) */
};

/* A signal pending for one thread other than the main one (the main
   thread's are in the SIGQ section), queued again by that very thread:
   the kernel lets a thread queue a signal of any si_code only to itself. */
struct cairn_proc_tsig {
    uint32_t signo;
    uint32_t tid;
    uint8_t info[128];              /* the kernel's siginfo_t, as dequeued */
};

/* A POSIX timer of the job, re-created with its own id (the kernel's
   PR_TIMER_CREATE_RESTORE_IDS) and armed with the time it had left. */
struct cairn_proc_timer {
    int32_t id;                     /* the kernel's timer id (glibc's timer_t) */
    int32_t clock;                  /* clockid_t */
    uint32_t signo;                 /* sigev_signo */
    uint32_t notify;                /* sigev_notify: SIGEV_SIGNAL 0, SIGEV_NONE 1, | SIGEV_THREAD_ID 4 */
    uint32_t tid;                   /* SIGEV_THREAD_ID: the thread it signals */
    uint32_t reserved;
    uint64_t value;                 /* sigev_value */
    uint64_t remaining_ns;          /* time to its next expiry (0: disarmed) */
    uint64_t interval_ns;           /* its period (0: one-shot) */
};

/* A run of saved pages of a sparse mapping, in bytes from its start (page
   aligned); its memory section holds the runs' bytes one after another. */
struct cairn_proc_extent {
    uint64_t offset;
    uint64_t length;
};

/* A job of several processes (docs/TRANSPARENT.md "Process trees"): every
   process's image holds the same tree section, written at one checkpoint;
   the first process's image is the generation's file, the others are its
   member files. Ids are as the job saw them, 0 for one outside its
   namespace (cairn run's own process group and session). */
#define CAIRN_PROC_MAX_MEMBERS 64u
#define CAIRN_PROC_MAX_PIPES 256u
#define CAIRN_PROC_MAX_PIPE_DATA (16u << 20) /* bytes in flight in all pipes */
#define CAIRN_PROC_MEMBER_IMAGE 0u  /* a live process: it has an image */
#define CAIRN_PROC_MEMBER_ZOMBIE 1u /* exited, not yet reaped by its parent */
struct cairn_proc_tree {
    uint64_t nmembers;              /* member records that follow, the first process first */
    uint64_t generation;
    uint8_t nonce[16];              /* the checkpoint's: equal in all its images */
    uint64_t npipes;                /* pipe records after the members */
    uint64_t nshm;                  /* shared memory records after the pipes */
    uint64_t stdio_ino[3];          /* cairn run's fds 0-2 if pipes (0: not): a job's
                                       pipe of that inode on that fd is CAIRN_FD_INHERIT */
};
/* A pipe the job's processes hold, and the bytes in flight in it (in the
   first process's CAIRN_SEC_PROC_PIPEDATA, in the order of the records). */
struct cairn_proc_pipe {
    uint64_t ino;
    uint32_t capacity;              /* F_GETPIPE_SZ */
    uint32_t nbytes;                /* bytes in flight */
};
struct cairn_proc_member {
    uint64_t pid, ppid, pgid, sid;
    uint32_t state;                 /* CAIRN_PROC_MEMBER_* */
    int32_t wstatus;                /* a zombie's wait status */
    uint64_t reserved;              /* 0 */
};

/* A shared memory object mapped by the job's processes: recreated as a
   memfd of that size, which each maps again where it had it. */
#define CAIRN_PROC_MAX_SHM 64u
struct cairn_proc_shm {
    uint64_t dev, ino;              /* as /proc/PID/maps showed them (dev: major << 32 | minor) */
    uint64_t size;                  /* the largest offset + length mapped */
};

/* One fd an epoll instance of the process watches (/proc/self/fdinfo). */
#define CAIRN_PROC_MAX_EPOLL 1024u
struct cairn_proc_epoll {
    int32_t epfd;                   /* the epoll fd (a CAIRN_FD_EPOLL file) */
    int32_t tfd;                    /* the fd it watches, as registered */
    uint32_t events;                /* EPOLLIN ... EPOLLET, EPOLLONESHOT */
    uint32_t reserved;              /* 0 */
    uint64_t data;                  /* epoll_data, as the job gave it */
};

/* The job's eventfds, timerfds, signalfds and AF_UNIX sockets (optional,
   after the tree section's shm records: a cairn_proc_objects header, then
   nobjects records). One record per fd of a process holding one; `object`
   is the index of the object's first record, which alone carries the
   state (and, for a socket, the bytes of its receive queue, in
   CAIRN_SEC_PROC_PIPEDATA after the pipes' bytes, in record order). */
#define CAIRN_PROC_MAX_OBJECTS 512u
#define CAIRN_PROC_NO_PEER 0xffffffffu
#define CAIRN_OBJF_SEMAPHORE 0x1u   /* eventfd: EFD_SEMAPHORE */
#define CAIRN_OBJF_SHUT_RD 0x1u     /* unix socket: shut down for reading */
#define CAIRN_OBJF_SHUT_WR 0x2u     /* unix socket: shut down for writing */
struct cairn_proc_objects {
    uint64_t nobjects;
    uint64_t reserved;              /* 0 */
};
struct cairn_proc_object {
    uint32_t pid;                   /* the process holding it, as the job sees it */
    int32_t fd;                     /* its fd there */
    uint32_t kind;                  /* CAIRN_FD_EVENTFD .. CAIRN_FD_UNIX */
    uint32_t object;                /* index of the object's first record (<= its own) */
    uint32_t flags;                 /* CAIRN_OBJF_* */
    uint32_t peer;                  /* unix: the peer's first record; CAIRN_PROC_NO_PEER:
                                       the peer was closed */
    uint64_t ino;                   /* unix: the socket's inode (informational) */
    /* eventfd: v[0] its counter. timerfd: v[0] clock, v[1] ns to the next
       expiry (0: disarmed), v[2] interval ns, v[3] expirations not read.
       signalfd: v[0] its mask. unix: v[0] SOCK_STREAM 1, SOCK_DGRAM 2,
       SOCK_SEQPACKET 5; v[1] its SO_SNDBUF. */
    uint64_t v[4];
    uint32_t nbytes;                /* unix, first record: bytes of its receive queue in
                                       the pipe data (stream: the bytes; else each
                                       message as a 32-bit length and its bytes) */
    uint32_t reserved;              /* 0 */
};

/* The largest tree section: header, members, pipes, shm, objects. */
#define CAIRN_PROC_TREE_MAX (sizeof(struct cairn_proc_tree) + \
    CAIRN_PROC_MAX_MEMBERS * sizeof(struct cairn_proc_member) + \
    CAIRN_PROC_MAX_PIPES * sizeof(struct cairn_proc_pipe) + \
    CAIRN_PROC_MAX_SHM * sizeof(struct cairn_proc_shm) + sizeof(struct cairn_proc_objects) + \
    CAIRN_PROC_MAX_OBJECTS * sizeof(struct cairn_proc_object))

_Static_assert(sizeof(struct cairn_proc_objects) == 16, "layout");
_Static_assert(sizeof(struct cairn_proc_object) == 72, "layout");
_Static_assert(sizeof(struct cairn_proc_epoll) == 24, "layout");
_Static_assert(sizeof(struct cairn_proc_tree) == 72, "layout");
_Static_assert(sizeof(struct cairn_proc_shm) == 24, "layout");
_Static_assert(sizeof(struct cairn_proc_pipe) == 16, "layout");
_Static_assert(sizeof(struct cairn_proc_member) == 48, "layout");

/* A delta image's parent: the image of generation `generation` whose file
   header checksum and trailer chain are these (docs/FORMAT.md, "Delta
   images"). The checksum covers the header's random nonce, the chain every
   section: a replaced or rewritten parent does not match. */
#define CAIRN_PROC_PARENT_MAGIC 0x746e7270u /* "prnt" */
struct cairn_proc_parent {
    uint32_t magic;          /* CAIRN_PROC_PARENT_MAGIC */
    uint32_t version;        /* 1 */
    uint64_t generation;     /* the parent's generation */
    uint64_t header_checksum; /* the parent's file header checksum */
    uint64_t chain;          /* the parent's trailer chain */
    uint64_t base_generation; /* the full image at the root of the chain */
    uint32_t depth;          /* images below this one: 1 on a full image, < CAIRN_PROC_MAX_CHAIN */
    uint32_t process;        /* which process image of that generation (0: the job's only one) */
    uint64_t reserved[2];    /* 0 */
};

/* The runtime was tracking written pages (userfaultfd write-protect) when
   it wrote the image: the restorer arms tracking again and stores the new
   descriptor's number (or -1) in the 8 bytes at flag_addr, inside a saved
   writable mapping of the runtime. */
struct cairn_proc_track {
    uint64_t uffd_fd;        /* the descriptor number the runtime used */
    uint64_t flag_addr;      /* where the restorer writes the new one */
    uint64_t reserved[2];    /* 0 */
};

/* Where the restorer tells the runtime which files it mapped the job's
   memory from (docs/FORMAT.md, "Memory payloads"): at table_addr, 8-aligned
   inside a saved writable mapping, a u64 count then `capacity` entries of
   struct cairn_proc_mapsrc. A restore writes the count (0: nothing mapped)
   and the entries; the runtime's next capture takes a private mapping of
   one of those files for the anonymous memory it is. */
#define CAIRN_PROC_MAX_MAPSRC 16u /* = CAIRN_PROC_MAX_CHAIN: an image and its parents */
struct cairn_proc_mapnote {
    uint64_t table_addr;
    uint64_t capacity;       /* 1..CAIRN_PROC_MAX_MAPSRC */
    uint64_t reserved[2];    /* 0 */
};
struct cairn_proc_mapsrc {
    uint64_t dev;            /* major << 32 | minor, as /proc/PID/maps shows it */
    uint64_t ino;
};

/* Mappings whose written pages the runtime tracks and the restorer arms
   again: private anonymous or stack, readable and writable, saved. */
static inline int cairn_proc_trackable(const struct cairn_proc_map *m)
{
    return (m->kind == 0 /* CAIRN_MAP_ANON */ || m->kind == 2 /* CAIRN_MAP_STACK */) &&
           (m->prot & 3u) == 3u && (m->flags & CAIRN_MAPF_DATA);
}

_Static_assert(sizeof(struct cairn_proc_parent) == 64, "layout");
_Static_assert(sizeof(struct cairn_proc_track) == 32, "layout");
_Static_assert(sizeof(struct cairn_proc_mapnote) == 32, "layout");
_Static_assert(sizeof(struct cairn_proc_mapsrc) == 16, "layout");
_Static_assert(sizeof(struct cairn_proc_extent) == 16, "layout");
_Static_assert(sizeof(struct cairn_proc_timer) == 48, "layout");
_Static_assert(sizeof(struct cairn_proc_thread) == 8 * 30 + 16, "layout");
_Static_assert(sizeof(struct cairn_proc_tsig) == 136, "layout");
_Static_assert(sizeof(struct cairn_proc_sigaction) == 32, "layout");
_Static_assert(sizeof(struct cairn_proc_map) == 104, "layout");
_Static_assert(sizeof(struct cairn_proc_task) == 32 + CAIRN_PROC_PATH_MAX, "layout");
_Static_assert(sizeof(struct cairn_proc_siginfo) == 136, "layout");
_Static_assert(sizeof(struct cairn_proc_fileid) == 24, "layout");
_Static_assert(sizeof(struct cairn_proc_job) == 64 + 2 * CAIRN_PROC_PATH_MAX + CAIRN_PROC_ARGV_MAX,
               "layout");
_Static_assert(sizeof(struct cairn_proc_file) == 40 + CAIRN_PROC_PATH_MAX, "layout");
_Static_assert(sizeof(struct cairn_proc_core) == 8 * 22 + 8 * CAIRN_PROC_AUXV_WORDS + 24 +
                   32 * CAIRN_PROC_NSIG + 16 * CAIRN_PROC_NRLIMIT + 48 + 16 +
                   CAIRN_PROC_PATH_MAX, "layout");

/* The job's IPC namespace (docs/TRANSPARENT.md "IPC objects"): SysV
   semaphore sets and message queues, POSIX message queues, captured by the
   namespace's init while every process of the job is stopped and made
   again by the init of the restore before any of them runs. The section is
   a header, then nobjects records, each followed by its data (padded to 8
   bytes): a semaphore set's u16 values; a queue's messages in order, each
   a cairn_proc_ipc_msg and its bytes (padded to 8). */
#define CAIRN_PROC_MAX_IPC_OBJECTS 256u
#define CAIRN_PROC_MAX_IPC_DATA (4u << 20)   /* the whole section */
#define CAIRN_PROC_MAX_SEMS 32000u           /* the kernel's SEMMSL */
#define CAIRN_PROC_MAX_IPC_MSG 65536u        /* bytes of one message */
#define CAIRN_PROC_MAX_IPC_MSGS 65536u       /* messages in one queue */
#define CAIRN_IPC_SEM 1u                     /* SysV semaphore set */
#define CAIRN_IPC_MSG 2u                     /* SysV message queue */
#define CAIRN_IPC_MQ 3u                      /* POSIX message queue */
#define CAIRN_IPC_SHM 4u                     /* SysV shared memory segment */
#define CAIRN_IPC_SHM_REMOVED 1u             /* its `count`: IPC_RMID already (it lives while attached) */
struct cairn_proc_ipc {
    uint32_t nobjects;
    uint32_t reserved;                       /* 0 */
    uint64_t length;                         /* of the whole section */
};
struct cairn_proc_ipc_obj {
    uint32_t kind;                           /* CAIRN_IPC_* */
    uint32_t count;                          /* semaphores of a set, messages of a queue;
                                                a segment: CAIRN_IPC_SHM_REMOVED or 0 */
    int32_t key;                             /* SysV key (0: IPC_PRIVATE) */
    int32_t id;                              /* SysV id, restored as it was */
    uint32_t uid, gid;                       /* owner */
    uint32_t mode;                           /* permission bits (0777) */
    uint32_t reserved;                       /* 0 */
    uint64_t qbytes;                         /* SysV queue: msg_qbytes; POSIX: mq_maxmsg;
                                                segment: its size (data: its bytes) */
    uint64_t msgsize;                        /* POSIX: mq_msgsize; else 0 */
    uint64_t ino;                            /* POSIX: the queue's inode (its fds, kind 11) */
    uint64_t data_len;                       /* bytes of data after this record (a multiple of 8) */
    char name[256];                          /* POSIX: "/name", "" once unlinked */
};
/* The CPUs the process ran on (docs/FORMAT.md, "CPU record"): CPUID's
   feature words and XCR0, OR-ed over every checkpoint of the process since
   it started (the runtime keeps the union in its own state, which a restore
   brings back), since code chosen on one machine (glibc's ifuncs, BLAS
   kernels, a JIT) keeps running on the next. Raw words: which bits a
   restore insists on is the reader's choice (cli/run_cpu.c). */
#define CAIRN_PROC_CPU_MAGIC 0x20757063u /* "cpu " */
struct cairn_proc_cpu {
    uint32_t magic;          /* CAIRN_PROC_CPU_MAGIC */
    uint32_t version;        /* 1 */
    uint32_t leaf1_ecx, leaf1_edx;          /* CPUID 1 */
    uint32_t leaf7_ebx, leaf7_ecx, leaf7_edx; /* CPUID 7, subleaf 0 */
    uint32_t leaf7s1_eax;                   /* CPUID 7, subleaf 1 */
    uint32_t ext1_ecx, ext1_edx;            /* CPUID 0x80000001 */
    uint32_t reserved32[2];  /* 0 */
    uint64_t xcr0;           /* XGETBV(0): the state components the kernel enabled */
    uint64_t reserved[2];    /* 0 */
};
_Static_assert(sizeof(struct cairn_proc_cpu) == 72, "cpu record layout");

struct cairn_proc_ipc_msg {
    int64_t type;                            /* SysV mtype; POSIX: the priority */
    uint64_t len;                            /* bytes that follow (then padding to 8) */
};

#endif
