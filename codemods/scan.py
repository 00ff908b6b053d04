"""Which files make up the target tree, their module names, and lossless read/parse helpers."""

from __future__ import annotations

import fnmatch
import io
import os
import re
import stat
import subprocess
import tokenize
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from codemods.types import ModelfoldError, SourceFile

if TYPE_CHECKING:
    import libcst as cst

# Directories a walk never enters (outside git, where .gitignore is not consulted).
SKIP_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", ".venv", "venv", "env", ".env", "node_modules", "build", "dist",
        "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox", ".eggs",
        "site-packages",
    }
)
SOURCE_ROOTS = ("src", "lib", "python")


def resolve_root(root: str | os.PathLike[str]) -> Path:
    """Return the absolute root directory, or raise ModelfoldError when it is not one."""
    path = Path(root).resolve()
    if not path.exists():
        raise ModelfoldError(f"path does not exist: {root}")
    if not path.is_dir():
        raise ModelfoldError(f"not a directory: {root}")
    return path


def list_python_files(root: Path, excludes: Sequence[str] = ()) -> list[str]:
    """Relative POSIX paths of the tree's .py files, sorted; git's view when root is in a repo."""
    if any(not g.strip() for g in excludes):
        raise ModelfoldError("--exclude needs a non-empty glob")
    paths = _git_files(root)
    if paths is None:
        paths = _walk_files(root)
    kept = [p for p in paths if p.endswith(".py") and not _excluded(p, excludes)]
    base = str(root) + os.sep
    return sorted(p for p in kept if _usable(base, p))


# Roots whose latest listing found no untracked (not ignored) file: `git grep` need not walk their
# directories looking for some (a fifth of its time on a large tree). Every listing updates it.
_NO_UNTRACKED: set[str] = set()


def _git_files(root: Path) -> list[str] | None:
    """Tracked plus untracked-but-not-ignored files below root, or None outside a git work tree."""
    tagged = _ls_files(root, "-t", "--cached", "--others", "--exclude-standard")  # one git call
    if tagged is None:
        return None
    if any(entry[0] == "?" for entry in tagged):
        _NO_UNTRACKED.discard(str(root))
    else:
        _NO_UNTRACKED.add(str(root))
    # Untracked files ("?") count unless ignored; a virtualenv someone forgot to ignore does not.
    paths = {entry[2:] for entry in tagged if not (entry[0] == "?" and _in_skipped_dir(entry[2:]))}
    return list(paths)


def grep_files(root: Path, needles: Iterable[str], pathspecs: Sequence[str] = ("*.py",)) -> set[str] | None:
    """The files below root (.py unless `pathspecs` say otherwise) whose bytes contain any of the
    needles, by `git grep -F` (tracked and untracked-not-ignored files, searched by threaded C
    without Python reading them); None outside a git work tree, where the caller reads every file.

    A superset filter only: callers still check each file they read. Paths are relative to root.
    """
    untracked = [] if str(root) in _NO_UNTRACKED else ["--untracked"]
    args = ["git", "grep", "-l", "-z", "-F", *untracked, "--no-color", "--no-recurse-submodules"]
    for needle in sorted(set(needles)):
        args += ["-e", needle]
    try:
        done = subprocess.run([*args, "--", *pathspecs], cwd=root, capture_output=True)
    except OSError:
        return None
    if done.returncode not in (0, 1):  # 1: no file matched
        return None
    return {p for p in done.stdout.decode("utf-8", "surrogateescape").split("\0") if p}


def _ls_files(root: Path, *flags: str) -> list[str] | None:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", *flags, "--", "."], cwd=root, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def files_named(root: Path, name: str) -> list[str]:
    """The .py files `list_python_files` lists whose file name is `name`, sorted; in a git work tree
    one `git ls-files` with a pathspec, so the rest of the tree is never listed."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "-t", "--cached", "--others", "--exclude-standard",
                              "--", f":(glob)**/{name}"], cwd=root, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return [p for p in list_python_files(root) if PurePosixPath(p).name == name]
    tagged = [e for e in out.decode("utf-8", "surrogateescape").split("\0") if e]
    paths = {e[2:] for e in tagged if not (e[0] == "?" and _in_skipped_dir(e[2:]))}
    base = str(root) + os.sep
    return sorted(p for p in paths if p.endswith(".py") and PurePosixPath(p).name == name and _usable(base, p))


def _in_skipped_dir(rel: str) -> bool:
    return any(part in SKIP_DIRS or part.endswith(".egg-info") for part in PurePosixPath(rel).parts[:-1])


def _walk_files(root: Path) -> list[str]:
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [
            d for d in dirnames
            if d not in SKIP_DIRS and not d.endswith(".egg-info")
            and not (Path(dirpath) / d / "pyvenv.cfg").exists()
        ]
        rel = Path(dirpath).relative_to(root)
        found.extend((rel / name).as_posix() for name in filenames)
    return found


def _excluded(path: str, excludes: Sequence[str]) -> bool:
    """True when a glob matches the file, or a directory the file is in (`legacy`, `src/old/`)."""
    if not excludes:
        return False
    pure = PurePosixPath(path)
    if any(fnmatch.fnmatch(path, g) or pure.match(g) for g in excludes):
        return True
    dirs = [d.removeprefix("./").rstrip("/") for d in excludes]
    parents = [p.as_posix() for p in pure.parents if p.as_posix() != "."]
    return any(fnmatch.fnmatch(p, d) or PurePosixPath(p).match(d) for p in parents for d in dirs if d)


def _usable(base: str, rel: str) -> bool:
    """A regular file (one lstat); `base` ends with a separator.

    A symlink is a link, as git stores it, never its target (which is listed under its own
    path when it is in the tree). git lists deleted-but-tracked files too, and the walk broken
    links; neither is kept. git and the walk never enter linked directories.
    """
    try:
        return stat.S_ISREG(os.lstat(base + rel).st_mode)
    except OSError:
        return False


def module_name(root: Path, rel: str, starts: dict[str, int] | None = None) -> tuple[str, bool]:
    """Dotted module name for a file (src/ layouts, namespace packages) and whether it is __init__.

    Walk up from the file through directories with `__init__.py`; a source root such as `src/`
    with no `__init__.py` is never part of the name. Without any `__init__.py` (namespace
    packages), the name starts below a known source root, else at the tree root. `starts`
    caches, per directory, how many of its leading components the name drops.
    """
    parts = rel[:-3].split("/") if rel.endswith(".py") else rel.split("/")
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    directory = rel.rpartition("/")[0]
    cache = {} if starts is None else starts
    if directory not in cache:
        dirs = directory.split("/") if directory else []
        start = len(dirs)
        while start > 0 and os.path.isfile(os.path.join(root, *dirs[:start], "__init__.py")):
            start -= 1
        if start == len(dirs):
            start = next((i + 1 for i, part in enumerate(dirs) if part in SOURCE_ROOTS), 0)
        cache[directory] = start
    kept = parts[cache[directory] :]
    if any("." in part for part in kept):  # below a folder named like `x.py`: not importable
        return "", is_package
    return ".".join(kept), is_package


def absolute_module(module: str, is_package: bool, level: int, name: str | None) -> str | None:
    """The absolute module a `from ...name import` in `module` refers to; None when it climbs too high."""
    if level == 0:
        return name
    parts = module.split(".") if module else []
    if not is_package:
        parts = parts[:-1]
    if level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    if name:
        base = base + name.split(".")
    return ".".join(base) if base else None


def source_files(root: Path, excludes: Sequence[str] = ()) -> list[SourceFile]:
    """The tree's Python files with their module names (refused while an --apply is pending)."""
    from codemods.safety._journal import refuse_pending

    root = resolve_root(root)
    refuse_pending(root)
    starts: dict[str, int] = {}
    files = []
    for rel in list_python_files(root, excludes):
        name, is_package = module_name(root, rel, starts)
        files.append(SourceFile(path=rel, module=name, is_package=is_package))
    return files


LONE_CR = re.compile("\r(?!\n)")


def lf_for_lone_cr(text: str) -> str:
    """The text with every lone CR read as LF (CRLF and LF left as they are)."""
    return LONE_CR.sub("\n", text) if "\r" in text else text

def read_text(root: Path, rel: str, *, as_stored: bool = False) -> str:
    """The file's text: BOM kept as U+FEFF, decoded with its `# coding:` declaration as Python
    does, LF and CRLF untouched, a lone CR read as LF as Python does (libcst cannot round-trip
    it; `diff.keep_endings` puts it back) unless `as_stored`. A symlink is a link, never
    followed (OSError).
    """
    try:
        fd = os.open(os.path.join(root, rel), os.O_RDONLY | os.O_NOFOLLOW)  # not Path: a third faster
        with os.fdopen(fd, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise UnreadableFile(exc.errno or 0, f"{rel}: cannot read it ({exc.strerror or exc})") from None
    text = decode_source(data)
    return text if as_stored else lf_for_lone_cr(text)


class UnreadableFile(ModelfoldError, OSError):
    """A file of the tree cannot be read (permission, a link, gone): the message names it.

    Still an OSError, so the index skips it with this reason; elsewhere it is a refusal."""

    def __str__(self) -> str:
        return str(self.args[1]) if len(self.args) > 1 else super().__str__()


def source_encoding(head: bytes) -> str:
    """The encoding Python reads a module with, from its first bytes (BOM or `coding:` line)."""
    if b"coding" not in head[:2048]:
        return "utf-8"
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(head).readline)
    except SyntaxError:  # an unknown codec: Python refuses the module; read it as UTF-8
        return "utf-8"
    return "utf-8" if encoding in ("utf-8", "utf-8-sig") else encoding


def decode_source(data: bytes) -> str:
    """Bytes of a module to text, with the encoding Python would use (a BOM kept as U+FEFF)."""
    return data.decode(source_encoding(data))


def encode_source(text: str) -> bytes:
    """Text of a module back to bytes, in the encoding its own `coding:` line declares."""
    if "coding" not in text[:2048]:
        return text.encode("utf-8")
    head = "".join(text.splitlines(keepends=True)[:2]).lstrip("\ufeff").encode("ascii", "replace")
    return text.encode(source_encoding(head))


def symlink_in(root: Path, rel: str) -> str | None:
    """The first part of rel below root (rel itself included) that is a symlink, or None."""
    current = str(root)
    parts = rel.split("/")
    for i, part in enumerate(parts):
        current = os.path.join(current, part)
        try:
            if stat.S_ISLNK(os.lstat(current).st_mode):
                return "/".join(parts[: i + 1])
        except FileNotFoundError:
            return None
    return None


def writable_path(root: Path, rel: str) -> Path:
    """root/rel, refused (ModelfoldError) when writing there would leave root or go through a link."""
    parts = rel.split("/")
    if rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ModelfoldError(f"{rel}: not a plain path below the root; refusing to write it")
    link = symlink_in(root, rel)
    if link is not None:
        raise ModelfoldError(f"{link} is a symlink; modelfold never writes through a link")
    return root / rel


def parse_module(text: str) -> cst.Module:
    """Parse with libcst from bytes, so a BOM and the file's newline style survive a round trip."""
    import libcst  # only the stages that write need it; detect reads with stdlib ast

    return libcst.parse_module(text.encode("utf-8"))


def module_text(module: cst.Module) -> str:
    """Render a libcst module back to text (the inverse of parse_module)."""
    return module.bytes.decode("utf-8")


def mentions_any(text: str, needles: Iterable[str]) -> bool:
    """The cheap prefilter: could this text reference any of the needles at all."""
    return any(n in text for n in needles)


def refuse_linked_refs(root: Path, refs: Iterable[str]) -> None:
    """Refuse a `module:Class` whose module file is a symlink, saying so (a link is not a module
    here, as git stores it), rather than "not found"."""
    for ref in refs:
        module = ref.partition(":")[0]
        stem = module.replace(".", "/")
        for base in ("", *(f"{s}/" for s in SOURCE_ROOTS)):
            for rel in (f"{base}{stem}.py", f"{base}{stem}/__init__.py"):
                link = symlink_in(root, rel) if os.path.lexists(root / rel) else None
                if link is not None:
                    target = os.readlink(root / link)
                    raise ModelfoldError(f"{ref}: {link} is a symlink (to {target}); modelfold reads a "
                                         "link as git stores it, so name the module it points to")
