"""Builds plugins/plugin_utils/_agent_deflated.txt: the agent as sent, compressed once with zopfli.

zopfli writes standard DEFLATE (what .NET's DeflateStream and Python's zlib read), only smaller than zlib's best,
so it is a build-time tool (requirements-dev.txt), never a runtime dependency. Run `make agent-wire` after changing
_agent.ps1; tests/unit/test_agent_wire.py fails while the file is stale.
"""

from __future__ import annotations

import base64
import importlib.util
import os
import zlib

import zopfli.zopfli

from tests.helpers.paths import ROOT

# Loaded by path, as rds-sim loads it, so that `python -m tests.helpers.agent_wire` needs no collection path.
_SPEC = importlib.util.spec_from_file_location("agent_wire_payload", os.path.join(ROOT, "plugins", "plugin_utils", "_agent_payload.py"))
payload = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(payload)
TARGET = os.path.join(ROOT, "plugins", "plugin_utils", payload.DEFLATED_AGENT_FILE)


def build() -> str:
    """The file's content: the SHA-256 of the agent text it is made from, then the raw DEFLATE stream of that text
    minified, in Ascii85 as it travels."""
    text = payload.minify_agent(payload.agent_text()).encode("utf-8")
    # zopfli's zlib container: a 2-byte header and a 4-byte Adler-32 around the raw DEFLATE stream.
    raw = zopfli.zopfli.compress(text, numiterations=100)[2:-4]
    if zlib.decompress(raw, -15) != text:
        raise RuntimeError("zopfli's stream does not inflate to the agent text")
    return payload.prebuilt_file_text(payload.source_sha256(), payload.ascii85(raw))


def main() -> None:
    content = build()
    with open(TARGET, "w", encoding="ascii", newline="\n") as handle:
        handle.write(content)
    deflated = content.split()[2]
    print(f"{TARGET}: {len(deflated)} Ascii85 characters ({len(base64.a85decode(deflated))} bytes deflated)")


if __name__ == "__main__":
    main()
