"""registry_restore's controller side at scale: stream-read a generated .reg file, validate it,
build the reads and plan against the agent's answers, and report CPU time and peak memory of each
size in a fresh process (docs/performance.md, "registry_restore at scale").

    .venv/bin/python -m tests.bench.restore_scale 40000 380000

Shapes: "plain" is one [key] block with one REG_DWORD per key on a host that holds none of them
(a create_key and a set_value each, the worst case of a first restore); "interleaved" is a
[-key] and a [key] block per key on a host that holds each key (the shape that was quadratic).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import typing as t

from tests.helpers.paths import COLLECTIONS_PATH, ROOT

MS = "SOFTWARE\\Microsoft\\MSLicensing\\Store"


def key_path(shape: str, index: int) -> str:
    return f"{MS}\\LICENSE{index:06d}" if shape == "interleaved" else f"SOFTWARE\\RestoreScale\\K{index:06d}"


def write_file(path: str, shape: str, count: int) -> None:
    """A version 5.00 file in UTF-16 LE with a BOM, as regedit writes it, built line by line."""
    with open(path, "wb") as handle:
        handle.write(b"\xff\xfe" + "Windows Registry Editor Version 5.00\r\n\r\n".encode("utf-16-le"))
        for index in range(count):
            full = "HKEY_LOCAL_MACHINE\\" + key_path(shape, index)
            block = f"[-{full}]\r\n\r\n" if shape == "interleaved" else ""
            block += f"[{full}]\r\n\"v\"=dword:{index + 1:08x}\r\n\r\n"
            handle.write(block.encode("utf-16-le"))


def answers(shape: str, ops: list[dict[str, t.Any]]) -> dict[str, dict[str, t.Any]]:
    """What the agent would answer: nothing there (plain), or each key with an older value (interleaved)."""
    if shape == "plain":
        return {op["id"]: {"ok": True, "exists": False} for op in ops}
    return {op["id"]: {"ok": True, "exists": True, "keys": [
        {"path": op["path"], "values": [{"name": "v", "type": "dword", "data": 0}], "sddl": "D:AI(A;CIID;KA;;;SY)"}]}
        for op in ops}


def _rss_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


def measure(path: str, shape: str) -> dict[str, t.Any]:
    """In this process: read, validate, reads, plan; seconds and KiB of resident memory."""
    sys.path.insert(0, COLLECTIONS_PATH)
    from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _regfile
    from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _restore_plan as restore

    baseline = _rss_kib("VmRSS")
    started = time.process_time()
    with open(path, "rb") as handle:
        keys, _source = _regfile.read(handle)
    read_done = time.process_time()
    blocks = restore.blocks_from(keys)
    ops, ids = restore.read_ops(blocks)
    results = answers(shape, ops)
    answered = time.process_time()
    plan = restore.Plan(blocks, results, ids)
    planned = time.process_time()
    return {"read_s": round(read_done - started, 2), "validate_s": round(answered - read_done, 2),
            "plan_s": round(planned - answered, 2), "total_s": round(planned - started, 2),
            "write_ops": len(plan.ops), "plan_work": plan.work,
            "baseline_mib": round(baseline / 1024), "peak_mib": round(_rss_kib("VmHWM") / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[40000, 380000])
    parser.add_argument("--shapes", default="plain,interleaved")
    parser.add_argument("--child", nargs=2, metavar=("FILE", "SHAPE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child)))
        return
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for shape in args.shapes.split(","):
            for size in args.sizes:
                path = os.path.join(directory, f"{shape}-{size}.reg")
                write_file(path, shape, size)
                output = subprocess.run([sys.executable, "-m", "tests.bench.restore_scale", "--child", path, shape],
                                        cwd=ROOT, check=True, capture_output=True, text=True).stdout
                rows.append({"shape": shape, "keys": size, "file_mib": round(os.path.getsize(path) / 2**20, 1),
                             **json.loads(output)})
                os.unlink(path)
                print(json.dumps(rows[-1]), flush=True)


if __name__ == "__main__":
    main()
