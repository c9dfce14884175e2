"""Loading a spec and resolving its local `$ref`s (no network, cycle-safe)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml


class SpecError(Exception):
    """A spec cannot be read, is not a mapping, or holds a `$ref` that cannot be resolved."""


def load_spec(path: str | Path) -> dict[str, Any]:
    """Read one OpenAPI document (YAML or JSON) from disk."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise SpecError(f"{path}: not an OpenAPI document (the top level is not a mapping)")
    return data


def as_map(value: object) -> dict[str, Any]:
    """`value` if it is a mapping, else an empty one (specs are loosely typed YAML)."""
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def canonical(value: object) -> str:
    """A hashable, type-exact spelling of a JSON value (`1`, `1.0` and `true` stay distinct)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


class Resolver:
    """Resolves local JSON-pointer `$ref`s (`#/components/...`) inside one document."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._doc = document

    def lookup(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise SpecError(f"unsupported $ref {ref!r}: only local '#/...' references are resolved")
        node: Any = self._doc
        for raw in ref[2:].split("/"):
            key = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, Mapping) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                raise SpecError(f"unresolvable $ref {ref!r}")
        return node

    def deref(self, node: Any) -> tuple[Any, tuple[str, ...]]:
        """Follow a chain of `$ref`s to its target; also return the refs followed.

        Siblings of `$ref` are ignored (OpenAPI 3.0). A chain that loops is an error; a schema
        that refers to itself through its properties is not (see `schema.flatten`)."""
        followed: list[str] = []
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref: str = node["$ref"]
            if ref in followed:
                raise SpecError(f"$ref cycle: {' -> '.join([*followed, ref])}")
            followed.append(ref)
            node = self.lookup(ref)
        return node, tuple(followed)

    def mapping(self, node: Any) -> dict[str, Any]:
        """The mapping `node` refers to (empty when it is not a mapping)."""
        return as_map(self.deref(node)[0])
