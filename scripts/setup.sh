#!/usr/bin/env bash
# Idempotent setup for a fresh Debian/Ubuntu machine: the CPU WebGPU drivers and the npm packages.
#  - chromium: ships SwiftShader's Vulkan driver (WebGPU on the CPU when there is no GPU) and is the
#    headless browser for page tests; libvulkan1: the Vulkan loader Dawn opens.
#  - npm ci: exact dependency versions from package-lock.json, then `prepare` builds dist/.
# Skips what is already there, so running it before every command is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."
# The mirror (and keyring) this machine already uses for Debian's bookworm suite — a local mirror or a
# proxy's URI — so the backports source goes through the same place; deb.debian.org if none is found.
debian_mirror() {
  local uri="" key=""
  local root="${1:-}"
  for f in "$root"/etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    # deb822 stanzas: the first one whose Suites has "bookworm" (not -security/-updates alone).
    uri=$(awk 'BEGIN{RS="";FS="\n"} /Suites:[^\n]*[ \t]bookworm([ \t\n]|$)/ {for(i=1;i<=NF;i++){if($i~/^URIs:/){sub(/^URIs:[ \t]*/,"",$i);split($i,a," ");print a[1];exit}}}' "$f")
    key=$(awk 'BEGIN{RS="";FS="\n"} /Suites:[^\n]*[ \t]bookworm([ \t\n]|$)/ {for(i=1;i<=NF;i++){if($i~/^Signed-By:/){sub(/^Signed-By:[ \t]*/,"",$i);print $i;exit}}}' "$f")
    [ -n "$uri" ] && break
  done
  if [ -z "$uri" ]; then
    # One-line format: deb [signed-by=K] URI bookworm main
    local line
    line=$(grep -hE '^[[:space:]]*deb[[:space:]]' "$root"/etc/apt/sources.list "$root"/etc/apt/sources.list.d/*.list 2>/dev/null | grep -E '[[:space:]]bookworm[[:space:]]' | head -n 1)
    if [ -n "$line" ]; then
      key=$(printf '%s\n' "$line" | sed -nE 's/.*signed-by=([^] ]+).*/\1/p')
      uri=$(printf '%s\n' "$line" | sed -E 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//' | awk '{print $1}')
    fi
  fi
  echo "${uri:-http://deb.debian.org/debian} ${key:-/usr/share/keyrings/debian-archive-keyring.gpg}"
}

need=()
[ -e /usr/lib/chromium/vk_swiftshader_icd.json ] || need+=(chromium)
vk=0
for f in /usr/lib/*/libvulkan.so.1 /usr/lib/libvulkan.so.1 /usr/lib64/libvulkan.so.1; do [ -e "$f" ] && vk=1; done
[ "$vk" = 1 ] || need+=(libvulkan1)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${need[*]} (apt)" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
fi
# lavapipe (Mesa's CPU Vulkan driver) runs the engine about 3x faster than SwiftShader on 2 cores — the
# difference between a 10- and a 30-minute demo. Dawn needs a newer Mesa than Debian 12 ships (tested with Mesa 25 from backports; Debian 12's own Mesa 22 is
# rejected, so on bookworm it comes from bookworm-backports). Without it everything still works on
# SwiftShader. VOXELGRAD_NO_LAVAPIPE=1 skips this step.
if [ "${VOXELGRAD_NO_LAVAPIPE:-0}" != 1 ] && ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 && command -v apt-get >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  codename="$(. /etc/os-release 2>/dev/null; echo "${ID:-}:${VERSION_CODENAME:-}")"
  if [ "$codename" = "debian:bookworm" ]; then
    # Any failure here (no network, no sudo) leaves SwiftShader in charge rather than stopping setup.
    {
      if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
        read -r uri keyring < <(debian_mirror)
        echo "setup: adding Debian's bookworm-backports apt source from $uri (for Mesa 25's lavapipe)" >&2
        printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: %s\n' "$uri" "$keyring" | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
      fi &&
        echo "setup: installing mesa-vulkan-drivers from bookworm-backports (lavapipe)" >&2 &&
        $SUDO apt-get update -q &&
        $SUDO apt-get install -y -q --no-install-recommends -t bookworm-backports mesa-vulkan-drivers
    } || echo "setup: could not install lavapipe; continuing with SwiftShader (slower)" >&2
  else
    echo "setup: installing mesa-vulkan-drivers (lavapipe)" >&2
    { $SUDO apt-get update -q && $SUDO apt-get install -y -q --no-install-recommends mesa-vulkan-drivers; } \
      || echo "setup: could not install lavapipe; continuing with SwiftShader (slower)" >&2
  fi
fi
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "setup: Node.js >= 20 is required (found: $(node --version 2>/dev/null || echo none))." >&2
  echo "       Install it from your distribution or https://nodejs.org, then run this again." >&2
  exit 1
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund
elif [ ! -e dist/src/cli/main.js ]; then
  npm run build
fi
