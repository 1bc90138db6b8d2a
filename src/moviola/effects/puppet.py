"""puppet: animate a still portrait with the head motion and expressions of a driving video.

Runs over the DRIVER video (``moviola puppet DRIVER -o OUT --portrait PHOTO``): one output frame
per driver frame, at the same time, so the driver's audio is carried as it is. The output has
the portrait's size.

Relative motion, as Avatarify does, with classical geometry only (the MediaPipe face mesh is the
only model):

1. the portrait's 468-point mesh P, once;
2. per driver frame, its mesh D (FaceTracker, one face), compared with the driver's reference
   mesh D0 (the first frame of that tracked face: the driver should start with a neutral,
   frontal face; a new face, after a cut or a loss, becomes the new reference);
3. head pose: a 3-D similarity (Umeyama fit on the stable points: eye corners, nose, brows'
   inner ends, forehead, temples, cheeks) taking D0 to D; expression: what is left of D once
   that pose is undone, minus D0 (eyelids, lips, jaw, brows move; identity cancels out);
4. the same pose and expression applied to P, through the similarity that takes D0 onto P
   (so a driver's head turn turns the portrait's head by the same angle, and its movements are
   scaled to the portrait's face size); the driven mesh is smoothed with a One Euro filter;
5. the portrait warped piecewise-affine (one ``cv2.remap``) from P to the driven mesh over a
   Delaunay triangulation of the mesh plus three rings of points round the face (moving 90, 45
   and 15 % with the face) and fixed points on the picture's edges, so hair, neck and background
   follow smoothly; triangles are drawn far to near, so a turned head hides its far side;
6. blinks come with the eyelid points and the mouth with the lip points; where the mouth opens
   wider than the portrait's, its inside is painted (dark mouth, an upper teeth band).

Honesty: the output carries the container tags ``moviola_synthetic`` and ``comment``, and a
visible label "SYNTHETIC FACE - moviola puppet" unless ``label`` is off (``--no-label``).
"""

from __future__ import annotations

import cv2
import numpy as np

from moviola.errors import MoviolaError
from moviola.media.frame import Frame, StreamInfo, like, to_uint8
from moviola.media.still import read_rgb
from moviola.pipeline import Effect, Param, parse_path, register
from moviola.vision.faces import (
    FACE_OVAL,
    LIPS_INNER,
    STABLE_POINTS,
    FaceTracker,
    OneEuroFilter,
    largest,
    mesh_of_photo,
    synthetic_tags,
    umeyama,
)
from moviola.vision.faces.mouth import mouth_opening
from moviola.vision.meshwarp import delaunay, draw_label, triangle_affines

LABEL_TEXT = "SYNTHETIC FACE - moviola puppet"

# rings round the face: scale of the face oval about its centre, and how much each follows the
# face's motion (1: fully, 0: not at all; the picture's edges stay put)
RINGS = ((1.3, 0.9), (1.9, 0.45), (2.8, 0.15))
EDGE_POINTS = 5  # fixed points per side of the picture (corners included)


def _ring_points(points: np.ndarray, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Points round the face (rings of the scaled face oval) and on the picture's edges, with the
    share of the face's motion each follows."""
    oval = points[FACE_OVAL[:-1], :2].astype(np.float64)
    centre = oval.mean(0)
    pts, weights = [], []
    margin = 3.0
    for scale, weight in RINGS:
        ring = centre + (oval - centre) * scale
        ok = (
            (ring[:, 0] > margin)
            & (ring[:, 0] < w - 1 - margin)
            & (ring[:, 1] > margin)
            & (ring[:, 1] < h - 1 - margin)
        )
        pts.append(ring[ok])
        weights.append(np.full(int(ok.sum()), weight))
    edge = []
    for k in np.linspace(0, 1, EDGE_POINTS):
        edge += [(k * (w - 1), 0), (k * (w - 1), h - 1)]
        if 0 < k < 1:
            edge += [(0, k * (h - 1)), (w - 1, k * (h - 1))]
    pts.append(np.asarray(edge, np.float64))
    weights.append(np.zeros(len(edge)))
    return np.concatenate(pts), np.concatenate(weights)


def _warp_maps(
    src: np.ndarray, dst: np.ndarray, tris: np.ndarray, h: int, w: int, step: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Backward maps (for ``cv2.remap``) of the piecewise-affine warp taking triangles of ``src``
    onto those of ``dst`` over the whole picture. The map is piecewise linear, so it is worked
    out on a grid ``step`` px apart and interpolated (4x fewer pixels at step 2); triangles are
    filled in the order given, later ones winning."""
    gh, gw = (h + step - 1) // step + 1, (w + step - 1) // step + 1
    ids = np.full((gh, gw), -1, np.int32)
    grid = dst / step
    for k, tri in enumerate(tris):
        cv2.fillConvexPoly(ids, np.round(grid[tri] * 16).astype(np.int32), int(k), cv2.LINE_8, 4)
    # grid points no triangle covered (outside the hull, by rounding): the nearest covered one
    if (ids < 0).any():
        missing = (ids < 0).astype(np.uint8)
        _, nearest = cv2.distanceTransformWithLabels(
            missing, cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_PIXEL
        )
        labels = np.asarray(nearest, np.intp)
        covered = np.flatnonzero(~missing.astype(bool).ravel())
        order = np.zeros(labels.max() + 1, np.int64)
        ys, xs = np.nonzero(~missing.astype(bool))
        order[labels[ys, xs]] = covered
        ids = ids.ravel()[order[labels]].reshape(gh, gw)
    aff = triangle_affines(src, dst, tris).astype(np.float32)[ids]  # gh x gw x 2 x 3
    gy, gx = np.mgrid[0:gh, 0:gw].astype(np.float32) * step
    mx = aff[..., 0, 0] * gx + aff[..., 0, 1] * gy + aff[..., 0, 2]
    my = aff[..., 1, 0] * gx + aff[..., 1, 1] * gy + aff[..., 1, 2]
    if step > 1:
        size = ((gw - 1) * step + 1, (gh - 1) * step + 1)
        mx = cv2.resize(mx, size, interpolation=cv2.INTER_LINEAR)[:h, :w]
        my = cv2.resize(my, size, interpolation=cv2.INTER_LINEAR)[:h, :w]
    return np.ascontiguousarray(mx), np.ascontiguousarray(my)


def drive_mesh(
    portrait: np.ndarray,
    reference: np.ndarray,
    current: np.ndarray,
    *,
    expression: float = 1.0,
) -> np.ndarray:
    """The portrait's mesh (468 x 3) moved as the driver moved from ``reference`` to ``current``
    (relative motion: head pose as a 3-D similarity on the stable points, plus the expression
    left once the pose is undone). ``current == reference`` gives ``portrait`` back."""
    p = np.asarray(portrait, np.float64)
    d0 = np.asarray(reference, np.float64)
    d = np.asarray(current, np.float64)
    s_a, r_a, t_a = umeyama(d0[STABLE_POINTS], p[STABLE_POINTS])  # driver frame -> portrait
    s, r, t = umeyama(d0[STABLE_POINTS], d[STABLE_POINTS])  # driver's head motion
    expr = ((d - t) @ r) / s - d0  # residual in the reference's frame
    p_in_d = ((p - t_a) @ r_a) / s_a  # the portrait in the driver's reference frame
    moved = s * (p_in_d + expression * expr) @ r.T + t
    return s_a * moved @ r_a.T + t_a


@register
class Puppet(Effect):
    name = "puppet"
    summary = (
        "animate a still portrait with the head motion, expressions, blinks and mouth of this "
        "(driving) video; tagged and labelled as synthetic"
    )
    kind = "model"
    context_frames = None  # the driver's reference frame and smoothing carry state
    positional = ("portrait", "driver")  # moviola puppet PORTRAIT --driver VIDEO
    params = (
        Param("portrait", parse_path, None, "photo of the face to animate (required)"),
        Param(
            "expression",
            float,
            1.0,
            "how much of the driver's expression is passed on (0: head motion only)",
            min=0.0,
            max=3.0,
        ),
        Param("teeth", bool, True, "paint an upper teeth band inside an opened mouth"),
        Param("smooth", bool, True, "One Euro smoothing of the driven mesh"),
        Param("max_size", int, 1024, "longest side of the output (the portrait is scaled down "
              "to it)", min=64, max=4096),
        Param("label", bool, True, "draw the visible 'synthetic face' label (--no-label: off)"),
    )  # fmt: skip
    portrait: str  # required: validate() refuses None
    expression: float
    teeth: bool
    smooth: bool
    max_size: int
    label: bool

    def chunk_problem(self) -> str | None:
        return "the motion is relative to the driver's first frame"

    def validate(self) -> None:
        if not self.portrait:
            raise MoviolaError("puppet: --portrait PHOTO is required")

    def tags(self) -> dict[str, str]:
        return synthetic_tags("puppet")

    def configure(self, info: StreamInfo) -> StreamInfo:
        image = read_rgb(self.portrait, "portrait")
        h, w = image.shape[:2]
        k = min(1.0, self.max_size / max(h, w))
        if k < 1.0:
            image = cv2.resize(image, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA)
        h, w = (image.shape[0] // 2) * 2, (image.shape[1] // 2) * 2  # even, for the encoders
        if h < 32 or w < 32:
            raise MoviolaError(f"puppet: the portrait {self.portrait} is too small")
        image = np.ascontiguousarray(image[:h, :w])
        mesh = mesh_of_photo(image)
        if mesh is None:
            raise MoviolaError(f"puppet: no face found in the portrait {self.portrait}")
        self._image = image
        self._mesh = mesh.astype(np.float64)
        self._ring, self._weights = _ring_points(self._mesh, w, h)
        src = np.concatenate([self._mesh[:, :2], self._ring])
        self._src = src
        self._tris = delaunay(src)
        self._open0 = mouth_opening(self._mesh)
        self._tracker = FaceTracker(max_faces=1, smooth=False)
        self._filter = OneEuroFilter()
        self._reference: np.ndarray | None = None
        self._reference_id = -1
        self._driven: np.ndarray | None = None  # the last driven mesh (held while no face)
        self.last_mesh = self._mesh.copy()  # for tests and tools: this frame's driven mesh
        skin = self._skin_level()
        own = self._own_teeth()
        self._teeth_rgb = (
            own if own is not None else np.clip(np.array([232, 226, 212]) * skin, 0, 255)
        )
        self._mouth_rgb = np.array([52, 18, 22]) * skin
        out = info.evolve(width=w, height=h, alpha=False)
        return out

    def _own_teeth(self) -> np.ndarray | None:
        """The colour of the portrait's own teeth when its mouth is open (the brightest tenth
        of the inside of its inner lips), else None."""
        if self._open0 < 0.05:
            return None
        mask = np.zeros(self._image.shape[:2], np.uint8)
        poly = np.round(self._mesh[LIPS_INNER[:-1], :2] * 16).astype(np.int32)
        cv2.fillPoly(mask, [poly], 255, cv2.LINE_8, shift=4)
        inside = self._image[mask > 0].astype(np.float64)
        if len(inside) < 10:
            return None
        bright = inside[inside.sum(1) >= np.percentile(inside.sum(1), 90)]
        return bright.mean(0)

    def _skin_level(self) -> float:
        """Brightness of the portrait's face (cheeks and forehead) against a mid skin tone."""
        pts = np.round(self._mesh[STABLE_POINTS, :2]).astype(int)
        pts[:, 0] = pts[:, 0].clip(0, self._image.shape[1] - 1)
        pts[:, 1] = pts[:, 1].clip(0, self._image.shape[0] - 1)
        level = self._image[pts[:, 1], pts[:, 0]].astype(np.float64).mean() / 170.0
        return float(np.clip(level, 0.45, 1.1))

    def process(self, frame: Frame) -> Frame:
        driver = to_uint8(frame.image)[..., :3]
        t = float(frame.time)
        face = largest(self._tracker.update(driver, t))
        if face is not None:
            current = face.raw_landmarks.astype(np.float64)
            if self._reference is None or face.id != self._reference_id:
                # the first driver face, or a new one (after a cut, or a face lost a while):
                # its first frame is the new neutral reference
                self._reference, self._reference_id = current, face.id
            driven = drive_mesh(self._mesh, self._reference, current, expression=self.expression)
            if self.smooth:
                size = float(np.ptp(self._mesh[:, 1]))
                driven = self._filter(driven, t, size)
            self._driven = driven
        driven = self._driven if self._driven is not None else self._mesh
        self.last_mesh = driven
        out = self._render(driven)
        if self.label:
            draw_label(out, LABEL_TEXT)
        return frame.with_image(like(out, frame.image.dtype))  # the driver frames' dtype

    def _render(self, driven: np.ndarray) -> np.ndarray:
        h, w = self._image.shape[:2]
        if np.allclose(driven, self._mesh, atol=1e-3):
            return self._image.copy()
        # the rings follow the face's 2-D motion (a similarity on the stable points), less and
        # less far from the face; the picture's edges stay
        s2, r2, t2 = umeyama(self._mesh[STABLE_POINTS, :2], driven[STABLE_POINTS, :2])
        moved = s2 * self._ring @ r2.T + t2
        ring = self._ring + self._weights[:, None] * (moved - self._ring)
        dst = np.concatenate([driven[:, :2], ring])
        # far triangles first, near ones last (they win where a turned head overlaps itself)
        z = np.concatenate([driven[:, 2], np.full(len(ring), driven[:, 2].max() + 1)])
        tris = self._tris[np.argsort(-z[self._tris].mean(1), kind="stable")]
        map_x, map_y = _warp_maps(self._src, dst, tris, h, w)
        out = cv2.remap(
            self._image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        self._paint_mouth(out, driven)
        return out

    def _paint_mouth(self, image: np.ndarray, driven: np.ndarray) -> None:
        """Where the driven mouth opens wider than the portrait's, paint its inside: the warp
        would only stretch the lips' pixels over it."""
        extra = mouth_opening(driven) - self._open0
        strength = float(np.clip((extra - 0.015) / 0.05, 0.0, 1.0))
        if strength <= 0:
            return
        poly = driven[LIPS_INNER[:-1], :2]
        x0, y0 = np.floor(poly.min(0)).astype(int) - 4
        x1, y1 = np.ceil(poly.max(0)).astype(int) + 5
        h, w = image.shape[:2]
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
        if x1 - x0 < 3 or y1 - y0 < 3:
            return
        local = poly - [x0, y0]
        mask = np.zeros((y1 - y0, x1 - x0), np.float32)
        cv2.fillPoly(mask, [np.round(local * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4)
        fill = np.empty((y1 - y0, x1 - x0, 3), np.float32)
        fill[:] = self._mouth_rgb
        # a little light from above, darker towards the throat
        yy = np.linspace(1.0, 0.6, y1 - y0, dtype=np.float32)[:, None, None]
        fill *= yy
        if self.teeth:
            # upper teeth: the band below the upper inner lip (points 78 .. 308 along the top)
            upper = local[:11]
            gap = np.linalg.norm(driven[13, :2] - driven[14, :2])
            depth = min(0.35 * gap, 0.09 * np.ptp(driven[:, 0]))
            band = np.concatenate([upper, upper[::-1] + np.array([0.0, depth])])
            tmask = np.zeros_like(mask)
            cv2.fillPoly(tmask, [np.round(band * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4)
            tmask = cv2.GaussianBlur(tmask, (0, 0), 0.8)[..., None]
            fill = fill * (1 - tmask) + self._teeth_rgb.astype(np.float32) * tmask
        soft = cv2.GaussianBlur(mask, (0, 0), max(0.7, (y1 - y0) / 40))
        alpha = (np.minimum(soft, mask + 0.0) * strength)[..., None]
        region = image[y0:y1, x0:x1].astype(np.float32)
        image[y0:y1, x0:x1] = np.clip(fill * alpha + region * (1 - alpha), 0, 255).astype(np.uint8)
