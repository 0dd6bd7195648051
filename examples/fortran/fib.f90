! SPDX-License-Identifier: MIT
! fib.f90 — Fibonacci terms and their ratios, which approach the golden
! ratio: the MATLAB tutorial's first example (fib.m), x(n) = x(n-1) + x(n-2)
! and r = x(n)/x(n-1) -> (1 + sqrt 5)/2, in Fortran with the cairn module.
!
! The state of the job is the number of terms and the terms. In MATLAB the
! array grows; here it is allocated once to the number of terms asked for
! (the same on every run of the same command line) and protected whole:
! cairn_protect takes scalars and arrays of any kind and rank. Protected
! variables have the TARGET attribute (see fortran/cairn.f90).
!
!     fib -n 1000 -d 0.01      # 1000 terms (at most 1477 fit in real64)
!
! stdout: the answer only; stderr: "fib: resumed at step K" after a restore.
program fib
   use, intrinsic :: iso_fortran_env, only: int64, real64
   use cairn
   use example
   implicit none
   integer(int64), parameter :: max_terms = 1477 ! x(1476) ~ 1.3e308, the last finite real64
   type(ex_args) :: a
   type(cairn_t) :: ck
   integer(int64), target :: terms                 ! terms computed so far
   real(real64), allocatable, target :: x(:)       ! x(0), x(1), ...
   real(real64) :: ratio
   logical :: resumed
   integer :: rc

   call ex_parse(a, 'fib', 'fib.ckpt', 'fib [-n TERMS (3..1477)] [-d SECONDS] [-s STORE] [-v]', '')
   if (a%n == 0) a%n = 10
   if (a%n < 3 .or. a%n > max_terms .or. size(a%positional) /= 0) call ex_usage(a)

   ! A fresh start; a restore overwrites both.
   terms = 2
   allocate (x(0:a%n - 1))
   x = 0
   x(1) = 1

   call cairn_open(ck, a%store, stat=rc)
   if (rc < 0) then
      call ex_fail('fib: cannot open checkpoint store '//a%store//': '// &
         cairn_strerror(rc))
   end if
   call cairn_protect(ck, 'terms', terms)
   call cairn_protect(ck, 'x', x)
   call cairn_restore(ck, stat=rc, restored=resumed)
   if (rc < 0) then
      call ex_fail('fib: cannot restore from '//a%store//': '//cairn_strerror(rc))
   end if
   if (resumed) call ex_say('fib: resumed at step '//ex_int(terms))

   do while (terms < a%n)
      x(terms) = x(terms - 1) + x(terms - 2)
      terms = terms + 1
      call ex_step_done(a, terms)
      call cairn_step(ck) ! a failed checkpoint is reported by libcairn; the job goes on
   end do

   ratio = x(terms - 1) / x(terms - 2)
   write (*, '(a,i0,a,i0,a,es24.16e3)') 'after ', terms, ' terms: x(', terms - 1, ') = ', &
      x(terms - 1)
   write (*, '(a,i0,a,i0,a,es24.16e3,a,z16.16,a)') 'ratio x(', terms - 1, ')/x(', terms - 2, &
      ') = ', ratio, ' (bits ', transfer(ratio, 0_int64), ')'
   write (*, '(a,es24.16e3)') 'golden ratio minus ratio = ', &
      (1 + sqrt(5.0_real64)) / 2 - ratio
   ! Only once the answer is out is the job marked finished.
   if (.not. ex_flush_result(a)) stop 1, quiet=.true.
   call cairn_complete(ck)
   call cairn_close(ck)
   deallocate (x) ! protected memory stays until cairn_close
end program fib
