"""The image's entrypoint: turn Docker secret files into the settings the bot reads, then exec the command.

- BOT_DATABASE_PASSWORD_FILE (e.g. /run/secrets/postgres_password): its content, URL-quoted, replaces
  `__PASSWORD__` in BOT_DATABASE_URL and BOT_API_DATABASE_URL (the bot reads one URL, never a password file).
- Every other secret is read by the bot itself: the API's `bot_api_<field>` files in /run/secrets, the live
  venues' `api_key_file` / `secret_file` / `keypair_file` in the live config (BOT_LIVE_CONFIG).
A missing or empty secret file is one line on stderr and exit 2.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import quote

PLACEHOLDER = "__PASSWORD__"


def main(argv: list[str]) -> int:
    if not argv:
        print("error: no command (e.g. bot serve)", file=sys.stderr)
        return 2
    password_file = os.environ.get("BOT_DATABASE_PASSWORD_FILE")
    if password_file:
        path = Path(password_file)
        try:
            password = path.read_text().strip()
        except OSError as exc:
            print(f"error: BOT_DATABASE_PASSWORD_FILE {path}: {exc.strerror}", file=sys.stderr)
            return 2
        if not password:
            print(f"error: BOT_DATABASE_PASSWORD_FILE {path} is empty", file=sys.stderr)
            return 2
        for name in ("BOT_DATABASE_URL", "BOT_API_DATABASE_URL"):
            url = os.environ.get(name)
            if url and PLACEHOLDER in url:
                os.environ[name] = url.replace(PLACEHOLDER, quote(password, safe=""))
    os.execvp(argv[0], argv)
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
