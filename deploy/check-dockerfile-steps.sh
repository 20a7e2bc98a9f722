#!/usr/bin/env bash
# Runs deploy/Dockerfile's steps without Docker, for machines that have none (the development machines do not): it does
# NOT build or run the image. Read from the Dockerfile itself, so that a change there is checked as it is:
#   1. the build context as BuildKit sends it (the repository minus deploy/Dockerfile.dockerignore's patterns);
#   2. the build stage: each COPY into a stage folder of its own, then its RUN (the dotnet publish) there;
#   3. the runtime stage: COPY --from=build, its RUN (state folder, owned by the image's user), its ENV;
#   4. the program started as ENTRYPOINT + CMD say, with that ENV, as the image's non-root user (APP_UID 1654, as in
#      the ASP.NET runtime image, when run as root), but on 127.0.0.1 and a free port instead of 0.0.0.0:8080;
#   5. checks: /healthz answers 200, the HEALTHCHECK command exits 0, the logs are JSON, the audit database is made in
#      the state folder; after a stop the program has exited 0 and the HEALTHCHECK command fails.
# /readyz is printed, not checked (it needs a reachable S3 bucket: set AWS_ENDPOINT_URL_S3 and QUILT_CHECK_BUCKET).
# Needs the .NET 10 SDK (its NuGet cache stands in for the image's restore), curl and python3. Not part of CI.
# Usage: bash deploy/check-dockerfile-steps.sh    (KEEP=1 keeps the work folder and prints where it is)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dockerfile=$repo/deploy/Dockerfile
ignorefile=$repo/deploy/Dockerfile.dockerignore
work=$(mktemp -d "${TMPDIR:-/tmp}/quilt-dockerfile-check.XXXXXX")
chmod 755 "$work"
gateway_pid=""
failures=0

cleanup() {
  if [[ -n $gateway_pid ]] && kill -0 "$gateway_pid" 2>/dev/null; then kill "$gateway_pid" 2>/dev/null || true; wait "$gateway_pid" 2>/dev/null || true; fi
  if [[ -n ${KEEP:-} ]]; then echo "work folder kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
die() { echo "error: $*" >&2; exit 2; }
json_array() { python3 -c 'import json, sys; print("\n".join(json.loads(sys.argv[1])))' "$1"; }

# The image's non-root user (the ASP.NET runtime image's "app", uid 1654); ourselves when not root.
if [[ $(id -u) == 0 ]]; then app_uid=1654; else app_uid=$(id -u); fi

# 1. The build context: the repository without what the .dockerignore file leaves out.
context=$work/context
mkdir -p "$context"
excludes=()
while IFS= read -r pattern; do
  pattern=${pattern%%#*}; pattern=${pattern//[[:space:]]/}
  [[ -z $pattern ]] && continue
  if [[ $pattern == '**/'* ]]; then excludes+=(--no-anchored "--exclude=${pattern#'**/'}"); else excludes+=(--anchored "--exclude=./$pattern"); fi
done < "$ignorefile"
tar -C "$repo" "${excludes[@]}" -cf - . | tar -C "$context" -xf -
ok "build context: $(find "$context" -type f | wc -l) files (deploy/Dockerfile.dockerignore applied)"

# The instructions: comments dropped, continuation lines joined.
mapfile -t instructions < <(awk '/^[[:space:]]*#/ { next } { if (sub(/\\[[:space:]]*$/, "")) { buf = buf $0 " "; next } print buf $0; buf = "" }' "$dockerfile" | sed '/^[[:space:]]*$/d')

stage=""; workdir="/"; user=""; expose=""; healthcheck=""; entrypoint=""; cmd=""
declare -A stage_root
declare -a env_names env_values
root() { echo "${stage_root[$stage]}"; }
# A container path (absolute) in the current stage's folder; a relative one under WORKDIR.
host_path() { if [[ $1 == /* ]]; then echo "$(root)$1"; else echo "$(root)$workdir/$1"; fi; }
# Absolute paths in a shell command or value, moved into the stage's folder (a path starts after a space, quote, = or [).
map_paths() { sed -E "s#(^|[[:space:]\"'=\[])/(app|src|etc|var|home)(/|[[:space:]\"']|$)#\1$(root)/\2\3#g" <<< "$1"; }

for line in "${instructions[@]}"; do
  keyword=${line%% *}; args=${line#* }
  case ${keyword^^} in
    FROM)
      [[ $args =~ [[:space:]][Aa][Ss][[:space:]]+([A-Za-z0-9_-]+) ]] || die "FROM without a stage name: $line"
      stage=${BASH_REMATCH[1]}; stage_root[$stage]=$work/stage-$stage; mkdir -p "$(root)"; workdir="/"
      ok "stage $stage (${args%% *})";;
    WORKDIR)
      workdir=$args; mkdir -p "$(host_path "$workdir")";;
    COPY)
      read -ra parts <<< "$args"
      from=""
      if [[ ${parts[0]} == --from=* ]]; then from=${parts[0]#--from=}; parts=("${parts[@]:1}"); fi
      dest=$(host_path "${parts[-1]}"); unset 'parts[-1]'
      mkdir -p "$dest"
      for source in "${parts[@]}"; do
        if [[ -n $from ]]; then src_path=${stage_root[$from]}$source; else src_path=$context/$source; fi
        [[ -e $src_path ]] || { fail "COPY ${from:+--from=$from }$source: not in the ${from:-build context}"; continue; }
        if [[ -d $src_path ]]; then
          # Docker copies a folder's contents into the destination folder.
          cp -a "$src_path/." "$dest/"
        else
          cp -a "$src_path" "$dest/"
        fi
      done
      ok "COPY $args";;
    RUN)
      command=$(map_paths "$args")
      echo "...  RUN $args"
      if ! (cd "$(host_path "$workdir")" && APP_UID=$app_uid bash -euo pipefail -c "$command") > "$work/run-$stage.log" 2>&1; then
        tail -30 "$work/run-$stage.log"; fail "RUN $args"; exit 1
      fi
      ok "RUN $args";;
    USER)
      user=${args//\$APP_UID/$app_uid}; user=${user//\$\{APP_UID\}/$app_uid};;
    ENV)
      # KEY=VALUE pairs (values without spaces, as this Dockerfile has them).
      for pair in $args; do env_names+=("${pair%%=*}"); env_values+=("${pair#*=}"); done;;
    VOLUME) ;;
    EXPOSE) expose=${args%%/*};;
    HEALTHCHECK)
      [[ $args =~ CMD[[:space:]]+(\[.*\]) ]] || die "HEALTHCHECK without an exec-form CMD: $line"
      healthcheck=${BASH_REMATCH[1]};;
    ENTRYPOINT) entrypoint=$args;;
    CMD) cmd=$args;;
    *) die "this script does not know the instruction ${keyword^^}: teach it before relying on it ($line)";;
  esac
done
[[ $stage == runtime ]] || die "the last stage is '$stage', not 'runtime'"
[[ -n $entrypoint && -n $expose && -n $healthcheck ]] || die "ENTRYPOINT, EXPOSE and HEALTHCHECK are expected"
[[ $user == "$app_uid" ]] || fail "USER is '$user', not the image's non-root user"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# What the image listens on (0.0.0.0:EXPOSE inside the container) moved to loopback and a free port.
local_url() { sed -E "s#0\.0\.0\.0:$expose#127.0.0.1:$port#g; s#127\.0\.0\.1:$expose#127.0.0.1:$port#g" <<< "$1"; }

# The configuration the image's CMD names, as an admin would mount it: the least that starts.
mapfile -t run_args < <(json_array "$entrypoint"; json_array "${cmd:-[]}")
config=""
for ((i = 0; i < ${#run_args[@]}; i++)); do [[ ${run_args[i]} == --config ]] && config=${run_args[i + 1]}; done
[[ -n $config ]] || die "CMD names no --config"
mkdir -p "$(dirname "$(host_path "$config")")"
cat > "$(host_path "$config")" <<JSON
{
  "jwt": { "issuers": ["dockerfile-check"], "audiences": ["dockerfile-check"] },
  "s3": { "endpoint": "${AWS_ENDPOINT_URL_S3:-http://127.0.0.1:9}", "region": "${AWS_REGION:-us-east-1}" },
  "roles": { "reader": { "grants": [ { "bucket": "${QUILT_CHECK_BUCKET:-dockerfile-check}", "read": true } ] } }
}
JSON
mkdir -p "$(root)/home/app"
if [[ $(id -u) == 0 ]]; then chown "$app_uid" "$(root)/home/app"; fi
chmod -R a+rX "$(root)"
# Only what the image's ENV sets, the secrets a `docker run -e` would pass, and where .NET is.
state_dir=""
environment=(HOME="$(root)/home/app" PATH="$PATH" QUILT_GATEWAY_JWT__HS256SECRET="$(head -c 32 /dev/urandom | base64)")
for name in DOTNET_ROOT AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION; do
  if [[ -n ${!name:-} ]]; then environment+=("$name=${!name}"); fi
done
for ((i = 0; i < ${#env_names[@]}; i++)); do
  value=$(local_url "$(map_paths "${env_values[i]}")")
  environment+=("${env_names[i]}=$value")
  if [[ ${env_names[i]} == QUILT_GATEWAY_AUDIT__SQLITEPATH ]]; then state_dir=$(dirname "$value"); fi
done

# As the image's user: setpriv and env exec, so the program keeps the PID (and gets the SIGTERM a `docker stop` sends).
launcher=(env -i "${environment[@]}")
if [[ $(id -u) == 0 ]]; then launcher=(setpriv --reuid="$app_uid" --regid="$app_uid" --clear-groups -- "${launcher[@]}"); fi
as_user() { "${launcher[@]}" "$@"; }
program=()
for arg in "${run_args[@]}"; do program+=("$(map_paths "$arg")"); done
healthcheck_command=()
while IFS= read -r arg; do healthcheck_command+=("$(local_url "$(map_paths "$arg")")"); done < <(json_array "$healthcheck")

echo "...  starting ${run_args[*]} as uid $app_uid on 127.0.0.1:$port"
(cd "$(host_path "$workdir")" && exec "${launcher[@]}" "${program[@]}") > "$work/gateway.out" 2> "$work/gateway.err" &
gateway_pid=$!

healthz=""
for _ in $(seq 1 120); do
  kill -0 "$gateway_pid" 2>/dev/null || break
  healthz=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz" || true)
  [[ $healthz == 200 ]] && break
  sleep 0.5
done
if [[ $healthz == 200 ]]; then ok "GET /healthz: 200"; else
  fail "GET /healthz: '${healthz}' (the program's output follows)"; cat "$work/gateway.out" "$work/gateway.err"; exit 1
fi

if as_user "${healthcheck_command[@]}" > "$work/health.out" 2>&1; then ok "HEALTHCHECK CMD $healthcheck: exit 0"; else
  fail "HEALTHCHECK exited $?: $(cat "$work/health.out")"; fi

readyz=$(curl -s -w ' (HTTP %{http_code})' "http://127.0.0.1:$port/readyz" || true)
echo "info GET /readyz: $readyz"

first_line=$(head -1 "$work/gateway.out")
if python3 -c 'import json, sys; json.loads(sys.argv[1])' "$first_line" 2>/dev/null; then ok "logs are JSON: $first_line"; else
  fail "the first log line is not JSON: $first_line"; fi

if [[ -n $state_dir && -f $state_dir/gateway.db ]]; then ok "audit database made in the state folder ($(basename "$state_dir")/gateway.db), as uid $(stat -c %u "$state_dir/gateway.db")"; else
  fail "no gateway.db in the state folder '$state_dir'"; fi

kill -TERM "$gateway_pid"
exit_code=0; wait "$gateway_pid" || exit_code=$?
gateway_pid=""
if [[ $exit_code == 0 ]]; then ok "stopped (SIGTERM): exit 0"; else fail "stopped (SIGTERM): exit $exit_code"; fi
if as_user "${healthcheck_command[@]}" > /dev/null 2>&1; then fail "HEALTHCHECK still exits 0 with the gateway stopped"; else
  ok "HEALTHCHECK fails with the gateway stopped"; fi

if [[ $failures == 0 ]]; then echo "All the Dockerfile's steps ran and its checks passed (the image itself was not built)."; else
  echo "$failures checks failed."; exit 1; fi
