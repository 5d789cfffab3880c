#!/usr/bin/env bash
# Rebuild data/reference.h5 and data/figures/*.png: the paper reproductions at a
# size that runs in minutes on 2 cores (the experiments' defaults are paper scale),
# and the example report data/report.html.
#
#   bash data/make_reference.sh                      # every run, every figure, the report
#   bash data/make_reference.sh rem collapse         # only these runs (each replaces its old run;
#                                                    # the other runs are kept as they are)
#   bash data/make_reference.sh --figures-only rem   # redraw figures from the archive, compute nothing
#   bash data/make_reference.sh --report-only        # only data/report.html
#
# The speciation run is paper scale (10^4 clone pairs per point, d = 64, 256, 1024; ~15-30 min).
set -euo pipefail
cd "$(dirname "$0")/.."
out=data/reference.h5
all=(rem curie-weiss pitchfork collapse rem-condensation bridge hopfield-capacity speciation model-regimes)

mode=run
case "${1:-}" in
  --figures-only) mode=figures; shift ;;
  --report-only) mode=report; shift ;;
esac
names=("$@")
[ ${#names[@]} -eq 0 ] && names=("${all[@]}")

params() {  # the reference point of each experiment (defaults unless set here)
  case "$1" in
    rem) echo "-p M=16 -p samples=32" ;;
    collapse) echo "-p n_samples=1000 -p n_finite=1000 -p n_times=61 -p t_max=4" ;;
    hopfield-capacity)  # streamed full dynamics N = 12..24 and REM level N = 16..160, three ensembles, binary
      # beta -> inf panel; the production thresholds (full dynamics to N = 40, classical to N = 8000)
      # are data/capacity/*.npz, reported by data/capacity_analysis.py.
      echo "-p full_sizes=12,16,20,24 -p rem_sizes=16,24,32,48,64,80,112,160 -p n_sets=2 -p n_targets=32 -p n_samples=600 -p limit_samples=200" ;;
    model-regimes) echo "" ;;  # the defaults: 1000 trajectories, 200 steps, six models (~2 min)
    curie-weiss|pitchfork|rem-condensation|bridge|speciation) echo "" ;;
    *) echo "make_reference.sh: no reference point for experiment '$1'; known: ${all[*]}" >&2; exit 2 ;;
  esac
}

drop_runs() {  # rewrite $out without the runs of experiment $1 (the others are copied unchanged)
  [ -f "$out" ] || return 0
  python - "$out" "$1" <<'PY'
import os, sys
from statmech.runs.reader import open_archive
from statmech.runs.registry import RegistryError, get_experiment
from statmech.runs.schema import RunRecord
from statmech.runs.writer import ArchiveWriter

path, drop = sys.argv[1], sys.argv[2]
tmp = path + ".rebuild.h5"
with open_archive(path) as arc:
    infos = [arc.info(rid) for rid in arc.run_ids]
    if not any(info.experiment == drop for info in infos):
        sys.exit(0)
    if os.path.exists(tmp):
        os.remove(tmp)
    with ArchiveWriter(tmp) as writer:
        for info in infos:
            if info.experiment == drop:
                continue
            result = arc.load(info.run_id) if info.status == "complete" else None
            if result is not None and not result.labels:  # runs of schema 1-2 gain their labels
                try:
                    result = get_experiment(info.experiment).label(result)
                except RegistryError:
                    pass
            writer.add(RunRecord(info.run_id, info.experiment, info.params, info.seed, info.spawn_key,
                                 info.status, info.started, info.finished, info.provenance, result,
                                 info.error))
os.replace(tmp, path)
print(f"{path}: removed the runs of {drop}")
PY
}

figure() {  # draw experiment $1's reference run from the archive
  local run_id
  run_id=$(python -c "
import sys
from statmech.runs.reader import open_archive
with open_archive(sys.argv[1]) as arc:
    ids = [r.run_id for r in arc.runs(experiment=sys.argv[2], status='complete')]
print(ids[-1] if ids else '')" "$out" "$1")
  if [ -z "$run_id" ]; then echo "make_reference.sh: no run of $1 in $out" >&2; exit 1; fi
  statmech plot "$out" "$run_id" -o "data/figures/$1.png"
}

if [ "$mode" != report ]; then
  for name in "${names[@]}"; do
    read -r -a extra <<< "$(params "$name")"
    if [ "$mode" = run ]; then
      drop_runs "$name"
      statmech run "$name" "${extra[@]}" --seed 0 -o "$out" --quiet
    fi
    figure "$name"
  done
fi
statmech report "$out" -o data/report.html
