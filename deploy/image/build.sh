#!/usr/bin/env bash
# build.sh builds kant's container image offline and checks it: kant is built
# with the local Go (deploy/image/rootfs.sh), the image is assembled FROM
# scratch by podman with no network, and then, without running a container,
# its config is inspected, its files listed, and its binary taken out of it
# runs `kant version` and `kant serve`, which must answer /healthz, store a
# pushed run and become ready. As root the binary runs chrooted in the
# image's files as user 65532, so that only what the image holds is there
# (no zoneinfo, no libc), on a read-only root as the Helm chart runs it.
#
# Environment: KANT_IMAGE names the image (default localhost/kant:dev);
# KANT_PODMAN_FLAGS are global podman flags (e.g. --storage-driver vfs).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
image=${KANT_IMAGE:-localhost/kant:dev}
read -r -a podman_flags <<<"${KANT_PODMAN_FLAGS:-}"
podman() { command podman "${podman_flags[@]}" "$@"; }

work=$(mktemp -d)
ctr=""
server=""
cleanup() {
	if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; fi
	if [[ -n $ctr ]]; then podman rm "$ctr" >/dev/null 2>&1 || true; fi
	rm -rf "$work"
}
trap cleanup EXIT
fail() {
	echo "build.sh: $*" >&2
	exit 1
}

echo "== building kant (CGO_ENABLED=0 -trimpath -ldflags='-s -w')"
(cd "$repo" && deploy/image/rootfs.sh "$work/stage")

echo "== podman build $image (FROM scratch, --network none)"
podman build --quiet --network none --pull=never --build-arg ROOTFS=prebuilt \
	-f "$repo/deploy/image/Containerfile" -t "$image" "$work/stage" >/dev/null

echo "== image config"
config=$(podman image inspect --format '{{.Config.User}}|{{json .Config.Entrypoint}}|{{json .Config.Cmd}}|{{.Config.WorkingDir}}|{{len .RootFS.Layers}}' "$image")
echo "User|Entrypoint|Cmd|WorkingDir|layers: $config"
[[ $config == '65532:65532|["/usr/local/bin/kant"]|["serve"]|/var/lib/kant|1' ]] ||
	fail "image config is $config, want user 65532:65532, entrypoint /usr/local/bin/kant, cmd serve, workdir /var/lib/kant, one layer"
size=$(podman image inspect --format '{{.Size}}' "$image")
echo "image size: $size bytes ($((size / 1024 / 1024)) MiB)"

echo "== image files"
ctr=$(podman create "$image")
podman export "$ctr" >"$work/fs.tar"
podman rm "$ctr" >/dev/null
ctr=""
files=$(tar -tvf "$work/fs.tar" --numeric-owner | awk '{print $1, $2, $6}' | sort -k3)
echo "$files"
want=$(sort -k3 <<'LIST'
drwxr-xr-x 0/0 etc/
-rw-r--r-- 0/0 etc/group
-rw-r--r-- 0/0 etc/passwd
drwxr-xr-x 0/0 etc/ssl/
drwxr-xr-x 0/0 etc/ssl/certs/
-rw-r--r-- 0/0 etc/ssl/certs/ca-certificates.crt
drwxrwxrwt 0/0 tmp/
drwxr-xr-x 0/0 usr/
drwxr-xr-x 0/0 usr/local/
drwxr-xr-x 0/0 usr/local/bin/
-rwxr-xr-x 0/0 usr/local/bin/kant
drwxr-xr-x 0/0 var/
drwxr-xr-x 0/0 var/lib/
drwxr-xr-x 65532/65532 var/lib/kant/
LIST
)
[[ $files == "$want" ]] || fail "the image holds other files than these (no shell, nothing else):"$'\n'"$want"

fs=$work/fs
mkdir "$fs"
tar -xf "$work/fs.tar" -C "$fs" --numeric-owner
kant=$fs/usr/local/bin/kant
if file "$kant" 2>/dev/null | grep -q 'dynamically linked'; then
	fail "kant is dynamically linked"
fi

echo "== kant version"
version=$("$kant" version)
echo "$version"
[[ $version =~ ^kant\ [^\ ]+\ (\(.*\)\ )?go[0-9.]+\ linux/[a-z0-9]+$ ]] || fail "kant version printed $version"
if [[ -d $repo/.git ]]; then
	rev=$(git -C "$repo" rev-parse HEAD)
	[[ $version == *"(revision $rev, "* ]] || fail "kant version does not name the checkout's revision $rev"
fi

echo "== kant serve: GET /healthz, POST /v1/runs, GET /readyz"
# A config naming Asia/Tokyo, added to the extracted copy only: the time
# zone must load from the binary alone.
mkdir -p "$fs/etc/kant"
printf 'timezone: Asia/Tokyo\nstore:\n  sqlite: {path: /var/lib/kant/kant.db}\n' >"$fs/etc/kant/kant.yaml"
log=$work/serve.log
data=$fs/var/lib/kant
serve=(/usr/local/bin/kant serve -config /etc/kant/kant.yaml -listen 127.0.0.1:0)
if [[ $EUID -eq 0 ]] && unshare --mount true 2>/dev/null; then
	# As the Helm chart runs it: a read-only root, /tmp and /var/lib/kant
	# writable (tmpfs here, emptyDirs or a claim there), user 65532.
	echo "(chrooted in the image's files, read-only but /tmp and /var/lib/kant, as 65532:65532)"
	data=$work/data
	mkdir "$data"
	chown 65532:65532 "$data"
	unshare --mount --propagation private bash -c '
		set -e
		fs=$1 data=$2
		shift 2
		mount --bind "$fs" "$fs"
		mount -o remount,bind,ro "$fs"
		mount -t tmpfs -o mode=1777 tmpfs "$fs/tmp"
		mount --bind "$data" "$fs/var/lib/kant"
		exec chroot --userspec=65532:65532 "$fs" "$@"' - "$fs" "$data" "${serve[@]}" 2>"$log" &
elif [[ $EUID -eq 0 ]]; then
	echo "(chrooted in the image's files as 65532:65532)"
	chroot --userspec=65532:65532 "$fs" "${serve[@]}" 2>"$log" &
else
	echo "(not root: run on this machine with ZONEINFO pointing nowhere)"
	sed -i "s|/var/lib/kant/kant.db|$data/kant.db|" "$fs/etc/kant/kant.yaml"
	chmod u+w "$data"
	ZONEINFO=$work/no-zoneinfo "$kant" serve -config "$fs/etc/kant/kant.yaml" -listen 127.0.0.1:0 2>"$log" &
fi
server=$!
addr=""
for _ in $(seq 300); do
	addr=$(sed -n 's/.*msg="kant serving".* addr=\([0-9.:]*\).*/\1/p' "$log")
	[[ -n $addr ]] && break
	kill -0 "$server" 2>/dev/null || break
	sleep 0.1
done
[[ -n $addr ]] || fail "kant serve did not start:"$'\n'"$(cat "$log")"
get() { curl -sS --max-time 5 "$@" || fail "curl $*:"$'\n'"$(cat "$log")"; }
health=$(get "http://$addr/healthz")
echo "GET /healthz: $health"
[[ $health == '{"status":"ok"}' ]] || fail "/healthz answered $health"
pushed=$(get "http://$addr/v1/runs" -d '{"source":"image","job":"check","run_id":"1","state":"succeeded","started_at":"2026-12-01T01:00:00+09:00","finished_at":"2026-12-01T01:20:00+09:00"}')
echo "POST /v1/runs: $pushed"
[[ $pushed == '{"received":1,"stored":1}' ]] || fail "POST /v1/runs answered $pushed"
ready=""
for _ in $(seq 100); do
	ready=$(get "http://$addr/readyz")
	[[ $ready == '{"status":"ready"}' ]] && break
	sleep 0.1
done
echo "GET /readyz: $ready"
[[ $ready == '{"status":"ready"}' ]] || fail "/readyz answered $ready"
kill -TERM "$server"
wait "$server" || fail "kant serve exited $? on SIGTERM:"$'\n'"$(cat "$log")"
server=""
[[ -s $data/kant.db ]] || fail "kant serve wrote no /var/lib/kant/kant.db"
echo "ok: $image ($((size / 1024 / 1024)) MiB) runs kant version and kant serve"
