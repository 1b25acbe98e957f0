#!/bin/sh
# Back up the bot's PostgreSQL database with pg_dump (custom format), the stack's `backup` service.
#
#   backup.sh                  one backup now; prints the file's path
#   backup.sh --every SECONDS  one now, then one every SECONDS (the service's schedule)
#
# Environment: PGHOST, PGPORT, PGUSER, PGDATABASE (libpq's); PGPASSFILE_SECRET, a file holding the password
# (the Docker secret), or PGPASSWORD; BACKUP_DIR (default /backups); BACKUP_KEEP, how many dumps to keep
# (default 28). A dump is written as NAME.partial, verified with pg_restore --list, then renamed: a file
# named *.dump is always a whole dump. BACKUP_DIR/last-ok is touched after each good one (the health check).
set -eu

BACKUP_DIR=${BACKUP_DIR:-/backups}
BACKUP_KEEP=${BACKUP_KEEP:-28}
PGDATABASE=${PGDATABASE:-bot}
export PGDATABASE

if [ -n "${PGPASSFILE_SECRET:-}" ]; then
    if [ ! -r "$PGPASSFILE_SECRET" ]; then
        echo "error: PGPASSFILE_SECRET $PGPASSFILE_SECRET is not readable" >&2
        exit 2
    fi
    PGPASSWORD=$(cat "$PGPASSFILE_SECRET")
    export PGPASSWORD
fi

case "$BACKUP_KEEP" in
    ''|*[!0-9]*) echo "error: BACKUP_KEEP must be a whole number, got '$BACKUP_KEEP'" >&2; exit 2 ;;
esac

take() {
    mkdir -p "$BACKUP_DIR"
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    out="$BACKUP_DIR/$PGDATABASE-$stamp.dump"
    pg_dump --format=custom --compress=6 --no-owner --no-privileges --file "$out.partial"
    pg_restore --list "$out.partial" > /dev/null
    mv "$out.partial" "$out"
    touch "$BACKUP_DIR/last-ok"
    # keep the newest BACKUP_KEEP dumps of this database
    ls -1 "$BACKUP_DIR/$PGDATABASE"-*.dump 2> /dev/null | sort -r | tail -n +$((BACKUP_KEEP + 1)) |
        while read -r old; do rm -f -- "$old"; done
    echo "$out"
}

if [ "${1:-}" = "--every" ]; then
    every=${2:-}
    case "$every" in
        ''|*[!0-9]*) echo "error: --every takes seconds, got '$every'" >&2; exit 2 ;;
    esac
    while :; do
        take || echo "error: backup of $PGDATABASE failed at $(date -u +%FT%TZ)" >&2
        rm -f "$BACKUP_DIR"/*.partial
        sleep "$every"
    done
elif [ $# -gt 0 ]; then
    echo "usage: backup.sh [--every SECONDS]" >&2
    exit 2
else
    take
fi
