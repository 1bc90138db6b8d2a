"""Occlusion masks for a tracked face mesh: where something (a hand, a glass, hair, an object) is
in front of the face, from cheap classical cues.

Everything happens in a *canonical* face space: a small square image (``size`` pixels) onto which
each frame's face is warped through the mesh (piecewise-affine over the mesh's triangles), so a
pixel there is the same spot of the skin in every frame. Three cues, each a score 0..1 per
canonical pixel:

1. colour: a Lab model (mean, covariance) of the face's own skin, learned over the first frames
   and slowly updated with the pixels judged unoccluded; skin far from it (Mahalanobis) is
   suspect. Eyes, brows and lips (which the mesh locates) are left out of this cue.
2. texture: a running reference of the face's look in canonical space (the face as it was in the
   previous, unoccluded frames); a patch that no longer looks like it is suspect (an occluder
   carries its own texture, the skin under it does not move with the mesh).
3. motion: dense optical flow (moviola.vision.flow, DIS) from this frame back to the previous one,
   against the motion the mesh implies (the previous frame's mesh to this one's, triangle by
   triangle); pixels that move otherwise than the face are suspect.

The scores are combined, smoothed in time (quick to rise, slower to fall, so the mask neither
lags behind a moving hand nor flickers), cleaned up morphologically, and warped back onto the
frame. Limits: an occluder already there in the first frames is learned as part of the face; a
skin-coloured, still occluder (a hand held still over the cheek) is seen only by its texture.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from moviola.vision.faces import LEFT_BROW, LEFT_EYE, LIPS_OUTER, RIGHT_BROW, RIGHT_EYE
from moviola.vision.flow import FlowEstimator, gray
from moviola.vision.meshwarp import triangle_affines


def _soft(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


class FaceOcclusion:
    """Per-track occlusion masks; call :meth:`update` with each frame and the face's mesh.

    ``canon_pts`` (N x 2) is any fixed, untangled layout of the mesh's points (faceswap uses the
    photo's mesh), ``tris`` its triangles, ``skin_outline`` (indices of a polygon of the points)
    the part of the face the mask is for.
    """

    def __init__(
        self,
        canon_pts: np.ndarray,
        tris: np.ndarray,
        skin_outline: Sequence[int] | np.ndarray | None = None,
        *,
        size: int = 96,
        warmup: int = 3,
        threshold: float = 0.5,
    ):
        lo, hi = canon_pts.min(0), canon_pts.max(0)
        scale = (size - 4) / float(max(hi - lo))
        self.canon = (canon_pts - lo) * scale + 2
        self.size = size
        self.tris = tris
        self.warmup = warmup
        self.threshold = threshold
        s = (size, size)
        # which triangle each canonical pixel is in (fixed: rasterised once)
        ids = np.full(s, -1.0, np.float32)
        for k, tri in enumerate(tris):
            pts = np.round(self.canon[tri] * 16).astype(np.int32)
            cv2.fillConvexPoly(ids, pts, float(k), lineType=cv2.LINE_8, shift=4)
        self.covered = ids >= 0
        self._tri_of = ids.astype(np.int32)[self.covered]
        ys, xs = np.nonzero(self.covered)
        self._xy = np.stack([xs, ys, np.ones_like(xs)], 1).astype(np.float64)
        # features the colour cue leaves alone (they are not skin): eyes, brows, lips
        feat = np.zeros(s, np.uint8)
        for poly in (LEFT_EYE, RIGHT_EYE, LEFT_BROW, RIGHT_BROW, LIPS_OUTER):
            pts = np.round(self.canon[poly] * 16).astype(np.int32)
            cv2.fillPoly(feat, [pts], 255, lineType=cv2.LINE_8, shift=4)
        feat = cv2.dilate(feat, np.ones((5, 5), np.uint8))
        self.features = feat > 0
        region = self.covered.copy()
        if skin_outline is not None:
            keep = np.zeros(s, np.uint8)
            pts = np.round(self.canon[np.asarray(skin_outline)] * 16).astype(np.int32)
            cv2.fillPoly(keep, [pts], 255, lineType=cv2.LINE_8, shift=4)
            region &= keep > 0
        self.region = region
        self.skin = region & ~self.features
        self.flow = FlowEstimator("fast")
        self.reset()

    def reset(self) -> None:
        self.frames = 0
        self.ref: np.ndarray | None = None  # running canonical Lab texture
        self.seen = np.zeros((self.size, self.size), bool)  # where ref has been seen
        self.mean: np.ndarray | None = None  # skin colour model (Lab)
        self.cov: np.ndarray | None = None
        self.prob = np.zeros((self.size, self.size), np.float32)
        self.prev_gray: np.ndarray | None = None
        self.prev_pts: np.ndarray | None = None
        self.last_cues: dict[str, np.ndarray] = {}

    def canon_maps(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each canonical pixel is in a frame whose mesh is ``pts``: map_x, map_y (-1
        outside the mesh)."""
        aff = triangle_affines(pts, self.canon, self.tris)[self._tri_of]  # P x 2 x 3
        xy = np.einsum("pij,pj->pi", aff, self._xy)
        map_x = np.full((self.size, self.size), -1, np.float32)
        map_y = np.full((self.size, self.size), -1, np.float32)
        map_x[self.covered], map_y[self.covered] = xy[:, 0], xy[:, 1]
        return map_x, map_y

    # -- the cues (canonical space) ------------------------------------------------------------

    def _colour(self, lab: np.ndarray) -> np.ndarray:
        assert self.mean is not None and self.cov is not None  # update(): after the warm-up
        d = lab.reshape(-1, 3) - self.mean
        inv = np.linalg.inv(self.cov)
        m = np.sqrt(np.maximum(0, np.einsum("ij,jk,ik->i", d, inv, d))).reshape(lab.shape[:2])
        score = _soft(m, 3.5, 6.0)
        score[self.features] = 0
        return score

    def _texture(self, lab: np.ndarray, valid: np.ndarray) -> np.ndarray:
        ref = self.ref
        assert ref is not None  # update(): after the warm-up
        diff = lab - ref
        # light changes move the whole face: take the median shift out first
        known = self.skin & valid & self.seen
        if known.sum() > 50:
            diff -= np.median(diff[known], axis=0)
        d = np.sqrt((diff[..., 0] / 2.0) ** 2 + diff[..., 1] ** 2 + diff[..., 2] ** 2)
        # strong edges of the reference (eyes, nostrils, the outline) move with mesh jitter
        gx = cv2.Sobel(ref[..., 0], cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(ref[..., 0], cv2.CV_32F, 0, 1, ksize=3)
        edge = cv2.GaussianBlur(np.hypot(gx, gy), (0, 0), 1.5) / 8
        score = _soft(d / (1 + 0.5 * edge), 10.0, 20.0)
        score[self.features] *= 0.5
        score[~self.seen] = 0
        return score

    def _motion(self, image_gray, pts, mx, my) -> np.ndarray | None:
        if self.prev_gray is None or self.prev_pts is None:
            return None
        h, w = image_gray.shape
        both = np.concatenate([pts, self.prev_pts])
        width = float(np.ptp(pts[:, 0])) or 1.0
        pad = 0.15 * width + 8
        x0 = int(max(0, both[:, 0].min() - pad))
        y0 = int(max(0, both[:, 1].min() - pad))
        x1 = int(min(w, both[:, 0].max() + pad))
        y1 = int(min(h, both[:, 1].max() + pad))
        if x1 - x0 < 16 or y1 - y0 < 16:
            return None
        crop = (slice(y0, y1), slice(x0, x1))
        back = self.flow(
            np.ascontiguousarray(image_gray[crop]), np.ascontiguousarray(self.prev_gray[crop])
        )
        # where each canonical pixel is in the previous frame, by the mesh and by the flow
        pmx, pmy = self.prev_maps
        f = cv2.remap(back, mx - x0, my - y0, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        err = np.hypot(mx + f[..., 0] - pmx, my + f[..., 1] - pmy)
        # fast motion: flow is less exact, allow a quarter of the displacement more
        tol = max(1.5, 0.03 * width) + 0.25 * np.hypot(pmx - mx, pmy - my)
        score = _soft(err, tol, 2.5 * tol)
        inside = (pmx >= 0) & (pmy >= 0) & (pmx <= w - 1) & (pmy <= h - 1) & self.region
        score[~inside] = 0
        # the flow disagreeing over most of the face says the flow (or the mesh) failed there,
        # not that most of the face is covered: trust it less
        share = float((score[inside] > 0.5).mean()) if inside.any() else 0.0
        if share > 0.4:
            score *= 0.4 / share
        return score

    # -- per frame -----------------------------------------------------------------------------

    def update(self, image: np.ndarray, pts: np.ndarray) -> np.ndarray:
        """The occlusion probability (float32, size x size, canonical space) for this frame's
        face with mesh ``pts`` (N x 2, frame pixels); see :meth:`to_frame` for the frame."""
        pts = np.asarray(pts, np.float64)[:, :2]
        s = (self.size, self.size)
        mx, my = self.canon_maps(pts)
        tex = cv2.remap(image[..., :3], mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        tex = cv2.GaussianBlur(tex, (0, 0), 0.8)
        lab = cv2.cvtColor(tex, cv2.COLOR_RGB2LAB).astype(np.float32)
        h, w = image.shape[:2]
        # canonical pixels seen in this frame (a face half out of the picture: the rest is not)
        valid = self.covered & (mx >= 0) & (my >= 0) & (mx <= w - 1) & (my <= h - 1)
        g = gray(image)
        motion = self._motion(g, pts, mx, my)
        score = np.zeros(s, np.float32) if motion is None else motion
        cues = {"motion": score.copy()}
        if self.frames >= self.warmup and self.mean is not None:
            colour, texture = self._colour(lab), self._texture(lab, valid)
            cues.update(colour=colour, texture=texture)
            score = np.clip(0.7 * texture + 0.45 * colour + 0.6 * score, 0, 1)
            # two cues that agree say more than either alone
            score = np.maximum(score, np.minimum(1, 2 * np.minimum(texture, colour)))
        score[~(self.region & valid)] = 0
        self.last_cues = cues
        # in time: rise at once, fall over a few frames
        self.prob = np.maximum(score, 0.55 * self.prob + 0.45 * score)
        occluded = (self.prob > self.threshold).astype(np.uint8)
        occluded = cv2.morphologyEx(occluded, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        occluded = cv2.morphologyEx(occluded, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
        occluded = cv2.dilate(occluded, np.ones((3, 3), np.uint8))
        occluded = self._fill_holes(occluded)
        occluded &= self.region
        self._learn(lab, occluded > 0, valid)
        self.prev_gray, self.prev_pts, self.prev_maps = g, pts, (mx, my)
        self.frames += 1
        return occluded.astype(np.float32)

    def _fill_holes(self, occluded: np.ndarray) -> np.ndarray:
        """An occluder's flat inside (skin-coloured, textureless) gives the cues little to see;
        what its found outline encloses is taken as occluded too."""
        if not occluded.any():
            return occluded
        free = ((occluded == 0) & self.region).astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(free, connectivity=4)
        if n <= 2:
            return occluded
        biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        holes = (labels > 0) & (labels != biggest)
        holes &= stats[labels, cv2.CC_STAT_AREA] < 0.25 * self.region.sum()
        out = occluded.copy()
        out[holes] = 1
        return out

    def _learn(self, lab: np.ndarray, occluded: np.ndarray, valid: np.ndarray) -> None:
        clear = self.skin & ~occluded & valid
        if self.ref is None:
            self.ref = lab.copy()
        else:
            rate = 1.0 / (self.frames + 1) if self.frames < self.warmup else 0.08
            upd = valid & self.seen & ~occluded
            self.ref[upd] += rate * (lab[upd] - self.ref[upd])
        new = valid & ~self.seen  # first seen now (the face came into the picture): take it
        self.ref[new] = lab[new]
        self.seen |= valid
        sel = lab[clear]
        if len(sel) < 50:
            return
        mean, cov = sel.mean(0), np.cov(sel.T) + np.diag([4.0, 1.0, 1.0])
        if self.mean is None or self.cov is None:
            self.mean, self.cov = mean, cov
        else:
            rate = 1.0 / (self.frames + 1) if self.frames < self.warmup else 0.03
            self.mean = self.mean + rate * (mean - self.mean)
            self.cov = self.cov + rate * (cov - self.cov)

    def to_frame(
        self, canon_mask: np.ndarray, pts: np.ndarray, box: tuple[int, int, int, int]
    ) -> np.ndarray:
        """A canonical-space mask (0/1) carried onto the frame's box (x, y, w, h) of the face with
        mesh ``pts``: its outlines (holes included) mapped through the mesh and filled. uint8
        0/255, box-sized."""
        x0, y0, bw, bh = box
        out = np.zeros((bh, bw), np.uint8)
        binary = (canon_mask > 0).astype(np.uint8)
        if not binary.any():
            return out
        mx, my = self.canon_maps(np.asarray(pts, np.float64)[:, :2])
        contours, _ = cv2.findContours(binary, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
        polys = []
        for contour in contours:
            c = np.asarray(contour, np.intp)[:, 0]
            xy = np.stack([mx[c[:, 1], c[:, 0]] - x0, my[c[:, 1], c[:, 0]] - y0], 1)
            polys.append(np.round(xy * 16).astype(np.int32))
        cv2.fillPoly(out, polys, 255, lineType=cv2.LINE_8, shift=4)
        # the outline runs through the border pixels' centres: grow by about one canonical pixel
        grow = max(3, 2 * round(float(np.ptp(pts[:, 0])) / self.size) + 1)
        return cv2.dilate(out, np.ones((grow, grow), np.uint8))
