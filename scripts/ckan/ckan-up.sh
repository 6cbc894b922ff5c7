#!/usr/bin/env bash
# ckan-up.sh -- bring up a real CKAN 2.12.0 (PyPI wheel) on 127.0.0.1, WITHOUT Apache Solr,
# for opendata-sofia's integration tests and for trying the CKAN target by hand.
#
# Idempotent; run as root on Debian 12 (bookworm). Re-running it is safe: it only does
# what is missing (packages, services, roles/databases, venv, config, sysadmin, token,
# server, pipeline editor user, tokens) and finally waits until /api/3/action/status_show
# responds. It can take over a base made by an earlier copy of this script.
#
#   sudo bash ckan-up.sh            # set up + start, prints URL and token files
#   bash ckan-down.sh [--purge]     # stop (and optionally drop dbs/roles/base dir)
#
# Search: CKAN 2.12 cannot run without Solr by configuration alone (package_create etc.
# write to Solr synchronously and abort when it is unreachable). This script installs a
# tiny local extension, ckanext-nosolr (in ./ckanext-nosolr beside this script), that keeps CKAN's own indexing
# code but stores the index documents in a PostgreSQL table and serves package_search
# with a Lucene-syntax subset. Set CKAN_NOSOLR=0 to leave it out (then dataset writes fail
# unless a Solr is reachable at CKAN_SOLR_URL).
#
# Tunables (environment variables, defaults in brackets):
#   CKAN_BASE [${XDG_CACHE_HOME:-$HOME/.cache}/ckan-dev]  everything CKAN-side lives here (venv, ini, storage, logs)
#   CKAN_PORT [5000]               CKAN listens on 127.0.0.1:$CKAN_PORT
#   CKAN_VERSION [2.12.0]          PyPI version installed as ckan[requirements]==$CKAN_VERSION
#   CKAN_PYTHON [python3]          interpreter for the venv (>=3.10)
#   CKAN_DB [ckan_default]  CKAN_DB_USER [ckan_default]
#   CKAN_DS_DB [datastore_default]  CKAN_DS_RO_USER [datastore_default]
#   CKAN_ADMIN [admin]  CKAN_ADMIN_EMAIL [admin@example.org]
#   CKAN_EDITOR [pipeline-editor]  CKAN_EDITOR_EMAIL [pipeline-editor@example.org]
#   CKAN_PLUGINS [activity datastore datatables_view image_view]  (nosolr is appended)
#   CKAN_NOSOLR [1]  CKAN_SOLR_URL [http://127.0.0.1:8983/solr/ckan]
#   CKAN_MAX_UPLOAD_MB [100]       ckan.max_resource_size (CKAN's default is 10)
#   CKAN_REDIS_PORT [6379]  CKAN_REDIS_DB [0]
#   CKAN_WORKER [1]                also start `ckan jobs worker` (datastore record counts)
#   CKAN_START_TIMEOUT [90]        seconds to wait for status_show
set -Eeuo pipefail
umask 022

CKAN_BASE=${CKAN_BASE:-${XDG_CACHE_HOME:-$HOME/.cache}/ckan-dev}
CKAN_PORT=${CKAN_PORT:-5000}
CKAN_VERSION=${CKAN_VERSION:-2.12.0}
CKAN_PYTHON=${CKAN_PYTHON:-python3}
CKAN_DB=${CKAN_DB:-ckan_default}
CKAN_DB_USER=${CKAN_DB_USER:-ckan_default}
CKAN_DS_DB=${CKAN_DS_DB:-datastore_default}
CKAN_DS_RO_USER=${CKAN_DS_RO_USER:-datastore_default}
CKAN_ADMIN=${CKAN_ADMIN:-admin}
CKAN_ADMIN_EMAIL=${CKAN_ADMIN_EMAIL:-admin@example.org}
CKAN_EDITOR=${CKAN_EDITOR:-pipeline-editor}
CKAN_EDITOR_EMAIL=${CKAN_EDITOR_EMAIL:-pipeline-editor@example.org}
CKAN_PLUGINS=${CKAN_PLUGINS:-activity datastore datatables_view image_view}
CKAN_NOSOLR=${CKAN_NOSOLR:-1}
CKAN_SOLR_URL=${CKAN_SOLR_URL:-http://127.0.0.1:8983/solr/ckan}
CKAN_MAX_UPLOAD_MB=${CKAN_MAX_UPLOAD_MB:-100}
CKAN_REDIS_PORT=${CKAN_REDIS_PORT:-6379}
CKAN_REDIS_DB=${CKAN_REDIS_DB:-0}
CKAN_WORKER=${CKAN_WORKER:-1}
CKAN_START_TIMEOUT=${CKAN_START_TIMEOUT:-90}

VENV=$CKAN_BASE/venv
INI=$CKAN_BASE/etc/ckan.ini
RUN=$CKAN_BASE/run
LOGDIR=$CKAN_BASE/log
SECRETS=$CKAN_BASE/etc/secrets.env
TOKEN_FILE=$CKAN_BASE/api_token.txt
EDITOR_TOKEN_FILE=$CKAN_BASE/editor_token.txt
NOSOLR_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ckanext-nosolr
URL=http://127.0.0.1:$CKAN_PORT
T_START=$(date +%s)

log()  { printf '[ckan-up %(%H:%M:%S)T] %s\n' -1 "$*"; }
die()  { printf '[ckan-up] ERROR: %s\n' "$*" >&2; exit 1; }
step_time() { log "$1 done in $(( $(date +%s) - $2 ))s"; }
trap 'die "line $LINENO: command failed: $BASH_COMMAND"' ERR

[ "$(id -u)" = 0 ] || die "run as root"
case "$CKAN_BASE" in /|"") die "refusing CKAN_BASE=$CKAN_BASE";; esac
mkdir -p "$CKAN_BASE"/{etc,run,log,storage,src}
touch "$CKAN_BASE/.ckan-up-base"          # marker checked by ckan-down.sh --purge

# ---------------------------------------------------------------- 1. Debian packages
t=$(date +%s)
need_pkgs=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in postgresql redis-server libpq-dev build-essential libmagic1 ca-certificates; do
  have_pkg "$p" || need_pkgs+=("$p")
done
command -v "$CKAN_PYTHON" >/dev/null || need_pkgs+=(python3)
if command -v "$CKAN_PYTHON" >/dev/null; then
  "$CKAN_PYTHON" -c 'import venv, ensurepip' 2>/dev/null || need_pkgs+=(python3-venv)
  inc=$("$CKAN_PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
  [ -f "$inc/Python.h" ] || need_pkgs+=(python3-dev)
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
else
  log "Debian packages already present"
fi
"$CKAN_PYTHON" -c 'import sys; assert sys.version_info >= (3, 10), sys.version' \
  || die "$CKAN_PYTHON is older than 3.10 (CKAN 2.12 needs >=3.10)"
step_time "packages" "$t"

# ---------------------------------------------------------------- 2. PostgreSQL
t=$(date +%s)
cluster=$(pg_lsclusters -h 2>/dev/null | head -n1 || true)
if [ -z "$cluster" ]; then
  pgver=$(ls /usr/lib/postgresql | sort -V | tail -n1)
  log "creating PostgreSQL cluster $pgver/main"
  pg_createcluster "$pgver" main >/dev/null
  cluster=$(pg_lsclusters -h | head -n1)
fi
read -r PGVER PGCLUSTER PGPORT PGSTATUS _ <<<"$cluster"
if [ "$PGSTATUS" != online ]; then
  log "starting PostgreSQL $PGVER/$PGCLUSTER (port $PGPORT)"
  pg_ctlcluster "$PGVER" "$PGCLUSTER" start
  echo "$PGVER $PGCLUSTER" > "$RUN/postgres.started-by-ckan-up"
else
  log "PostgreSQL $PGVER/$PGCLUSTER already running on port $PGPORT"
fi
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p "$PGPORT" && break; sleep 1; done
pg_isready -q -h 127.0.0.1 -p "$PGPORT" || die "PostgreSQL does not respond on 127.0.0.1:$PGPORT"
step_time "postgresql" "$t"

# ---------------------------------------------------------------- 3. Redis (loopback only)
t=$(date +%s)
if redis-cli -h 127.0.0.1 -p "$CKAN_REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
  if [ -f "$RUN/redis.pid" ] && [ -d "/proc/$(cat "$RUN/redis.pid")" ]; then
    log "Redis (started earlier by ckan-up, pid $(cat "$RUN/redis.pid")) responding on 127.0.0.1:$CKAN_REDIS_PORT"
  else
    log "Redis already responding on 127.0.0.1:$CKAN_REDIS_PORT (not ours: reused, never stopped by ckan-down)"
  fi
else
  log "starting redis-server on 127.0.0.1:$CKAN_REDIS_PORT"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$CKAN_REDIS_PORT" \
    --save "" --appendonly no --pidfile "$RUN/redis.pid" --logfile "$LOGDIR/redis.log"
  for _ in $(seq 1 20); do redis-cli -h 127.0.0.1 -p "$CKAN_REDIS_PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.5; done
  redis-cli -h 127.0.0.1 -p "$CKAN_REDIS_PORT" ping | grep -q PONG || die "redis did not start"
fi
step_time "redis" "$t"

# ---------------------------------------------------------------- 4. roles + databases
t=$(date +%s)
rand() { "$CKAN_PYTHON" -c 'import secrets; print(secrets.token_urlsafe(18).replace("-", "x").replace("_", "y"))'; }
if [ ! -f "$SECRETS" ]; then
  ( umask 077; {
      echo "CKAN_DB_PASS=$(rand)"
      echo "CKAN_DS_RO_PASS=$(rand)"
      echo "CKAN_ADMIN_PASS=$(rand)"
    } > "$SECRETS" )
fi
# bases made before the editor user existed have no editor password yet
grep -q '^CKAN_EDITOR_PASS=' "$SECRETS" || ( umask 077; echo "CKAN_EDITOR_PASS=$(rand)" >> "$SECRETS" )
# shellcheck disable=SC1090
. "$SECRETS"
psql_pg() { (cd / && PGOPTIONS='--client-min-messages=warning' runuser -u postgres -- psql -p "$PGPORT" -v ON_ERROR_STOP=1 -qtA "$@"); }
ensure_role() {  # name password
  if [ "$(psql_pg -c "SELECT 1 FROM pg_roles WHERE rolname='$1'")" = 1 ]; then
    psql_pg -c "ALTER ROLE \"$1\" WITH LOGIN PASSWORD '$2'" >/dev/null
  else
    psql_pg -c "CREATE ROLE \"$1\" LOGIN PASSWORD '$2' NOSUPERUSER NOCREATEDB NOCREATEROLE" >/dev/null
    log "created role $1"; CREATED=1
  fi
}
ensure_db() {  # name owner
  if [ "$(psql_pg -c "SELECT 1 FROM pg_database WHERE datname='$1'")" != 1 ]; then
    psql_pg -c "CREATE DATABASE \"$1\" OWNER \"$2\" ENCODING 'utf-8' TEMPLATE template0" >/dev/null
    log "created database $1"; CREATED=1
  fi
}
CREATED=0
ensure_role "$CKAN_DB_USER" "$CKAN_DB_PASS"
ensure_role "$CKAN_DS_RO_USER" "$CKAN_DS_RO_PASS"
ensure_db "$CKAN_DB" "$CKAN_DB_USER"
ensure_db "$CKAN_DS_DB" "$CKAN_DB_USER"
step_time "roles/databases" "$t"

# ---------------------------------------------------------------- 5. virtualenv + CKAN
t=$(date +%s)
pip_install() {
  if ! "$VENV/bin/pip" install -q --disable-pip-version-check "$@" >"$LOGDIR/pip.log" 2>&1; then
    grep -v '^WARNING: Location' "$LOGDIR/pip.log" | tail -n 40
    die "pip install $* failed (full log: $LOGDIR/pip.log)"
  fi
}
have_ver=$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("ckan"))' 2>/dev/null || true)
if [ "$have_ver" != "$CKAN_VERSION" ] || ! "$VENV/bin/python" -c 'import click, flask, psycopg2, pysolr' 2>/dev/null; then
  log "creating venv $VENV and installing ckan[requirements]==$CKAN_VERSION (pins ~55 deps; builds psycopg2 from source)"
  [ -x "$VENV/bin/python" ] || "$CKAN_PYTHON" -m venv "$VENV"
  pip_install "ckan[requirements]==$CKAN_VERSION"
  "$VENV/bin/python" -c 'import ckan, click, flask, psycopg2' || die "CKAN install failed"
else
  log "CKAN $have_ver already installed in $VENV"
fi
step_time "venv/pip" "$t"

# ---------------------------------------------------------------- 6. ckanext-nosolr
t=$(date +%s)
PLUGINS="$CKAN_PLUGINS"
if [ "$CKAN_NOSOLR" = 1 ]; then
  PLUGINS="$PLUGINS nosolr"
  # The plugin's source lives next to this script. pip builds it from a copy under
  # $CKAN_BASE/src, because an in-tree build leaves build/ and *.egg-info in the clone.
  BUILD_COPY=$CKAN_BASE/src/ckanext-nosolr
  site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  installed="$site/ckanext/nosolr/plugin.py"
  if cmp -s "$NOSOLR_SRC/ckanext/nosolr/plugin.py" "$installed" \
     && cmp -s "$NOSOLR_SRC/pyproject.toml" "$BUILD_COPY/pyproject.toml"; then
    log "ckanext-nosolr already installed"
  else
    log "installing ckanext-nosolr from $NOSOLR_SRC into the venv"
    rm -rf -- "$BUILD_COPY"
    mkdir -p "$BUILD_COPY"
    cp -r "$NOSOLR_SRC/pyproject.toml" "$NOSOLR_SRC/ckanext" "$BUILD_COPY/"
    # default build isolation: pip fetches setuptools into a throw-away env (a fresh venv has
    # no `wheel`, so --no-build-isolation fails there with "invalid command 'bdist_wheel'")
    pip_install --no-deps --force-reinstall "$BUILD_COPY"
  fi
fi
step_time "nosolr plugin" "$t"

# ---------------------------------------------------------------- 7. ckan.ini
# The auth.* lines make this CKAN behave like a production portal: only sysadmins create
# organizations, and a user publishes only into organizations it is an editor of.
t=$(date +%s)
CKAN=("$VENV/bin/ckan" -c "$INI")
if [ ! -f "$INI" ]; then
  log "generating $INI"
  "$VENV/bin/ckan" generate config "$INI" >/dev/null
fi
"$VENV/bin/ckan" config-tool "$INI" \
  "sqlalchemy.url = postgresql://$CKAN_DB_USER:$CKAN_DB_PASS@127.0.0.1:$PGPORT/$CKAN_DB" \
  "ckan.site_url = $URL" \
  "ckan.site_id = default" \
  "ckan.redis.url = redis://127.0.0.1:$CKAN_REDIS_PORT/$CKAN_REDIS_DB" \
  "solr_url = $CKAN_SOLR_URL" \
  "solr_timeout = 5" \
  "ckan.plugins = $PLUGINS" \
  "ckan.storage_path = $CKAN_BASE/storage" \
  "ckan.max_resource_size = $CKAN_MAX_UPLOAD_MB" \
  "ckan.datastore.write_url = postgresql://$CKAN_DB_USER:$CKAN_DB_PASS@127.0.0.1:$PGPORT/$CKAN_DS_DB" \
  "ckan.datastore.read_url = postgresql://$CKAN_DS_RO_USER:$CKAN_DS_RO_PASS@127.0.0.1:$PGPORT/$CKAN_DS_DB" \
  "ckan.datastore.sqlsearch.enabled = true" \
  "ckan.auth.user_create_organizations = false" \
  "ckan.auth.user_delete_organizations = false" \
  "ckan.auth.create_dataset_if_not_in_organization = false" >/dev/null 2>&1
sed -i '/^\[logger_ckanext\]/,/^\[/ s/^level = DEBUG$/level = INFO/' "$INI"   # quieter ckanext logs
chmod 600 "$INI"
step_time "config" "$t"

# ---------------------------------------------------------------- 8. schema, datastore perms, sysadmin
t=$(date +%s)
STAMP="$CKAN_VERSION|$PLUGINS|$CKAN_DB|$CKAN_DS_DB|$CKAN_DB_USER|$CKAN_DS_RO_USER|$CKAN_ADMIN|$PGPORT"
if [ "$CREATED" = 0 ] && [ -f "$RUN/setup.stamp" ] && [ "$(cat "$RUN/setup.stamp")" = "$STAMP" ]; then
  log "schema, datastore permissions and sysadmin already set up (rm $RUN/setup.stamp to force)"
else
rm -f "$RUN/setup.stamp"
log "ckan db init (+ plugin migrations)"
"${CKAN[@]}" db init >"$LOGDIR/db-init.log" 2>&1 || { tail -n 30 "$LOGDIR/db-init.log"; die "ckan db init failed"; }
"${CKAN[@]}" db pending-migrations --apply >>"$LOGDIR/db-init.log" 2>&1 || { tail -n 30 "$LOGDIR/db-init.log"; die "plugin migrations failed"; }
if [[ " $PLUGINS " == *" datastore "* ]]; then
  # stdout is pure SQL; stderr carries log lines -> keep them apart
  "${CKAN[@]}" datastore set-permissions 2>>"$LOGDIR/db-init.log" > "$RUN/datastore-permissions.sql"
  # Read from stdin: the postgres user may not be allowed into $CKAN_BASE.
  psql_pg < "$RUN/datastore-permissions.sql" >/dev/null
fi
if ! "${CKAN[@]}" user show "$CKAN_ADMIN" 2>/dev/null | grep -q " name=$CKAN_ADMIN "; then
  log "creating sysadmin $CKAN_ADMIN"
  "${CKAN[@]}" user add "$CKAN_ADMIN" "email=$CKAN_ADMIN_EMAIL" "password=$CKAN_ADMIN_PASS" >>"$LOGDIR/db-init.log" 2>&1
fi
"${CKAN[@]}" sysadmin add "$CKAN_ADMIN" >>"$LOGDIR/db-init.log" 2>&1
echo "$STAMP" >"$RUN/setup.stamp"
fi
step_time "db init/sysadmin" "$t"

# ---------------------------------------------------------------- 9. start CKAN (+ worker)
t=$(date +%s)
alive() {  # pidfile pattern
  [ -f "$1" ] || return 1
  local pid; pid=$(cat "$1")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2"
}
status_ok() { "$VENV/bin/python" - "$URL" <<'EOF_PY' 2>/dev/null
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1] + "/api/3/action/status_show", timeout=3) as r:
    sys.exit(0 if json.load(r).get("success") else 1)
EOF_PY
}
stop_pid() {  # pidfile pattern label: SIGTERM, then SIGKILL after 10 s
  alive "$1" "$2" || return 0
  local pid; pid=$(cat "$1")
  kill -TERM "$pid"
  for _ in $(seq 1 40); do [ -d "/proc/$pid" ] || break; sleep 0.25; done
  [ -d "/proc/$pid" ] && kill -KILL "$pid"
  rm -f "$1"
  log "$3: stopped pid $pid"
}
# CKAN reads ckan.ini only at start: a running CKAN whose ini changed since (or that an
# earlier version of this script started, without the checksum file) is restarted.
ini_sum=$(sha256sum "$INI" | cut -d' ' -f1)
if alive "$RUN/ckan.pid" "$INI run" && [ "$(cat "$RUN/ckan.ini.sha256" 2>/dev/null)" != "$ini_sum" ]; then
  log "ckan.ini differs from the one CKAN started with: restarting CKAN and the jobs worker"
  stop_pid "$RUN/ckan.pid" "$INI run" "ckan"
  stop_pid "$RUN/worker.pid" "$INI jobs worker" "jobs worker"
fi
if alive "$RUN/ckan.pid" "$INI run"; then
  log "CKAN already running (pid $(cat "$RUN/ckan.pid"))"
else
  if status_ok; then die "another server already responds on $URL: stop it or set CKAN_PORT"; fi
  log "starting CKAN on $URL"
  cd "$CKAN_BASE"
  setsid nohup "$VENV/bin/ckan" -c "$INI" run --host 127.0.0.1 --port "$CKAN_PORT" \
      --disable-reloader --threaded >>"$LOGDIR/ckan.log" 2>&1 </dev/null &
  echo $! >"$RUN/ckan.pid"       # a plain command, not inside `a && b &`, so $! is ckan itself
  echo "$ini_sum" >"$RUN/ckan.ini.sha256"
fi
if [ "$CKAN_WORKER" = 1 ]; then
  if alive "$RUN/worker.pid" "$INI jobs worker"; then
    log "jobs worker already running (pid $(cat "$RUN/worker.pid"))"
  else
    cd "$CKAN_BASE"
    setsid nohup "$VENV/bin/ckan" -c "$INI" jobs worker >>"$LOGDIR/worker.log" 2>&1 </dev/null &
    echo $! >"$RUN/worker.pid"
    log "started jobs worker (pid $(cat "$RUN/worker.pid"))"
  fi
fi
deadline=$(( $(date +%s) + CKAN_START_TIMEOUT ))
until status_ok; do
  alive "$RUN/ckan.pid" "$INI run" || { tail -n 40 "$LOGDIR/ckan.log"; die "CKAN process exited"; }
  [ "$(date +%s)" -lt "$deadline" ] || { tail -n 40 "$LOGDIR/ckan.log"; die "status_show did not respond within ${CKAN_START_TIMEOUT}s: see $LOGDIR/ckan.log"; }
  sleep 0.5
done
step_time "start" "$t"

# ---------------------------------------------------------------- 10. API tokens (validated)
t=$(date +%s)
token_ok() {  # token-file user: the token may list the user's tokens
  [ -s "$1" ] && "$VENV/bin/python" - "$URL" "$1" "$2" <<'EOF_PY' 2>/dev/null
import json, sys, urllib.request
url, tf, user = sys.argv[1:4]
req = urllib.request.Request(url + "/api/3/action/api_token_list",
                             data=json.dumps({"user_id": user}).encode(),
                             headers={"Authorization": open(tf).read().strip(),
                                      "Content-Type": "application/json"})
with urllib.request.urlopen(req, timeout=5) as r:
    sys.exit(0 if json.load(r).get("success") else 1)
EOF_PY
}
if ! token_ok "$TOKEN_FILE" "$CKAN_ADMIN"; then
  log "creating API token for $CKAN_ADMIN"
  ( umask 077; "${CKAN[@]}" user token add -q "$CKAN_ADMIN" "pipeline-$(date +%Y%m%d%H%M%S)" 2>>"$LOGDIR/db-init.log" \
      | tail -n1 >"$TOKEN_FILE" )
  token_ok "$TOKEN_FILE" "$CKAN_ADMIN" || die "new API token does not work"
fi

# The pipeline's own user: an ordinary account that organizations make an editor, so the
# nightly runs need no sysadmin token. Created through the API with the sysadmin token,
# which is faster than two more `ckan` CLI start-ups.
if ! token_ok "$EDITOR_TOKEN_FILE" "$CKAN_EDITOR"; then
  log "creating user $CKAN_EDITOR (if missing) and an API token for it"
  ( umask 077; "$VENV/bin/python" - "$URL" "$TOKEN_FILE" "$CKAN_EDITOR" "$CKAN_EDITOR_EMAIL" \
      "$CKAN_EDITOR_PASS" >"$EDITOR_TOKEN_FILE.new" <<'EOF_PY'
import json, sys, time, urllib.error, urllib.request
url, admin_token_file, user, email, password = sys.argv[1:6]
admin_token = open(admin_token_file).read().strip()

def call(action, data):
    req = urllib.request.Request(f"{url}/api/3/action/{action}", data=json.dumps(data).encode(),
                                 headers={"Authorization": admin_token,
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return json.load(response)["result"]
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        sys.exit(f"{action} failed: HTTP {error.code} {error.read()[:300]!r}")

if call("user_show", {"id": user}) is None:
    call("user_create", {"name": user, "email": email, "password": password,
                         "fullname": "opendata-sofia pipeline"})
token = call("api_token_create", {"user": user, "name": time.strftime("pipeline-%Y%m%d%H%M%S")})
print(token["token"])
EOF_PY
  ) || { rm -f "$EDITOR_TOKEN_FILE.new"; die "could not create user $CKAN_EDITOR or its token"; }
  mv "$EDITOR_TOKEN_FILE.new" "$EDITOR_TOKEN_FILE"
  token_ok "$EDITOR_TOKEN_FILE" "$CKAN_EDITOR" || die "new API token of $CKAN_EDITOR does not work"
fi
step_time "tokens" "$t"

# CKAN_API_TOKEN_FILE is the sysadmin's token (needed only to create organizations);
# CKAN_EDITOR_TOKEN_FILE is the token the pipeline publishes with.
cat >"$CKAN_BASE/ckan.env.new" <<EOF_ENV
CKAN_URL=$URL
CKAN_INI=$INI
CKAN_API_TOKEN_FILE=$TOKEN_FILE
CKAN_EDITOR_TOKEN_FILE=$EDITOR_TOKEN_FILE
CKAN_EDITOR_USER=$CKAN_EDITOR
CKAN_PID_FILE=$RUN/ckan.pid
EOF_ENV
mv "$CKAN_BASE/ckan.env.new" "$CKAN_BASE/ckan.env"

rss=$(awk '/VmRSS/{print $2}' "/proc/$(cat "$RUN/ckan.pid")/status" 2>/dev/null || echo '?')
log "CKAN $CKAN_VERSION is up: $URL  (pid $(cat "$RUN/ckan.pid"), RSS ${rss} kB)"
log "sysadmin token: $TOKEN_FILE   editor token: $EDITOR_TOKEN_FILE"
log "env: $CKAN_BASE/ckan.env   logs: $LOGDIR/"
log "total $(( $(date +%s) - T_START ))s"
