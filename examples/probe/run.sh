#!/usr/bin/env bash
# The `scenegen probe` demo, from the repository root (in the environment where
# scenegen is installed):  bash examples/probe/run.sh
#
# 1. a biased training set: seven categories mostly in one "home" context, three
#    everywhere;
# 2. a small numpy classifier trained on crops of its objects;
# 3. its accuracy per (category, context) on an unbiased set (every category in every
#    context equally): high in context, far lower out of context;
# 4. the probe, which should find the same failures by itself.
set -euo pipefail

DEMO_DIR=${DEMO_DIR:-/tmp/scenegen_probe_demo}
WEIGHTS=${WEIGHTS:-examples/probe/classifier.npz}

# Image size shared by every step: the probe must render what the model was trained on.
SIZE=(width=128 height=128)

# Home contexts: table, chair and lamp only in the room; ball and cone only outdoors;
# mug and book only in the studio; can, crate and bottle everywhere (weight 0 = never
# there). 2% of the object draws ignore the weights (grammar.out_of_context), so each
# category is still seen out of its home context, rarely (1-5% of its objects).
BIASED=(
  '++contexts.room.weights={table:1,chair:1,lamp:1,ball:0,can:1,crate:1,cone:0,bottle:1,mug:0,book:0}'
  '++contexts.outdoor.weights={table:0,chair:0,lamp:0,ball:1,can:1,crate:1,cone:1,bottle:1,mug:0,book:0}'
  '++contexts.studio.weights={table:0,chair:0,lamp:0,ball:0,can:1,crate:1,cone:0,bottle:1,mug:1,book:1}'
  grammar.out_of_context=0.02
)

# Every category equally likely in every context: every (category, context) pair is
# feasible for the probe's directives, and the other objects of a scene are unbiased.
UNBIASED=(
  '++contexts.room.weights={table:1,chair:1,lamp:1,ball:1,can:1,crate:1,cone:1,bottle:1,mug:1,book:1}'
  '++contexts.outdoor.weights={table:1,chair:1,lamp:1,ball:1,can:1,crate:1,cone:1,bottle:1,mug:1,book:1}'
  '++contexts.studio.weights={table:1,chair:1,lamp:1,ball:1,can:1,crate:1,cone:1,bottle:1,mug:1,book:1}'
)

scenegen generate out="$DEMO_DIR/biased" n=3000 seed=1 workers=2 progress=false "${SIZE[@]}" "${BIASED[@]}"
# One BLAS thread: as fast here, and far faster when another process is busy.
OPENBLAS_NUM_THREADS=1 python -m examples.probe.train "$DEMO_DIR/biased" --out "$WEIGHTS"

scenegen generate out="$DEMO_DIR/unbiased" n=900 seed=2 workers=2 progress=false "${SIZE[@]}" "${UNBIASED[@]}"
python -m examples.probe.evaluate "$DEMO_DIR/unbiased" --weights "$WEIGHTS"

SCENEGEN_PROBE_WEIGHTS="$WEIGHTS" scenegen probe model=examples.probe.classifier:predict \
  "${SIZE[@]}" "${UNBIASED[@]}" \
  probe.strategy=adaptive probe.budget=300 'probe.factors=[category,context]' \
  probe.out="$DEMO_DIR/probe"
