"""Camera motion of a shot: a similarity transform fitted (RANSAC) to Lucas-Kanade feature tracks
between frames a few frames apart, and the label (static, pan, tilt, zoom, handheld) with its
speeds from a shot's samples."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

MOTIONS = ("static", "pan", "tilt", "zoom", "handheld")
MOTION_WIDTH = 320  # frames are analysed for camera motion at this width
PAN_SPEED = 0.03  # frame widths per second above which a consistent drift is a pan / tilt
ZOOM_SPEED = 0.05  # relative scale change per second above which it is a zoom
SHAKE = 0.02  # frame widths per second of erratic motion above which a camera is handheld


@dataclass
class MotionSample:
    """Global motion between two frames ``gap`` frames apart, per frame, normalised by the
    frame width (dx, dy of the picture centre), log scale change, rotation (radians), and the
    mean residual (local) motion."""

    dx: float
    dy: float
    zoom: float
    rotation: float
    residual: float
    inliers: float


def global_motion(g0: np.ndarray, g1: np.ndarray, gap: int = 1) -> MotionSample | None:
    """Similarity transform from ``g0`` to ``g1`` (gray uint8, same size) by LK tracks and
    RANSAC; None when too few features can be tracked (flat or black frames)."""
    h, w = g0.shape
    pts = cv2.goodFeaturesToTrack(g0, maxCorners=400, qualityLevel=0.01, minDistance=6, blockSize=5)
    if pts is None or len(pts) < 12:
        return None
    lk = {
        "winSize": (21, 21),
        "maxLevel": 3,
        "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01),
    }
    p1, st1, _ = cv2.calcOpticalFlowPyrLK(g0, g1, pts, None, **lk)
    p0r, st2, _ = cv2.calcOpticalFlowPyrLK(g1, g0, p1, None, **lk)
    good = (
        (st1.ravel() == 1)
        & (st2.ravel() == 1)
        & (np.linalg.norm((p0r - pts).reshape(-1, 2), axis=1) < 1.0)
    )
    a, b = pts.reshape(-1, 2)[good], p1.reshape(-1, 2)[good]
    if len(a) < 12:
        return None
    m, inl = cv2.estimateAffinePartial2D(
        a, b, method=cv2.RANSAC, ransacReprojThreshold=1.0, maxIters=2000, confidence=0.995
    )
    if m is None:
        return None
    inl = inl.ravel().astype(bool)
    if inl.sum() < 8 or inl.mean() < 0.25:
        # No transform explains most tracks: the moving subject dominates; treat as unknown.
        return None
    scale = math.hypot(m[0, 0], m[1, 0])
    centre = np.array([w / 2, h / 2])
    moved = m[:, :2] @ centre + m[:, 2] - centre
    pred = a @ m[:, :2].T + m[:, 2]
    residual = float(np.linalg.norm(b - pred, axis=1).mean())
    return MotionSample(
        dx=float(moved[0]) / w / gap,
        dy=float(moved[1]) / w / gap,
        zoom=math.log(max(scale, 1e-6)) / gap,
        rotation=math.atan2(m[1, 0], m[0, 0]) / gap,
        residual=residual / w / gap,
        inliers=float(inl.mean()),
    )


def classify_motion(samples: list[MotionSample], rate: float) -> dict[str, Any]:
    """Camera motion label and figures (per second) from the shot's motion samples."""
    if not samples:
        return {
            "motion": "static",
            "direction": None,
            "pan_speed": 0.0,
            "tilt_speed": 0.0,
            "zoom_speed": 0.0,
            "shake": 0.0,
            "measured": False,
        }
    dx = np.array([s.dx for s in samples]) * rate
    dy = np.array([s.dy for s in samples]) * rate
    dz = np.array([s.zoom for s in samples]) * rate
    mx, my, mz = float(np.median(dx)), float(np.median(dy)), float(np.median(dz))

    def consistent(v: np.ndarray, m: float) -> bool:
        return len(v) < 2 or float((np.sign(v) == np.sign(m)).mean()) >= 0.7

    # erratic part: spread of the per-pair motion around the shot's steady motion
    shake = float(np.median(np.hypot(dx - mx, dy - my))) if len(samples) >= 2 else 0.0
    # a drift counts as a pan / tilt when it is steady: same sign in most pairs and larger
    # than the shake around it (a shaky pan is still a pan; shake alone is handheld)
    scores = {
        "pan": abs(mx) / PAN_SPEED if consistent(dx, mx) and abs(mx) > 0.8 * shake else 0.0,
        "tilt": abs(my) / PAN_SPEED if consistent(dy, my) and abs(my) > 0.8 * shake else 0.0,
        "zoom": abs(mz) / ZOOM_SPEED if consistent(dz, mz) else 0.0,
    }
    kind = max(scores, key=lambda k: scores[k])
    direction = None
    if scores[kind] >= 1.0:
        motion = kind
        if kind == "pan":
            direction = "right" if mx < 0 else "left"  # picture moves left: camera turns right
        elif kind == "tilt":
            direction = "down" if my < 0 else "up"
        else:
            direction = "in" if mz > 0 else "out"
    elif shake > SHAKE or math.hypot(mx, my) > SHAKE:
        motion = "handheld"
    else:
        motion = "static"
    return {
        "motion": motion,
        "direction": direction,
        "pan_speed": round(mx, 4),
        "tilt_speed": round(my, 4),
        "zoom_speed": round(mz, 4),
        "shake": round(shake, 4),
        "measured": True,
    }
