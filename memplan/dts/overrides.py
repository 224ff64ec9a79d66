"""Raspberry Pi overlay parameters: ``dtoverlay=NAME,param=value`` through the ``__overrides__`` node.

The firmware patches an overlay with its parameters before applying it. Each property of
``/__overrides__`` is a parameter; its value is a list of targets, each a phandle (a node of the
overlay) and a string naming what to change:

* ``"prop"`` a string property (``status`` takes a boolean and becomes ``okay``/``disabled``;
  ``bootargs`` is appended to, after a space);
* ``"prop.N"``, ``"prop;N"``, ``"prop:N"``, ``"prop#N"`` an 8/16/32/64-bit integer at byte
  offset N (the property grows with zeros when shorter);
* ``"prop?"`` / ``"prop!"`` a boolean property (present when true; ``!`` inverts);
* any of these followed by ``=VALUE`` (or by ``=`` and a cell) writes that fixed value whatever
  the parameter's value (``cma-256 = <&frag0>,"size:0=",<0x10000000>``);
* phandle 0 with ``"+N"``, ``"-N"``, ``"=N"``, ``"!N"``: enable, disable, enable when true, enable
  when false fragment N (a disabled fragment's ``__overlay__`` is renamed ``__dormant__``).

A new property goes before the existing ones (libfdt's ``fdt_setprop``, which the firmware
uses). Integer values are C integers (``0x`` hex, leading ``0`` octal, decimal) or
``y``/``yes``/``on``/``true`` (1) and ``n``/``no``/``off``/``false`` (0); a parameter given without a
value means ``true``. Lookup tables (``{...}``), byte strings (``[``) and the ``reg``/``name``
pseudo-properties are not supported and say so. Every problem is an
:class:`~memplan.errors.OverlayError` naming the overlay and the parameter.
"""

from __future__ import annotations

import re

import attrs

from memplan.dts.overlay import get_phandle, set_property, subnode
from memplan.dts.tree import Node, Property, Tree
from memplan.errors import OverlayError
from memplan.source import Source

__all__ = ["apply_parameters"]

_WIDTH = {".": 1, ";": 2, ":": 4, "#": 8}
_TRUE = ("y", "yes", "on", "true", "okay")
_FALSE = ("n", "no", "off", "false", "disabled")
_C_INT = re.compile(r"0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*")


@attrs.frozen
class _Target:
    phandle: int
    text: str
    cell: int | None


class _Params:
    def __init__(self, tree: Tree, name: str) -> None:
        self.tree = tree
        self.name = name

    def fail(self, message: str, source: Source | None) -> OverlayError:
        return OverlayError(f"overlay {self.name}: {message}", source)

    def targets(self, prop: Property) -> list[_Target]:
        value = prop.value
        out: list[_Target] = []
        pos = 0
        while pos < len(value):
            if pos + 4 > len(value):
                raise self.fail(f"__overrides__ parameter '{prop.name}' ends inside a phandle", prop.source)
            phandle = int.from_bytes(value[pos : pos + 4], "big")
            nul = value.find(b"\0", pos + 4)
            if nul < 0:
                raise self.fail(f"__overrides__ parameter '{prop.name}' has an unterminated target string",
                                prop.source)
            text = value[pos + 4 : nul].decode("utf-8", "surrogateescape")
            pos = nul + 1
            cell = None
            if phandle and text.endswith("="):  # a fixed value given as a cell: "size:0=",<0x10000000>
                if pos + 4 > len(value):
                    raise self.fail(f"__overrides__ parameter '{prop.name}': {text!r} needs a cell after it",
                                    prop.source)
                cell = int.from_bytes(value[pos : pos + 4], "big")
                pos += 4
            out.append(_Target(phandle, text, cell))
        return out

    def node(self, phandle: int, param: str, source: Source) -> Node:
        found = next((n for n in self.tree.walk() if get_phandle(n) == phandle), None)
        if found is None:
            raise self.fail(f"parameter '{param}' targets phandle 0x{phandle:x}, which is not a node of the "
                            "overlay", source)
        return found

    def integer(self, param: str, value: str, source: Source) -> int:
        low = value.strip().lower()
        if low in _TRUE:
            return 1
        if low in _FALSE:
            return 0
        if _C_INT.fullmatch(low):
            base = 16 if low.startswith("0x") else 8 if low.startswith("0") else 10
            number = int(low, base)
            if number < 1 << 64:
                return number
        raise self.fail(f"parameter '{param}': {value!r} is not an integer", source)

    def boolean(self, param: str, value: str, source: Source) -> bool:
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        return self.integer(param, value, source) != 0

    def apply(self, param: str, value: str, source: Source) -> None:
        table = subnode(self.tree.root, "__overrides__")
        prop = table.properties.get(param) if table is not None else None
        if prop is None:
            known = ", ".join(sorted(table.properties)) if table is not None else "none"
            raise self.fail(f"has no parameter '{param}' (parameters: {known})", source)
        for target in self.targets(prop):
            if target.phandle == 0:
                self.fragments(param, target.text, value, prop.source)
            else:
                node = self.node(target.phandle, param, prop.source)
                self.assign(param, node, target, value, prop.source)

    def fragments(self, param: str, ops: str, value: str, source: Source) -> None:
        if not re.fullmatch(r"([-+=!]\d+)+", ops):
            raise self.fail(f"parameter '{param}': fragment operations {ops!r} are not of the form "
                            "+N, -N, =N, !N", source)
        for op, number in re.findall(r"([-+=!])(\d+)", ops):
            if op == "+":
                enable = True
            elif op == "-":
                enable = False
            else:
                enable = self.boolean(param, value, source) == (op == "=")
            self.set_fragment(param, int(number), enable, source)

    def set_fragment(self, param: str, number: int, enable: bool, source: Source) -> None:
        root = self.tree.root
        fragment = root.children.get(f"fragment@{number}") or root.children.get(f"fragment-{number}")
        if fragment is None:
            raise self.fail(f"parameter '{param}' names fragment {number}, which the overlay does not have",
                            source)
        want, other = ("__overlay__", "__dormant__") if enable else ("__dormant__", "__overlay__")
        body = fragment.children.get(other)
        if body is None:
            return
        _rename(body, want)
        # what names the body by path follows it, as if the source had been written that way
        old_path, new_path = f"{fragment.path}/{other}", f"{fragment.path}/{want}"
        for table in ("__symbols__", "__fixups__"):
            node = root.children.get(table)
            if node is None:
                continue
            for prop in list(node.properties.values()):
                entries = prop.value.split(b"\0")
                moved = [_moved(e, old_path, new_path, table == "__fixups__") for e in entries]
                if moved != entries:
                    node.properties[prop.name] = attrs.evolve(prop, value=b"\0".join(moved))
        local = root.children.get("__local_fixups__")
        mirror = local.children.get(fragment.name) if local is not None else None
        if mirror is not None and other in mirror.children:
            _rename(mirror.children[other], want)

    def assign(self, param: str, node: Node, target: _Target, value: str, source: Source) -> None:
        spec, eq, literal = target.text.partition("=")
        if eq and target.cell is None:
            value = literal
        found = re.fullmatch(r"([^.;:#?!\[{]+)(?:([.;:#])(\d+)|([?!]))?(.*)", spec)
        if found is None or found.group(5):
            raise self.fail(f"parameter '{param}': target {target.text!r} is not supported (only string, "
                            "integer, boolean and fixed-value targets)", source)
        pname, sep, offset, flag = found.group(1), found.group(2), found.group(3), found.group(4)
        if pname in ("reg", "name") and not flag:
            raise self.fail(f"parameter '{param}': the '{pname}' pseudo-property is not supported", source)
        if sep is not None:
            number = target.cell if target.cell is not None else self.integer(param, value, source)
            self.write_int(node, pname, int(offset), _WIDTH[sep], number, param, source)
        elif flag is not None:
            on = self.boolean(param, value, source) != (flag == "!")
            if on:
                if pname not in node.properties:
                    set_property(node, Property(pname, b"", source))
            else:
                node.properties.pop(pname, None)
        else:
            if pname == "status":
                text = "okay" if self.boolean(param, value, source) else "disabled"
            elif pname == "bootargs" and pname in node.properties:
                old = node.properties[pname].value.rstrip(b"\0").decode("utf-8", "surrogateescape")
                text = f"{old} {value}" if old else value
            else:
                text = value
            set_property(node, Property(pname, text.encode("utf-8", "surrogateescape") + b"\0", source))

    def write_int(self, node: Node, pname: str, offset: int, width: int, number: int, param: str,
                  source: Source) -> None:
        if number >= 1 << (8 * width):
            raise self.fail(f"parameter '{param}': {number:#x} does not fit in {8 * width} bits", source)
        old = node.properties.get(pname)
        data = bytearray(old.value if old is not None else b"")
        if len(data) < offset + width:
            data.extend(bytes(offset + width - len(data)))
        data[offset : offset + width] = number.to_bytes(width, "big")
        set_property(node, Property(pname, bytes(data), source))


def _rename(node: Node, name: str) -> None:
    parent = node.parent
    assert parent is not None
    parent.children = {(name if child is node else key): child for key, child in parent.children.items()}
    node.name = name
    for sub in node.walk():
        sub.__attrs_post_init__()


def _moved(entry: bytes, old: str, new: str, fixup: bool) -> bytes:
    text = entry.decode("utf-8", "surrogateescape")
    for end in ((":",) if fixup else ("/", "")):
        if text.startswith(old + end) and (end or text == old):
            return (new + text[len(old) :]).encode("utf-8", "surrogateescape")
    return entry


def apply_parameters(tree: Tree, name: str, params: list[tuple[str, str | None]], source: Source) -> None:
    """Patch overlay ``tree`` (file ``name``) with ``params`` (``(param, value or None)``, in order)."""
    job = _Params(tree, name)
    for param, value in params:
        job.apply(param, "true" if value is None else value, source)
