"""The backend registries: every `kind` a config union names has a backend line and every
line a kind, and each line imports to what it names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

import edge.classify
import edge.detect
import edge.sources
from edge.classify.config import ClassifierConfig
from edge.detect.config import DetectorConfig
from edge.registry import kinds_of, load
from edge.sources.config import SourceConfig

# (config union, its role's backend table, kinds opened by a policy rather than a backend)
ROLES: dict[str, tuple[Any, Mapping[str, str], set[str]]] = {
    "sources": (SourceConfig, edge.sources.BACKENDS, set()),
    "detect": (DetectorConfig, edge.detect.BACKENDS, {"auto"}),  # YuNet, else Haar
    "classify": (ClassifierConfig, edge.classify.BACKENDS, set()),
}


@pytest.mark.parametrize("role", ROLES)
def test_every_kind_has_a_backend_and_back(role: str) -> None:
    config, backends, policies = ROLES[role]
    assert set(kinds_of(config)) == set(backends) | policies
    assert not set(backends) & policies


@pytest.mark.parametrize("role", ROLES)
def test_every_backend_line_imports_what_it_names(role: str) -> None:
    _, backends, _ = ROLES[role]
    for kind, target in backends.items():
        backend = load(target)
        assert callable(backend), kind
        assert backend.__name__ == target.partition(":")[2]


def test_every_source_check_is_for_a_kind_and_imports() -> None:
    assert set(edge.sources.CHECKS) <= set(edge.sources.BACKENDS)
    assert all(callable(load(target)) for target in edge.sources.CHECKS.values())


def test_kinds_come_from_the_union_in_order() -> None:
    assert kinds_of(SourceConfig) == ("picamera", "opencv", "images")
    assert kinds_of(DetectorConfig) == ("auto", "haar", "yunet", "whole_frame")
    assert kinds_of(ClassifierConfig) == ("tflite",)


def test_load_names_what_is_missing() -> None:
    with pytest.raises(AttributeError, match="NoSuchSource"):
        load("edge.sources.images:NoSuchSource")
    with pytest.raises(ModuleNotFoundError, match=r"edge\.sources\.absent"):
        load("edge.sources.absent:Source")
