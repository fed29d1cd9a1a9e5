#!/bin/bash
# Builds the Debian package from the binaries already in bin/ (make deb runs it after make all,
# so CI packages what it has just tested instead of compiling again). The tree is what
# `make install PREFIX=/usr` puts in place, with Debian's layout on top: stripped binaries,
# compressed man pages and docs, the copyright file and a changelog, conffiles for /etc/mcp-mtls,
# md5sums, and the maintainer scripts of packaging/debian/. Runtime dependencies on libraries come
# from dpkg-shlibdeps, that is from the shlibs files of the libraries the binaries link.
# usage: packaging/build-deb.sh VERSION OUTPUT.deb
set -euo pipefail
umask 022
version=$1 out=$2
cd "$(dirname "$0")/.."
here=$PWD
work=$here/build/deb
stage=$work/root
maintainer=${DEB_MAINTAINER:-mcp-mtls maintainers <maintainers@users.noreply.b-seed-7201a887.example>}
arch=$(dpkg --print-architecture)
# Reproducible: every date in the package is the last commit's.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

rm -rf "$work"
mkdir -p "$stage"
make --no-print-directory install DESTDIR="$stage" PREFIX=/usr SYSCONFDIR=/etc SYSTEMDUNITDIR=/lib/systemd/system >/dev/null

# What dh_strip does for programs: debug sections, comments and notes out.
for program in "$stage"/usr/bin/*; do
  strip --remove-section=.comment --remove-section=.note "$program"
done

# Man pages gzipped (-n: no name nor time inside), and the per-server links pointing at the .gz.
find "$stage/usr/share/man" -type f -exec gzip -9n {} +
find "$stage/usr/share/man" -type l -print0 | while IFS= read -r -d '' link; do
  target=$(readlink "$link")
  rm "$link"
  ln -s "$target.gz" "$link.gz"
done

doc=$stage/usr/share/doc/mcp-mtls
install -m 0644 packaging/debian/copyright "$doc/copyright"
sed -e "s|@VERSION@|$version|" -e "s|@COMMIT@|$commit|" -e "s|@MAINTAINER@|$maintainer|" \
    -e "s|@DATE@|$(date -u -R -d "@$SOURCE_DATE_EPOCH")|" packaging/debian/changelog.in >"$doc/changelog"
gzip -9n "$doc/changelog"
# As dh_compress: documents over 4 KiB are compressed.
find "$doc" -maxdepth 1 -name '*.md' -size +4k -exec gzip -9n {} +

mkdir -p "$stage/DEBIAN"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$stage/DEBIAN/"
(cd "$stage" && find etc -type f | sort | sed 's|^|/|') >"$stage/DEBIAN/conffiles"
# md5sums of everything but the conffiles (dpkg keeps theirs itself), as dh_md5sums does.
(cd "$stage" && find usr lib -type f | LC_ALL=C sort | xargs md5sum) >"$stage/DEBIAN/md5sums"

# dpkg-shlibdeps wants a source package's debian/control around it; a minimal one will do.
mkdir -p "$work/src/debian"
printf 'Source: mcp-mtls\n\nPackage: mcp-mtls\nArchitecture: any\n' >"$work/src/debian/control"
executables=()
for program in "$stage"/usr/bin/*; do executables+=("-e$program"); done
shlibs=$(cd "$work/src" && dpkg-shlibdeps -O "${executables[@]}" | sed -n 's/^shlibs:Depends=//p')
[[ -n $shlibs ]] || { echo "build-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

installed_size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@MAINTAINER@|$maintainer|" \
    -e "s|@INSTALLED_SIZE@|$installed_size|" -e "s|@SHLIBS@|$shlibs|" packaging/debian/control.in >"$stage/DEBIAN/control"

mkdir -p "$(dirname "$out")"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out.tmp" >/dev/null
mv "$out.tmp" "$out"
echo "built $out (Depends: $(sed -n 's/^Depends: //p' "$stage/DEBIAN/control"))"
