#!/usr/bin/env bash
# Builds docker/Dockerfile and runs docker/compose.two-dc.yml for real on a host
# that has a Docker engine (or can install one) but reaches no container
# registry: this project's development machines reach Maven Central, Debian's
# packages and the npm registry only. The official base images the shipped
# files name (node:20-bookworm[-slim], apache/kafka:3.9.1, postgres:15) are
# replaced by substitutes built here:
#   apim-rehearsal/node:20        Debian bookworm (debootstrap) + this host's Node 20 + user node (1000),
#                                 and the host's NODE_EXTRA_CA_CERTS if set (a registry proxy's CA, for npm ci)
#   apim-rehearsal/kafka:<ver>    the same Debian + OpenJDK 17 + the broker jars of docker/kafka/pom.xml,
#                                 started from KAFKA_* variables the way apache/kafka's image reads them
#   apim-rehearsal/postgres:15    the same Debian + PostgreSQL 15, initialised from POSTGRES_USER,
#                                 POSTGRES_PASSWORD and POSTGRES_DB the way postgres:15's image does
# Everything of ours runs unchanged: the Dockerfile (its base images passed as
# build arguments), the compose file (an override names the substitute images
# and adds a sample upstream), the apps. Then dist/tools/docker/rehearse-check.js
# checks the running deployment from outside through its published ports.
#
#   apt-get install -y docker.io docker-compose debootstrap     # once, as root
#   npm run build && bash tools/docker/rehearse.sh              # ~10 min the first time
#
# A dockerd already running is used; otherwise one is started for the run and
# stopped at the end. The compose project is taken down (with its volumes) at
# the end, also on failure; the images stay, so a second run builds only what
# changed. Exit code 0 when every check passed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="${APIM_REHEARSAL_DIR:-/var/lib/apim-rehearsal}"
PROJECT=apim-rehearsal
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/docker/kafka/pom.xml")"
NODE_BASE=apim-rehearsal/node:20
KAFKA_IMAGE="apim-rehearsal/kafka:$KAFKA_VERSION"
POSTGRES_IMAGE=apim-rehearsal/postgres:15

step() { printf '[rehearse %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
fail() { printf '[rehearse] FAILED: %s\n' "$*" >&2; exit 1; }

for tool in docker docker-compose debootstrap mvn node; do
  command -v "$tool" > /dev/null || fail "$tool is not on PATH (apt-get install -y docker.io docker-compose debootstrap)"
done
[ "$(id -u)" = 0 ] || fail 'run as root: debootstrap, chroot and dockerd need it'
[ -f "$ROOT/dist/tools/docker/rehearse-check.js" ] || fail 'run npm run build first (the checks are compiled TypeScript)'
mkdir -p "$WORK"

# The compose file's secrets, fresh for each run unless given.
export APIM_SECRET_KEY_DC1="${APIM_SECRET_KEY_DC1:-$(head -c 32 /dev/urandom | base64)}"
export APIM_SECRET_KEY_DC2="${APIM_SECRET_KEY_DC2:-$(head -c 32 /dev/urandom | base64)}"
export APIM_ADMIN_PASSWORD="${APIM_ADMIN_PASSWORD:-rehearsal-$(head -c 12 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9')}"
export POSTGRES_PASSWORD="${POSTGRES_PASSWORD:-$(head -c 24 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9')}"

DOCKERD_PID=
# Debian's docker-compose is Compose v1, which predates the top-level `name:` of
# the Compose Specification: it reads a copy of the shipped file without that
# one line (the project is named by -p instead); every service line is the shipped one.
COMPOSE_FILE_COPY="$WORK/compose/docker/compose.two-dc.yml"
COMPOSE=(docker-compose -p "$PROJECT" -f "$COMPOSE_FILE_COPY" -f "$WORK/compose.override.yml")
cleanup() {
  local code=$?
  if [ -f "$COMPOSE_FILE_COPY" ] && [ -f "$WORK/compose.override.yml" ] && docker info > /dev/null 2>&1; then
    if [ "$code" != 0 ]; then
      step 'the last lines of each service, for the failure above:'
      "${COMPOSE[@]}" logs --no-color --tail=15 2>&1 || true
    fi
    step 'taking the compose project down (containers, network, volumes)'
    "${COMPOSE[@]}" down -v --remove-orphans > /dev/null 2>&1 || true
  fi
  if [ -n "$DOCKERD_PID" ]; then
    step "stopping the dockerd this run started (pid $DOCKERD_PID)"
    kill "$DOCKERD_PID" 2> /dev/null || true
    for _ in $(seq 1 30); do kill -0 "$DOCKERD_PID" 2> /dev/null || break; sleep 1; done
  fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! docker info > /dev/null 2>&1; then
  step "no Docker engine answers: starting dockerd (data in $WORK/docker, log $WORK/dockerd.log)"
  dockerd --data-root "$WORK/docker" --exec-root "$WORK/docker-exec" --pidfile "$WORK/dockerd.pid" > "$WORK/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  for _ in $(seq 1 60); do docker info > /dev/null 2>&1 && break; sleep 1; done
  docker info > /dev/null 2>&1 || fail "dockerd did not come up: $(tail -3 "$WORK/dockerd.log")"
fi

image_exists() { docker image inspect "$1" > /dev/null 2>&1; }

# --- substitute base images -------------------------------------------------
if [ ! -x "$WORK/rootfs/bin/sh" ]; then
  step 'debootstrap: a minimal Debian bookworm (first run only)'
  rm -rf "$WORK/rootfs.partial"
  debootstrap --variant=minbase bookworm "$WORK/rootfs.partial" http://deb.debian.org/debian > "$WORK/debootstrap.log" 2>&1 ||
    fail "debootstrap failed: $(tail -3 "$WORK/debootstrap.log")"
  chroot "$WORK/rootfs.partial" apt-get clean
  mv "$WORK/rootfs.partial" "$WORK/rootfs"
fi

# Copies the Debian root into a fresh folder, runs $2 (a shell snippet) in it, imports it as image $1.
derived_image() {
  local tag=$1 setup=$2 dir="$WORK/build-$(echo "$1" | tr '/:' '--')"
  shift 2
  rm -rf "$dir" && cp -a "$WORK/rootfs" "$dir"
  (cd "$dir" && eval "$setup")
  chroot "$dir" apt-get clean
  rm -rf "$dir/var/lib/apt/lists/"*
  tar -C "$dir" -c . | docker import "$@" - "$tag" > /dev/null
  rm -rf "$dir"
}

# Runs $1 in the folder being built (the current directory), with /proc and the host's DNS for apt.
in_chroot() {
  cp /etc/resolv.conf etc/resolv.conf
  mount -t proc proc proc
  local code=0
  chroot . /usr/bin/env DEBIAN_FRONTEND=noninteractive bash -c "$1" || code=$?
  umount proc
  return "$code"
}

if ! image_exists "$NODE_BASE"; then
  step "building $NODE_BASE from this host's Node $(node --version)"
  npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
  ca_options=()
  [ -z "${NODE_EXTRA_CA_CERTS:-}" ] || ca_options=(--change 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/ca/extra.crt')
  derived_image "$NODE_BASE" "
    cp -a '$(readlink -f "$(command -v node)")' usr/local/bin/node
    mkdir -p usr/local/lib/node_modules && cp -a '$npm_dir' usr/local/lib/node_modules/npm
    ln -sf ../lib/node_modules/npm/bin/npm-cli.js usr/local/bin/npm
    ln -sf ../lib/node_modules/npm/bin/npx-cli.js usr/local/bin/npx
    in_chroot 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
    ${ca_options[*]:+mkdir -p usr/local/share/ca && cp '${NODE_EXTRA_CA_CERTS:-}' usr/local/share/ca/extra.crt}
  " --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["node"]' "${ca_options[@]}"
fi

if ! image_exists "$KAFKA_IMAGE"; then
  step "building $KAFKA_IMAGE (OpenJDK 17 from Debian, Kafka's jars from Maven Central)"
  rm -rf "$WORK/kafka-libs"
  mvn -q -B -f "$ROOT/docker/kafka/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$WORK/kafka-libs"
  derived_image "$KAFKA_IMAGE" "
    in_chroot 'apt-get update -qq && apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless > /dev/null'
    mkdir -p opt/kafka/bin opt/kafka/config var/lib/kafka/data
    cp -a '$WORK/kafka-libs' opt/kafka/libs
    cat > opt/kafka/config/log4j.properties <<'LOG4J'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
LOG4J
    cat > opt/kafka/bin/kafka-run-class.sh <<'RUN'
#!/bin/sh
exec java \${KAFKA_HEAP_OPTS:--Xmx256m} -Djava.awt.headless=true -Dlog4j.configuration=file:/opt/kafka/config/log4j.properties -cp '/opt/kafka/libs/*' \"\$@\"
RUN
    printf '#!/bin/sh\nexec /opt/kafka/bin/kafka-run-class.sh kafka.admin.BrokerApiVersionsCommand \"\$@\"\n' > opt/kafka/bin/kafka-broker-api-versions.sh
    cat > opt/kafka/bin/docker-run.sh <<'ENTRY'
#!/bin/bash
# apache/kafka's convention: KAFKA_FOO_BAR=x becomes foo.bar=x (___ -> -, __ -> _),
# less the variables its start scripts read themselves; CLUSTER_ID formats the storage.
set -eu
props=/opt/kafka/config/server.properties
: > \"\$props\"
for name in \$(compgen -e | grep '^KAFKA_'); do
  case \"\$name\" in KAFKA_HEAP_OPTS|KAFKA_OPTS|KAFKA_JVM_PERFORMANCE_OPTS|KAFKA_LOG4J_OPTS|KAFKA_JMX_*|KAFKA_VERSION) continue ;; esac
  key=\$(echo \"\${name#KAFKA_}\" | tr '[:upper:]' '[:lower:]' | sed -e 's/___/-/g' -e 's/__/@/g' -e 's/_/./g' -e 's/@/_/g')
  echo \"\$key=\${!name}\" >> \"\$props\"
done
/opt/kafka/bin/kafka-run-class.sh kafka.tools.StorageTool format --ignore-formatted -t \"\$CLUSTER_ID\" -c \"\$props\"
exec /opt/kafka/bin/kafka-run-class.sh kafka.Kafka \"\$props\"
ENTRY
    chmod +x opt/kafka/bin/*.sh
    in_chroot 'useradd --uid 1000 --user-group --no-create-home appuser && chown -R appuser:appuser /opt/kafka/config /var/lib/kafka'
  " --change 'USER appuser' --change 'CMD ["/opt/kafka/bin/docker-run.sh"]' --change 'EXPOSE 9092'
fi

if ! image_exists "$POSTGRES_IMAGE"; then
  step "building $POSTGRES_IMAGE (PostgreSQL 15 from Debian)"
  derived_image "$POSTGRES_IMAGE" "
    in_chroot 'apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql-15 > /dev/null'
    rm -rf var/lib/postgresql/15 etc/postgresql/15
    cat > usr/local/bin/docker-entrypoint.sh <<'ENTRY'
#!/bin/bash
# postgres:15's convention: an empty PGDATA is initialised with POSTGRES_USER
# (superuser, password POSTGRES_PASSWORD, scram) and POSTGRES_DB, then served on every address.
set -eu
export PGDATA=/var/lib/postgresql/data
if [ ! -s \"\$PGDATA/PG_VERSION\" ]; then
  printf '%s' \"\$POSTGRES_PASSWORD\" > /tmp/pwfile
  initdb --username=\"\$POSTGRES_USER\" --pwfile=/tmp/pwfile --auth-local=trust --auth-host=scram-sha-256 > /dev/null
  rm -f /tmp/pwfile
  echo 'host all all all scram-sha-256' >> \"\$PGDATA/pg_hba.conf\"
  pg_ctl -o \"-c listen_addresses=''\" -w start > /dev/null
  createdb --username=\"\$POSTGRES_USER\" \"\${POSTGRES_DB:-\$POSTGRES_USER}\"
  pg_ctl -m fast -w stop > /dev/null
fi
exec postgres -c listen_addresses='*'
ENTRY
    chmod +x usr/local/bin/docker-entrypoint.sh
    mkdir -p var/lib/postgresql/data var/run/postgresql
    in_chroot 'chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql && chmod 700 /var/lib/postgresql/data'
  " --change 'USER postgres' --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/bin:/bin' \
    --change 'CMD ["/usr/local/bin/docker-entrypoint.sh"]' --change 'EXPOSE 5432'
fi

# --- our image, from the shipped Dockerfile -------------------------------------
step 'docker build -f docker/Dockerfile (base images: the substitutes)'
docker build --network host -q -f "$ROOT/docker/Dockerfile" \
  --build-arg NODE_IMAGE="$NODE_BASE" --build-arg NODE_BUILD_IMAGE="$NODE_BASE" -t apim "$ROOT" > /dev/null
step "image apim: $(docker image inspect apim --format '{{.Size}}' | awk '{printf "%.0f MB", $1 / 1e6}'), user $(docker image inspect apim --format '{{.Config.User}}')"

# --- the two-DC compose file ----------------------------------------------------
mkdir -p "$(dirname "$COMPOSE_FILE_COPY")"
grep -v '^name:' "$ROOT/docker/compose.two-dc.yml" > "$COMPOSE_FILE_COPY"
cat > "$WORK/compose.override.yml" <<EOF
# Written by tools/docker/rehearse.sh: the substitute images, and a sample upstream.
services:
  kafka-dc1: { image: '$KAFKA_IMAGE' }
  kafka-dc2: { image: '$KAFKA_IMAGE' }
  postgres-dc1: { image: '$POSTGRES_IMAGE' }
  postgres-dc2: { image: '$POSTGRES_IMAGE' }
  upstream:
    image: apim
    command: ['node', '-e', "require('http').createServer((q, s) => { s.setHeader('content-type', 'application/json'); s.end(JSON.stringify({ upstream: 'compose', url: q.url }) + '\\\\n'); }).listen(7070)"]
EOF

"${COMPOSE[@]}" down -v --remove-orphans > /dev/null 2>&1 || true
step 'docker-compose up -d (two Kafkas, two PostgreSQLs, two control planes, two gateways, two replicators)'
"${COMPOSE[@]}" up -d --no-build 2>&1 | sed 's/^/  /'

wait_healthy() {
  local deadline=$((SECONDS + 300)) pending
  while :; do
    pending=()
    for id in $("${COMPOSE[@]}" ps -q); do
      local name state
      name=$(docker inspect --format '{{.Name}}' "$id")
      state=$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id")
      [ "$state" = healthy ] || [ "$state" = running ] || pending+=("${name#/}=$state")
    done
    [ ${#pending[@]} = 0 ] && return 0
    [ $SECONDS -lt $deadline ] || fail "not healthy after 300 s: ${pending[*]}"
    step "waiting for: ${pending[*]}"
    sleep 10
  done
}
wait_healthy
step 'every service is healthy'

# The checks recreate dc1's services with the same compose command (the rebuild of a lost DC).
APIM_REHEARSAL_COMPOSE="${COMPOSE[*]}" node "$ROOT/dist/tools/docker/rehearse-check.js" --project "$PROJECT" --upstream http://upstream:7070
step 'every check passed'
