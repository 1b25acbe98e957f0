"""The image's HEALTHCHECK: GET BOT_HEALTH_URL (default the API's /v1/health) and exit 0 on a 2xx answer
within the timeout, 1 otherwise. A node sets it to its metrics URL (http://127.0.0.1:9464/metrics); a job
worker, which serves nothing, sets it to `none`: then only the main process (pid 1) being alive counts."""

from __future__ import annotations

import os
import sys
import urllib.request
from pathlib import Path


def main() -> int:
    url = os.environ.get("BOT_HEALTH_URL", "http://127.0.0.1:8000/v1/health")
    if url == "none":
        stat = Path("/proc/1/stat")
        return 0 if stat.exists() and stat.read_text().rpartition(")")[2].split()[0] != "Z" else 1
    try:
        with urllib.request.urlopen(url, timeout=float(os.environ.get("BOT_HEALTH_TIMEOUT_S", "4"))) as r:
            return 0 if 200 <= r.status < 300 else 1
    except Exception as exc:  # any failure is "unhealthy", said on stderr
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
