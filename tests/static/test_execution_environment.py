"""The execution-environment files ansible-builder reads point at real files with what the
collection imports on the controller."""

from __future__ import annotations

import os

import yaml

from tests.helpers.paths import ROOT


def load(path: str):
    with open(os.path.join(ROOT, path), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_collection_metadata_names_existing_requirement_files():
    meta = load("meta/execution-environment.yml")
    for kind in ("python", "system"):
        assert os.path.isfile(os.path.join(ROOT, meta["dependencies"][kind])), kind
    with open(os.path.join(ROOT, meta["dependencies"]["python"]), encoding="utf-8") as handle:
        names = {line.split(">")[0].split("[")[0].strip() for line in handle if line.strip() and not line.startswith("#")}
    assert names == {"pywinrm", "pypsrp", "jmespath"}


def test_example_builds_on_the_collection():
    example = load("execution-environment.yml")
    assert example["version"] == 3
    assert {"name": "remote_desktop.licensing"} in example["dependencies"]["galaxy"]["collections"]


def test_example_pins_its_base_image_and_the_tested_cores():
    from tests.matrix.run_matrix import CORES

    example = load("execution-environment.yml")
    name, _, tag = example["images"]["base_image"]["name"].rpartition(":")
    assert name and tag and tag != "latest", "the base image must be pinned to a tag"
    floor, ceiling = sorted(CORES, key=lambda core: tuple(int(part) for part in core.split(".")))[::len(CORES) - 1]
    major, minor = ceiling.split(".")
    assert example["dependencies"]["ansible_core"]["package_pip"] == f"ansible-core>={floor},<{major}.{int(minor) + 1}"
    with open(os.path.join(ROOT, "meta", "runtime.yml"), encoding="utf-8") as handle:
        assert yaml.safe_load(handle)["requires_ansible"] == f">={floor}.0"
