#!/usr/bin/env bash
# A PRH cluster on this machine's loopback, every part its own process: redis-server (membership),
# Azurite (the blob store) and N `prh silo`s on distinct ports, with logs and pid files in one folder.
#
#   scripts/cluster.sh start  [--dir DIR] [--silos N]   start it (installs redis-server and Azurite if missing)
#   scripts/cluster.sh status [--dir DIR]               what runs, and each silo's readiness
#   scripts/cluster.sh stop   [--dir DIR]               stop everything (SIGTERM, then SIGKILL after 20 s)
#
# Ports: PRH_REDIS_PORT (6380), PRH_AZURITE_PORT (10010), and per silo i = 0..N-1 PRH_SILO_PORT+i (11111),
# PRH_GATEWAY_PORT+i (30000), PRH_HEALTH_PORT+i (8080, /healthz/ready and /metrics). PRH_DLL: the prh
# build to run (default Client/bin/Release/net10.0/prh.dll, built if missing). The store's connection
# string reaches the silos through their environment, never their command line.
set -euo pipefail
cd "$(dirname "$0")/.."

command="${1:-}"; shift || true
dir=".cluster"; silos=3
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --silos) silos="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
redis_port="${PRH_REDIS_PORT:-6380}"; azurite_port="${PRH_AZURITE_PORT:-10010}"
silo_port="${PRH_SILO_PORT:-11111}"; gateway_port="${PRH_GATEWAY_PORT:-30000}"; health_port="${PRH_HEALTH_PORT:-8080}"
dll="${PRH_DLL:-Client/bin/Release/net10.0/prh.dll}"
# Azurite's well-known development account (public; a real deployment puts its own in a secret).
connection="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:${azurite_port}/devstoreaccount1;"

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Running: the pid exists and is not a zombie (a killed daemon stays one until init reaps it).
running() { [ -r "/proc/$1/stat" ] && [ "$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$1/stat")" != Z ]; }
alive() { [ -f "$dir/$1.pid" ] && running "$(cat "$dir/$1.pid")"; }
wait_for() { # wait_for WHAT SECONDS COMMAND...
  local what="$1" seconds="$2"; shift 2
  for _ in $(seq 1 $((seconds * 5))); do "$@" && return 0; sleep 0.2; done
  echo "$what did not come up within $seconds s (logs in $dir)" >&2; return 1
}
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/healthz/ready")" = 200 ]; }
launch() { # launch NAME COMMAND...: in the background, its output in DIR/NAME.log, its pid in DIR/NAME.pid
  local name="$1"; shift
  alive "$name" && { echo "$name is already running (pid $(cat "$dir/$name.pid"))" >&2; exit 1; }
  nohup "$@" >"$dir/$name.log" 2>&1 &
  echo $! >"$dir/$name.pid"
}

start() {
  mkdir -p "$dir"
  . scripts/deps.sh
  install_debian_packages && install_azurite
  [ -f "$dll" ] || dotnet build Client -c Release -nologo -v quiet -clp:ErrorsOnly
  for port in "$redis_port" "$azurite_port"; do listening "$port" && { echo "port $port is in use" >&2; exit 1; }; done
  launch redis redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no
  launch azurite .tools/node_modules/.bin/azurite-blob --blobHost 127.0.0.1 --blobPort "$azurite_port" \
    --location "$dir/azurite" --skipApiVersionCheck --disableTelemetry
  wait_for redis 30 listening "$redis_port"
  wait_for azurite 30 listening "$azurite_port"
  gateways=()
  for i in $(seq 0 $((silos - 1))); do
    PRH_Store__Kind=blob PRH_Store__BlobConnectionString="$connection" launch "silo$i" dotnet "$dll" silo \
      --Cluster:Clustering=redis "--Cluster:RedisConnectionString=127.0.0.1:$redis_port" "--Cluster:SiloName=silo$i" \
      "--Cluster:SiloPort=$((silo_port + i))" "--Cluster:GatewayPort=$((gateway_port + i))" "--Health:Port=$((health_port + i))"
    gateways+=("127.0.0.1:$((gateway_port + i))")
  done
  for i in $(seq 0 $((silos - 1))); do wait_for "silo$i" 120 ready $((health_port + i)); done
  echo "${gateways[*]}" >"$dir/gateways"
  echo "cluster up: $silos silos, gateways ${gateways[*]}; redis 127.0.0.1:$redis_port, azurite 127.0.0.1:$azurite_port; logs in $dir"
  echo "try: dotnet $dll sweep run SPEC --cluster ${gateways[*]}"
}

status() {
  for pidfile in "$dir"/*.pid; do
    [ -f "$pidfile" ] || { echo "no cluster in $dir"; return 0; }
    name=$(basename "$pidfile" .pid)
    if alive "$name"; then state="running (pid $(cat "$pidfile"))"; else state="not running"; fi
    case "$name" in silo*) i="${name#silo}"; ready $((health_port + i)) && state="$state, ready" || state="$state, not ready" ;; esac
    echo "$name: $state"
  done
}

stop() {
  for pidfile in "$dir"/silo*.pid "$dir"/azurite.pid "$dir"/redis.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -TERM "$pid" 2>/dev/null; then
      for _ in $(seq 1 100); do running "$pid" || break; sleep 0.2; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
  rm -f "$dir/gateways"
  echo "cluster in $dir stopped"
}

case "$command" in
  start) start ;;
  status) status ;;
  stop) stop ;;
  *) sed -n '2,13p' "$0" >&2; exit 2 ;;
esac
