"""A host's HKLM registry: case-insensitive keys and values, typed data in the agent's wire form,
and the 32-bit view of SOFTWARE redirected to Wow6432Node as on 64-bit Windows."""

from __future__ import annotations

import copy
import typing as t

def real_path(path: str, view: int) -> str:
    """Where a path in a view lives in the one underlying tree."""
    parts = [part for part in path.split("\\") if part]
    if view == 32 and parts and parts[0].lower() == "software" and not (
        len(parts) > 1 and parts[1].lower() == "wow6432node"
    ):
        parts = ["SOFTWARE", "Wow6432Node"] + parts[1:]
    return "\\".join(parts)


def _unknown_fields(value: dict[str, t.Any]) -> dict[str, t.Any]:
    """A value of a kind outside the seven (type "unknown") also holds its kind number and whether its
    bytes are exact: REG_LINK and REG_RESOURCE_* come back from .NET without data, a REG_DWORD longer
    than 4 bytes as a long (its length lost)."""
    if value.get("type") != "unknown":
        return {}
    return {"kind": value.get("kind"), "exact": bool(value.get("exact", value.get("data") is not None))}


class Registry:
    """Keys by lower-case path; each holds its display path and its values by lower-case name."""

    def __init__(self, tree: dict[str, dict[str, dict[str, t.Any]]] | None = None):
        self._keys: dict[str, tuple[str, dict[str, dict[str, t.Any]]]] = {}
        for path, values in (tree or {}).items():
            self.create_key(path)
            for name, value in values.items():
                self.set_value(path, name, value["type"], value["data"], extra=_unknown_fields(value))

    def to_tree(self) -> dict[str, dict[str, dict[str, t.Any]]]:
        """The registry as JSON-friendly data: {path: {name: {type, data}}}, sorted."""
        tree = {}
        for lower in sorted(self._keys):
            path, values = self._keys[lower]
            tree[path] = {entry["name"]: {"type": entry["type"], "data": copy.deepcopy(entry["data"]), **_unknown_fields(entry)}
                          for _, entry in sorted(values.items())}
        return tree

    def key_exists(self, path: str, view: int = 64) -> bool:
        return real_path(path, view).lower() in self._keys

    def create_key(self, path: str, view: int = 64) -> None:
        # As in Windows, a key stores only its own name: an existing parent keeps its spelling.
        parts = real_path(path, view).split("\\")
        display = ""
        for depth in range(1, len(parts) + 1):
            lower = "\\".join(parts[:depth]).lower()
            candidate = f"{display}\\{parts[depth - 1]}" if display else parts[depth - 1]
            display = self._keys.setdefault(lower, (candidate, {}))[0]

    def values(self, path: str, view: int = 64) -> list[dict[str, t.Any]]:
        _, values = self._keys[real_path(path, view).lower()]
        return [copy.deepcopy(entry) for entry in values.values()]

    def subkeys(self, path: str, view: int = 64) -> list[str]:
        prefix = real_path(path, view).lower() + "\\"
        names = []
        for lower, (display, _) in self._keys.items():
            if lower.startswith(prefix) and "\\" not in lower[len(prefix):]:
                names.append(display.split("\\")[-1])
        return sorted(names, key=str.lower)

    def display(self, path: str, view: int = 64) -> str:
        """The stored spelling of a key's path."""
        entry = self._keys.get(real_path(path, view).lower())
        return entry[0] if entry else real_path(path, view)

    def get_value(self, path: str, name: str, view: int = 64) -> dict[str, t.Any] | None:
        key = self._keys.get(real_path(path, view).lower())
        if key is None:
            return None
        entry = key[1].get(name.lower())
        return copy.deepcopy(entry) if entry else None

    def set_value(self, path: str, name: str, value_type: str, data: t.Any, view: int = 64,
                  extra: dict[str, t.Any] | None = None) -> None:
        self.create_key(path, view)
        _, values = self._keys[real_path(path, view).lower()]
        existing = values.get(name.lower())
        values[name.lower()] = {"name": existing["name"] if existing else name, "type": value_type, "data": data, **(extra or {})}

    def delete_value(self, path: str, name: str, view: int = 64) -> bool:
        key = self._keys.get(real_path(path, view).lower())
        return bool(key) and key[1].pop(name.lower(), None) is not None

    def delete_tree(self, path: str, view: int = 64) -> bool:
        lower = real_path(path, view).lower()
        doomed = [key for key in self._keys if key == lower or key.startswith(lower + "\\")]
        for key in doomed:
            del self._keys[key]
        return bool(doomed)
