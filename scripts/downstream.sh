#!/usr/bin/env bash
# What a user of the published crate gets. Packages digitalocean-codegen and digitalocean
# (`cargo package` verifies that each .crate builds on its own), checks that the packaged
# spec is byte for byte the workspace's spec/digitalocean.yaml, then builds a hello-world
# that depends on the unpacked packages, offline.
#
#   scripts/downstream.sh build     # CI: package, compare the spec, build the hello-world
#   scripts/downstream.sh measure   # also: both hello-worlds from clean, wall time and crates
#
# `measure` prints the cost of depending on `digitalocean` beside a hello-world that depends
# only on reqwest + serde + tokio (what any HTTP client needs), as ratios from the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-build}"
root="$(pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "--- cargo package (with verification)"
# Verification builds the packaged crates in the shared target directory, where cargo takes
# a registry crate's artifacts as immutable: a codegen built from an earlier package would be
# reused and the client verified against old sources. Clean both crates (all their builds)
# first, and the copies of them unpacked from earlier packages.
cargo clean -q -p digitalocean-codegen -p digitalocean
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/digitalocean-codegen-0.1.0 \
    "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/digitalocean-0.1.0
cargo package --locked -q -p digitalocean-codegen -p digitalocean --allow-dirty 2>&1 \
    | grep -v '^warning: ignoring' || true
for crate in digitalocean-codegen digitalocean; do
    test -f "target/package/$crate-0.1.0.crate" || { echo "no package of $crate" >&2; exit 1; }
    tar -xzf "target/package/$crate-0.1.0.crate" -C "$work"
done
if ! cmp -s "$work/digitalocean-0.1.0/spec/digitalocean.yaml" spec/digitalocean.yaml; then
    echo "the packaged spec differs from spec/digitalocean.yaml" >&2
    exit 1
fi
echo "the packaged spec is spec/digitalocean.yaml"

# hello-world crates: one on the packaged client, one on the bare HTTP stack.
make_hello() {
    local dir="$1" deps="$2" body="$3" patch="${4:-}"
    mkdir -p "$dir/src"
    cat > "$dir/Cargo.toml" <<TOML
[package]
name = "hello"
version = "0.1.0"
edition = "2024"

[dependencies]
$deps
$patch
TOML
    printf '%s\n' "$body" > "$dir/src/main.rs"
    # The workspace's lock pins the versions already downloaded, so the build is offline.
    cp "$root/Cargo.lock" "$dir/Cargo.lock"
}
make_hello "$work/hello-digitalocean" \
    "digitalocean = { path = \"$work/digitalocean-0.1.0\" }
tokio = { version = \"1\", features = [\"rt\", \"macros\"] }" \
    'fn main() {
    let client = digitalocean::Client::builder().token("dop_v1_example").build().expect("a client");
    println!("{:?}", client.retry_policy());
}' \
    "[patch.crates-io]
digitalocean-codegen = { path = \"$work/digitalocean-codegen-0.1.0\" }"
make_hello "$work/hello-baseline" \
    "reqwest = { version = \"0.13\", default-features = false, features = [\"json\", \"rustls\"] }
serde = { version = \"1\", features = [\"derive\"] }
serde_json = \"1\"
tokio = { version = \"1\", features = [\"rt\", \"macros\"] }" \
    'fn main() {
    let client = reqwest::Client::builder().build().expect("a client");
    println!("{client:?} {}", serde_json::json!({"ok": true}));
}'

crates() { (cd "$1" && cargo tree --offline -e normal,build --prefix none | sed 's/ (\*)//; s/ (proc-macro)//' | sort -u | wc -l); }
build() { (cd "$1" && CARGO_TARGET_DIR="$1/target" cargo build --offline -q); }

if [ "$mode" = build ]; then
    echo "--- a hello-world on the packaged crates, offline"
    build "$work/hello-digitalocean"
    "$work/hello-digitalocean/target/debug/hello" >/dev/null
    echo "downstream build ok: $(crates "$work/hello-digitalocean") crates"
    exit 0
fi

echo "--- from clean: hello-world on digitalocean vs on reqwest + serde + tokio (debug builds)"
timed() { local start end; start=$(date +%s.%N); build "$1"; end=$(date +%s.%N); awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }'; }
base_time=$(timed "$work/hello-baseline")
base_crates=$(crates "$work/hello-baseline")
do_time=$(timed "$work/hello-digitalocean")
do_crates=$(crates "$work/hello-digitalocean")
printf '  %-34s %7.1f s  %4d crates\n' "reqwest + serde + tokio (baseline)" "$base_time" "$base_crates"
printf '  %-34s %7.1f s  %4d crates   %sx the time, %sx the crates\n' "digitalocean" "$do_time" "$do_crates" \
    "$(awk -v a="$do_time" -v b="$base_time" 'BEGIN { printf "%.2f", a / b }')" \
    "$(awk -v a="$do_crates" -v b="$base_crates" 'BEGIN { printf "%.2f", a / b }')"
