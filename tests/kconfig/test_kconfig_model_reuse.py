"""A cached Kconfig model evaluates every configuration as a freshly parsed one would.

One parsed model serves every ``load_config`` of its architecture in a process (a lint reads
dozens of defconfigs with it). Each evaluation starts from a reset of the previous one's user
values, choice selections and cached values, and reuses facts worked out once per model (the
symbols evaluated, their ``select`` terms). Whatever was evaluated before, the result must be
the one a fresh model gives: values, sources, diagnostics (kconfiglib's warnings among them),
all in the same order.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from memplan.kconfig import KernelConfig, clear_cache, load_config
from memplan.kconfig.engine import ModelKey, load_model, model_facts

LINUX = Path(os.environ.get("MEMPLAN_KERNEL_TREE", "/work/linux-6.12"))


def everything(kc: KernelConfig) -> tuple[Any, ...]:
    """All a configuration holds, mapping order included (``==`` on it leaves out values and sources)."""
    return (kc, kc.diagnostics, list(kc.values.items()), list(kc.sources.items()))


# Each turns on what another leaves at its default: a choice member, a range-clamped number, a
# string, a symbol selected by another, an invalid value and a line for a symbol the model lacks.
BUNDLED = {
    "percentage": "CONFIG_ARM64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_CMA_SIZE_SEL_PERCENTAGE=y\n"
    "CONFIG_CMA_SIZE_PERCENTAGE=20\nCONFIG_CMDLINE=\"cma=64M\"\nCONFIG_CMDLINE_FORCE=y\n",
    "defaults": "CONFIG_ARM64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\n",
    "odd": "CONFIG_ARM64=y\nCONFIG_CMA=y\nCONFIG_DMA_CMA=y\nCONFIG_CMA_SIZE_SEL_MAX=y\n"
    "CONFIG_CMA_AREAS=999999\nCONFIG_CMA_SIZE_MBYTES=0x40\nCONFIG_CMA_SIZE_MBYTE=64\n"
    "# CONFIG_CMA is not set\n",
    "off": "CONFIG_ARM64=y\n# CONFIG_CMA is not set\nCONFIG_NUMA=y\n",
}


def _bundled(name: str) -> KernelConfig:
    return load_config(text=BUNDLED[name], name=name, arch="arm64", kernel_version="6.12")


def test_bundled_model_results_do_not_depend_on_what_was_evaluated_before() -> None:
    clear_cache()
    fresh = {}
    for name in BUNDLED:
        clear_cache()
        fresh[name] = everything(_bundled(name))
    clear_cache()
    order = ["percentage", "defaults", "odd", "off", "percentage", "odd", "defaults", "off", "defaults"]
    for name in order:
        assert everything(_bundled(name)) == fresh[name], name
    # the choice member a previous configuration picked is not kept
    assert fresh["percentage"][0].cma_size_sel == "percentage"
    assert fresh["defaults"][0].cma_size_sel == "mbytes"


def test_model_facts_are_kept_with_the_cached_model_only() -> None:
    clear_cache()
    kconf, _ = load_model(ModelKey("arm64", 612, "cmdline-arm64-choice.Kconfig"))
    facts = model_facts(kconf)
    assert model_facts(kconf) is facts
    assert {name for _sym, name, _kind, _seeded in facts.entries} == facts.defined
    assert "CMA" in facts.defined and not any(n.startswith("MEMPLAN_") for n in facts.defined)
    clear_cache()
    assert model_facts(kconf) is not facts  # a model out of the cache gets facts of its own


@pytest.mark.skipif(not (LINUX / "Kconfig").is_file(), reason=f"needs a kernel tree at {LINUX}")
def test_tree_results_do_not_depend_on_what_was_evaluated_before() -> None:
    """riscv's defconfigs: a no-MMU one and the default differ in thousands of symbols, in
    choices and in kconfiglib's warnings (which it gives only while it computes a value: an int
    symbol read as a bool)."""
    configs = LINUX / "arch" / "riscv" / "configs"
    names = ["nommu_virt_defconfig", "defconfig"]

    def read(name: str) -> KernelConfig:
        return load_config(configs / name, arch="riscv", srctree=LINUX)

    clear_cache()
    first = [everything(read(n)) for n in names + names[:1]]
    clear_cache()
    fresh_default = everything(read("defconfig"))
    try:
        assert first[0] == first[2]
        assert first[1] == fresh_default
        assert first[0][0].values["MMU"] == "n" and first[1][0].values["MMU"] == "y"
        assert any(d.code == "kconfig-tool-warning" and "logical context" in d.message
                   for d in first[2][1])
        # what two configurations of one model have in common is one object (pickled once when
        # a lint hands them to its workers): the defined names, the "selected by" sources
        a, b = first[0][0], first[1][0]
        assert a.values.hidden is b.values.hidden
        same = [n for n, src in a.sources.items() if src.kind == "builtin" and b.sources.get(n) == src]
        assert len(same) > 100 and all(a.sources[n] is b.sources[n] for n in same)
    finally:
        clear_cache()


def test_configurations_of_one_model_pickle_together_as_columns_sharing_the_names() -> None:
    import pickle

    from memplan.kconfig.dotconfig import WrittenValues

    clear_cache()
    configs = [_bundled(name) for name in BUNDLED]
    again = pickle.loads(pickle.dumps(configs))
    for kc, back in zip(configs, again, strict=True):
        assert everything(back) == everything(kc)
        assert type(back.values) is WrittenValues
    # one tuple of names for all of them (pickled once), and each one's values as one string
    reduced = [kc.values.__reduce__() for kc in configs]
    assert all(r[1][0] is reduced[0][1][0] and isinstance(r[1][1], str) for r in reduced)
    assert len(reduced[0][1][0]) == len(configs[0].values.base) > 10  # type: ignore[attr-defined]
    # a value holding the separator is pickled as a mapping, unchanged
    odd = WrittenValues({"A": "y", "B": "x\0y", "C": ""}, {}, frozenset())
    assert list(pickle.loads(pickle.dumps(odd)).items()) == [("A", "y"), ("B", "x\0y"), ("C", "")]
    empty = WrittenValues({}, {}, frozenset())
    assert dict(pickle.loads(pickle.dumps(empty))) == {}


def test_a_reader_process_can_keep_its_parsed_models_out_of_the_collectors_sight() -> None:
    """``freeze_after_parse`` (a lint's configuration readers): every object that exists right
    after a parse goes to the collector's permanent generation; without it nothing is frozen."""
    import subprocess
    import sys

    code = (
        "import gc\n"
        "from memplan.kconfig import engine, load_config\n"
        "def read():\n"
        "    engine.clear_cache()\n"
        "    kc = load_config(text='CONFIG_ARM64=y\\nCONFIG_CMA=y\\n', arch='arm64', kernel_version='6.12')\n"
        "    return gc.get_freeze_count(), kc.cma\n"
        "plain = read()\n"
        "engine.freeze_after_parse()\n"
        "print(*plain, *read())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    out = done.stdout.split()
    assert out[:2] == ["0", "True"] and int(out[2]) > 1000 and out[3] == "True"
