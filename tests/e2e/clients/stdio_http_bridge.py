"""Puts an MCP stdio server behind MCP's streamable HTTP, so tools that only speak HTTP (the official
conformance suite) can reach the stdio transport.

The bridge is deliberately dumb: every message is passed through unchanged, one stdio server process per
HTTP session (started by the session's `initialize`), so what a client sees is what the stdio server
wrote. It answers nothing itself except what HTTP framing needs: the session header, 202 for
notifications, 404 for an unknown session, 405 for GET (no server-initiated stream).

usage: stdio_http_bridge.py PORT -- COMMAND [ARGS...]   (prints "listening" when ready)
"""

import json
import queue
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLY_TIMEOUT_S = 120


class StdioServer:
    """One stdio server process and the replies it has written, by JSON-RPC id."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.write_lock = threading.Lock()
        self.waiting = {}
        self.waiting_lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict) and ("result" in message or "error" in message):
                key = json.dumps(message.get("id"))
                with self.waiting_lock:
                    box = self.waiting.get(key)
                if box is not None:
                    box.put(line)

    def expect(self, request_id):
        box = queue.Queue()
        with self.waiting_lock:
            self.waiting[json.dumps(request_id)] = box
        return box

    def send(self, body):
        with self.write_lock:
            self.proc.stdin.write(body.replace(b"\n", b" ") + b"\n")
            self.proc.stdin.flush()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def make_handler(argv, sessions):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _reply(self, status, body=b"", headers=()):
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self._reply(405, b"no server-initiated stream over the stdio bridge")

        def do_DELETE(self):
            server = sessions.pop(self.headers.get("Mcp-Session-Id", ""), None)
            if server is None:
                return self._reply(404)
            server.stop()
            self._reply(200)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                message = json.loads(body)
            except ValueError:
                message = None
            session = self.headers.get("Mcp-Session-Id")
            headers = []
            if session is None and isinstance(message, dict) and message.get("method") == "initialize":
                session = uuid.uuid4().hex
                sessions[session] = StdioServer(argv)
                headers.append(("Mcp-Session-Id", session))
            server = sessions.get(session or "")
            if server is None:
                return self._reply(404, b"unknown session")
            # Whatever carries an id (or could not be parsed, answered with id null) waits for its reply.
            ids = []
            if message is None:
                ids = [None]
            else:
                for item in message if isinstance(message, list) else [message]:
                    if isinstance(item, dict) and "method" in item and "id" in item:
                        ids.append(item["id"])
            boxes = [server.expect(i) for i in ids]
            server.send(body)
            if not boxes:
                return self._reply(202, headers=headers)
            try:
                replies = [box.get(timeout=REPLY_TIMEOUT_S) for box in boxes]
            except queue.Empty:
                return self._reply(504, b"the stdio server did not answer")
            if isinstance(message, list):
                out = b"[" + b",".join(r.strip() for r in replies) + b"]"
            else:
                out = replies[0].strip()
            self._reply(200, out, headers + [("Content-Type", "application/json")])

    return Handler


def main():
    port = int(sys.argv[1])
    argv = sys.argv[sys.argv.index("--") + 1 :]
    sessions = {}
    httpd = ThreadingHTTPServer(("127.0.0.1", port), make_handler(argv, sessions))
    print("listening", flush=True)
    try:
        httpd.serve_forever()
    finally:
        for server in sessions.values():
            server.stop()


if __name__ == "__main__":
    main()
