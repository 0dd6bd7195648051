/* SPDX-License-Identifier: MIT */
/*
 * start_x86_64.S — entry and exit of the restorer.
 *
 * _start moves off the kernel-made stack (which lies where the job's stack
 * will go) onto a stack inside the restorer's own .bss, then calls
 * restore_main(original stack pointer). restore_sigreturn() is the last
 * thing the restorer does: rt_sigreturn on the job's saved signal frame.
 */
    .text
    .globl _start
    .type _start, @function
_start:
    mov %rsp, %rdi
    lea restore_stack_top(%rip), %rsp
    and $-16, %rsp
    xor %ebp, %ebp
    call restore_main
    hlt

    .globl restore_sigreturn
    .type restore_sigreturn, @function
restore_sigreturn:
    mov %rdi, %rsp
    mov $15, %eax
    syscall
    hlt

    .section .note.GNU-stack,"",@progbits

    .bss
    .align 64
    .globl restore_stack_top
restore_stack:
    .skip 262144
restore_stack_top:
    .skip 64
