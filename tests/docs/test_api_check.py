"""`.ci/api_check.py` (`nox -s api_check`) fails on a public break the changelog does not name.

Each test makes a small git repository of its own: a package `toypkg` with a
public function, a CHANGELOG.md, and a release tag `v0.1.0`, then changes the
signature and runs the check as CI does (a separate process, in the repository).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.processes import run

CHECK = Path(__file__).resolve().parents[2] / ".ci" / "api_check.py"
RELEASED = '__all__ = ["greet"]\n\n\ndef greet(name: str, *, loud: bool = False) -> str:\n    return name\n'
CHANGELOG = "# Changelog\n\n## [Unreleased]\n\n## [0.1.0] - 2026-11-23\n\n- `greet()`.\n"


def git(repo: Path, *args: str) -> None:
    done = run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repo), *args], timeout=60
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose last release, tagged v0.1.0, has `greet(name, *, loud=False)`."""
    if not CHECK.exists():
        pytest.skip("no .ci/ here (an sdist): the check is the repository's")
    (tmp_path / "toypkg").mkdir()
    (tmp_path / "toypkg" / "__init__.py").write_text(RELEASED)
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "release")
    git(tmp_path, "tag", "v0.1.0")
    return tmp_path


def check(repo: Path) -> tuple[int, str]:
    done = run([sys.executable, str(CHECK), "--package", "toypkg"], cwd=repo, timeout=120)
    return done.returncode, done.stdout + done.stderr


def unreleased(repo: Path, entry: str) -> None:
    text = CHANGELOG.replace("## [Unreleased]\n", f"## [Unreleased]\n\n{entry}\n")
    (repo / "CHANGELOG.md").write_text(text)


def break_greet(repo: Path) -> None:
    """Rename the keyword `loud` to `shout`: callers passing `loud=` break."""
    (repo / "toypkg" / "__init__.py").write_text(RELEASED.replace("loud", "shout"))


def test_an_unchanged_api_passes(repo: Path) -> None:
    """With the tag's API, the check finds no break and exits 0."""
    assert check(repo) == (0, "api_check: 0 breaking change(s) since v0.1.0, 0 unrecorded\n")


def test_a_changed_signature_without_a_changelog_entry_fails(repo: Path) -> None:
    """Removing a public parameter, with Unreleased as at the tag, fails and names it."""
    break_greet(repo)
    code, output = check(repo)
    assert code == 1, output
    assert "MISSING" in output
    assert "loud" in output


def test_an_entry_that_does_not_name_the_break_is_not_enough(repo: Path) -> None:
    """Unreleased changed, but names neither `loud` nor the function's parameter: still fails."""
    break_greet(repo)
    unreleased(repo, "### Changed\n\n- `greet()` is quieter.")
    code, output = check(repo)
    assert code == 1, output


def test_an_entry_naming_the_break_passes(repo: Path) -> None:
    """An Unreleased entry naming `loud=` in a code span records the break."""
    break_greet(repo)
    unreleased(repo, "### Removed\n\n- `greet(loud=)`: use `shout=`.")
    code, output = check(repo)
    assert code == 0, output
    assert "recorded" in output


def test_a_removed_public_name_is_a_break(repo: Path) -> None:
    """Dropping a name from `__all__` fails until the changelog names it."""
    (repo / "toypkg" / "__init__.py").write_text("__all__: list[str] = []\n")
    code, output = check(repo)
    assert code == 1, output
    unreleased(repo, "### Removed\n\n- `greet`.")
    assert check(repo)[0] == 0


def test_without_a_release_tag_the_check_fails(repo: Path) -> None:
    """No `v*` tag to compare with (a tagless clone): exit 1, saying how to tag one."""
    git(repo, "tag", "-d", "v0.1.0")
    code, output = check(repo)
    assert code == 1
    assert "git tag v0.1.0" in output


def test_a_clone_without_tags_compares_with_the_commit_last_release_names(repo: Path) -> None:
    """No tag, but `.ci/last-release` names the release's commit: the check still finds the break."""
    commit = run(["git", "-C", str(repo), "rev-parse", "HEAD"], timeout=60).stdout.strip()
    git(repo, "tag", "-d", "v0.1.0")
    (repo / ".ci").mkdir()
    (repo / ".ci" / "last-release").write_text(f"v0.1.0 {commit}\n")
    break_greet(repo)
    code, output = check(repo)
    assert code == 1 and "MISSING" in output and "loud" in output, output
    unreleased(repo, "### Changed\n\n- `greet(loud=)` is now `shout=`.")
    assert check(repo)[0] == 0
