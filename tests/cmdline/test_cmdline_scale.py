"""Huge command lines parse in linear time and give the full result (issue 13).

The longest command line a kernel keeps is 4096 characters (``COMMAND_LINE_SIZE`` of mips; 2048
on arm64 and x86). The families below are built at ten times that, and the reproducer of the
issue (100,000 ``cma=``, which took 189 s when every occurrence copied the list of the earlier
ones) at its own size. Each asserts the parsed result, not a time; benchmarks/bench_cmdline.py
shows the growth.
"""

from __future__ import annotations

from memplan.cmdline import COMMAND_LINE_SIZE, parse_cmdline
from memplan.units import GiB, MiB

TEN_TIMES_LONGEST = 10 * max(COMMAND_LINE_SIZE.values())


def _repeat(word: str) -> tuple[str, int]:
    """``word`` repeated (space-separated) to at least ten times the longest real command line."""
    n = TEN_TIMES_LONGEST // (len(word) + 1) + 1
    return " ".join([word] * n), n


def test_hundred_thousand_cma_keep_every_source_and_the_last_value() -> None:
    n = 100_000
    words = [f"cma={i % 64 + 1}M" for i in range(n - 1)] + ["cma=32M@0x80000000"]
    cl = parse_cmdline(" ".join(words), arch="arm64", kernel_version="6.12")
    assert cl.cma is not None
    assert (cl.cma.size, cl.cma.base, cl.cma.limit) == (32 * MiB, 0x80000000, 0x80000000 + 32 * MiB)
    assert len(cl.cma.sources) == n
    assert cl.cma.sources[-1].span == (cl.text.rindex("cma="), len(cl.text))
    assert cl.cma.sources[12345].text == words[12345]


def test_repeated_cma_with_base_reports_each_size_only_repeat() -> None:
    text, n = _repeat("cma=64M")
    cl = parse_cmdline("cma=16M@0x40000000 " + text, arch="arm64", kernel_version="6.12")
    assert cl.cma is not None and (cl.cma.size, cl.cma.base) == (64 * MiB, 0x40000000)
    assert [d.code for d in cl.diagnostics] == ["cmdline-cma-repeated"] * n


def test_numa_cma_and_hugetlb_cma_accumulate_per_node() -> None:
    words = [f"numa_cma={i % 1000}:{i % 7 + 1}M" for i in range(TEN_TIMES_LONGEST // 12)]
    cl = parse_cmdline(" ".join(words), arch="arm64", kernel_version="6.12")
    assert cl.numa_cma is not None and len(cl.numa_cma.sources) == len(words)
    expected = {i % 1000: (i % 7 + 1) * MiB for i in range(len(words))}  # the last size per node
    assert cl.numa_cma.as_dict() == expected

    words = [f"hugetlb_cma={i % 1000}:1G" for i in range(TEN_TIMES_LONGEST // 16)]
    cl = parse_cmdline(" ".join(words), arch="arm64", kernel_version="6.12")
    assert cl.hugetlb_cma is not None
    assert cl.hugetlb_cma.size == len(words) * GiB  # per-node sizes add to the total
    assert len(cl.hugetlb_cma.per_node) == 1000 and len(cl.hugetlb_cma.sources) == len(words)


def test_many_hugepage_sizes_and_repeats() -> None:
    n = TEN_TIMES_LONGEST // 24
    words = [f"hugepagesz={i + 1}M hugepages={i}" for i in range(n)] + ["hugepagesz=1M"]
    cl = parse_cmdline(" ".join(words), arch="arm64", kernel_version="6.12")
    assert cl.hugepages is not None
    assert [s for s, _ in cl.hugepages.sizes] == [(i + 1) * MiB for i in range(n)]
    assert len(cl.hugepages.requests) == n
    assert [d.code for d in cl.diagnostics] == ["cmdline-hugepages-repeated"]


def test_many_exactmaps_name_what_each_one_empties() -> None:
    text, n = _repeat("memmap=1M$16M memmap=exactmap")
    cl = parse_cmdline(text + " memmap=1G@0", arch="x86", kernel_version="6.12")
    order = [d for d in cl.diagnostics if d.code == "cmdline-memmap-exactmap-order"]
    assert len(order) == n and all("after 1M$16M were applied" in d.message for d in order)
    no_ram = [d for d in cl.diagnostics if d.code == "cmdline-memmap-exactmap-no-ram"]
    assert no_ram == []  # the final 1G@0 follows every exactmap
    assert len(cl.memmap) == 2 * n + 1


def test_crashkernel_inside_one_long_word() -> None:
    n = TEN_TIMES_LONGEST // len("crashkernel=") * 10
    cl = parse_cmdline("crashkernel=" * n + "256M", arch="arm64", kernel_version="6.12")
    assert cl.crashkernel is not None and len(cl.crashkernel.sources) == n
    subs = [d for d in cl.diagnostics if d.code == "cmdline-crashkernel-substring"]
    assert len(subs) == n - 1
    assert max(len(d.message) for d in subs) < 300  # the long word is shortened in messages
    # the last occurrence is the one the kernel uses: its value is "256M"
    assert cl.crashkernel.plain is not None and cl.crashkernel.plain.size == 256 * MiB


def test_one_huge_value_is_reported_shortened() -> None:
    junk = "x" * (10 * TEN_TIMES_LONGEST)
    cl = parse_cmdline(f"cma=64M{junk}", arch="arm64", kernel_version="6.12")
    assert cl.cma is not None and cl.cma.size == 64 * MiB
    (trailing,) = [d for d in cl.diagnostics if d.code == "cmdline-cma-trailing"]
    assert len(trailing.message) < 400 and "..." in trailing.message


def test_long_values_are_not_kept_in_the_grammar_cache() -> None:
    from memplan.cmdline import grammar

    grammar.clear_caches()
    values = [f"{i}M@0x{i:x}" + "x" * 1000 for i in range(1, 50)]
    for value in values:
        assert grammar.parse_cma_value(value).end == value.index("x" * 100)
    assert all(cache.cache_info().currsize == 0 for cache in grammar._CACHES)
    assert grammar.parse_cma_value("64M").size.text == "64M"
    assert grammar._CACHES[0].cache_info().currsize == 1
