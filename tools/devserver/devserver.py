#!/usr/bin/env python3
"""opensandbox.h development server.

A local server that speaks the OpenSandbox wire protocol (lifecycle API, one execd per
sandbox, the egress sidecar API) as described in shared/PROTOCOL.md.  Python 3 standard
library only.  A development and test tool: where Linux namespaces can be made, each sandbox
has its own overlay root, /tmp, hostname and PID namespace (osbdev/sandboxfs.py), which keeps
sandboxes apart but is not a security boundary (README.md).

    python3 tools/devserver/devserver.py [--host 127.0.0.1] [--port 0] [--api-key KEY]
        [--execd-token TOKEN] [--record FILE] [--ready-file FILE]

When it accepts connections it prints one JSON line {"domain": "127.0.0.1:PORT",
"api_key": "KEY"} to stdout and, with --ready-file, writes the same line to that file
(temporary file + rename).  SIGTERM / SIGINT stop it and every process it started.
"""

import argparse
import base64
import json
import os
import sys
import signal
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from osbdev import common, httpcore, lifecycle, sandboxfs, volumes  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description="OpenSandbox-compatible development server")
    p.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="lifecycle port (0 = any free port)")
    p.add_argument("--api-key", default=None,
                   help="lifecycle API key (default: a random key; empty string disables auth)")
    p.add_argument("--execd-token", default="",
                   help="require X-EXECD-ACCESS-TOKEN on every execd request")
    p.add_argument("--record", default=None, help="append one JSON line per HTTP exchange to FILE")
    p.add_argument("--ready-file", default=None, help="write the ready line to FILE")
    p.add_argument("--command-grace", default=None,
                   help="delay between the terminal event and the end of a /command stream "
                        "(Go duration or seconds; default $EXECD_API_GRACE_SHUTDOWN or 1s)")
    p.add_argument("--max-timeout", type=int, default=0,
                   help="largest accepted sandbox timeout in seconds (0 = no limit)")
    p.add_argument("--state-dir", default=None, help="state directory (default: a new temp dir)")
    p.add_argument("--spec-mode", type=int, default=0, metavar="N",
                   help="create answers state Pending; the sandbox turns Running after N GETs")
    p.add_argument("--stream-errors", choices=("bare", "event"), default="bare",
                   help="mid-stream failures as execd's bare {code,message} object (default) "
                        "or as an error event")
    p.add_argument("--no-code-interpreter", action="store_true",
                   help="behave like an image without Jupyter: /code with a language answers 500")
    p.add_argument("--vault-state", choices=("ready", "not-ready", "insecure-transport"),
                   default="ready", help="Credential Vault write readiness (412 / 426 switches)")
    p.add_argument("--run-entrypoint", action="store_true",
                   help="run each sandbox's entrypoint on the host as its main process; when it "
                        "exits the sandbox turns Terminated (exit 0) or Failed")
    p.add_argument("--endpoint-mode", choices=("docker", "k8s-header", "k8s-uri"), default="docker",
                   help="endpoint shapes: Docker bridge (default) or a Kubernetes ingress gateway "
                        "(header or URI routing, signed routes with ?expires=)")
    p.add_argument("--allowed-host-path", action="append", default=[], metavar="PREFIX",
                   help="host paths under PREFIX may be mounted as `host` volumes (repeatable; "
                        "default none: every host volume answers 400 HOST_PATH_NOT_ALLOWED)")
    p.add_argument("--volume-dir", default=None, metavar="DIR",
                   help="where named (`pvc`) volumes live, one subdirectory each "
                        "(default: STATE_DIR/volumes)")
    p.add_argument("--volume", action="append", default=[], metavar="NAME[=SEED_DIR]",
                   help="create named volume NAME at start-up, with a copy of SEED_DIR's tree")
    p.add_argument("--dns-upstream", action="append", default=[], metavar="HOST[:PORT]",
                   help="resolver the egress DNS proxy of sandboxes with a networkPolicy forwards "
                        "allowed names to (repeatable; default: the host's /etc/resolv.conf)")
    p.add_argument("--isolation", choices=("auto", "namespaces", "directories"), default="auto",
                   help="auto (default): each sandbox gets its own namespaces (overlay root, /tmp, "
                        "hostname, PIDs) where they can be made, else only its own root directory "
                        "for the file API; namespaces: fail at start-up without them")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    api_key = args.api_key
    if api_key is None:
        api_key = "osb-dev-" + base64.urlsafe_b64encode(os.urandom(12)).decode().rstrip("=")
    grace = args.command_grace
    if grace is None:
        grace = os.environ.get("EXECD_API_GRACE_SHUTDOWN", "1s")
    own_state = args.state_dir is None
    state_dir = args.state_dir or tempfile.mkdtemp(prefix="osb-devserver-")
    os.makedirs(state_dir, exist_ok=True)

    cfg = common.Config(
        host=args.host,
        api_key=api_key,
        execd_token=args.execd_token or "",
        command_grace=common.parse_duration(grace),
        max_timeout=args.max_timeout,
        state_dir=state_dir,
    )
    cfg.spec_mode = args.spec_mode
    cfg.stream_errors = args.stream_errors
    cfg.code_interpreter = not args.no_code_interpreter
    cfg.vault_state = args.vault_state
    cfg.endpoint_mode = args.endpoint_mode
    cfg.run_entrypoint = args.run_entrypoint
    cfg.allowed_host_paths = list(args.allowed_host_path)
    cfg.dns_upstreams = list(args.dns_upstream)
    cfg.volume_dir = args.volume_dir
    cfg.volume_seeds = [(v.partition("=")[0], v.partition("=")[2] or None) for v in args.volume]
    try:
        note = sandboxfs.choose_mode(args.isolation, state_dir)
    except sandboxfs.SandboxError as e:
        sys.stderr.write("devserver: --isolation namespaces: %s\n" % e)
        return 2
    if note:
        sys.stderr.write(note + "\n")
        sys.stderr.flush()
    recorder = httpcore.Recorder(args.record) if args.record else None
    try:
        app = lifecycle.Lifecycle(cfg, recorder)
    except (volumes.VolumeError, OSError) as e:
        sys.stderr.write("devserver: --volume: %s\n" % e)
        return 2
    server = httpcore.make_server(args.host, args.port, app, recorder)
    app.server = server
    port = server.server_address[1]
    host = args.host
    if ":" in host:
        host = "[" + host + "]"
    domain = "%s:%d" % (host, port)
    app.domain = domain

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        signal.signal(signal.SIGHUP, on_signal)
    except (AttributeError, ValueError):
        pass

    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    t.start()
    app.start_reaper()
    app.start_gateway()

    line = json.dumps({"domain": domain, "api_key": api_key})
    if args.ready_file:
        d = os.path.dirname(os.path.abspath(args.ready_file))
        fd, tmp = tempfile.mkstemp(prefix=".ready-", dir=d)
        with os.fdopen(fd, "w") as f:
            f.write(line + "\n")
        os.replace(tmp, args.ready_file)
    sys.stdout.write(line + "\n")
    sys.stdout.flush()

    while not stop.wait(0.5):
        pass

    try:
        server.shutdown()
    except Exception:
        pass
    server.server_close()
    app.shutdown()
    common.kill_all_processes()
    if recorder:
        recorder.close()
    if own_state:
        common.rmtree_quiet(state_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
