"""Recorded answers of real hosts (the lab kit): where they are saved, what the host was, and how an
answer of rds-sim is compared with a recorded one.

`make contract-record` with RDS_CONTRACT_ENDPOINT set saves one JSON file per vector under
recordings/<build>/ (Windows) or recordings/rds-sim-example/ (answers of the simulator itself, kept only
as a worked example and never to be read as Windows behaviour).
"""

from __future__ import annotations

import datetime
import glob
import hashlib
import ipaddress
import json
import os
import typing as t
import urllib.parse

RECORDINGS_DIR = os.path.join(os.path.dirname(__file__), "recordings")
SIMULATOR_DIR = "rds-sim-example"
SOURCES = ("windows", "rds-sim")
CURRENT_VERSION = "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"


class RecordingRefused(Exception):
    pass


def source_for(endpoint: str) -> str:
    """windows or rds-sim, from RDS_CONTRACT_SOURCE; a loopback endpoint is never taken for Windows."""
    source = os.environ.get("RDS_CONTRACT_SOURCE", "windows")
    if source not in SOURCES:
        raise RecordingRefused(f"RDS_CONTRACT_SOURCE must be one of {', '.join(SOURCES)}, not {source!r}")
    host = urllib.parse.urlparse(endpoint).hostname or ""
    loopback = host == "localhost" or (_is_ip(host) and ipaddress.ip_address(host).is_loopback)
    if loopback and source == "windows":
        raise RecordingRefused(
            f"{endpoint} is a loopback address, which is rds-sim on this machine; set RDS_CONTRACT_SOURCE=rds-sim so "
            "the recordings are filed as simulator answers, not as Windows ones")
    return source


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def host_identity(client: t.Any) -> dict[str, t.Any]:
    """The host's build (CurrentBuild.UBR), product name and PowerShell version, read through the agent."""
    answer = client.run({"version": 2, "ops": [{"id": "os", "op": "read_key", "path": CURRENT_VERSION, "view": 64}]})
    values = {entry["name"].lower(): entry["data"] for entry in answer["results"][0].get("values") or []}
    build = str(values.get("currentbuild") or values.get("currentbuildnumber") or "unknown")
    if values.get("ubr") is not None:
        build = f"{build}.{values['ubr']}"
    return {"build": build, "product_name": values.get("productname"), "ps_version": answer["host"].get("ps_version")}


def directory_for(source: str, identity: dict[str, t.Any]) -> str:
    return os.path.join(RECORDINGS_DIR, SIMULATOR_DIR if source == "rds-sim" else identity["build"])


def vector_digest(vector_path: str) -> str:
    with open(vector_path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def save(vector_path: str, source: str, identity: dict[str, t.Any], request: dict[str, t.Any],
         answer: dict[str, t.Any]) -> str:
    directory = directory_for(source, identity)
    os.makedirs(directory, exist_ok=True)
    name = os.path.basename(vector_path)
    document = {
        "source": source,
        "note": "answers of rds-sim, a worked example of the lab kit; NOT Windows behaviour" if source == "rds-sim"
        else "answers of a real Windows host",
        "vector": name[:-5],
        "vector_sha256": vector_digest(vector_path),
        "recorded_at": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "host": identity,
        "request": request,
        "answer": answer,
    }
    # The connection account is the lab's business, not the recording's.
    if isinstance(answer.get("host"), dict) and "user" in answer["host"]:
        answer = {**answer, "host": {**answer["host"], "user": "REDACTED\\user"}}
        document["answer"] = answer
    target = os.path.join(directory, name)
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=1, ensure_ascii=False, sort_keys=False)
        handle.write("\n")
    return target


def all_recordings() -> list[str]:
    return sorted(glob.glob(os.path.join(RECORDINGS_DIR, "*", "*.json")))


def load(path: str) -> dict[str, t.Any]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _kind(value: t.Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def _pairing_key(items: list[t.Any]) -> str | None:
    for key in ("name", "path", "id"):
        if items and all(isinstance(item, dict) and key in item for item in items):
            return key
    return None


def shape_problems(recorded: t.Any, simulated: t.Any, where: str = "$") -> list[str]:
    """Where rds-sim's answer is not shaped like the recorded one: object keys, JSON types, and list
    items paired by name, path or id (a real host holds other values than a simulated one, so data
    and list lengths are not compared; only what both hold is)."""
    if _kind(recorded) != _kind(simulated):
        return [f"{where}: recorded {_kind(recorded)} {recorded!r:.120}, rds-sim {_kind(simulated)} {simulated!r:.120}"]
    if isinstance(recorded, dict):
        problems = [f"{where}.{key}: only the recording has it" for key in sorted(set(recorded) - set(simulated))]
        problems += [f"{where}.{key}: only rds-sim has it" for key in sorted(set(simulated) - set(recorded))]
        for key in sorted(set(recorded) & set(simulated)):
            problems += shape_problems(recorded[key], simulated[key], f"{where}.{key}")
        return problems
    if isinstance(recorded, list):
        key = _pairing_key(recorded) if _pairing_key(recorded) == _pairing_key(simulated) else None
        if key is None:
            return [problem for index, (left, right) in enumerate(zip(recorded, simulated))
                    for problem in shape_problems(left, right, f"{where}[{index}]")]
        by_key = {str(item[key]).lower(): item for item in simulated}
        return [problem for item in recorded if str(item[key]).lower() in by_key
                for problem in shape_problems(item, by_key[str(item[key]).lower()], f"{where}[{key}={item[key]!r}]")]
    return []
