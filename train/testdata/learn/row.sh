#!/usr/bin/env bash
# row.sh SRC_DIR HELD1 HELD2 MIN_PITCH [TRAIN_FLAGS...] — one row of the
# learning-speed table (README, "A model in 30 minutes"): the protocol's
# learn30.sh (30 minutes of `rave train` on SRC_DIR minus the two held-out
# files, then `rave reconstruct --deterministic` of both), followed by the
# spectral distance of each held-out reconstruction and `rave plot --clip`
# spectrograms of both. RAVE is the binary (default: rave on PATH), TRAIN_S
# the training seconds (1800), LEARN30 the protocol script (default:
# ../shared/data/learn30.sh beside the repository).
set -u
here=$(cd "$(dirname "$0")" && pwd)
LEARN30=${LEARN30:-$here/../../../../shared/data/learn30.sh}
RAVE=${RAVE:-rave}
src=$1; h1=$2; h2=$3; minp=$4; shift 4
export RAVE TRAIN_FLAGS="$*"
out=$(bash "$LEARN30" "$src" "$h1" "$h2" "$minp" 2>/tmp/row-$$.err); rc=$?
d=$(sed -n 's/^run kept in \([^ ]*\) .*/\1/p' /tmp/row-$$.err); rm -f /tmp/row-$$.err
echo "flags: ${TRAIN_FLAGS:-(none)}"
echo "$out"
[ -n "$d" ] || exit 1
export RAVE_HOME=$d/home
grep -o 'step [0-9]*/' "$d/train.log" | tail -1 | sed 's/step \([0-9]*\)\//steps: \1/'
for f in "$h1" "$h2"; do
  "$RAVE" reconstruct --deterministic s "$d/held/$f" "$d/${f%.wav}.out.wav" 2>&1 | sed -n "s/^spectral distance.*: /$f: spectral distance /p"
  "$RAVE" plot --session s --clip "$d/held/$f" --out "$d/plots-${f%.wav}" >/dev/null 2>&1 && echo "$f: spectrogram $d/plots-${f%.wav}/spectrogram.png"
done
echo "run: $d"
exit $rc
