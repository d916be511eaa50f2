"""The floor without Ansible: one plain pywinrm command (`hostname`, cmd shell) per host of an
rds-sim fleet, `--forks` hosts at a time. Exits 1 when a host did not answer with exit code 0."""

from __future__ import annotations

import argparse
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import winrm


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fleet", required=True, help="rds-sim fleet directory")
    parser.add_argument("--forks", type=int, default=20)
    args = parser.parse_args(argv)
    with open(os.path.join(args.fleet, "fleet.json"), encoding="utf-8") as handle:
        meta = json.load(handle)

    def run(host: str) -> int:
        # winrm.Session would drop the /wsman/<host> path rds-sim tells hosts apart by; Protocol keeps it.
        protocol = winrm.Protocol(endpoint=f"http://127.0.0.1:{meta['port']}/wsman/{host}", transport="basic",
                                  username=meta["username"], password=meta["password"])
        shell_id = protocol.open_shell()
        try:
            command_id = protocol.run_command(shell_id, "hostname")
            _, _, code = protocol.get_command_output(shell_id, command_id)
            protocol.cleanup_command(shell_id, command_id)
        finally:
            protocol.close_shell(shell_id)
        return code

    with ThreadPoolExecutor(max_workers=args.forks) as pool:
        codes = dict(zip(meta["hosts"], pool.map(run, meta["hosts"])))
    failed = sorted(host for host, code in codes.items() if code != 0)
    print(json.dumps({"hosts": len(codes), "failed": failed}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
