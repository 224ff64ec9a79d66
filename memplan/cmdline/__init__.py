"""The kernel command line: tokenizer, typed memory parameters, effective command line.

``parse_cmdline(text, arch=...)`` returns a :class:`Cmdline` with typed facts (``cma``,
``mem``, ``memmap``, ``crashkernel`` ...), each carrying the :class:`~memplan.source.Source`
(text + span) of its token; ``effective_cmdline(...)`` combines bootloader, DT
``/chosen/bootargs`` and ``CONFIG_CMDLINE`` the way the kernel does. The value grammars
(``cma=``, ``memmap=``, ``crashkernel=``, node lists) are in :mod:`memplan.cmdline.grammar`
(pyparsing, loaded on the first value parsed); sizes are read by memparse
(:data:`memplan.units.MEMPARSE_PATTERN`).
"""

from __future__ import annotations

from memplan.cmdline.arch import ARCHES, COMMAND_LINE_SIZE, command_line_size, normalize_arch
from memplan.cmdline.cma import CmaParam, CmaPernumaParam, HugetlbCmaParam, NodeSizes
from memplan.cmdline.common import IgnoredParam
from memplan.cmdline.crashkernel import CrashkernelParam, CrashkernelSpec, CrashRange, parse_crashkernel
from memplan.cmdline.effective import CmdlineConfig, CmdlinePart, EffectiveCmdline, effective_cmdline
from memplan.cmdline.mem import MemParam
from memplan.cmdline.memmap import MemmapEntry
from memplan.cmdline.misc import CoherentPoolParam, HugepageRequest, HugepagesParam, SwiotlbParam
from memplan.cmdline.parse import MEMORY_PARAMS, Cmdline, parse_cmdline
from memplan.cmdline.tokenize import Token, Tokenized, param_key, tokenize

__all__ = [
    "ARCHES",
    "COMMAND_LINE_SIZE",
    "MEMORY_PARAMS",
    "CmaParam",
    "CmaPernumaParam",
    "Cmdline",
    "CmdlineConfig",
    "CmdlinePart",
    "CoherentPoolParam",
    "CrashRange",
    "CrashkernelParam",
    "CrashkernelSpec",
    "EffectiveCmdline",
    "HugepageRequest",
    "HugepagesParam",
    "HugetlbCmaParam",
    "IgnoredParam",
    "MemParam",
    "MemmapEntry",
    "NodeSizes",
    "SwiotlbParam",
    "Token",
    "Tokenized",
    "command_line_size",
    "effective_cmdline",
    "normalize_arch",
    "param_key",
    "parse_cmdline",
    "parse_crashkernel",
    "tokenize",
]
