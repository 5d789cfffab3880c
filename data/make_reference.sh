#!/usr/bin/env bash
# Rebuild data/reference.h5 and data/figures/*.png: the paper reproductions at a
# size that runs in minutes on 2 cores (the experiments' defaults are paper scale).
#   bash data/make_reference.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=data/reference.h5
run() { name=$1; shift; statmech run "$name" "$@" --seed 0 -o "$out" --plot "data/figures/$name.png"; }
run rem -p M=16 -p samples=32
run curie-weiss
run pitchfork
run speciation   # paper scale: 10^4 clone pairs per point, d = 64, 256, 1024 (~15 min)
run collapse -p n_samples=1000 -p n_finite=1000 -p n_times=61 -p t_max=4
run rem-condensation
run bridge
# streamed full dynamics N = 12..24 and REM level N = 16..160, three ensembles, binary beta -> inf panel;
# the production thresholds (full dynamics to N = 40, classical to N = 8000) are data/capacity/*.npz,
# reported by data/capacity_analysis.py.
run hopfield-capacity -p full_sizes=12,16,20,24 -p rem_sizes=16,24,32,48,64,80,112,160 -p n_sets=2 \
    -p n_targets=32 -p n_samples=600 -p limit_samples=200
