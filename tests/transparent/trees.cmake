# SPDX-License-Identifier: MIT
# tests/transparent/trees.cmake — acceptance tests of process trees (issue
# 11): every process of a job checkpointed together and restored with the
# same pids, parents, zombies, pipes with data in flight, MAP_SHARED memory,
# SysV semaphores and POSIX message queues. Included at the end of
# CMakeLists.txt (it uses transparent_test()'s variables: _cycle, _cairn,
# _bin).
#
# tree_refuse_same.sh runs the jobs under cairn run and checks they end as
# without cairn, checkpointed or refused. The cycle tests (cycle.sh: 3
# checkpoints, SIGKILLs and restores, output compared with an uninterrupted
# run's) have the label "tree" too.
#
#   transparent_tree_wrapper    bash (no exec) running progs/counter, then
#                               python3, printing each exit status
#   transparent_tree_pipeline   sh -c '(GEN | gzip -n -9 > out.gz) 2>&1':
#                               a full pipe at each checkpoint; out.gz compared
#   transparent_tree_forkwait   fork + waitpid with a zombie at every moment,
#                               exit and signal statuses checked and printed
#   transparent_tree_popen      popen() of a child writing far ahead of the
#                               reader
#   transparent_tree_shm_posix  parent and child taking turns on a
#                               MAP_SHARED|MAP_ANONYMOUS page, through
#                               sem_init(pshared=1) semaphores in the page
#   transparent_tree_shm_sysv   the same through a SysV semaphore set (in the
#                               job's IPC namespace, saved and made again by
#                               its init: cli/run_ipc.c)
#   transparent_tree_mq         work and results over two POSIX message
#                               queues, unlinked (their fds keep them)
#   transparent_tree_msg_sysv   the same over two SysV message queues
#   transparent_tree_mq_named   the POSIX queues with their names kept
#   transparent_tree_shm_sysvseg tree_shm with its page in a SysV shared
#                               memory segment (removed while attached)
#   transparent_tree_epoll      an epoll loop over pipes from 3 children
#   transparent_tree_fds_MODE   a parent and a child joined by a socketpair
#                               (stream, seqpacket, dgram) with data queued
#                               both ways, a shared eventfd, a periodic
#                               timerfd, a signalfd reading the child's
#                               SIGUSR1, an epoll loop over a socketpair, an
#                               eventfd and a timerfd (tree_fds.c)
#   transparent_tree_pool       python3 multiprocessing.Pool(2), imap in order
#   transparent_tree_churn      bash running /bin/true again and again: a
#                               process starting, exec'ing or ending at every
#                               checkpoint (tree_churn.sh)
#   transparent_tree_sigchld    a parent counting its SIGCHLDs with a zombie
#                               unreaped at each checkpoint: the restored
#                               zombie's exit is not counted again
#   transparent_tree_sigchld_ahead  the same, short enough that one commit
#                               releases all its lines (cycle.sh's own case)
#   transparent_tree_subprocess python3's subprocess.run and Popen (default
#                               close_fds: the children lose fds 3 and 4 and
#                               register on the job's endpoint) of
#                               progs/counter, piped and not, and of /bin/sh
#   transparent_tree_xz         xz -T1 -c of a 20 MB file (a real program:
#                               NOGATE=1, as real.sh)
#   transparent_tree_chain      bash running progs/incr (32 MiB, a few pages
#                               written between checkpoints): its member
#                               images deltas, killed at commits and while
#                               writing, a corrupt member parent
#                               (tree_chain.sh)

foreach(p tree_pipeline tree_forkwait tree_popen tree_shm tree_mq tree_epoll tree_fds tree_sigchld)
  add_executable(transparent_${p} progs/${p}.c)
  set_target_properties(transparent_${p} PROPERTIES
    OUTPUT_NAME ${p} RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/progs)
  target_compile_options(transparent_${p} PRIVATE -O2)
endforeach()
target_compile_options(transparent_tree_shm PRIVATE -pthread)
target_link_options(transparent_tree_shm PRIVATE -pthread)

set(_trees ${CMAKE_CURRENT_SOURCE_DIR})
set(_tree_pipeline "(${_bin}/tree_pipeline 48 | gzip -n -9 > out.gz) 2>&1")

add_test(NAME transparent_tree_refuse_same
         COMMAND ${_trees}/tree_refuse_same.sh ${_cairn} ${_bin} ${_trees})
set_tests_properties(transparent_tree_refuse_same PROPERTIES
  LABELS "transparent;no-asan" TIMEOUT 900 SKIP_RETURN_CODE 77)

# tree_test(NAME "FILES" PROG ARGS...): transparent_tree_NAME, cycle.sh as
# transparent_test() runs it, with the label "tree" too.
function(tree_test name files)
  add_test(NAME transparent_tree_${name} COMMAND ${_cycle} ${_cairn} 3 "${files}" ${ARGN})
  set_tests_properties(transparent_tree_${name} PROPERTIES
    LABELS "transparent;no-asan;tree" TIMEOUT 600)
endfunction()
tree_test(wrapper "" /bin/bash ${_trees}/tree_wrapper.sh ${_bin}/counter 12000 60)
tree_test(churn "" /bin/bash ${_trees}/tree_churn.sh 2000)
add_test(NAME transparent_tree_chain COMMAND ${_trees}/tree_chain.sh ${_cairn} ${_bin}/incr)
set_tests_properties(transparent_tree_chain PROPERTIES
  LABELS "transparent;no-asan;tree" TIMEOUT 600)
tree_test(pipeline "out.gz" /bin/sh -c ${_tree_pipeline})
tree_test(forkwait "" ${_bin}/tree_forkwait 100)
tree_test(popen "" ${_bin}/tree_popen 20000)
tree_test(shm_posix "" ${_bin}/tree_shm posix 50)
tree_test(pool "" /bin/sh ${_trees}/tree_pool.sh 60)
tree_test(epoll "" ${_bin}/tree_epoll 100)
# Descriptors other than pipes between the job's processes (tree_fds.c).
foreach(m stream seqpacket dgram eventfd timerfd signalfd epoll)
  tree_test(fds_${m} "" ${_bin}/tree_fds ${m} 150)
endforeach()
# Committed output: cycle.sh asks again when a checkpoint is refused (a
# child of this job is short-lived: a round can see it start or end).
add_test(NAME transparent_tree_sigchld
         COMMAND env OUTPUT=committed ${_cycle} ${_cairn} 3 "" ${_bin}/tree_sigchld 150)
set_tests_properties(transparent_tree_sigchld PROPERTIES
  LABELS "transparent;no-asan;tree" TIMEOUT 600)
# The same job, so short that it reaches its gate within one round: the
# first commit releases all its lines, and every restored run starts with
# its kill point already passed. cycle.sh must still take a generation of
# that run's own before the kill (before 8a9f944 it waited for ever).
add_test(NAME transparent_tree_sigchld_ahead
         COMMAND env OUTPUT=committed ${_cycle} ${_cairn} 3 "" ${_bin}/tree_sigchld 10)
set_tests_properties(transparent_tree_sigchld_ahead PROPERTIES
  LABELS "transparent;no-asan;tree" TIMEOUT 300)
tree_test(subprocess "" /bin/sh ${_trees}/tree_subprocess.sh ${_bin}/counter 2500 45)
# xz is one process, but keeps a pipe to itself (fd 4, for its signal
# handling). NOGATE=1 and SETUP are cycle.sh's (real.sh), hence no tree_test().
add_test(NAME transparent_tree_xz
         COMMAND env NOGATE=1 "SETUP=seq 1 2600000 > big" ${_cycle} ${_cairn} 3 "" xz -T1 -c big)
set_tests_properties(transparent_tree_xz PROPERTIES
  LABELS "transparent;no-asan;tree" TIMEOUT 600)

# The job's IPC objects (cli/run_ipc.c): SysV semaphore sets and message
# queues, POSIX message queues.
tree_test(shm_sysv "" ${_bin}/tree_shm sysv 50)
tree_test(mq "" ${_bin}/tree_mq 80)
tree_test(msg_sysv "" ${_bin}/tree_mq sysv 80)
tree_test(mq_named "" ${_bin}/tree_mq named 80)
tree_test(shm_sysvseg "" ${_bin}/tree_shm sysv-shm 50)
