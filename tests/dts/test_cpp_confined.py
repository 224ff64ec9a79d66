"""The system cpp under --include-root reads nothing outside the roots, even where the walk ahead
of it (the pcpp back end) evaluates an ``#if`` differently and so never saw the include.

Each case hides an include of a file outside the root behind a condition GNU cpp takes and pcpp
does not. The outside file is a secret, a FIFO (had cpp opened it, the run would wait for the
time limit) or missing (the error must be the same); where strace works, every file cpp and cc1
open is recorded and checked.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from memplan.dts import sandbox
from memplan.dts.includes import IncludePolicy
from memplan.dts.preprocess import _vet_includes, preprocess
from memplan.errors import IncludeError, PreprocessError

HAVE_CPP = shutil.which("cpp") is not None
pytestmark = pytest.mark.skipif(not HAVE_CPP, reason="no system cpp")

#: Conditions GNU cpp (-undef -x assembler-with-cpp) takes and the pcpp walk does not (it
#: evaluates them false, or fails on them and goes on as cpp goes on after an error).
DISAGREE = {
    "include-level": "#ifdef __INCLUDE_LEVEL__",
    "base-file": "#ifdef __BASE_FILE__",
    "counter": "#ifdef __COUNTER__",
    "timestamp": "#ifdef __TIMESTAMP__",
    "defined-by-macro": "#define X\n#define D defined(X)\n#if D",
    "file-name": "#ifdef __FILE_NAME__",
    "multi-char-constant": "#if 'AB' == 16706",
    "binary-literal": "#if 0b101 == 5",
    "assertion": "#assert machine(x)\n#if #machine(x)",
}

#: How the hidden include names the outside file ({out} is its absolute path).
FORMS = {
    "dotdot": '#include "../outside/secret.dtsi"',
    "absolute": '#include "{out}"',
    "symlink": '#include "link.dtsi"',
    "computed": '#define F "../outside/secret.dtsi"\n#include F',
    "include-next": "#include <n.dtsi>",
}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _unconfinable() -> str | None:
    """Why this machine cannot run the confined cpp (the tests then check the fallback)."""
    if sandbox.refused() is None:
        root = Path(tempfile.mkdtemp())
        try:
            result = preprocess(write(root / "t.dts", "/dts-v1/;\n"), cpp="system", include_roots=[root])
        finally:
            shutil.rmtree(root)
        if result.diagnostics:
            return result.diagnostics[0].message
    return sandbox.refused()


def _setup(tmp: Path, cond: str, form: str, outside: str) -> tuple[Path, Path, list[Path]]:
    """(board, root, include dirs): the hidden include behind ``cond``; the outside file is
    ``outside``: "secret", "fifo" or "missing"."""
    root, out_dir = tmp / "root", tmp / "outside"
    out_dir.mkdir(parents=True, exist_ok=True)
    secret = out_dir / "secret.dtsi"
    nxt = out_dir / "n.dtsi"
    for f in (secret, nxt):
        if outside == "secret":
            f.write_text('/ { secret = "top secret"; };\n')
        elif outside == "fifo":
            os.mkfifo(f)
    (root / "inc").mkdir(parents=True)
    (root / "link.dtsi").symlink_to(secret)
    body = FORMS[form].format(out=secret)
    if form == "include-next":
        # found in root/inc, whose next match is outside: #include_next from there goes out
        write(root / "inc/n.dtsi", f"{cond}\n#include_next <n.dtsi>\n#endif\n")
        text = f"/dts-v1/;\n{body}\n/ {{ }};\n"
    else:
        text = f"/dts-v1/;\n{cond}\n{body}\n#endif\n/ {{ }};\n"
    return write(root / "b.dts", text), root, [root / "inc", out_dir]


def _outcome(board: Path, root: Path, dirs: list[Path]) -> tuple[str, str, int | None]:
    try:
        result = preprocess(board, dirs, cpp="system", include_roots=[root])
    except (IncludeError, PreprocessError) as err:
        assert "top secret" not in str(err)
        src = err.source
        return type(err).__name__, err.message, src.line if src else None
    assert "top secret" not in result.text
    return "ok", "", None


@pytest.mark.parametrize("cond", sorted(DISAGREE))
def test_cpp_takes_the_hidden_include_unconfined(tmp_path: Path, cond: str) -> None:
    """The cases are real: unconfined GNU cpp reads the outside file, the walk ahead does not."""
    board, root, dirs = _setup(tmp_path, DISAGREE[cond], "dotdot", "secret")
    assert "top secret" in preprocess(board, dirs, cpp="system").text
    _vet_includes(str(board), tuple(map(str, dirs)), (), IncludePolicy.make([root]), None)  # no error


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("cond", sorted(DISAGREE))
def test_confined_cpp_never_reads_outside_and_errs_alike(
    tmp_path: Path, cond: str, form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMPLAN_CPP_TIMEOUT", "20")
    outcomes = {}
    for outside in ("secret", "fifo", "missing"):
        board, root, dirs = _setup(tmp_path / outside, DISAGREE[cond], form, outside)
        outcome = _outcome(board, root, dirs)
        assert "MEMPLAN_CPP_TIMEOUT" not in outcome[1]  # the FIFO was never opened
        outcomes[outside] = (outcome[0], outcome[1].replace(str(tmp_path / outside), "TMP"), outcome[2])
    assert outcomes["secret"] == outcomes["fifo"] == outcomes["missing"]
    if _unconfinable():  # pcpp preprocessed instead: it does not take the include at all
        return
    kind, message, line = outcomes["secret"]
    # every form, #include_next too, gives the error an include outside the roots gives
    # (cpp puts a computed include's error on the #define that spells the name)
    at = DISAGREE[cond].count("\n") + (2 if form == "include-next" else 3)
    assert kind == "IncludeError" and line == at
    assert "outside the include roots" in message and "not found" not in message


@pytest.mark.parametrize("outside", ["secret", "missing"])
def test_a_computed_include_without_include_dirs_names_the_roots(tmp_path: Path, outside: str) -> None:
    """A computed include (cpp puts its error on the #define) climbing out of the root, in a
    branch only cpp takes and with no -I folder: "x" is outside the roots (next to the including
    file is searched); <x> has nowhere to be searched, so it is not found, as unconfined."""
    if _unconfinable():
        pytest.skip(f"confined cpp unavailable: {_unconfinable()}")
    root = tmp_path / "root"
    if outside == "secret":
        write(tmp_path / "secret.dtsi", '/ { secret = "top secret"; };\n')
    for quote, expected in (('"../secret.dtsi"', "is outside the include roots"),
                            ("<../secret.dtsi>", "not found (searched: no include directories given)")):
        board = write(root / "b.dts", f"/dts-v1/;\n#ifdef __INCLUDE_LEVEL__\n#define F {quote}\n#include F\n"
                                      "#endif\n/ { };\n")
        with pytest.raises(IncludeError) as info:
            preprocess(board, include_roots=[root])
        assert expected in info.value.message and "top secret" not in str(info.value)


@pytest.mark.parametrize("cond", sorted(DISAGREE))
def test_auto_with_roots_gives_cpps_own_output(tmp_path: Path, cond: str) -> None:
    """The default back end with --include-root runs the confined cpp: where cpp and pcpp
    disagree on an ``#if``, the output is exactly the unconfined cpp's (what the kernel build
    makes); where confinement is impossible, pcpp's, with the info diagnostic."""
    root = tmp_path / "root"
    write(root / "inc/a.h", "#define A 7\n")
    board = write(root / "b.dts", f"/dts-v1/;\n#include <a.h>\n{DISAGREE[cond]}\n/ {{ cpp = <A>; }};\n"
                                  "#else\n/ { pcpp = <A>; };\n#endif\n")
    plain = preprocess(board, [root / "inc"], cpp="system")
    assert "cpp = <7>" in plain.text
    auto = preprocess(board, [root / "inc"], include_roots=[root])
    why = _unconfinable()
    if why:
        assert auto.tool == "pcpp" and [d.code for d in auto.diagnostics] == ["cpp-not-confined"]
        return
    assert auto.tool == "cpp" and "cpp-not-confined" not in [d.code for d in auto.diagnostics]
    assert auto.text == plain.text and auto.files == plain.files
    assert auto.diagnostics == plain.diagnostics  # cpp's own warnings (#assert is deprecated)


def test_has_include_of_an_outside_file_answers_the_same_whether_it_exists(tmp_path: Path) -> None:
    """``__has_include`` behind a condition only cpp takes: the answer cannot tell whether the
    outside file exists (in the confined view it does not)."""
    if _unconfinable():
        pytest.skip(f"confined cpp unavailable: {_unconfinable()}")
    texts = []
    for outside in ("secret", "missing"):
        board, root, dirs = _setup(tmp_path / outside, DISAGREE["include-level"], "dotdot", outside)
        board.write_text('/dts-v1/;\n#ifdef __INCLUDE_LEVEL__\n#if __has_include("../outside/secret.dtsi")\n'
                         "/ { there; };\n#else\n/ { absent; };\n#endif\n#endif\n")
        result = preprocess(board, dirs, cpp="system", include_roots=[root])
        assert result.tool == "cpp"
        texts.append(result.text.replace(str(tmp_path / outside), "TMP"))
    assert texts[0] == texts[1] and "absent" in texts[0]


def _strace_works() -> str | None:
    exe = shutil.which("strace")
    if exe is None:
        return "strace is not installed"
    done = subprocess.run([exe, "-f", "-o", os.devnull, "true"], capture_output=True, check=False)
    return None if done.returncode == 0 else f"strace cannot trace here: {done.stderr.decode()[:200]}"


#: The name the confined cpp looks for, and does not find, in each form.
TRIED = {"dotdot": "../outside/secret.dtsi", "absolute": "/outside/secret.dtsi", "symlink": "link.dtsi",
         "computed": "../outside/secret.dtsi", "include-next": "/outside/n.dtsi"}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_strace_records_no_open_outside_the_roots(tmp_path: Path, form: str) -> None:
    """Every file the confined cpp driver and cc1 open, recorded by strace: only files under the
    root and cpp's own program files (driver, cc1, shared libraries, loader cache) are opened;
    the outside file is looked for (the condition is taken) and not found."""
    why = _strace_works() or _unconfinable()
    if why:
        pytest.skip(why)
    cpp = shutil.which("cpp") or "cpp"
    program = {os.path.realpath(f) for f in (*sandbox._program_files(cpp), *sandbox._LOADER_FILES)}
    for cond in ("include-level", "defined-by-macro", "file-name", "binary-literal"):
        work = tmp_path / cond
        board, root, dirs = _setup(work, DISAGREE[cond], form, "secret")
        log = work / "strace.log"
        code = ("import sys\nfrom memplan.dts.preprocess import preprocess\n"
                "try:\n    preprocess(sys.argv[1], sys.argv[3:], cpp='system', include_roots=[sys.argv[2]])\n"
                "except Exception as e:\n    print(type(e).__name__)\n")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        done = subprocess.run(["strace", "-f", "-qq", "-e", "trace=open,openat,execve", "-o", str(log),
                               sys.executable, "-c", code, str(board), str(root), *map(str, dirs)],
                              cwd=work, env=env, check=True, capture_output=True, timeout=120)
        assert done.stdout.decode().strip() == "IncludeError"
        opened, tried = _cpp_opens(log.read_text())
        full = [os.path.realpath(os.path.join(work, p)) for p in opened]
        stray = [p for p in full if not p.startswith(str(root) + os.sep) and p not in program]
        assert stray == [], (cond, form)
        assert str(board) in full  # the run was recorded
        assert any(p.endswith(TRIED[form]) for p in tried), (cond, form, tried)


def _cpp_opens(log: str) -> tuple[list[str], list[str]]:
    """(paths opened, paths looked for and not found) by the cpp driver and cc1 processes."""
    import re

    pids: set[str] = set()
    opened: list[str] = []
    tried: list[str] = []
    for line in log.splitlines():
        pid, _, rest = line.partition(" ")
        rest = rest.lstrip()  # strace pads the process id
        run = re.match(r'execve\("([^"]+)".*\) = 0$', rest)
        if run is not None:
            if os.path.basename(run.group(1)) in ("cpp", "cc1"):
                pids.add(pid)
            else:
                pids.discard(pid)
            continue
        m = re.match(r'open(?:at)?\((?:AT_FDCWD, )?"([^"]*)".*\) = (-?\d+)', rest)
        if pid in pids and m is not None:
            (opened if int(m.group(2)) >= 0 else tried).append(m.group(1))
    return opened, tried


def test_without_namespaces_the_system_cpp_is_not_run(tmp_path: Path) -> None:
    """Where user namespaces are refused (here: their limit set to 0 inside a namespace of the
    test's own), the confined cpp is not started: pcpp preprocesses, with an info diagnostic."""
    if shutil.which("unshare") is None or subprocess.run(
            ["unshare", "-Ur", "true"], capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot make a user namespace to forbid them in")
    board, root, dirs = _setup(tmp_path, DISAGREE["include-level"], "dotdot", "fifo")
    code = ("import sys\nfrom memplan.dts.preprocess import preprocess\n"
            "r = preprocess(sys.argv[1], sys.argv[3:], cpp='system', include_roots=[sys.argv[2]])\n"
            "print(r.tool)\nprint(r.diagnostics[0].code, r.diagnostics[0].severity)\n"
            "print(r.diagnostics[0].message)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "MEMPLAN_CPP_TIMEOUT": "20"}
    script = 'echo 0 > /proc/sys/user/max_user_namespaces && exec "$0" "$@"'
    argv = ["unshare", "-Ur", "sh", "-c", script, sys.executable, "-c", code, str(board), str(root),
            *map(str, dirs)]
    done = subprocess.run(argv, capture_output=True, env=env, check=False, timeout=120)
    if done.returncode != 0 and b"max_user_namespaces" in done.stderr:
        pytest.skip("cannot lower the namespace limit here")
    assert done.returncode == 0, done.stderr.decode()
    tool, code_line, message = done.stdout.decode().splitlines()[:3]
    assert tool == "pcpp" and code_line == "cpp-not-confined info"
    assert "namespace" in message and "--include-root" in message


def test_a_refused_namespace_falls_back_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same, in this process: the child's unshare fails (invalid flags), the reason reaches
    the diagnostic, and later runs do not try again."""
    why = _unconfinable()
    if why:
        pytest.skip(f"confined cpp unavailable: {why}")
    monkeypatch.setattr(sandbox, "_CLONE_NEWUSER", 0x7FFFFFFF)
    monkeypatch.setattr(sandbox, "_REFUSED", [])
    board, root, dirs = _setup(tmp_path, "#if 1", "dotdot", "missing")
    board.write_text("/dts-v1/;\n/ { v = <1>; };\n")
    first = preprocess(board, dirs, cpp="system", include_roots=[root])
    assert first.tool == "pcpp" and first.diagnostics[0].code == "cpp-not-confined"
    assert "unshare" in first.diagnostics[0].message and sandbox.refused() is not None
    assert preprocess(board, dirs, cpp="system", include_roots=[root]).diagnostics == first.diagnostics
    # unconfined runs are untouched by all this
    assert preprocess(board, dirs, cpp="system").tool == "cpp"


def test_paths_through_symlinks_resolve_in_the_view_as_outside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The root, the include dirs, the board and the current directory named through symlinks
    (and a relative -I): the confined cpp finds the same files as the unconfined one."""
    why = _unconfinable()
    if why:
        pytest.skip(f"confined cpp unavailable: {why}")
    real = tmp_path / "real"
    write(real / "inc/a.h", "#define A 5\n")
    write(real / "dts/shared.dtsi", "/ { shared; };\n")
    write(real / "dts/vendor/b.dts",
          '/dts-v1/;\n#include <a.h>\n#include "../shared.dtsi"\n/ { v = <A>; };\n')
    (tmp_path / "alias").symlink_to(real)
    (tmp_path / "work").mkdir()
    (tmp_path / "work/dts").symlink_to("../alias/dts")
    monkeypatch.chdir(tmp_path / "work")
    board, dirs = "dts/vendor/b.dts", ["../alias/inc"]
    plain = preprocess(board, dirs, cpp="system")
    confined = preprocess(board, dirs, cpp="system", include_roots=[tmp_path / "alias"])
    assert confined.tool == "cpp" and not confined.diagnostics
    assert confined.text == plain.text and "shared" in confined.text and "<5>" in confined.text


def test_a_root_with_proc_mounted_below_it_is_not_confined(tmp_path: Path) -> None:
    """Confined to "/" (/proc mounted below: magic links to pipes, files that never end), the
    confined cpp is not run: pcpp preprocesses, and the info diagnostic names the mount."""
    if _unconfinable():
        pytest.skip(f"confined cpp unavailable: {_unconfinable()}")
    if not any(line.split(" - ")[-1].startswith("proc ") for line in Path("/proc/self/mountinfo").read_text()
               .splitlines()):
        pytest.skip("no proc file system mounted")
    board = write(tmp_path / "b.dts", '/dts-v1/;\n#ifdef __INCLUDE_LEVEL__\n#include "/dev/zero"\n#endif\n')
    result = preprocess(board, cpp="system", include_roots=["/"])
    assert result.tool == "pcpp" and [d.code for d in result.diagnostics] == ["cpp-not-confined"]
    assert "a proc file system is mounted at" in result.diagnostics[0].message


def test_a_device_inside_the_root_is_refused_at_once(tmp_path: Path) -> None:
    """A device node inside the root, behind a condition only cpp takes: the view is nodev, so
    opening it fails at once (no device is read until a limit stops it)."""
    why = _unconfinable()
    if why:
        pytest.skip(f"confined cpp unavailable: {why}")
    try:
        os.mknod(tmp_path / "zero", 0o644 | stat.S_IFCHR, os.makedev(1, 5))
    except OSError as err:
        pytest.skip(f"cannot make a device node here: {err}")
    board = write(tmp_path / "b.dts", '/dts-v1/;\n#ifdef __INCLUDE_LEVEL__\n#include "zero"\n#endif\n')
    with pytest.raises(PreprocessError, match="Permission denied") as info:
        preprocess(board, cpp="system", include_roots=[tmp_path])
    assert info.value.source is not None and info.value.source.line == 3
    assert "MEMPLAN_CPP" not in info.value.message


@pytest.mark.parametrize("cond", sorted(DISAGREE))
def test_a_fifo_inside_the_root_only_cpp_reaches_is_refused_at_once(
    tmp_path: Path, cond: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A FIFO inside the root, named directly or through a symlink inside the root, behind a
    condition cpp takes and the walk does not: the include fails at once with the error the walk
    gives for a FIFO it reaches (had cpp opened it, the run would wait for the time limit)."""
    why = _unconfinable()
    if why:
        pytest.skip(f"confined cpp unavailable: {why}")
    monkeypatch.setenv("MEMPLAN_CPP_TIMEOUT", "30")
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    os.mkfifo(root / "sub/f.dtsi")
    (root / "alias.dtsi").symlink_to("sub/f.dtsi")
    for name in ("sub/f.dtsi", "alias.dtsi"):
        board = write(root / "b.dts", f'/dts-v1/;\n{DISAGREE[cond]}\n#include "{name}"\n#endif\n/ {{ }};\n')
        with pytest.raises(IncludeError) as info:
            preprocess(board, include_roots=[root])
        assert info.value.message == f"include {name!r} is not a regular file (a device, FIFO or socket)"
        assert info.value.source is not None and info.value.source.line == DISAGREE[cond].count("\n") + 3
    # the walk gives the same error where it reaches the FIFO itself
    board = write(root / "b.dts", '/dts-v1/;\n#include "sub/f.dtsi"\n')
    with pytest.raises(IncludeError, match=r"'sub/f\.dtsi' is not a regular file"):
        preprocess(board, include_roots=[root])


def test_a_fifo_made_after_an_earlier_run_is_refused_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The roots' listing is remembered between runs, but a FIFO made since (in a folder listed
    before, or in a new folder) is found: the run after fails at once."""
    why = _unconfinable()
    if why:
        pytest.skip(f"confined cpp unavailable: {why}")
    monkeypatch.setenv("MEMPLAN_CPP_TIMEOUT", "30")
    root = tmp_path / "root"
    write(root / "sub/a.dtsi", "/ { a; };\n")
    for name in ("sub/f.dtsi", "sub/new/g.dtsi"):
        board = write(root / "b.dts", f'/dts-v1/;\n#ifdef __INCLUDE_LEVEL__\n#include "{name}"\n#endif\n')
        with pytest.raises(IncludeError, match="not found"):
            preprocess(board, include_roots=[root])
        (root / name).parent.mkdir(exist_ok=True)
        os.mkfifo(root / name)
        with pytest.raises(IncludeError, match="not a regular file"):
            preprocess(board, include_roots=[root])


def test_a_root_too_large_to_list_is_not_confined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """More entries in the roots than MEMPLAN_ROOT_ENTRIES: the confined cpp is not run (its
    FIFOs cannot be covered); pcpp preprocesses and the info diagnostic names the bound."""
    why = _unconfinable()
    if why:
        pytest.skip(f"confined cpp unavailable: {why}")
    for i in range(5):
        write(tmp_path / f"d{i}/x.dtsi", "")
    board = write(tmp_path / "b.dts", "/dts-v1/;\n/ { };\n")
    monkeypatch.setenv("MEMPLAN_ROOT_ENTRIES", "4")
    result = preprocess(board, include_roots=[tmp_path])
    assert result.tool == "pcpp" and [d.code for d in result.diagnostics] == ["cpp-not-confined"]
    assert "MEMPLAN_ROOT_ENTRIES" in result.diagnostics[0].message
    monkeypatch.setenv("MEMPLAN_ROOT_ENTRIES", "100")
    assert preprocess(board, include_roots=[tmp_path]).tool == "cpp"


def test_a_folder_that_cannot_be_listed_is_not_confined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder in the root memplan may not list (a FIFO there could not be found and covered):
    the confined cpp is not run; pcpp preprocesses and the info diagnostic names the folder."""
    why = _unconfinable()
    if why:
        pytest.skip(f"confined cpp unavailable: {why}")
    locked = tmp_path / "locked"
    locked.mkdir()
    board = write(tmp_path / "b.dts", "/dts-v1/;\n/ { };\n")
    real = os.scandir

    def scandir(path: str) -> object:
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(sandbox.os, "scandir", scandir)
    result = preprocess(board, include_roots=[tmp_path])
    assert result.tool == "pcpp" and [d.code for d in result.diagnostics] == ["cpp-not-confined"]
    assert f"cannot list {locked} inside the include roots" in result.diagnostics[0].message
