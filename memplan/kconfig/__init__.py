"""The kernel ``.config`` front end: read a config, resolve it with kconfiglib, keep provenance.

>>> from memplan.kconfig import load_config
>>> cfg = load_config(text="CONFIG_CMA=y\\nCONFIG_DMA_CMA=y\\n", arch="arm64", kernel_version="6.1")
>>> cfg.cma_size_mbytes, str(cfg.source_of("CMA"))
(16, '<config>:1')
"""

from __future__ import annotations

from memplan.kconfig.dotconfig import Assignment, DotConfig, Header, parse_dotconfig
from memplan.kconfig.engine import clear_cache
from memplan.kconfig.load import NEWEST_MODELLED, OLDEST_MODELLED, load_config
from memplan.kconfig.model import CmaSizeSel, CmdlineMode, KernelConfig
from memplan.kconfig.symbols import ARCHES, MEMPLAN_SYMBOLS, normalize_arch

__all__ = [
    "ARCHES",
    "MEMPLAN_SYMBOLS",
    "NEWEST_MODELLED",
    "OLDEST_MODELLED",
    "Assignment",
    "CmaSizeSel",
    "CmdlineMode",
    "DotConfig",
    "Header",
    "KernelConfig",
    "clear_cache",
    "load_config",
    "normalize_arch",
    "parse_dotconfig",
]
