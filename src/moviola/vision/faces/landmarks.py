"""Named points and outlines of MediaPipe's 468-point face mesh.

"Right" is the subject's right (on the image's left for a frontal face). The outlines list mesh
indices in drawing order; closed ones repeat their first point at the end.
"""

from __future__ import annotations

RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263
RIGHT_EYE_INNER, LEFT_EYE_INNER = 133, 362
UPPER_LIP, LOWER_LIP = 13, 14
NOSE_TIP = 1
MOUTH_RIGHT, MOUTH_LEFT = 61, 291

FACE_OVAL = [
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
    148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109, 10,
]  # fmt: skip
LIPS_OUTER = [
    61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146, 61,
]  # fmt: skip
LIPS_INNER = [
    78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95, 78,
]  # fmt: skip
RIGHT_EYE = [33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7, 33]
LEFT_EYE = [263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249, 263]
RIGHT_BROW = [70, 63, 105, 66, 107, 55, 65, 52, 53, 46, 70]
LEFT_BROW = [300, 293, 334, 296, 336, 285, 295, 282, 283, 276, 300]
CONTOURS = (FACE_OVAL, LIPS_OUTER, LIPS_INNER, RIGHT_EYE, LEFT_EYE, RIGHT_BROW, LEFT_BROW)

# points that move little with expression (eye corners, nose, brows' inner ends, temples,
# forehead, upper cheeks): for head pose and for comparing face shapes
STABLE_POINTS = [
    33, 133, 362, 263,  # eye corners
    1, 4, 5, 6, 168, 197, 195, 98, 327,  # nose bridge, tip, nostrils
    55, 107, 336, 285,  # inner brows
    10, 151, 9, 109, 338,  # forehead
    127, 356, 234, 454, 162, 389,  # temples
    116, 345, 50, 280, 205, 425,  # cheeks
]  # fmt: skip
