/* SPDX-License-Identifier: MIT */
/*
 * tree.h — the job as a tree of processes: channels and writers (tree.c).
 */
#ifndef CAIRN_RUNTIME_TREE_H
#define CAIRN_RUNTIME_TREE_H

/* In the constructor: makes *control_fd this process's own channel (a new
   one if it belongs to another process of the job) and arranges the same
   for every forked child. 0, or -1: no channel. */
int rt_tree_init(int *control_fd);
/* In the constructor of a program started with fd `at` closed (Python's
   subprocess closes every fd above 2 before exec): a channel at `at`,
   registered on cairn's endpoint (format/control.h), and the registration
   socket back at its number. 0, or -1: no channel (cairn refuses naming
   this process, as before). */
int rt_tree_rejoin(int at);
/* The job's registration socket, -1 if none (not saved in images). */
int rt_tree_register_fd(void);
/* Forks the writer, which calls writer() (never returning); returns its
   pid or a positive number in the process, -1 if it could not be made. */
long rt_tree_fork_writer(int own_pidns, void (*writer)(void));

struct rt_state;
/* After GO: each pipe the process holds is cairn's stdio (inherited on
   restore) or one of the tree's; 0, or -1 with st->why (a pipe outside). */
int rt_tree_files(struct rt_state *st);

#endif
