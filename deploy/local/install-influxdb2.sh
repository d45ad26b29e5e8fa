#!/bin/sh
# Builds the InfluxDB 2 server (`influxd`) the integration tests run, once per machine, and
# prints the binary's path. A later run finds the cached binary and prints its path at once.
#
# influxd is built from its Go module with `go install`; Flux, its query engine, links a Rust
# library that InfluxData's pkg-config wrapper (github.com/influxdata/pkg-config) compiles with
# cargo when cgo asks for it. The web UI is left out (no `assets` build tag): the tests and the
# pipeline use the HTTP API only.
#
# Needs: Go >= 1.23, cargo (stable Rust), a C compiler and pkg-config; network access to the Go
# module proxy and crates.io. The binary lands in
#     ${PULSELINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulseline}/influxd-$VERSION/influxd
# Environment: INFLUXDB_VERSION (default below), GO and CARGO (the commands to use; default: on
# PATH, else their usual install places), NICE (default 10: the build yields to other work).
set -eu

version="${INFLUXDB_VERSION:-2.7.12}"
cache="${PULSELINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulseline}"
dest="$cache/influxd-$version"
bin="$dest/influxd"

if [ -x "$bin" ] && "$bin" version >/dev/null 2>&1; then
    echo "$bin"
    exit 0
fi

find_tool() {  # find_tool NAME CANDIDATE...: the path of the first candidate that runs
    name="$1"
    shift
    for candidate in "$@"; do
        if command -v "$candidate" >/dev/null 2>&1; then
            command -v "$candidate"
            return 0
        fi
    done
    echo "install-influxdb2: $name not found (tried: $*)" >&2
    return 1
}

# shellcheck disable=SC2086
go_cmd="$(find_tool go ${GO:-go /usr/local/go/bin/go})"
# shellcheck disable=SC2086
cargo_cmd="$(find_tool cargo ${CARGO:-cargo $HOME/.cargo/bin/cargo})"
find_tool pkg-config pkg-config >/dev/null
find_tool cc cc gcc >/dev/null
nice_level="${NICE:-10}"

# Flux pins Rust 1.72 in libflux/rust-toolchain.toml; rustup would try to download that
# toolchain. The installed stable toolchain builds it, so it overrides the pin.
rustup_cmd="$(dirname "$cargo_cmd")/rustup"
command -v rustup >/dev/null 2>&1 && rustup_cmd="$(command -v rustup)"
if [ -z "${RUSTUP_TOOLCHAIN:-}" ] && [ -x "$rustup_cmd" ]; then
    RUSTUP_TOOLCHAIN="$("$rustup_cmd" default 2>/dev/null | sed -n 's/^\([^ ]*\).*/\1/p')"
    export RUSTUP_TOOLCHAIN
fi

mkdir -p "$dest"
log="$dest/build.log"
: >"$log"
work="$(mktemp -d "$dest/build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "install-influxdb2: building influxd $version into $dest (log: $log)" >&2
start="$(date +%s)"

module="github.com/influxdata/influxdb/v2"
# `go install module/cmd/influxd@version` refuses modules with replace directives (influxdb has
# one), so the module's own source tree is the build root.
src="$(cd "$work" && "$go_cmd" mod download -json "$module@v$version" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -n "$src" ] || { echo "install-influxdb2: could not download $module@v$version" >&2; exit 1; }

# Flux's crates `deny(warnings)`: lints newer than its Rust 1.72 (mismatched_lifetime_syntaxes,
# dead_code's wider reach) would fail the build. Every rustc that cargo runs gets
# `--cap-lints warn` through this wrapper. RUSTFLAGS cannot do it: when a --target is given (the
# pkg-config wrapper gives one), cargo leaves them off build scripts and their dependencies,
# and flux-core is one.
mkdir -p "$work/tools"
cat >"$work/tools/rustc-cap-lints" <<'WRAPPER'
#!/bin/sh
case " $* " in
*" --crate-name "*) case " $* " in *" --cap-lints "*) ;; *) set -- "$@" --cap-lints warn ;; esac ;;
esac
exec "$@"
WRAPPER
chmod +x "$work/tools/rustc-cap-lints"
RUSTC_WRAPPER="$work/tools/rustc-cap-lints"
export RUSTC_WRAPPER

# The pkg-config wrapper at the version influxdb's go.mod requires; it calls the system
# pkg-config for everything but flux.
wrapper_version="$(sed -n 's/^[[:space:]]*github.com\/influxdata\/pkg-config \(v[^ ]*\).*/\1/p' \
    "$src/go.mod")"
GOBIN="$work/tools" nice -n "$nice_level" "$go_cmd" install \
    "github.com/influxdata/pkg-config@$wrapper_version" >>"$log" 2>&1

ldflags="-X main.version=v$version -X main.commit=v$version -X main.date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
if ! (cd "$src" && PKG_CONFIG="$work/tools/pkg-config" CARGO="$cargo_cmd" GOBIN="$work/bin" \
    GOFLAGS="-mod=readonly" nice -n "$nice_level" "$go_cmd" install \
    -tags sqlite_foreign_keys,sqlite_json -ldflags "$ldflags" ./cmd/influxd) >>"$log" 2>&1; then
    echo "install-influxdb2: build failed; the end of $log:" >&2
    tail -n 40 "$log" >&2
    exit 1
fi

mv "$work/bin/influxd" "$bin"
end="$(date +%s)"
echo "install-influxdb2: built $("$bin" version) in $((end - start)) s" >&2
echo "$bin"
