"""Piecewise-affine warping over a triangulated landmark mesh, and the visible label that
synthetic-face effects burn into their frames (faceswap, puppet)."""

from __future__ import annotations

import cv2
import numpy as np


def delaunay(points: np.ndarray) -> np.ndarray:
    """Triangles (T x 3 indices) of a Delaunay triangulation of 2-D points."""
    x0, y0 = points.min(0) - 10
    x1, y1 = points.max(0) + 10
    subdiv = cv2.Subdiv2D((int(x0), int(y0), int(x1 - x0) + 1, int(y1 - y0) + 1))
    for p in points:
        subdiv.insert((float(p[0]), float(p[1])))
    tris = np.asarray(subdiv.getTriangleList()).reshape(-1, 3, 2)
    out = []
    for tri in tris:
        d = np.linalg.norm(points[None, :, :] - tri[:, None, :], axis=2)
        idx = d.argmin(1)
        if d[np.arange(3), idx].max() < 0.5 and len(set(idx)) == 3:
            out.append(idx)
    return np.asarray(out, np.int32)


def triangle_affines(src: np.ndarray, dst: np.ndarray, tris: np.ndarray) -> np.ndarray:
    """T x 2 x 3 affine maps taking each triangle of ``dst`` onto the same triangle of ``src``."""
    d = np.concatenate([dst[tris], np.ones((len(tris), 3, 1))], axis=2)  # T x 3 x 3 (rows: pts)
    s = src[tris]  # T x 3 x 2
    # solve d @ M = s for M (3 x 2) per triangle; degenerate ones get a least-squares answer
    d_t = np.transpose(d, (0, 2, 1))
    gram = d_t @ d + np.eye(3) * 1e-6
    m = np.linalg.solve(gram, d_t @ s)  # T x 3 x 2
    return np.transpose(m, (0, 2, 1))


def warp_face(
    src_img: np.ndarray,
    src_pts: np.ndarray,
    dst_pts: np.ndarray,
    tris: np.ndarray,
    shape: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """The source face warped onto ``dst_pts``: (image of the box, coverage mask, box x,y,w,h)."""
    h, w = shape
    x0 = int(max(0, np.floor(dst_pts[:, 0].min()) - 1))
    y0 = int(max(0, np.floor(dst_pts[:, 1].min()) - 1))
    x1 = int(min(w, np.ceil(dst_pts[:, 0].max()) + 2))
    y1 = int(min(h, np.ceil(dst_pts[:, 1].max()) + 2))
    bw, bh = max(1, x1 - x0), max(1, y1 - y0)
    ids = np.full((bh, bw), -1.0, np.float32)
    local = dst_pts - [x0, y0]
    for k, tri in enumerate(tris):
        cv2.fillConvexPoly(
            ids, np.round(local[tri] * 16).astype(np.int32), float(k), lineType=cv2.LINE_8, shift=4
        )
    idx = ids.astype(np.int32)
    inside = idx >= 0
    aff = triangle_affines(src_pts, dst_pts, tris)
    ys, xs = np.nonzero(inside)
    a = aff[idx[inside]]
    gx, gy = xs + x0, ys + y0
    map_x = np.full((bh, bw), -1, np.float32)
    map_y = np.full((bh, bw), -1, np.float32)
    map_x[inside] = a[:, 0, 0] * gx + a[:, 0, 1] * gy + a[:, 0, 2]
    map_y[inside] = a[:, 1, 0] * gx + a[:, 1, 1] * gy + a[:, 1, 2]
    warped = cv2.remap(src_img, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return warped, inside.astype(np.uint8) * 255, (x0, y0, bw, bh)


def draw_label(image: np.ndarray, text: str) -> np.ndarray:
    """The visible synthetic-content label: white text on a dark band, bottom left."""
    h, w = image.shape[:2]
    scale = max(0.4, min(1.2, w / 1100))
    thick = max(1, round(scale * 2))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    pad = max(4, th // 2)
    x, y = pad, h - pad - base
    band = image[y - th - pad : h, 0 : tw + 2 * pad]
    band[:] = (band.astype(np.float32) * 0.35).astype(np.uint8)
    cv2.putText(
        image, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick, cv2.LINE_AA
    )
    return image
