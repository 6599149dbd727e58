# Sourced by deps.sh and deps-torch.sh: apt_install, which installs packages
# with apt_get, which runs apt-get after waiting for another package manager
# (apt_install sets what apt_get reads: sudo, an array, empty as root or
# (sudo), and log, the file apt-get's output is appended to).

# apt_busy reports whether another process holds the package manager's
# locks (fuser, from psmisc; without it apt_get's retries do the waiting).
apt_busy() {
	command -v fuser >/dev/null 2>&1 &&
		fuser /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock >/dev/null 2>&1
}

# apt_get runs apt-get with its arguments, output to $log, after waiting
# (up to 10 minutes in all) while another package manager runs: a fresh
# Ubuntu machine often runs unattended-upgrades at boot. DPkg::Lock::Timeout
# makes apt-get itself wait for the dpkg lock; a failure to take a lock
# (apt-get update's lists lock has no timeout) is retried.
apt_get() {
	local waited=0
	while :; do
		while apt_busy; do
			if ((waited == 0)); then
				echo "deps: another package manager is running (unattended upgrades?); waiting for it, at most 10 minutes" >&2
			fi
			((waited < 600)) || return 1
			sleep 5
			waited=$((waited + 5))
		done
		local rc=0
		"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 -y -q "$@" >"$log.try" 2>&1 || rc=$?
		cat "$log.try" >>"$log"
		((rc != 0)) || { rm -f "$log.try"; return 0; }
		grep -qE 'Could not get lock|Unable to lock|Unable to acquire' "$log.try" && ((waited < 600)) || return 1
		echo "deps: the package manager is busy; retrying in 10 s" >&2
		sleep 10
		waited=$((waited + 10))
	done
}

# apt_install NAME AGAIN PKG... installs the packages (apt-get update, then
# install without recommends), as root or through sudo. On failure it
# prints the end of apt-get's output and a line prefixed NAME that says
# what to fix before AGAIN (e.g. "make again"), and returns 1.
apt_install() {
	local name=$1 again=$2
	shift 2
	if [[ $(id -u) -eq 0 ]]; then sudo=(); elif command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
		echo "$name: please install as root: apt-get install -y $*" >&2
		return 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	log=$(mktemp "${TMPDIR:-/tmp}/rave-$name.XXXXXX")
	if ! apt_get update; then
		tail -n 20 "$log" >&2
		echo "$name: apt-get update failed (full output: $log); fix the package sources (or wait for the package manager to finish), then $again" >&2
		return 1
	fi
	if ! apt_get install --no-install-recommends "$@"; then
		tail -n 20 "$log" >&2
		echo "$name: installing $* failed (full output: $log); install them by hand (sudo apt-get install $*), then $again" >&2
		return 1
	fi
	rm -f "$log" "$log.try"
}
