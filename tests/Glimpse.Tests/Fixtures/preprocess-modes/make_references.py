#!/usr/bin/python3
"""Reference tensors for every preprocessing mode a model folder can ask for, made the way
open_clip (Immich folders) and transformers' slow image processors (Hugging Face folders) make
them. Run once with Debian's python3-torchvision and python3-pil; the outputs are committed
beside this script and read by tests/Glimpse.Tests/Imaging/PreprocessModeTests.cs.

usage: /usr/bin/python3 make_references.py SHARED_DIR

The transforms are written out from torchvision.transforms.functional calls, as open_clip's
transform.py composes them (open_clip is not packaged in Debian):
  shortest, square S : F.resize(img, S) then F.center_crop(img, S)
  shortest, (h, w)   : ResizeKeepRatio (ratio = min(h0/h, w0/w), size = round(side / ratio)) then
                       F.center_crop(img, (h, w))
  squash             : F.resize(img, (h, w))
  longest            : ResizeKeepRatio with ratio = max(...) then CenterCropOrPad: pad with
                       fill_color, (d // 2) before and the rest after, then crop any excess centrally
and transformers' CLIPImageProcessor / SiglipImageProcessor (PIL backend):
  shortest_edge S + crop_size: PIL resize of the short side to S, the long one int(S * long / short),
                       then crop at ((h - ch) // 2, (w - cw) // 2)
  size {height, width}, no crop: PIL resize to (w, h)
Then ToTensor and Normalize(mean, std): (v / 255 - mean) / std, CHW float32.
"""
import json, os, sys
import numpy as np
from PIL import Image, ImageOps
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode

HERE = os.path.dirname(os.path.abspath(__file__))
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
IMAGES = ["01.jpg", "11.gif", "12.tiff", "13.bmp"]

# name -> (layout, config file content)
CASES = {
    "openclip-shortest-96": ("immich", {"size": 96, "mean": CLIP_MEAN, "std": CLIP_STD, "interpolation": "bicubic", "resize_mode": "shortest"}),
    "openclip-shortest-80x112": ("immich", {"size": [80, 112], "mean": CLIP_MEAN, "std": CLIP_STD, "interpolation": "bicubic", "resize_mode": "shortest"}),
    "openclip-squash-96-bilinear": ("immich", {"size": [96, 96], "mean": CLIP_MEAN, "std": CLIP_STD, "interpolation": "bilinear", "resize_mode": "squash"}),
    "openclip-longest-96": ("immich", {"size": 96, "mean": CLIP_MEAN, "std": CLIP_STD, "interpolation": "bicubic", "resize_mode": "longest", "fill_color": 0}),
    "openclip-longest-80x112-fill128": ("immich", {"size": [80, 112], "mean": CLIP_MEAN, "std": CLIP_STD, "interpolation": "bicubic", "resize_mode": "longest", "fill_color": 128}),
    "hf-clip-shortest-edge-99-crop-96": ("hf", {"do_resize": True, "size": {"shortest_edge": 99}, "do_center_crop": True, "crop_size": {"height": 96, "width": 96},
                                         "resample": 3, "image_mean": CLIP_MEAN, "image_std": CLIP_STD, "image_processor_type": "CLIPImageProcessor"}),
    "hf-siglip-96": ("hf", {"do_resize": True, "size": {"height": 96, "width": 96}, "resample": 2, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
                            "image_processor_type": "SiglipImageProcessor"}),
}
# End to end through the probe model (its input is fixed at 224): pooled vectors, not tensors.
PROBE_CASES = {
    "probe-longest-224": {"size": [224, 224], "mean": CLIP_MEAN, "std": CLIP_STD, "interpolation": "bicubic", "resize_mode": "longest", "fill_color": 0},
    "probe-squash-224": {"size": 224, "mean": CLIP_MEAN, "std": CLIP_STD, "interpolation": "bicubic", "resize_mode": "squash"},
}


def load(path):
    """What the shared reference does: first frame, EXIF orientation, 16-bit to 8-bit, RGB."""
    img = Image.open(path)
    img.seek(0)
    img = ImageOps.exif_transpose(img)
    if img.mode in ("I", "I;16", "I;16B"):
        img = img.point(lambda v: v / 257).convert("L")
    return img.convert("RGB")


def keep_ratio(img, size, longest):
    h0, w0 = img.size[1], img.size[0]
    ratio_h, ratio_w = h0 / size[0], w0 / size[1]
    ratio = max(ratio_h, ratio_w) if longest else min(ratio_h, ratio_w)
    return [round(h0 / ratio), round(w0 / ratio)]


def center_crop_or_pad(img, size, fill):
    w, h = img.size
    ch, cw = size
    if cw > w or ch > h:
        ltrb = [(cw - w) // 2 if cw > w else 0, (ch - h) // 2 if ch > h else 0,
                (cw - w + 1) // 2 if cw > w else 0, (ch - h + 1) // 2 if ch > h else 0]
        img = F.pad(img, ltrb, fill=fill)
        w, h = img.size
        if (w, h) == (cw, ch):
            return img
    return F.crop(img, int(round((h - ch) / 2.0)), int(round((w - cw) / 2.0)), ch, cw)


def openclip(img, cfg):
    size = cfg["size"]
    size = [size, size] if isinstance(size, int) else size
    interp = InterpolationMode.BICUBIC if cfg["interpolation"] == "bicubic" else InterpolationMode.BILINEAR
    mode = cfg["resize_mode"]
    if mode == "squash":
        img = F.resize(img, size, interp)
    elif mode == "longest":
        img = F.resize(img, keep_ratio(img, size, True), interp)
        img = center_crop_or_pad(img, size, cfg.get("fill_color", 0))
    else:
        if size[0] == size[1]:
            img = F.resize(img, size[0], interp)
        else:
            img = F.resize(img, keep_ratio(img, size, False), interp)
        img = F.center_crop(img, size)
    return normalise(img, cfg["mean"], cfg["std"])


def transformers(img, cfg):
    resample = Image.BICUBIC if cfg["resample"] == 3 else Image.BILINEAR
    size = cfg["size"]
    if "shortest_edge" in size:
        s = size["shortest_edge"]
        w, h = img.size
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = s, int(s * long / short)
        img = img.resize((new_short, new_long) if w <= h else (new_long, new_short), resample=resample)
    else:
        img = img.resize((size["width"], size["height"]), resample=resample)
    if cfg.get("do_center_crop"):
        ch, cw = cfg["crop_size"]["height"], cfg["crop_size"]["width"]
        w, h = img.size
        top, left = (h - ch) // 2, (w - cw) // 2
        img = img.crop((left, top, left + cw, top + ch))
    return normalise(img, cfg["image_mean"], cfg["image_std"])


def normalise(img, mean, std):
    a = np.asarray(img, dtype=np.float32) / 255.0
    a = (a - np.array(mean, dtype=np.float32)) / np.array(std, dtype=np.float32)
    return np.ascontiguousarray(a.transpose(2, 0, 1).astype(np.float32))


def probe_vector(tensor):
    """The probe model's output: the input average-pooled to 8x8 per channel, zero-padded to 512, unit length."""
    c, h, w = tensor.shape
    pooled = tensor.reshape(c, 8, h // 8, 8, w // 8).mean(axis=(2, 4)).reshape(-1)
    v = np.zeros(512, dtype=np.float32)
    v[:pooled.size] = pooled
    return (v / np.linalg.norm(v)).astype(np.float32)


def main():
    shared = sys.argv[1]
    fixtures = os.path.join(shared, "fixtures", "preprocess")
    # The probe's pooling, checked against the shared reference before it is trusted here.
    for name in IMAGES:
        stem = os.path.splitext(name)[0]
        mine = probe_vector(np.load(os.path.join(fixtures, stem + ".tensor.npy")))
        theirs = np.load(os.path.join(fixtures, stem + ".probe.npy"))
        assert float(mine @ theirs) > 0.9999, (name, float(mine @ theirs))
    index = {"images": IMAGES, "cases": {}, "probe_cases": {}}
    for case, (layout, cfg) in CASES.items():
        index["cases"][case] = {"layout": layout, "config": cfg}
        for name in IMAGES:
            img = load(os.path.join(fixtures, name))
            t = openclip(img, cfg) if layout == "immich" else transformers(img, cfg)
            np.save(os.path.join(HERE, f"{case}.{os.path.splitext(name)[0]}.npy"), t)
    for case, cfg in PROBE_CASES.items():
        index["probe_cases"][case] = {"layout": "immich", "config": cfg}
        for name in IMAGES:
            t = openclip(load(os.path.join(fixtures, name)), cfg)
            np.save(os.path.join(HERE, f"{case}.{os.path.splitext(name)[0]}.npy"), probe_vector(t))
    with open(os.path.join(HERE, "cases.json"), "w") as f:
        json.dump(index, f, indent=1)


main()
