"""The order in which the kernel allocates dynamic reserved-memory regions (kernel-semantics §3.5).

≤ v6.12.12 the saved region array is sorted with Linux's in-place ``sort()`` (lib/sort.c, a
heapsort, not stable) before the allocation pass; dynamic entries all have the key (0, 0), so
their relative order is whatever the heapsort leaves. This module emulates both heapsort variants
on the whole array: the classic sift-down one (≤ v5.0) and the "bottom-up" one (v5.1+).
v6.5+ adds the node offset to the key (a total order), v6.13+ (and 6.12.13+) does not sort
dynamic regions at all: they are allocated in DT order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from memplan.kernel import rules
from memplan.version import KernelVersion

T = TypeVar("T")
Cmp = Callable[[T, T], int]


def heapsort_classic(items: Sequence[T], cmp: Cmp[T]) -> list[T]:
    """lib/sort.c ``sort()`` up to v5.0: heapify with sift-down, then repeatedly swap the root
    to the end and sift the new root down (a child is taken only when strictly greater)."""
    a = list(items)
    n = len(a)

    def sift(r: int, limit: int) -> None:
        while 2 * r + 1 < limit:
            c = 2 * r + 1
            if c < limit - 1 and cmp(a[c], a[c + 1]) < 0:
                c += 1
            if cmp(a[r], a[c]) >= 0:
                break
            a[r], a[c] = a[c], a[r]
            r = c

    for i in range(n // 2 - 1, -1, -1):
        sift(i, n)
    for i in range(n - 1, 0, -1):
        a[0], a[i] = a[i], a[0]
        sift(0, i)
    return a


def heapsort_bottom_up(items: Sequence[T], cmp: Cmp[T]) -> list[T]:
    """lib/sort.c ``sort()`` from v5.1 (the "bottom-up" heapsort): find the path of larger
    children down to a leaf (one compare per level, the left child on ties), back up to where
    the sifted element belongs, then rotate it into place."""
    a = list(items)
    n = len(a)
    start = n // 2
    if start == 0:
        return a

    def parent(i: int) -> int:
        return (i - 1) // 2

    while True:
        if start:
            start -= 1
        else:
            n -= 1
            if n == 0:
                break
            a[0], a[n] = a[n], a[0]
        b = start
        while True:
            c = 2 * b + 1
            d = c + 1
            if d >= n:
                break
            b = c if cmp(a[c], a[d]) >= 0 else d
        if d == n:
            b = c
        while b != start and cmp(a[start], a[b]) >= 0:
            b = parent(b)
        c = b
        while b != start:
            b = parent(b)
            a[b], a[c] = a[c], a[b]
    return a


def kernel_sort(items: Sequence[T], cmp: Cmp[T], version: KernelVersion) -> list[T]:
    """``sort()`` as the given kernel version implements it (classic ≤ v5.0, bottom-up later)."""
    if rules.bottom_up_heapsort(version):
        return heapsort_bottom_up(items, cmp)
    return heapsort_classic(items, cmp)


def rmem_compare(version: KernelVersion) -> Callable[[tuple[int, int, int], tuple[int, int, int]], int]:
    """``__rmem_cmp`` (drivers/of/of_reserved_mem.c) on ``(base, size, node_offset)`` keys:
    ≤ v5.6 base only; v5.7 – v6.4 (base, size); v6.5+ (base, size, fdt_node)."""
    width = rules.rmem_sort_key_width(version)

    def cmp(x: tuple[int, int, int], y: tuple[int, int, int]) -> int:
        kx, ky = x[:width], y[:width]
        return -1 if kx < ky else (1 if kx > ky else 0)

    return cmp


def sorted_saved_array(entries: Sequence[tuple[int, int, int]], version: KernelVersion) -> list[int]:
    """Indices of ``entries`` ((base, size, DT-order index) as saved, dynamic ones as (0, 0, i))
    in the order ``fdt_init_reserved_mem()`` walks them after sorting (≤ v6.12.12)."""
    keyed = [(b, s, i) for b, s, i in entries]
    return [e[2] for e in kernel_sort(keyed, rmem_compare(version), version)]
