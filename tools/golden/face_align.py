#!/usr/bin/python3
"""Writes tests/data/golden/face/: insightface's alignment computed the way insightface does it,
for the face.align tests to match pixel for pixel.

- astronaut_face.png: a 160 x 160 region (x 140..299, y 30..189) of scikit-image's astronaut
  (NASA, public domain), the input image (RGB as stored; the op keeps channel order).
- align.json: per case, the template size or name, the five landmarks in the region's pixels (the
  reference's astronaut points shifted by the region's corner), skimage SimilarityTransform's
  matrix (float64 template) and the name of the expected crop.
- crop_<case>.png: cv2.warpAffine(region, M, size) with insightface's defaults (INTER_LINEAR,
  BORDER_CONSTANT 0), as norm_crop does.

Needs Debian's python3-skimage and python3-opencv (scripts/setup-deps --tools).
"""
import json
import pathlib

import cv2
import numpy as np
from skimage import data
from skimage.transform import SimilarityTransform

OUT = pathlib.Path(__file__).resolve().parents[2] / "tests/data/golden/face"
ARCFACE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655],
                    [70.7299, 92.2041]])
X0, Y0, SIDE = 140, 30, 160
LANDMARKS = np.array([[203.1667, 101.5], [246.8333, 104], [225, 127], [201, 140], [245, 141]]) - [X0, Y0]


def template(name, size):
    """insightface estimate_norm's destination points, and the crop's (width, height)."""
    if name == "arcface_96x112":
        return ARCFACE - [8, 0], (96, 112)
    if size % 112 == 0:
        return ARCFACE * size / 112, (size, size)
    ratio = size / 128
    return ARCFACE * ratio + [8 * ratio, 0], (size, size)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    region = np.ascontiguousarray(data.astronaut()[Y0:Y0 + SIDE, X0:X0 + SIDE])
    # PNG stores what it is given; reading it back with cv2.IMREAD_UNCHANGED gives the same bytes.
    cv2.imwrite(str(OUT / "astronaut_face.png"), region)
    cases = []
    for name, size in (("arcface", 112), ("arcface", 224), ("arcface", 256), ("arcface_96x112", 112)):
        dst, (w, h) = template(name, size)
        t = SimilarityTransform()
        t.estimate(LANDMARKS, dst)
        m = t.params[:2]
        crop = cv2.warpAffine(region, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=0.0)
        file = f"crop_{name}_{size}.png"
        cv2.imwrite(str(OUT / file), crop)
        cases.append({"template": name, "size": size, "landmarks": LANDMARKS.round(4).tolist(),
                      "matrix": m.tolist(), "crop": file})
    (OUT / "align.json").write_text(json.dumps({"generator": "tools/golden/face_align.py", "image": "astronaut_face.png",
                                                "cases": cases}, indent=1) + "\n")
    print(f"wrote {OUT}: {len(cases)} cases")


if __name__ == "__main__":
    main()
