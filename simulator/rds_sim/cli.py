"""rds-sim command line: up, down, serve, show, stats, fault, scenarios."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import typing as t
import urllib.error
import urllib.request

from rds_sim import fleet, scenarios, tls, transports
from rds_sim.limits import Limits


def _control(directory: str, method: str, path: str, body: t.Any = None, timeout: float = 10.0) -> t.Any:
    meta = fleet.FleetDir(directory).read_meta()
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{meta['port']}/_sim/{path}", data=data, method=method,
                                     headers={"X-RDS-Sim-Token": meta.get("control_token", "")})
    # The fleet is on loopback; never send its traffic through a proxy.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def _serve(args: argparse.Namespace) -> int:
    import threading

    from rds_sim.wsman import ShellTable, WSManServer

    server_fleet = fleet.FleetServer(args.dir, args.collection)
    shells = ShellTable()
    servers = []
    for listener, port in server_fleet.meta.get("listeners", {"http": server_fleet.meta["port"]}).items():
        material = server_fleet.meta.get("tls", {}).get(listener)
        context = tls.server_context(material["cert"], material["key"]) if material else None
        binding = tls.channel_binding_hash(material["cert"]) if material else None
        servers.append(WSManServer(("127.0.0.1", port), server_fleet, listener, shells, context, binding))
    signal.signal(signal.SIGTERM, lambda *_: server_fleet.stop_requested.set())
    for server in servers:
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    ports = ", ".join(f"{server.listener} 127.0.0.1:{server.server_address[1]}" for server in servers)
    print(f"rds-sim serving {len(server_fleet.hosts)} hosts on {ports}", flush=True)
    try:
        while not server_fleet.stop_requested.wait(0.5):
            pass
    finally:
        for server in servers:
            server.shutdown()
        server_fleet.save_all()
    return 0


def _up(args: argparse.Namespace) -> int:
    limits = Limits(max_envelope_kb=args.max_envelope_kb, max_shells_per_user=args.max_shells_per_user,
                    max_operations_per_user=args.max_operations_per_user, idle_timeout_ms=args.idle_timeout_ms)
    meta = fleet.create(args.dir, args.hosts, args.scenario or ["fresh"], args.latency_ms, args.fault or [], args.port,
                        args.transport, args.host_transport or [], limits, args.serve_peer_modules)
    paths = fleet.FleetDir(args.dir)
    log = open(paths.log, "w", encoding="utf-8")
    command = [sys.executable, "-m", "rds_sim.cli", "serve", "--dir", paths.root]
    if args.collection:
        command += ["--collection", args.collection]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    meta["pid"] = process.pid
    paths.write_json(paths.meta, meta)
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            print(f"rds-sim: the server exited at start; see {paths.log}", file=sys.stderr)
            return 1
        try:
            _control(args.dir, "GET", "ping", timeout=1)
            break
        except (OSError, urllib.error.URLError):
            time.sleep(0.1)
    else:
        print("rds-sim: the server did not answer within 60 s", file=sys.stderr)
        return 1
    listeners = ", ".join(f"{name} {port}" for name, port in meta["listeners"].items())
    print(f"rds-sim: {len(meta['hosts'])} hosts on 127.0.0.1 ({listeners}); inventory {paths.inventory}")
    return 0


def _down(args: argparse.Namespace) -> int:
    paths = fleet.FleetDir(args.dir)
    if not os.path.exists(paths.meta):
        print(f"rds-sim: no fleet in {paths.root}", file=sys.stderr)
        return 1
    meta = paths.read_meta()
    pid = meta.get("pid")
    # A stale directory's port and PID may belong to something else by now: signal only our own server.
    try:
        ping = _control(args.dir, "GET", "ping", timeout=5)
    except (OSError, urllib.error.URLError, ValueError):
        ping = None
    if not ping or ping.get("fleet") != fleet.fleet_id(str(meta.get("control_token") or "")) or ping.get("pid") != pid:
        print(f"rds-sim: nothing of this fleet answers on port {meta.get('port')} (a stale directory?); "
              "nothing was signalled", file=sys.stderr)
        return 1
    try:
        _control(args.dir, "POST", "shutdown", {}, timeout=5)
    except (OSError, urllib.error.URLError):
        pass
    deadline = time.time() + 15
    while pid and time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        try:  # reap it when it is our child (tests run up and down in one process)
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                break
        except ChildProcessError:
            pass
        time.sleep(0.1)
    else:
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    print("rds-sim: fleet stopped")
    return 0


def _fault(args: argparse.Namespace) -> int:
    state = _control(args.dir, "GET", f"hosts/{args.host}")
    faults = {} if args.clear else state["faults"]
    for text in args.set or []:
        host, kind, value = fleet.parse_fault(f"{args.host}={text}")
        del host
        faults[kind] = value
    _control(args.dir, "POST", f"hosts/{args.host}/faults", faults)
    print(json.dumps(faults, indent=1))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rds-sim", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="create a fleet and start its server in the background")
    up.add_argument("--dir", required=True)
    up.add_argument("--hosts", type=int, default=1)
    up.add_argument("--scenario", action="append", help="preset (repeat to mix; join with + to combine)")
    up.add_argument("--latency-ms", type=float, default=0.0, help="simulated powershell.exe start-up per command")
    up.add_argument("--fault", action="append", help="HOST=KIND[:ARG]; kinds: " + ", ".join(fleet.FAULT_KINDS))
    up.add_argument("--port", type=int, default=0, help="port of the HTTP listener (default: a free one)")
    up.add_argument("--transport", default="basic", choices=list(transports.TRANSPORTS),
                    help="how every host is reached: " + "; ".join(f"{t.name}: {t.description}"
                                                                   for t in transports.TRANSPORTS.values()))
    up.add_argument("--host-transport", action="append", metavar="HOST=TRANSPORT",
                    help="another transport for one host (repeat for more)")
    defaults = Limits()
    up.add_argument("--max-envelope-kb", type=int, default=defaults.max_envelope_kb,
                    help="MaxEnvelopeSizekb: largest request accepted (Windows default 500)")
    up.add_argument("--max-shells-per-user", type=int, default=defaults.max_shells_per_user,
                    help="MaxShellsPerUser per host (Windows default 30)")
    up.add_argument("--max-operations-per-user", type=int, default=defaults.max_operations_per_user,
                    help="MaxConcurrentOperationsPerUser per host: open shells plus commands (Windows default 1500)")
    up.add_argument("--idle-timeout-ms", type=int, default=defaults.idle_timeout_ms,
                    help="winrs IdleTimeout: a shell unused this long is closed (Windows default 7200000)")
    up.add_argument("--collection", default=None, help="collection checkout whose agent the hosts accept")
    up.add_argument("--serve-peer-modules", action="store_true",
                    help="benchmark only: also answer ansible.windows win_reg_stat, win_regedit, win_shell and "
                         "trivial commands (echo ok, hostname) from the same host model")
    serve = sub.add_parser("serve", help="run the server of an existing fleet in the foreground")
    serve.add_argument("--dir", required=True)
    serve.add_argument("--collection", default=fleet.DEFAULT_COLLECTION_ROOT)
    down = sub.add_parser("down", help="stop a fleet (its state stays on disk)")
    down.add_argument("--dir", required=True)
    show = sub.add_parser("show", help="print a host's registry and WMI state as JSON")
    show.add_argument("--dir", required=True)
    show.add_argument("host")
    stats = sub.add_parser("stats", help="print per-host counters as JSON")
    stats.add_argument("--dir", required=True)
    fault = sub.add_parser("fault", help="set or clear faults on a running host")
    fault.add_argument("--dir", required=True)
    fault.add_argument("host")
    fault.add_argument("--set", action="append", help="KIND[:ARG]")
    fault.add_argument("--clear", action="store_true")
    sub.add_parser("scenarios", help="list the presets")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "up":
            return _up(args)
        if args.command == "serve":
            return _serve(args)
        if args.command == "down":
            return _down(args)
        if args.command == "show":
            print(json.dumps(_control(args.dir, "GET", f"hosts/{args.host}"), indent=1))
            return 0
        if args.command == "stats":
            print(json.dumps(_control(args.dir, "GET", "stats"), indent=1))
            return 0
        if args.command == "fault":
            return _fault(args)
        for name in scenarios.names():
            print(f"{name:16} {scenarios.DESCRIPTIONS[name]}")
        return 0
    except ValueError as exc:
        print(f"rds-sim: {exc}", file=sys.stderr)
        return 2
    except (OSError, urllib.error.URLError) as exc:
        print(f"rds-sim: cannot reach the fleet in {args.dir}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
