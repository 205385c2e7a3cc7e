#!/bin/sh
# HelloBench waitline job: a fresh cluster, then the server in the foreground.
set -e
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
data=/tmp/pgdata
"$bin/initdb" -D "$data" --auth=trust --username=postgres --no-sync >/dev/null
exec "$bin/postgres" -D "$data" -p 15432 -k /tmp -c listen_addresses=127.0.0.1
