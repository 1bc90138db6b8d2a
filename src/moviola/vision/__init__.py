"""Classical computer vision shared by several effects (optical flow, warping).

Only numpy and OpenCV here; no effect, model or front end is imported.
"""
