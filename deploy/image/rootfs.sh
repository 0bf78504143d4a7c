#!/bin/sh
# rootfs.sh OUT lays out the container image's files: OUT/root holds kant,
# built from the module in the current directory as a static binary, the CA
# certificates of the building machine and the nonroot user (65532); OUT/data
# is the empty directory that becomes /var/lib/kant, owned by 65532. The
# Containerfile's Go stage and build.sh (with the local Go) both run it, so
# that either way the image holds the same files.
set -eu
out=${1:?usage: rootfs.sh OUT}
rm -rf "$out"
mkdir -p "$out/root/usr/local/bin" "$out/root/etc/ssl/certs" "$out/root/var/lib" "$out/root/tmp" "$out/data"

# Static (no libc), without local paths or symbols; the module version and
# VCS revision stay in the build info for `kant version` (-buildvcs=auto
# overrides a GOFLAGS=-buildvcs=false). The time zone database is linked in
# (cmd/kant imports time/tzdata).
CGO_ENABLED=0 go build -trimpath -buildvcs=auto -ldflags='-s -w' -o "$out/root/usr/local/bin/kant" ./cmd/kant

cp /etc/ssl/certs/ca-certificates.crt "$out/root/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/var/lib/kant:/sbin/nologin\n' >"$out/root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$out/root/etc/group"

chmod 0755 "$out/root/usr/local/bin/kant" "$out/data"
chmod 0644 "$out/root/etc/passwd" "$out/root/etc/group" "$out/root/etc/ssl/certs/ca-certificates.crt"
chmod 1777 "$out/root/tmp"
