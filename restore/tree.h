/* SPDX-License-Identifier: MIT */
/*
 * tree.h — restoring a job of several processes (tree.c).
 */
#ifndef CAIRN_RESTORE_TREE_H
#define CAIRN_RESTORE_TREE_H

/* The page the job's restorers share, in cairn's window, below the
   restorer (and away from where the vDSO is parked during the rebuild,
   memory.c); ident.c must leave it shared. */
#define R_TREE_PAGE (CAIRN_RESERVED_LO + 0x80000000ull)

/* The arguments after KEEP_FDS: REGISTER_FD and PID FD pairs. 0, or -1. */
int r_tree_args(int argc, char **argv);
/* Reads the tree section of the loaded image of process pid (none: a job
   of one process). 0, -1 unusable or -2 corrupt (said why). */
int r_tree_load(long pid);
/* Forks the job's other processes; each child returns from here as the
   restorer of its own image, loaded and checked. */
void r_tree_spawn(long root_fd);
/* Waits until every process of the job is there (0: all checked, 1: all
   rebuilt); ends this one if another failed. */
void r_tree_barrier(int which);
/* A file the job appends to, shared by several of its processes: each
   captured its size at its own moment, and the file is cut back to the
   largest (the size at the round's last capture; every process captured
   before was paused by then). Published by every restorer before the
   first barrier; asked for after it. r_tree_file_size gives own if no
   other process published a larger size (or in a job of one process). */
void r_tree_publish_size(uint64_t dev, uint64_t ino, uint64_t size);
uint64_t r_tree_file_size(uint64_t dev, uint64_t ino, uint64_t own);
/* The job's registration socket (-1: none). */
long r_tree_register_fd(void);

/* Pointers to the descriptors the restorer keeps for the tree (the
   registration socket, the pipes' ends), for state.c to move; how many. */
int r_tree_kept(long **fds, int max);
/* The end of the tree's pipe ino to give a CAIRN_FD_PIPE record; -1. */
long r_tree_pipe_end(uint64_t ino, int write_end);
/* The memfd of the tree's shared object index for a mapping of len
   bytes at offset, -1 if it does not fit. */
long r_tree_shm_fd(uint64_t index, uint64_t offset, uint64_t len);
/* Once every process has its ends in place (and its memory mapped). */
void r_tree_close_pipes(void);

/* objects.c: the tree's eventfds, timerfds, signalfds and sockets. */
/* The object records at `at` (avail bytes after the shm records; 0: none);
   *bytes: their sockets' bytes. 0, or -1: they do not fit. */
int r_objects_parse(const unsigned char *at, uint64_t avail, uint64_t *bytes);
/* Makes every object once (data: the sockets' bytes). 0, or -1 (said why). */
int r_objects_make(const unsigned char *data);
/* Each object fd of the loaded image of process pid has its record: 0, or -1. */
int r_objects_check(long pid);
/* Puts the object of file f (process pid) at its fd, with its flags. */
void r_objects_place(const struct cairn_proc_file *f, long pid);
int r_objects_kept(long **fds, int max);
void r_objects_close(void);

#endif
