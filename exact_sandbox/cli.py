"""``python -m exact_sandbox``: run the sandbox on a local port."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from werkzeug.serving import make_server

from .app import DEFAULT_REDIRECT_URI, DEFAULT_SAVE_INTERVAL, Sandbox
from .clock import ScaledClock


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m exact_sandbox",
        description="A local emulator of Exact Online (OAuth2 + REST).",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    p.add_argument("--client-id")
    p.add_argument("--client-secret")
    p.add_argument("--redirect-uri", help=f"default {DEFAULT_REDIRECT_URI}")
    p.add_argument("--seed", choices=("demo", "empty"), default="demo")
    p.add_argument("--state", metavar="FILE", help="keep everything in this JSON file")
    p.add_argument("--minutely-limit", type=int, default=60)
    p.add_argument("--daily-limit", type=int, default=5000)
    p.add_argument(
        "--time-scale", type=float, default=1.0, help="the sandbox clock runs N times faster"
    )
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="RULE",
        help="e.g. 'POST salesentry/SalesEntries* store-and-hang n=1' (repeatable)",
    )
    p.add_argument("--seed-rng", type=int, default=None, help="seed for p= fault selection")
    p.add_argument("--language", choices=("nl", "en"), default="nl")
    p.add_argument(
        "--refuse-zero-entries", action="store_true", help="refuse sales entries whose total is 0"
    )
    p.add_argument("--base-url", help="public base URL if not http://HOST:PORT")
    p.add_argument(
        "--error-block",
        type=int,
        default=0,
        metavar="N",
        help="block an endpoint for an hour after more than N failed calls in an hour "
        "(per app, division and endpoint, as Exact does with 10); 0 (default) = off",
    )
    p.add_argument(
        "--save-interval",
        type=float,
        default=DEFAULT_SAVE_INTERVAL,
        metavar="S",
        help=f"with --state: write the file at most every S seconds (default "
        f"{DEFAULT_SAVE_INTERVAL}; 0 = after every change); always on exit",
    )
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if bool(args.client_id) != bool(args.client_secret):
        print("give --client-id and --client-secret together", file=sys.stderr)
        return 2
    clock = ScaledClock(args.time_scale) if args.time_scale != 1.0 else None
    try:
        sb = Sandbox(
            clock=clock,
            client_id=args.client_id,
            client_secret=args.client_secret,
            redirect_uri=args.redirect_uri,
            seed=args.seed,
            minutely_limit=args.minutely_limit,
            daily_limit=args.daily_limit,
            language=args.language,
            refuse_zero_entries=args.refuse_zero_entries,
            state_file=args.state,
            rng_seed=args.seed_rng,
            faults=args.fault,
            error_block_threshold=args.error_block,
            save_interval=args.save_interval,
        )
    except ValueError as exc:
        print(f"exact_sandbox: {exc}", file=sys.stderr)
        return 2
    server = make_server(args.host, args.port, sb, threaded=True)
    host, port = server.server_address[:2]
    shown_host = f"[{host}]" if ":" in host else host
    sb.base_url = (args.base_url or f"http://{shown_host}:{port}").rstrip("/")
    print(f"Exact Online sandbox running at {sb.base_url}")
    print(f"  overview:      {sb.base_url}/sandbox")
    print(f"  authorize:     {sb.base_url}/api/oauth2/auth")
    print(f"  token:         {sb.base_url}/api/oauth2/token")
    print(f"  client id:     {sb.client_id}")
    print(f"  client secret: {sb.client_secret}")
    print(f"  redirect uri:  {sb.redirect_uri}")
    for div in sb.data["divisions"].values():
        print(f"  division:      {div['Code']} {div['Description']}")
    if args.time_scale != 1.0:
        print(f"  clock:         {args.time_scale}x real time")
    if args.error_block:
        print(f"  error block:   after more than {args.error_block} failed calls an hour")
    for rule in sb.faults.to_list():
        print(f"  fault {rule['id']}:       {rule['rule']}")
    print("Press Ctrl-C to stop.", flush=True)

    def stop(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sb.release.set()
        server.server_close()
        sb.close()
        print("Exact Online sandbox stopped.", flush=True)
    return 0
