"""The emulator's in-memory data: every record, indexed for the listings."""

from __future__ import annotations

import random
from collections import defaultdict

from ._index import Index
from ._records import ApiKey, Artifact, Org, Project, Result, Run, Suite


class Store:
    """Records by id plus the newest-first indexes the list endpoints read.

    Not thread-safe by itself: the emulator serialises access with its lock.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.orgs: dict[str, Org] = {}
        self.keys: dict[str, ApiKey] = {}
        self.projects: dict[str, Project] = {}
        self.suites: dict[str, Suite] = {}
        self.case_project: dict[str, str] = {}
        self.runs: dict[str, Run] = {}
        self.results: dict[str, Result] = {}
        self.artifacts: dict[str, Artifact] = {}
        self.org_runs: defaultdict[str, Index] = defaultdict(Index)
        self.org_results: defaultdict[str, Index] = defaultdict(Index)
        self.run_results: defaultdict[str, Index] = defaultdict(Index)
        self.run_artifacts: defaultdict[str, Index] = defaultdict(Index)
        self.result_artifacts: defaultdict[str, Index] = defaultdict(Index)

    def new_id(self, prefix: str) -> str:
        """A fresh, unguessable-looking id such as `run_0f3a...`."""
        return f"{prefix}_{self.rng.getrandbits(80):020x}"

    def add_org(self, org: Org) -> Org:
        self.orgs[org.id] = org
        return org

    def add_key(self, key: ApiKey) -> ApiKey:
        self.keys[key.secret] = key
        return key

    def add_project(self, project: Project) -> Project:
        self.projects[project.id] = project
        for case in project.case_ids:
            self.case_project[case] = project.id
        return project

    def add_suite(self, suite: Suite) -> Suite:
        self.suites[suite.id] = suite
        return suite

    def add_run(self, run: Run) -> Run:
        self.runs[run.id] = run
        self.org_runs[run.org_id].add(run.key)
        return run

    def add_result(self, result: Result) -> Result:
        self.results[result.id] = result
        self.org_results[result.org_id].add(result.key)
        self.run_results[result.run_id].add(result.key)
        return result

    def add_artifact(self, artifact: Artifact) -> Artifact:
        self.artifacts[artifact.id] = artifact
        self.run_artifacts[artifact.run_id].add(artifact.key)
        if artifact.result_id is not None:
            self.result_artifacts[artifact.result_id].add(artifact.key)
        return artifact
