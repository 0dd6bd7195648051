! SPDX-License-Identifier: MIT
! cg.f90 — solve A x = b by conjugate gradients, and survive being killed:
! the MATLAB tutorial's "more realistic example" (cgfull.m) in Fortran with
! the cairn module, the twin of examples/cg.c. Two lessons:
!  - Protect the state, not the input. A and b come from a problem file
!    (cg-gen writes one; the format is in examples/cg_problem.h) and are
!    read again on every start. Only what the iteration changes is
!    protected: the iterates x, r, p, the iteration count k and r.r.
!  - Every value the next iteration reads must be protected or recomputable.
!    A*p is scratch, recomputed from p at the top of each iteration, so it is
!    not saved, and a resumed solve is bit-for-bit the same.
!
!     cg-gen -m 100 problem.txt
!     cg-fortran -d 0.01 problem.txt   # iterations, residual, a digest of x
!
! Options: -n MAXIT (default 10 N), -t TOL (default 1e-10), and the common
! ones (example.f90). stdout: the answer only; stderr: "cg: resumed at step K".
program cg
   use, intrinsic :: iso_fortran_env, only: int8, int64, real64
   use cairn
   use example
   implicit none
   type(ex_args) :: a
   type(cairn_t) :: ck
   ! The problem: A in compressed sparse row form (1-based), and b.
   integer(int64) :: n, nnz
   integer(int64), allocatable :: rowptr(:), col(:)
   real(real64), allocatable :: val(:), b(:)
   ! The state.
   integer(int64), target :: k                     ! iterations done
   real(real64), target :: rr                      ! r . r
   real(real64), allocatable, target :: x(:), r(:), p(:)
   real(real64), allocatable :: ap(:)              ! scratch: A p
   real(real64) :: tol, stop_at
   integer(int64) :: maxit
   logical :: resumed
   integer :: rc, i

   call ex_parse(a, 'cg', 'cg.ckpt', 'cg [-n MAXIT] [-t TOL] [-d SECONDS] [-s STORE] [-v] PROBLEM', &
                 't')
   tol = 1d-10
   do i = 1, size(a%opt_names)
      if (a%opt_names(i) == 't') tol = ex_number(a, 't', a%opt_values(i))
   end do
   if (size(a%positional) /= 1) call ex_usage(a)
   call read_problem(trim(a%positional(1)))
   maxit = a%n
   if (maxit == 0) maxit = 10 * n

   ! Fresh start: x = 0, so r = p = b. A restore overwrites all of it.
   allocate (x(n), r(n), p(n), ap(n))
   x = 0
   r = b
   p = b
   rr = dot(b, b)
   k = 0
   stop_at = tol * sqrt(dot(b, b))

   call cairn_open(ck, a%store, stat=rc)
   if (rc < 0) then
      call ex_fail('cg: cannot open checkpoint store '//a%store//': '// &
         cairn_strerror(rc))
   end if
   call cairn_protect(ck, 'k', k)
   call cairn_protect(ck, 'rr', rr)
   call cairn_protect(ck, 'x', x)
   call cairn_protect(ck, 'r', r)
   call cairn_protect(ck, 'p', p)
   call cairn_restore(ck, stat=rc, restored=resumed)
   if (rc < 0) then
      call ex_fail('cg: cannot restore from '//a%store//': '//cairn_strerror(rc))
   end if
   if (resumed) call ex_say('cg: resumed at step '//ex_int(k))

   do while (k < maxit .and. sqrt(rr) > stop_at)
      call iteration()
      call ex_step_done(a, k)
      call cairn_step(ck)
   end do

   if (sqrt(rr) <= stop_at) then
      write (*, '(a)', advance='no') 'converged'
   else
      write (*, '(a)', advance='no') 'NOT converged'
   end if
   write (*, '(a,i0,a,es24.16e3)') ' after ', k, ' iterations: |r|/|b| = ', sqrt(rr / dot(b, b))
   write (*, '(a,es24.16e3,a,z8.8)') 'x(1) = ', x(1), ', x digest = ', digest(x)
   if (.not. ex_flush_result(a)) stop 1, quiet=.true.
   call cairn_complete(ck)
   call cairn_close(ck)
   deallocate (x, r, p, ap, rowptr, col, val, b) ! protected memory stays until cairn_close

contains

   ! One CG iteration.
   subroutine iteration()
      real(real64) :: alpha, beta, rr_new
      call spmv(p, ap)
      alpha = rr / dot(p, ap)
      x = x + alpha * p
      r = r - alpha * ap
      rr_new = dot(r, r)
      beta = rr_new / rr
      p = r + beta * p
      rr = rr_new
      k = k + 1
   end subroutine iteration

   subroutine spmv(v, out)
      real(real64), intent(in) :: v(:)
      real(real64), intent(out) :: out(:)
      integer(int64) :: row, e
      real(real64) :: s
      do row = 1, n
         s = 0
         do e = rowptr(row), rowptr(row + 1) - 1
            s = s + val(e) * v(col(e))
         end do
         out(row) = s
      end do
   end subroutine spmv

   ! In index order, as cg.c does: the same sums on every run.
   real(real64) function dot(u, v)
      real(real64), intent(in) :: u(:), v(:)
      integer(int64) :: j
      dot = 0
      do j = 1, size(u, kind=int64)
         dot = dot + u(j) * v(j)
      end do
   end function dot

   ! 32-bit FNV-1a over the bytes of x: one line that changes if any bit
   ! of x does.
   integer(int64) function digest(v)
      real(real64), intent(in) :: v(:)
      integer(int8), allocatable :: bytes(:)
      integer(int64) :: j
      allocate (bytes(size(v) * storage_size(v) / 8))
      bytes = transfer(v, bytes)
      digest = 2166136261_int64
      do j = 1, size(bytes, kind=int64)
         digest = ieor(digest, iand(int(bytes(j), int64), 255_int64))
         digest = iand(digest * 16777619_int64, 4294967295_int64)
      end do
   end function digest

   ! Reads a "cairn-cg 1" problem file (examples/cg_problem.h).
   subroutine read_problem(path)
      character(len=*), intent(in) :: path
      character(len=32) :: magic
      integer :: u, ios
      integer(int64) :: e, row, ii, jj
      real(real64) :: v
      open (newunit=u, file=path, status='old', action='read', iostat=ios)
      if (ios /= 0) then
         call ex_fail('cg: cannot open '//path)
      end if
      read (u, '(a)', iostat=ios) magic
      if (ios == 0 .and. magic == 'cairn-cg 1') read (u, *, iostat=ios) n, nnz
      if (ios /= 0 .or. magic /= 'cairn-cg 1' .or. n <= 0 .or. nnz < 0) then
         call ex_fail('cg: '//path//': not a "cairn-cg 1" problem file')
      end if
      allocate (rowptr(n + 1), col(max(nnz, 1_int64)), val(max(nnz, 1_int64)), b(n))
      row = 0 ! rows before row+1 are complete
      rowptr(1) = 1
      do e = 1, nnz
         read (u, *, iostat=ios) ii, jj, v ! 0-based in the file
         if (ios /= 0 .or. ii < row .or. ii >= n .or. jj < 0 .or. jj >= n) then
            call ex_fail('cg: '//path//': entry '//ex_int(e)// &
                         ' is malformed, out of range or out of row order')
         end if
         do while (row < ii)
            row = row + 1
            rowptr(row + 1) = e
         end do
         col(e) = jj + 1
         val(e) = v
      end do
      do while (row < n)
         row = row + 1
         rowptr(row + 1) = nnz + 1
      end do
      do e = 1, n
         read (u, *, iostat=ios) b(e)
         if (ios /= 0) then
            call ex_fail('cg: '//path//': right-hand side entry '//ex_int(e)//' is missing')
         end if
      end do
      close (u)
   end subroutine read_problem

end program cg
