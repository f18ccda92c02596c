#!/usr/bin/env bash
# Installs what a Tk window needs on a machine with no screen: Xvfb (a virtual X display) and a CJK
# font so Tk draws Chinese text. Idempotent; run as root (CI, fresh machines) — as another user it
# only reports what is missing. Used by the card-service window test and by `make card` without a
# display.
set -euo pipefail

missing=()
command -v Xvfb >/dev/null 2>&1 || missing+=(xvfb)
command -v xauth >/dev/null 2>&1 || missing+=(xauth)
if ! fc-list 2>/dev/null | grep -qiE 'wenquanyi|noto sans cjk|noto serif cjk'; then
    missing+=(fonts-wqy-microhei fontconfig)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "xvfb.sh: missing ${missing[*]}; install them (apt-get install ${missing[*]})" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || true
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
