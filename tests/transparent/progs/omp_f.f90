! SPDX-License-Identifier: MIT
! omp_f.f90 — an OpenMP Fortran job (gfortran -fopenmp, run with
! OMP_NUM_THREADS=4): each step is a parallel do with an integer
! reduction (exact, so the same in any order) and a statically scheduled
! loop whose per-thread partials are summed in thread order; libgomp's
! thread pool lives across the steps. Integer work is the Park-Miller
! generator in 64-bit integers (no overflow).
! Usage: omp_f STEPS (~64 chunks of ~0.05 ms per step). Progress lines
! "omp_f: step I of N" every 2% and the gate ($CAIRN_TEST_GATE), as in
! progress.h.
program omp_f
  use, intrinsic :: iso_fortran_env, only: int64, real64, output_unit
  use, intrinsic :: iso_c_binding, only: c_int
  use omp_lib
  implicit none
  interface
    integer(c_int) function usleep(us) bind(c, name='usleep')
      import :: c_int
      integer(c_int), value :: us
    end function usleep
  end interface
  integer, parameter :: items = 64, iters = 6000, maxt = 64
  integer(int64), parameter :: m = 2147483647_int64
  integer :: n, s, i, t, nt, every
  integer(int64) :: step, isum, h
  real(real64) :: part(0:maxt - 1), fsum
  character(len=32) :: arg

  n = 1000
  if (command_argument_count() >= 1) then
    call get_command_argument(1, arg)
    read (arg, *) n
  end if
  every = max(1, n / 50)
  nt = omp_get_max_threads()
  if (nt > maxt) error stop 2
  isum = 0
  fsum = 0
  do s = 1, n
    step = 0
    !$omp parallel do schedule(dynamic, 2) reduction(+:step)
    do i = 1, items
      step = step + work(int(s, int64) * items + i, iters)
    end do
    !$omp end parallel do
    isum = mod(isum * 1000003_int64 + step, m)

    part = 0
    !$omp parallel private(t, h)
    t = omp_get_thread_num()
    !$omp do schedule(static)
    do i = 1, items
      h = work(int(s, int64) * 7919 + i + step, iters / 4)
      part(t) = part(t) + sqrt(real(h, real64)) * 1.0e-3_real64
    end do
    !$omp end do
    !$omp end parallel
    do t = 0, nt - 1
      fsum = fsum + part(t)
    end do
    if (mod(s, every) == 0) then
      write (output_unit, '(a,i0,a,i0)') 'omp_f: step ', s, ' of ', n
      flush (output_unit)
    end if
  end do
  call finish_gate()
  write (output_unit, '(a,i0,a,i0,a,i0,a,es24.16)') 'omp_f ', n, ' (', nt, ' threads): isum ', &
    isum, ' fsum ', fsum

contains

  ! n steps of the Park-Miller generator from seed x (mod 2^31 - 1).
  pure integer(int64) function work(x, k)
    integer(int64), intent(in) :: x
    integer, intent(in) :: k
    integer :: j
    work = mod(x, m - 1) + 1
    do j = 1, k
      work = mod(work * 48271_int64, m)
    end do
  end function work

  subroutine finish_gate()
    character(len=4096) :: gate
    integer :: len, st
    logical :: ex
    call get_environment_variable('CAIRN_TEST_GATE', gate, length=len, status=st)
    if (st /= 0 .or. len == 0) return
    do
      inquire (file=gate(1:len), exist=ex)
      if (ex) exit
      st = usleep(5000_c_int)
    end do
  end subroutine finish_gate
end program omp_f
