#!/usr/bin/env bash
# Installs the pinned OPA toolchain (opa and regal) into .tools/bin with `go install`, or reuses
# what is there. Used by `npm run toolchain`, `npm test` (pretest) and .ci/run alike.
#
# Overrides: OPA_BIN / REGAL_BIN point at binaries to use instead (they must be the pinned
# versions or newer 1.x releases whose Wasm ABI major is 1).
set -euo pipefail

# OPA 1.22.2 emits Wasm ABI 1.x, the ABI major @open-policy-agent/opa-wasm 1.10 accepts.
OPA_VERSION="v1.22.2"
REGAL_VERSION="v0.39.0"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools/bin"
mkdir -p "$tools"

log() { echo "toolchain: $*" >&2; }

installed_version() { # binary -> "v1.2.3" or ""
  local out
  out="$("$1" version 2>/dev/null | sed -n 's/^Version: *//p' | head -n 1)" || true
  [ -n "$out" ] && [ "${out#v}" = "$out" ] && out="v$out"
  echo "$out"
}

# `go install mod@version` asks the module proxy for the module's version list (to report
# deprecation); some proxies refuse that list for a module while serving its versions. Fetching
# the exact version and building it from the module cache needs no list. The -X flags set what
# `version` reports, which is how reuse is checked.
go_build_pinned() { # name module version ldflag-var
  local name="$1" module="$2" version="$3" var="$4" dir
  dir="$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -n "$dir" ] || { log "go mod download $module@$version gave no source directory"; exit 1; }
  local ldflags=""
  [ -n "$var" ] && ldflags="-X $var=$version"
  (cd "$dir" && CGO_ENABLED=0 go build -buildvcs=false -trimpath -ldflags "$ldflags" -o "$tools/$name" .)
}

ensure() { # name module version override-var ldflag-var
  local name="$1" module="$2" version="$3" override="${!4:-}"
  if [ -n "$override" ]; then
    if [ ! -x "$override" ]; then
      log "$4=$override is not an executable file"
      exit 1
    fi
    return 0
  fi
  if [ -x "$tools/$name" ] && [ "$(installed_version "$tools/$name")" = "$version" ]; then
    return 0
  fi
  if command -v go >/dev/null 2>&1; then
    log "installing $name $version from the Go module proxy (first run only; takes a few minutes)"
    go_build_pinned "$name" "$module" "$version" "$5"
    # `opa version` reads its version from the module build info, so this also checks the pin.
    local got
    got="$(installed_version "$tools/$name")"
    if [ "$got" != "$version" ]; then
      log "$name reports version '$got' after install, expected $version"
      exit 1
    fi
    return 0
  fi
  if command -v "$name" >/dev/null 2>&1; then
    log "Go is not installed; using $name from PATH ($(command -v "$name"), $(installed_version "$(command -v "$name")")), pinned is $version"
    ln -sf "$(command -v "$name")" "$tools/$name"
    return 0
  fi
  log "cannot provide $name $version: Go is not installed and no '$name' is on PATH."
  log "Install Go (https://go.dev/dl) and rerun 'npm run toolchain', or set $4 to an $name binary."
  exit 1
}

# OPA's version package carries its own version string; regal's is set at link time.
ensure opa github.com/open-policy-agent/opa "$OPA_VERSION" OPA_BIN ""
ensure regal github.com/open-policy-agent/regal "$REGAL_VERSION" REGAL_BIN \
  github.com/open-policy-agent/regal/pkg/version.Version
