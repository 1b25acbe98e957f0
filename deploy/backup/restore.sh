#!/bin/sh
# Restore a dump of backup.sh into a database that exists and is empty (create it first: createdb NAME).
#
#   restore.sh DUMP DATABASE
#
# Environment: PGHOST, PGPORT, PGUSER and PGPASSFILE_SECRET or PGPASSWORD, as backup.sh. The restore is one
# transaction: it ends whole or not at all. Objects are owned by the restoring user (dumps carry no owner).
set -eu

if [ $# -ne 2 ]; then
    echo "usage: restore.sh DUMP DATABASE" >&2
    exit 2
fi
dump=$1
target=$2
if [ ! -r "$dump" ]; then
    echo "error: dump $dump is not readable" >&2
    exit 2
fi
if [ -n "${PGPASSFILE_SECRET:-}" ]; then
    PGPASSWORD=$(cat "$PGPASSFILE_SECRET")
    export PGPASSWORD
fi
tables=$(psql -X -At -d "$target" -c "select count(*) from pg_tables where schemaname = 'public'")
if [ "$tables" != "0" ]; then
    echo "error: database $target is not empty ($tables tables): restore into a new one" >&2
    exit 2
fi
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname "$target" "$dump"
echo "restored $dump into $target"
