#!/usr/bin/env bash
# Remove the emotion-edge service installed by scripts/install-pi.sh.
#
#   sudo scripts/uninstall-pi.sh          # remove service, code and models; keep the config,
#                                         # the password, the spool and the user
#   sudo scripts/uninstall-pi.sh --purge  # also remove those
#
# Safe to run again. The apt packages (python3-picamera2, ...) stay: other software uses them.
set -euo pipefail

SERVICE=emotion-edge
PURGE=0

say() { echo "uninstall-pi: $*"; }
die() { echo "uninstall-pi: error: $*" >&2; exit 1; }

stop_service() {
    if [ -d /run/systemd/system ]; then
        systemctl disable --now "$SERVICE" 2>/dev/null || true
    fi
    rm -f /etc/systemd/system/emotion-edge.service
    rm -rf /etc/systemd/system/emotion-edge.service.d
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload
        systemctl reset-failed "$SERVICE" 2>/dev/null || true
    fi
}

main() {
    case "${1:-}" in
        "") ;;
        --purge) PURGE=1 ;;
        *) die "unknown option '$1' (use --purge or nothing)" ;;
    esac
    [ "$(id -u)" -eq 0 ] || die "run as root: sudo $0 $*"
    stop_service
    rm -rf /opt/emotion-edge
    if [ "$PURGE" = 1 ]; then
        rm -rf /etc/emotion-edge /var/lib/emotion-edge /etc/default/emotion-edge
        if id -u "$SERVICE" >/dev/null 2>&1; then
            userdel "$SERVICE"
        fi
        say "removed everything, configuration and spool included"
    else
        say "removed; kept /etc/emotion-edge, /etc/default/emotion-edge, /var/lib/emotion-edge" \
            "and the $SERVICE user (--purge removes them)"
    fi
}

main "$@"
