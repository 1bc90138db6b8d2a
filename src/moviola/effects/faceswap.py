"""faceswap: put the face from a photo onto a face of the video (labelled as synthetic).

Per frame: the faces are tracked (moviola.vision.faces: BlazeFace + 468-point mesh, ids, One Euro
smoothing); the chosen face (the largest, or a track id) gets the photo's face, warped triangle
by triangle from the photo's mesh onto the frame's mesh (a piecewise-affine map over a Delaunay
triangulation of the 468 points, one ``cv2.remap``), its colour matched to the target face in Lab
(mean and spread, eased over time so it does not flicker), and blended in with Poisson
seamless cloning (``cv2.seamlessClone``). The inside of the target's mouth (the inner-lip
polygon) is left out of the mask, so the target's own teeth and tongue show through.

Honesty: the output carries the container tags ``moviola_synthetic`` and ``comment`` saying that
it contains synthetic faces made by moviola faceswap, and a visible label in the picture unless
``label`` is off (``--no-label``).
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
    Face,
    FaceTracker,
    face_of_photo,
    largest,
    mesh_of_photo,
    shape_descriptor,
    shape_distance,
    synthetic_tags,
)
from moviola.vision.meshwarp import delaunay, draw_label, warp_face
from moviola.vision.occlusion import FaceOcclusion

LABEL_TEXT = "SYNTHETIC FACE - moviola faceswap"


# the face outline for the mask: the mesh's oval from temple to temple round the chin, closed
# over the top along the brows (lifted a little) instead of the forehead
_OVAL_LOW = FACE_OVAL[FACE_OVAL.index(389) : FACE_OVAL.index(162) + 1]
_BROWS_TOP = [70, 63, 105, 66, 107, 336, 296, 334, 293, 300]


def face_outline(points: np.ndarray, lift: float = 0.08) -> np.ndarray:
    """Outline polygon (N x 2) of the skin to replace: chin to temples, and the brows' top
    lifted by ``lift`` x the eye distance."""
    a, b = points[33, :2], points[263, :2]
    eye = b - a
    dist = float(np.hypot(*eye)) or 1.0
    up = np.array([eye[1], -eye[0]]) / dist  # perpendicular to the eyes, towards the forehead
    brows = points[_BROWS_TOP, :2] + up * lift * dist
    return np.concatenate([points[_OVAL_LOW, :2], brows])


def lab_stats(img: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(np.float32)
    sel = lab[mask > 0]
    if len(sel) < 10:
        return np.zeros(3, np.float32), np.ones(3, np.float32)
    return sel.mean(0), sel.std(0) + 1e-3


@register
class FaceSwap(Effect):
    name = "faceswap"
    summary = (
        "put the face from a photo onto a face of the video (mesh warp, colour match, seamless "
        "blend); tagged and labelled as synthetic"
    )
    kind = "model"
    context_frames = None  # tracking and smoothing carry state from frame to frame
    params = (
        Param("face", parse_path, None, "photo with the face to put in (required)"),
        Param(
            "target",
            str,
            "largest",
            "which face of the video: 'largest', 'reference' (the one most like the "
            "--reference photo), or a track id (0, 1, ... as `moviola faces` numbers them)",
        ),
        Param(
            "reference",
            parse_path,
            None,
            "photo of the person to replace, for --target reference",
        ),
        Param(
            "blend",
            str,
            "seamless",
            "how the face is blended in",
            choices=("seamless", "feather"),
        ),
        Param("color", bool, True, "match the face's colour to the target's"),
        Param("label", bool, True, "draw the visible 'synthetic face' label (--no-label: off)"),
        Param("max_faces", int, 4, "most faces tracked at once", min=1, max=16),
        Param(
            "occlusion",
            str,
            "auto",
            "keep what is in front of the target face (a hand, a glass, hair) in front: 'auto' "
            "finds it from colour, texture and motion cues; 'off' paints the whole face",
            choices=("auto", "off"),
        ),
    )
    face: str  # required: validate() refuses None
    target: str
    reference: str | None
    blend: str
    color: bool
    label: bool
    max_faces: int
    occlusion: str

    def validate(self) -> None:
        if not self.face:
            raise MoviolaError("faceswap: --face PHOTO is required")
        track_id = str(self.target).isascii() and str(self.target).isdigit()
        if self.target not in ("largest", "reference") and not (track_id and len(self.target) < 10):
            raise MoviolaError(
                "faceswap: --target must be 'largest', 'reference' or a track id (0, 1, ...)"
            )
        if self.target == "reference" and not self.reference:
            raise MoviolaError("faceswap: --target reference needs --reference PHOTO")

    def tags(self) -> dict[str, str]:
        return synthetic_tags("faceswap")

    def configure(self, info: StreamInfo) -> StreamInfo:
        photo = read_rgb(self.face, "face photo")
        found = face_of_photo(photo)
        if found is None:
            raise MoviolaError(f"faceswap: no face found in {self.face}")
        points, score = found
        if score < 0.5:
            raise MoviolaError(f"faceswap: no clear face in {self.face}")
        self._photo = photo
        self._src = points[:, :2].astype(np.float64)
        self._tris = delaunay(self._src)
        self._tracker = FaceTracker(max_faces=self.max_faces)
        self._occ: FaceOcclusion | None = None  # the occlusion model of the target's track
        self._occ_id: int | None = None
        # the frame's occluded pixels (uint8 0/255) and their offset, for tools
        self.last_occlusion: tuple[np.ndarray, tuple[int, int]] | None = None
        self._stats: tuple[np.ndarray, np.ndarray] | None = None
        self._wanted: np.ndarray | None = None  # shape descriptor of the reference photo's face
        self._unlike: dict[int, float] = {}  # per track: how unlike the reference (eased)
        if self.target == "reference":
            assert self.reference is not None  # validate(): target reference needs it
            ref_mesh = mesh_of_photo(read_rgb(self.reference, "reference photo"))
            if ref_mesh is None:
                raise MoviolaError(f"faceswap: no face found in the reference {self.reference}")
            self._wanted = shape_descriptor(ref_mesh)
        return info

    def _pick(self, faces: list[Face]) -> Face | None:
        if not faces:
            return None
        if self.target == "largest":
            return largest(faces)
        if self.target == "reference":
            return self._most_like_reference(faces)
        wanted = int(self.target)
        return next((f for f in faces if f.id == wanted), None)

    def _most_like_reference(self, faces: list[Face]) -> Face | None:
        """The face whose mesh shape (pose-free, see vision.faces.shape_descriptor) is most like
        the reference photo's; each track's distance is eased over its frames, so one odd frame
        (a blink, a turn) does not swap the target."""
        assert self._wanted is not None  # configure(): target reference
        best, best_d = None, float("inf")
        for face in faces:
            d = shape_distance(shape_descriptor(face.raw_landmarks), self._wanted)
            prev = self._unlike.get(face.id)
            d = d if prev is None else 0.8 * prev + 0.2 * d
            self._unlike[face.id] = d
            if d < best_d:
                best, best_d = face, d
        return best

    def process(self, frame: Frame) -> Frame:
        image = to_uint8(frame.image)[..., :3]
        faces = self._tracker.update(image, float(frame.time))
        face = self._pick(faces)
        self.last_target = face  # the face replaced in this frame (None: none), for tools
        out = image.copy()
        self.last_occlusion = None
        if face is not None:
            if self.occlusion == "auto" and (self._occ is None or self._occ_id != face.id):
                if self._occ is None:
                    self._occ = FaceOcclusion(self._src, self._tris, _OVAL_LOW + _BROWS_TOP)
                self._occ.reset()  # a new target: learn its face afresh
                self._occ_id = face.id
            out = self._swap(out, face.landmarks[:, :2].astype(np.float64), LIPS_INNER)
        elif self._occ is not None:
            self._occ.prev_pts = None  # the face is gone: no motion to compare with next frame
        if self.label:
            draw_label(out, LABEL_TEXT)
        out = like(out, frame.image.dtype)  # the frames' own dtype (uint16 with --deep, float)
        if frame.has_alpha:  # the source's transparency stays
            out = np.dstack([out, frame.image[..., 3]])
        return frame.with_image(out)

    def _swap(self, image: np.ndarray, dst: np.ndarray, lips_inner: list[int]) -> np.ndarray:
        h, w = image.shape[:2]
        warped, mask, (x0, y0, bw, bh) = warp_face(self._photo, self._src, dst, self._tris, (h, w))
        if mask.sum() < 255 * 64:
            return image
        # the skin from the brows down (the photo's hair on the forehead stays out), less the
        # inside of the target's mouth
        outline = np.round((face_outline(dst) - [x0, y0]) * 16).astype(np.int32)
        keep = np.zeros_like(mask)
        cv2.fillPoly(keep, [outline], 255, lineType=cv2.LINE_8, shift=4)
        mask &= keep
        mouth = np.round((dst[lips_inner] - [x0, y0]) * 16).astype(np.int32)
        cv2.fillPoly(mask, [mouth], 0, lineType=cv2.LINE_8, shift=4)
        if self._occ is not None and self.occlusion == "auto":  # what is in front stays in front
            occ = self._occ.to_frame(self._occ.update(image, dst), dst, (x0, y0, bw, bh))
            mask[occ > 0] = 0
            self.last_occlusion = (occ, (x0, y0))
        mask = cv2.erode(mask, np.ones((3, 3), np.uint8))
        region = image[y0 : y0 + bh, x0 : x0 + bw]
        if self.color:
            s_mean, s_std = lab_stats(warped, mask)
            t_mean, t_std = lab_stats(region, mask)
            if self._stats is not None:  # ease the target's statistics over time
                t_mean = 0.7 * self._stats[0] + 0.3 * t_mean
                t_std = 0.7 * self._stats[1] + 0.3 * t_std
            self._stats = (t_mean, t_std)
            lab = cv2.cvtColor(warped, cv2.COLOR_RGB2LAB).astype(np.float32)
            lab = (lab - s_mean) * (t_std / s_std) + t_mean
            warped = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
        if self.blend == "seamless":
            try:
                return self._clone(image, warped, mask, x0, y0)
            except cv2.error:
                pass  # too close to the frame's edge for Poisson blending: feather instead
        alpha = cv2.GaussianBlur(mask.astype(np.float32) / 255, (0, 0), max(1.5, bw / 40))
        alpha = np.minimum(alpha, mask.astype(np.float32) / 255 + 0.0)[..., None]
        blended = warped.astype(np.float32) * alpha + region.astype(np.float32) * (1 - alpha)
        image[y0 : y0 + bh, x0 : x0 + bw] = blended.astype(np.uint8)
        return image

    @staticmethod
    def _clone(
        image: np.ndarray, warped: np.ndarray, mask: np.ndarray, x0: int, y0: int
    ) -> np.ndarray:
        h, w = image.shape[:2]
        rx, ry, rw, rh = cv2.boundingRect(mask)
        if rw < 4 or rh < 4 or x0 + rx < 1 or y0 + ry < 1:
            raise cv2.error("mask at the edge")
        if x0 + rx + rw > w - 1 or y0 + ry + rh > h - 1:
            raise cv2.error("mask at the edge")
        src = warped[ry : ry + rh, rx : rx + rw]
        m = mask[ry : ry + rh, rx : rx + rw]
        centre = (x0 + rx + rw // 2, y0 + ry + rh // 2)
        return cv2.seamlessClone(src, image, m, centre, cv2.NORMAL_CLONE)
