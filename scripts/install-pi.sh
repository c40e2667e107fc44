#!/usr/bin/env bash
# Install emotion-edge as a systemd service on 64-bit Raspberry Pi OS (bookworm).
#
#   sudo scripts/install-pi.sh            # install or upgrade, then (re)start the service
#   sudo scripts/install-pi.sh --no-start # install, enable, but leave it stopped
#
# Safe to run again: it upgrades the code, the models and the unit, and never overwrites
# /etc/emotion-edge/config.toml, the password file or /etc/default/emotion-edge.
# Undo with scripts/uninstall-pi.sh.
set -euo pipefail

PREFIX=/opt/emotion-edge
VENV="$PREFIX/venv"
CONF_DIR=/etc/emotion-edge
ENV_FILE=/etc/default/emotion-edge
UNIT_FILE=/etc/systemd/system/emotion-edge.service
SERVICE=emotion-edge
# The OS's Python (the one python3-picamera2 is built for), never a pyenv or conda one.
PYTHON=/usr/bin/python3
SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
START=1

say() { echo "install-pi: $*"; }
die() { echo "install-pi: error: $*" >&2; exit 1; }

is_pi() { grep -qs "Raspberry Pi" /proc/device-tree/model; }

check_platform() {
    [ "$(id -u)" -eq 0 ] || die "run as root: sudo $0"
    local machine userland
    machine="$(uname -m)"
    userland="$(dpkg --print-architecture 2>/dev/null || echo unknown)"
    case "$machine/$userland" in
        aarch64/arm64) ;;
        x86_64/amd64) say "not a Raspberry Pi: no picamera2 (set camera.kind = \"opencv\")" ;;
        *) die "this is $machine with a $userland userland. emotion-edge needs the 64-bit" \
               "Raspberry Pi OS (arm64): ai-edge-litert, its TFLite runtime, publishes no" \
               "32-bit (armv7l/armhf) wheel. Flash 'Raspberry Pi OS (64-bit)' and retry." ;;
    esac
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "$PYTHON is $("$PYTHON" -V 2>&1); emotion-edge needs Python 3.11+ (bookworm)"
    # shellcheck disable=SC1091
    . /etc/os-release
    [ "${VERSION_CODENAME:-}" = bookworm ] \
        || say "warning: tested on bookworm; this is ${PRETTY_NAME:-an unknown OS}"
    if [ ! -f "$SRC/models/emotion-edge.tflite" ] || [ ! -f "$SRC/models/emotion-edge.json" ]; then
        die "$SRC/models/emotion-edge.tflite or its .json is missing: copy a released model" \
               "there, or train and convert one (README, 'Training')"
    fi
}

install_packages() {
    local packages=(python3-venv)
    if is_pi; then
        # picamera2 and libcamera come from the OS (not on PyPI); lgpio drives the GPIO chip.
        packages+=(python3-picamera2 python3-lgpio)
    fi
    say "apt: ${packages[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"
}

install_venv() {
    # --system-site-packages: picamera2, libcamera and lgpio are the OS's, not pip's.
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv --system-site-packages "$VENV"
    local constraints="$PREFIX/constraints.txt"
    : > "$constraints"
    # bookworm's picamera2 stack (simplejpeg, PyAV) is built against numpy 1.x and breaks
    # ("numpy.dtype size changed") if pip puts numpy 2 in front of it; pip then picks
    # opencv-python-headless 4.11, the last release that accepts numpy 1.x.
    if "$PYTHON" -c 'import numpy, sys; sys.exit(int(numpy.__version__.split(".")[0]) != 1)' \
            2>/dev/null; then
        echo 'numpy<2' >> "$constraints"
    fi
    say "pip: installing ${SRC}[pi] into $VENV (no TensorFlow)"
    "$VENV/bin/pip" install --quiet --constraint "$constraints" "${SRC}[pi]"
    # The same version number after a code change: reinstall the project itself.
    "$VENV/bin/pip" install --quiet --no-deps --force-reinstall "$SRC"
    install -d -m 0755 "$PREFIX/models"
    install -m 0644 "$SRC"/models/*.tflite "$SRC"/models/*.json "$PREFIX/models/"
    [ ! -f "$SRC/README.md" ] || install -m 0644 "$SRC/README.md" "$PREFIX/README.md"
}

install_user() {
    getent group video >/dev/null || groupadd --system video
    getent group gpio >/dev/null || groupadd --system gpio
    if ! id -u "$SERVICE" >/dev/null 2>&1; then
        useradd --system --user-group --no-create-home --home-dir /var/lib/emotion-edge \
            --shell /usr/sbin/nologin --comment "emotion-edge daemon" "$SERVICE"
    fi
    usermod --append --groups video,gpio "$SERVICE"
}

install_config() {
    install -d -m 0750 -o root -g "$SERVICE" "$CONF_DIR"
    if [ ! -e "$CONF_DIR/config.toml" ]; then
        install -m 0640 -o root -g "$SERVICE" "$SRC/systemd/config.example.toml" \
            "$CONF_DIR/config.toml"
        say "wrote $CONF_DIR/config.toml (every key at its default; set mqtt.host)"
    fi
    # Read by systemd (root) only and handed to the service as a credential.
    [ -e "$CONF_DIR/mqtt-password" ] || install -m 0600 -o root -g root /dev/null \
        "$CONF_DIR/mqtt-password"
    [ -e "$ENV_FILE" ] || install -m 0644 "$SRC/systemd/emotion-edge.env.example" "$ENV_FILE"
    say "checking the config as the service user"
    runuser -u "$SERVICE" -- "$VENV/bin/emotion-edge" check-config --config "$CONF_DIR/config.toml" \
        || die "fix $CONF_DIR/config.toml (one line per problem above), then run this again"
}

install_unit() {
    install -m 0644 "$SRC/systemd/emotion-edge.service" "$UNIT_FILE"
    if [ ! -d /run/systemd/system ]; then
        say "systemd is not running here: unit installed, not started"
        return
    fi
    systemctl daemon-reload
    systemctl enable "$SERVICE"
    if [ "$START" = 1 ]; then
        systemctl reset-failed "$SERVICE" 2>/dev/null || true
        systemctl restart "$SERVICE"
        say "started; follow it with: journalctl -u $SERVICE -f"
    fi
}

main() {
    [ "${1:-}" != "--no-start" ] || START=0
    check_platform
    install_packages
    install_user
    install_venv
    install_config
    install_unit
    say "done. Watch the results: mosquitto_sub -v -t 'emotion-edge/#'"
}

main "$@"
