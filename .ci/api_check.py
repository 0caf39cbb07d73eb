"""The API-break check (`nox -s api_check`): no public break without a changelog entry.

Loads the public API of a package twice with griffe (statically, without importing
it): as it was at the last release tag (`git describe --tags --abbrev=0 --match
'v*'`; in a clone without tags, the commit `.ci/last-release` names; or
`--against REF`) and as it is in the working tree. Every breaking change
griffe finds (a public name or parameter removed, a parameter made required or
moved, a default changed, ...) must be recorded: CHANGELOG.md's `## [Unreleased]`
section must differ from the tag's and name each broken object in a code span
(`` `Webhooks.inbox()` `` records `zof_async.Webhooks.inbox`; `` `cursor=` `` or
`` `cursor` `` records a removed parameter `cursor`). Exits 1 when one is not,
listing what to write; 0 otherwise. The old tree comes from `git archive`, so no
worktree is created and the check runs the same in a fresh clone (which carries the
tags of the repository it was cloned from).

    python .ci/api_check.py [--package zof_async] [--against v0.1.0] [--repo .]
"""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import griffe

UNRELEASED = re.compile(r"^## \[Unreleased\][^\n]*\n(?P<body>.*?)(?=^## |\Z)", re.M | re.S)
CODE_SPAN = re.compile(r"`+([^`]+)`+")
IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


def git(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=True).stdout


def last_tag(repo: Path) -> str | None:
    done = subprocess.run(
        ["git", "-C", str(repo), "describe", "--tags", "--abbrev=0", "--match", "v*"],
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() if done.returncode == 0 else None


def recorded_release(repo: Path) -> str | None:
    """The commit of the last release named in `.ci/last-release`, if this clone has it.

    For a clone that carries no tags (a CI checkout of a branch): the file holds
    `<tag> <commit>`, written when the release is tagged.
    """
    record = repo / ".ci" / "last-release"
    if not record.is_file():
        return None
    commit = record.read_text(encoding="utf-8").split()[1]
    present = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "-e", f"{commit}^{{commit}}"], capture_output=True
    )
    return commit if present.returncode == 0 else None


def unreleased(changelog: str) -> str:
    """The body of the `## [Unreleased]` section ('' when there is none)."""
    match = UNRELEASED.search(changelog)
    return match["body"].strip() if match else ""


def changelog_at(repo: Path, ref: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "show", f"{ref}:CHANGELOG.md"], capture_output=True, text=True
    )
    return done.stdout if done.returncode == 0 else ""


def named(breakage: griffe.Breakage) -> str:
    """The name a changelog entry must show: the parameter's, else the object's own."""
    if isinstance(breakage.old_value, griffe.Parameter):
        return breakage.old_value.name
    return breakage.obj.name


def describe(breakage: griffe.Breakage) -> str:
    """One line: the object's path (with the parameter), what happened, old -> new."""
    where = breakage.obj.path
    if isinstance(breakage.old_value, griffe.Parameter):
        where += f"({breakage.old_value.name})"
    line = f"{where}: {breakage.kind.value}"
    if breakage.kind in {
        griffe.BreakageKind.PARAMETER_CHANGED_DEFAULT,
        griffe.BreakageKind.ATTRIBUTE_CHANGED_VALUE,
    }:
        line += f" ({breakage.old_value!s} -> {breakage.new_value!s})"
    return line


def recorded(name: str, section: str) -> bool:
    """Whether `section` names `name` as an identifier inside a code span."""
    return any(name in IDENTIFIER.findall(span) for span in CODE_SPAN.findall(section))


def breakages(repo: Path, package: str, against: str) -> list[griffe.Breakage]:
    """Every breaking change of `package`'s public API from `against` to the working tree."""
    with tempfile.TemporaryDirectory() as old_root:
        archive = git(repo, "archive", "--format=tar", against, package)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(old_root, filter="data")
        old = griffe.load(
            package, search_paths=[old_root], allow_inspection=False, try_relative_path=False
        )
        new = griffe.load(
            package, search_paths=[str(repo)], allow_inspection=False, try_relative_path=False
        )
        return list(griffe.find_breaking_changes(old, new))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", default="zof_async")
    parser.add_argument("--against", help="a git ref (default: the last v* tag)")
    parser.add_argument("--repo", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    repo = args.repo.resolve()
    against = args.against or last_tag(repo) or recorded_release(repo)
    if against is None:
        print(
            "api_check: no release tag (v*) to compare with: tag the last release, "
            "e.g. `git tag v0.1.0 <commit>` (a shallow or tagless clone has none)",
            file=sys.stderr,
        )
        return 1
    found = breakages(repo, args.package, against)
    section = unreleased((repo / "CHANGELOG.md").read_text(encoding="utf-8"))
    changed = section != unreleased(changelog_at(repo, against))
    missing = [b for b in found if not (changed and recorded(named(b), section))]
    for breakage in found:
        mark = "MISSING" if breakage in missing else "recorded"
        print(f"{mark}: {describe(breakage)}")
    print(f"api_check: {len(found)} breaking change(s) since {against}, {len(missing)} unrecorded")
    if missing:
        print(
            "api_check: name each MISSING object in a code span under CHANGELOG.md's "
            "## [Unreleased] (see docs/versioning.md)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
