"""Render the Swarm stack's nginx.conf from the one template (deploy/nginx/nginx.conf.j2) with the production
values below, into deploy/nginx/nginx.stack.conf (the file deploy/stack.yml mounts as a config).

    python deploy/render_stack.py          # write it
    python deploy/render_stack.py --check  # exit 1 when the committed file differs from a fresh render

The local topology (deploy/nginx/topology.py, `make stack`) renders the same template with loopback values.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "nginx"))

from topology import render  # noqa: E402  (deploy/nginx is not a package)

OUT = HERE / "nginx" / "nginx.stack.conf"
CLOUDFLARE_IPS = HERE / "cloudflare" / "ips.txt"


def cloudflare_ranges(path: Path = CLOUDFLARE_IPS) -> list[str]:
    """The networks of ips.txt (comments and blank lines skipped), each checked as a CIDR."""
    nets = []
    for raw in path.read_text().splitlines():
        net = raw.split("#", 1)[0].strip()
        if net:
            nets.append(str(ipaddress.ip_network(net, strict=True)))
    return nets


def stack_values() -> dict[str, Any]:
    """nginx in the Swarm stack: TLS from Docker secrets, the API replicas as tasks.api re-resolved through
    Docker's DNS, failover, the edge rate limit on the real client (Cloudflare's header from its ranges)."""
    return {
        "prefix": "/tmp/nginx",
        "user": "nginx",
        "worker_processes": "auto",
        "worker_connections": 4096,
        "error_log_path": "/dev/stderr",
        "error_log_level": "warn",
        "access_log": True,
        "access_log_path": "/dev/stdout",
        "listen": "443",
        "http_listen": "80",
        "tls": {"cert": "/run/secrets/tls_cert", "key": "/run/secrets/tls_key"},
        "upstreams": ["tasks.api:8000"],
        "resolver": "127.0.0.11",
        "max_fails": 2,
        "fail_timeout": "10s",
        "next_upstream_tries": 3,
        "edge_rate": 10,
        "edge_burst": 20,
        "proxy_bind": None,
        "cloudflare_ranges": cloudflare_ranges(),
        "max_body": "2m",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file, write nothing")
    args = parser.parse_args(argv)
    text = render(**stack_values())
    if args.check:
        if not OUT.exists() or OUT.read_text() != text:
            print(
                f"{OUT.relative_to(HERE.parent)} is stale: run python deploy/render_stack.py", file=sys.stderr
            )
            return 1
        return 0
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
