"""Webhook sinks (lab): record every notification Alertmanager sends, one JSON-lines file per receiver.

Why: the lab has no pager. Each receiver's webhook (``http://<controller>:9095/<receiver>``)
lands here and is appended, as Alertmanager sent it plus the time it arrived, to
``<dir>/<receiver>.jsonl`` — so tests and users can see what reached whom, and when.
Only the receivers of the rendered Alertmanager config are accepted (anything else: 404).

Run as ``python -m egovops.monitor.sinks --dir DIR --listen ADDR:PORT --receiver noc-a ...``.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MAX_BODY = 4 * 1024 * 1024


def serve(directory: Path, host: str, port: int, receivers: set[str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server API)
            name = self.path.strip("/")
            if name not in receivers:
                self._reply(404, f"unknown receiver {name!r}\n")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0 or length > MAX_BODY:
                self._reply(400, "body missing or too large\n")
                return
            try:
                payload = json.loads(self.rfile.read(length))
            except ValueError:
                self._reply(400, "not JSON\n")
                return
            line = json.dumps({"received_at": time.time(), "receiver": name, "payload": payload},
                              sort_keys=True, ensure_ascii=False)
            with lock, open(directory / f"{name}.jsonl", "a", encoding="utf-8") as f:
                f.write(line + "\n")
            self._reply(200, "ok\n")

        def _reply(self, code: int, text: str) -> None:
            body = text.encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt: str, *args) -> None:
            pass

    ThreadingHTTPServer((host, port), Handler).serve_forever()


def read(directory: Path) -> dict[str, list[dict]]:
    """Every recorded notification per receiver (a line that is not JSON raises: never skipped)."""
    out: dict[str, list[dict]] = {}
    if not directory.is_dir():
        return out
    for f in sorted(directory.glob("*.jsonl")):
        rows = []
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                rows.append(json.loads(line))
            except ValueError:
                raise ValueError(f"{f}:{n}: not a JSON line") from None
        out[f.stem] = rows
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--listen", required=True, help="ADDRESS:PORT")
    ap.add_argument("--receiver", action="append", required=True)
    a = ap.parse_args(argv)
    host, _, port = a.listen.rpartition(":")
    serve(Path(a.dir), host.strip("[]"), int(port), set(a.receiver))


if __name__ == "__main__":
    main()
