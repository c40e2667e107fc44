#!/usr/bin/env bash
# Install emotion-edge as a systemd service on 64-bit Raspberry Pi OS (bookworm).
#
#   sudo scripts/install-pi.sh            # install or upgrade, then (re)start the service
#   sudo scripts/install-pi.sh --no-start # install, enable, but leave it stopped
#   scripts/install-pi.sh --help          # usage; an unknown option exits 2, changing nothing
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
# The unit about to be installed: the config check runs the service's user, directories and
# environment from it, so it checks what systemd will start.
UNIT_SRC="$SRC/systemd/$SERVICE.service"
# Prefixed to the unit's absolute paths by the config check; only the tests set it (a
# temporary root), an install leaves it empty.
ROOT=""
START=1
# What this run changed on the system, said if it then fails (see report_changes).
CHANGED=()

say() { echo "install-pi: $*"; }
die() { echo "install-pi: error: $*" >&2; exit 1; }
changed() { CHANGED+=(" $*"); }

report_changes() {
    # EXIT trap: a run that fails half-way says what it left behind and how to undo it.
    local status=$? IFS=,
    [ "$status" -ne 0 ] && [ ${#CHANGED[@]} -gt 0 ] || return 0
    echo "install-pi: stopped after changing this system:${CHANGED[*]}" >&2
    echo "install-pi: fix the error above and run this again (it is safe to), or undo it with" \
         "'sudo $SRC/scripts/uninstall-pi.sh' (add --purge to also remove the config, the" \
         "spool and the user; apt packages and the groups stay)" >&2
}

usage() {
    cat <<USAGE
Usage: sudo $0 [--no-start]

Install or upgrade emotion-edge as a systemd service: apt packages, the user
'$SERVICE', a venv in $VENV, the config in $CONF_DIR (never
overwritten) and the unit, then (re)start it.

  --no-start   install and enable the service, but do not (re)start it
  -h, --help   show this help and exit
USAGE
}

parse_args() {
    while [ $# -gt 0 ]; do
        case "$1" in
            --no-start) START=0 ;;
            -h|--help) usage; exit 0 ;;
            *) echo "install-pi: error: unknown option '$1'" >&2; usage >&2; exit 2 ;;
        esac
        shift
    done
}

is_pi() { grep -qs "Raspberry Pi" /proc/device-tree/model; }

check_platform() {
    [ "$(id -u)" -eq 0 ] || die "run as root: sudo $0"
    local machine userland
    machine="$(uname -m)"
    userland="$(dpkg --print-architecture 2>/dev/null || echo unknown)"
    case "$machine/$userland" in
        aarch64/arm64) ;;
        x86_64/amd64) say "not a Raspberry Pi: no picamera2 (set source.kind = \"opencv\")" ;;
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
               "there, or train and convert one (docs/training.md)"
    fi
    [ -f "$UNIT_SRC" ] || die "$UNIT_SRC is missing: run this from a complete clone"
}

has_apt_package() { apt-cache policy "$1" 2>/dev/null | grep 'Candidate:' | grep -qv '(none)'; }

install_packages() {
    local packages=(python3-venv) package
    apt-get update -qq
    if is_pi; then
        # picamera2 and libcamera come from the OS (not on PyPI); lgpio drives the GPIO chip.
        # Only Raspberry Pi OS's archive has them, not plain Debian or Ubuntu on a Pi.
        for package in python3-picamera2 python3-lgpio; do
            if has_apt_package "$package"; then
                packages+=("$package")
            else
                say "skipping $package: not in this system's apt sources (not Raspberry Pi" \
                    "OS?). Without picamera2 only a USB camera works (source.kind = \"opencv\");" \
                    "without lgpio, no GPIO button or LED"
            fi
        done
    fi
    say "apt: ${packages[*]}"
    changed "apt packages (${packages[*]})"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"
}

python_minor() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null; }

make_venv() {
    # A venv is bound to the Python minor it was made with: after an OS upgrade (3.11 ->
    # 3.13) the old one dies with "No module named 'pip'". Make it again; pip refills it.
    local have want
    want="$(python_minor "$PYTHON")"
    have="$(python_minor "$VENV/bin/python" || true)"
    if [ -n "$have" ] && [ "$have" != "$want" ]; then
        say "the venv is for Python $have, the system has $want: making it again"
        rm -rf "$VENV"
    elif [ -z "$have" ] && [ -e "$VENV" ]; then
        say "the venv in $VENV does not run: making it again"
        rm -rf "$VENV"
    fi
    # --system-site-packages: picamera2, libcamera and lgpio are the OS's, not pip's.
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv --system-site-packages "$VENV"
}

write_constraints() {
    # bookworm's picamera2 stack (simplejpeg, PyAV) is built against numpy 1.x and breaks
    # ("numpy.dtype size changed") if pip puts numpy 2 in front of it. With numpy 1, cap
    # what would otherwise be downloaded and discarded (~143 MB on a Pi): OpenCV 4.12+
    # and ml_dtypes 0.6+ require numpy 2.
    : > "$1"
    if "$PYTHON" -c 'import numpy, sys; sys.exit(int(numpy.__version__.split(".")[0]) != 1)' \
            2>/dev/null; then
        printf '%s\n' 'numpy<2' 'opencv-python-headless<4.12' 'ml_dtypes<0.6' >> "$1"
    fi
}

build_wheel() {
    # Out of tree: a copy of the source in a temp dir, so root leaves no build/ or
    # *.egg-info in the user's clone, and no stale build/lib can resurrect a deleted module.
    local tmp="$1"
    mkdir -p "$tmp/src" "$tmp/dist"
    tar -C "$SRC" --exclude=./.git --exclude=./.venv --exclude=./build --exclude='*.egg-info' \
        --exclude=__pycache__ -cf - . | tar -C "$tmp/src" -xf -
    "$VENV/bin/pip" wheel --quiet --no-deps --wheel-dir "$tmp/dist" "$tmp/src" >&2
    ls "$tmp/dist"/emotion_edge-*.whl
}

install_project() {
    # $1: a pip constraints file; $2: extras such as [pi]
    local tmp wheel status=0
    tmp="$(mktemp -d)"
    if wheel="$(build_wheel "$tmp")"; then
        say "pip: installing $(basename "$wheel")$2 into $VENV"
        "$VENV/bin/pip" install --quiet --constraint "$1" "${wheel}$2" || status=1
        # The same version number after a code change: reinstall the project itself (pip
        # removes every file the old one installed, so a module deleted upstream goes too).
        [ "$status" = 1 ] \
            || "$VENV/bin/pip" install --quiet --no-deps --force-reinstall "$wheel" || status=1
    else
        status=1
    fi
    rm -rf "$tmp"
    return "$status"
}

install_venv() {
    changed "$PREFIX (venv, models)"
    make_venv
    local constraints="$PREFIX/constraints.txt"
    write_constraints "$constraints"
    install_project "$constraints" "[pi]"  # no TensorFlow
    install_files
}

install_files() {
    # The model and its sidecar; the README with what it links to (docs/, the model card and
    # its plots), so no link in the installed copy leads nowhere.
    install -d -m 0755 "$PREFIX/models" "$PREFIX/docs"
    install -m 0644 "$SRC"/models/*.tflite "$SRC"/models/*.json "$SRC"/models/README.md \
        "$SRC"/models/*.png "$PREFIX/models/"
    install -m 0644 "$SRC/README.md" "$PREFIX/README.md"
    install -m 0644 "$SRC"/docs/*.md "$SRC"/docs/*.png "$SRC"/docs/*.yml "$SRC"/docs/*.json \
        "$SRC"/docs/*.conf "$PREFIX/docs/"
}

install_user() {
    local group
    for group in video gpio; do
        getent group "$group" >/dev/null && continue
        changed "the group $group"
        groupadd --system "$group"
    done
    if ! id -u "$SERVICE" >/dev/null 2>&1; then
        changed "the user $SERVICE"
        useradd --system --user-group --no-create-home --home-dir /var/lib/emotion-edge \
            --shell /usr/sbin/nologin --comment "emotion-edge daemon" "$SERVICE"
    fi
    usermod --append --groups video,gpio "$SERVICE"
}

install_config() {
    [ -d "$CONF_DIR" ] || changed "$CONF_DIR"
    install -d -m 0750 -o root -g "$SERVICE" "$CONF_DIR"
    if [ ! -e "$CONF_DIR/config.toml" ]; then
        changed "$CONF_DIR/config.toml"
        install -m 0640 -o root -g "$SERVICE" "$SRC/systemd/config.example.toml" \
            "$CONF_DIR/config.toml"
        say "wrote $CONF_DIR/config.toml (every key at its default; set mqtt.host)"
    fi
    # Read by systemd (root) only and handed to the service as a credential.
    [ -e "$CONF_DIR/mqtt-password" ] || install -m 0600 -o root -g root /dev/null \
        "$CONF_DIR/mqtt-password"
    if [ ! -e "$ENV_FILE" ]; then
        changed "$ENV_FILE"
        install -m 0644 "$SRC/systemd/emotion-edge.env.example" "$ENV_FILE"
    fi
}

# The config check runs check-config as the unit will (ExecStartPre=): the unit's user and
# groups, its state, configuration and credential directories, its working directory, umask
# and environment, and nothing of the installer's own. Drop-ins (systemctl edit) are not read.

unit_values() { sed -n "s/^$1=//p" "$UNIT_SRC" | tr '\n' ' '; }  # every KEY= value, in order
unit_value() { sed -n "s/^$1=//p" "$UNIT_SRC" | tail -n 1; }      # the last one wins

joined() { local IFS=:; echo "$*"; }  # $STATE_DIRECTORY and its kin list paths with ":"

state_directories() {
    # StateDirectory= makes /var/lib/NAME owned by the service, mode StateDirectoryMode=.
    local user="$1" group="$2" mode name
    mode="$(unit_value StateDirectoryMode)"
    for name in $(unit_values StateDirectory); do
        [ -d "$ROOT/var/lib/$name" ] || changed "$ROOT/var/lib/$name"
        install -d -m "${mode:-0755}" -o "$user" -g "$group" "$ROOT/var/lib/$name"
    done
}

load_credentials() {
    # LoadCredential=ID:PATH: systemd (root) copies PATH to a folder only the service reads.
    local user="$1" folder="$2" spec
    for spec in $(unit_values LoadCredential); do
        install -m 0400 -o "$user" "$ROOT${spec#*:}" "$folder/${spec%%:*}"
    done
    chown "$user" "$folder"
    chmod 0500 "$folder"
}

check_unit_files() {
    # What systemd would refuse to start without, said before anything runs.
    local spec file
    for spec in $(unit_values LoadCredential); do
        [ -f "$ROOT${spec#*:}" ] \
            || die "$ROOT${spec#*:} is missing: the unit's LoadCredential=$spec needs it"
    done
    for file in $(unit_values EnvironmentFile); do
        [ "${file:0:1}" = - ] || [ -f "$ROOT$file" ] \
            || die "$ROOT$file is missing: the unit's EnvironmentFile=$file needs it"
    done
}

working_directory() {
    # WorkingDirectory= ("-": may be missing; "~": the user's home); a system service
    # without one runs in /.
    local dir
    dir="$(unit_value WorkingDirectory)"
    dir="${dir#-}"
    [ "$dir" != "~" ] || dir="$(getent passwd "$1" | cut -d: -f6)"
    echo "$ROOT${dir:-/}"
}

unit_environment() {
    # In the check's subshell: the environment systemd starts the service with, not the
    # installer's. Environment= values are split at blanks (no quoting); EnvironmentFile=
    # ("-": optional) wins over them, as in systemd. QEMU_* stay: they are the machine's, not
    # the installer's (under qemu-user QEMU_CPU picks the emulated core at every exec, and
    # qemu's default core makes LiteRT compute wrong answers).
    local user="$1" name file assignments
    # shellcheck disable=SC2163 # un-exports the variable named by $name
    while read -r name; do
        [[ "$name" == QEMU_* ]] || export -n "$name"
    done < <(compgen -e)
    export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin USER="$user" LOGNAME="$user"
    IFS=: read -r _ _ _ _ _ HOME SHELL < <(getent passwd "$user")
    export HOME SHELL
    read -ra assignments <<<"$(unit_values Environment)"
    [ ${#assignments[@]} -eq 0 ] || export "${assignments[@]}"
    for file in $(unit_values EnvironmentFile); do
        [ -f "$ROOT${file#-}" ] || continue  # a missing required one stopped check_unit_files
        set -a  # export every assignment, as EnvironmentFile= does
        # shellcheck disable=SC1090
        . "$ROOT${file#-}"
        set +a
    done
}

run_as_unit() {
    # In a subshell: the command as the unit's user in the unit's environment. $1: user,
    # $2: group, $3: state, $4: configuration, $5: credentials directories, $6: working
    # directory, then the command.
    local user="$1" group="$2" groups umask_
    groups="$(id -Gn "$user") $(unit_values SupplementaryGroups)"  # systemd adds, not replaces
    umask_="$(unit_value UMask)"
    unit_environment "$user"
    [ -z "$3" ] || export STATE_DIRECTORY="$3"
    [ -z "$4" ] || export CONFIGURATION_DIRECTORY="$4"
    [ -z "$5" ] || export CREDENTIALS_DIRECTORY="$5"
    umask "${umask_:-0022}"
    cd "$6"
    shift 6
    # shellcheck disable=SC2086 # one group a word
    exec setpriv --reuid="$user" --regid="$group" --groups="$(joined $groups | tr : ,)" -- "$@"
}

check_config() {
    local user group state=() configs=() env_files=() creds="" name status=0
    [ -f "$UNIT_SRC" ] || die "$UNIT_SRC is missing: run this from a complete clone"
    user="$(unit_value User)"
    [ -n "$user" ] || die "$UNIT_SRC has no User=: the service must not run as root"
    id -u "$user" >/dev/null 2>&1 || die "the unit's User=$user does not exist"
    group="$(unit_value Group)"
    group="${group:-$(id -gn "$user")}"
    check_unit_files
    state_directories "$user" "$group"
    for name in $(unit_values StateDirectory); do state+=("$ROOT/var/lib/$name"); done
    for name in $(unit_values ConfigurationDirectory); do configs+=("$ROOT/etc/$name"); done
    for name in $(unit_values EnvironmentFile); do env_files+=("$ROOT${name#-}"); done
    say "checking the config as the unit will run it: user $user, in" \
        "$(working_directory "$user"), STATE_DIRECTORY=$(joined "${state[@]}")," \
        "with ${env_files[*]:-no environment file}"
    if [ -n "$(unit_values LoadCredential)" ]; then
        creds="$(mktemp -d)"
        load_credentials "$user" "$creds"
    fi
    set +e  # to remove the credentials whatever happens; run_as_unit sets -e again
    (
        set -e
        run_as_unit "$user" "$group" "$(joined "${state[@]}")" "$(joined "${configs[@]}")" \
            "$creds" "$(working_directory "$user")" \
            "$VENV/bin/emotion-edge" check-config --config "$CONF_DIR/config.toml"
    )
    status=$?
    set -e
    [ -z "$creds" ] || rm -rf "$creds"  # a copy of the MQTT password
    [ "$status" = 0 ] || die "fix $CONF_DIR/config.toml or $ENV_FILE (one line per problem" \
                             "above), then run this again"
}

install_unit() {
    changed "$UNIT_FILE"
    install -m 0644 "$UNIT_SRC" "$UNIT_FILE"
    if [ ! -d /run/systemd/system ]; then
        say "systemd is not running here: unit installed, not started"
        return
    fi
    systemctl daemon-reload
    changed "the service enabled"
    systemctl enable "$SERVICE"
    if [ "$START" = 1 ]; then
        systemctl reset-failed "$SERVICE" 2>/dev/null || true
        systemctl restart "$SERVICE"
        say "started; follow it with: journalctl -u $SERVICE -f"
    fi
}

main() {
    parse_args "$@"  # before anything changes: --help and a typo must not install
    trap report_changes EXIT
    check_platform
    install_packages
    install_user
    install_venv
    install_config
    check_config
    install_unit
    say "done. Watch the results: mosquitto_sub -v -t 'emotion-edge/#'"
}

# Sourced (by the tests), define the functions only.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    main "$@"
fi
