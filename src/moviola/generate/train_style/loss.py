"""Perceptual and style losses from EfficientNet-Lite0's features.

Features are the outputs of blocks :data:`STYLE_TAPS` (widths 16, 24, 40, 80 at 1/2 .. 1/16 of
the picture's size); the content loss compares block :data:`CONTENT_TAP`'s. Every loss is
relative (the squared error divided by the target's mean square), so the weights mean the same
whatever a layer's scale, and a plain and a treated style loss can share them.

Why a treatment: Gatys' Gram loss works on VGG, whose ReLU features are spread out; on other
networks it gives noisy, blotchy results. Wang et al., "Rethinking and Improving the Robustness
of Image Style Transfer" (CVPR 2021) trace it to peaky, low-entropy activations in residual
networks (a few huge values dominate the Gram matrix) and smooth them with a softmax before
taking the Gram matrix (SWAG). EfficientNet's block outputs are linear projections (no
activation after them), with heavier tails still. ``treat="softmax"`` applies SWAG's
transformation per picture and layer: the softmax over all the layer's values, after dividing
them by a temperature (that layer's standard deviation in the style image, so the smoothing does
not depend on the layer's scale), scaled back by the number of values. ``treat="plain"`` takes
the Gram matrix of the raw features.
"""

from __future__ import annotations

from typing import Any

STYLE_TAPS = (0, 2, 4, 7)
CONTENT_TAP = 4
TREATMENTS = ("softmax", "plain")


def _torch() -> Any:
    from moviola.models.convert import require

    return require("torch")


def gram(f: Any) -> Any:
    """N x C x C Gram matrices of N x C x H x W features, divided by H * W."""
    n, c, h, w = f.shape
    x = f.reshape(n, c, h * w)
    return x @ x.transpose(1, 2) / (h * w)


def smooth(f: Any, temperature: Any) -> Any:
    """SWAG's softmax transformation of N x C x H x W features (see the module)."""
    torch = _torch()
    n = f.shape[0]
    flat = f.reshape(n, -1)
    p = torch.softmax(flat / temperature, dim=1) * flat.shape[1]
    return p.reshape(f.shape)


def relative(a: Any, target: Any) -> Any:
    """Mean squared error over the target's mean square, per batch element, averaged."""
    dims = tuple(range(1, a.dim()))
    return (((a - target) ** 2).mean(dim=dims) / (target**2).mean(dim=dims).clamp_min(1e-8)).mean()


class StyleLoss:
    """Content, style and total-variation losses against one style image.

    ``style`` is 1 x 3 x H x W in 0..1; :meth:`__call__` takes the network's output and its
    input (N x 3 x h x w) and gives a dict of scalar tensors (``content``, ``style``,
    ``style_plain``, ``style_softmax``, ``tv``, ``total``).
    """

    def __init__(
        self,
        net: Any,
        style: Any,
        *,
        treat: str = "softmax",
        style_weight: float = 4.0,
        content_weight: float = 1.0,
        tv_weight: float = 0.5,
    ) -> None:
        torch = _torch()
        self.net, self.treat = net, treat
        self.weights = (style_weight, content_weight, tv_weight)
        self.taps = tuple(sorted({*STYLE_TAPS, CONTENT_TAP}))
        with torch.no_grad():
            feats = self.net.features(style, self.taps)
            self.temps = [f.std().clamp_min(1e-3) for f in feats]
            self.target_plain = [gram(f) for f in self._style_feats(feats)]
            self.target_soft = [
                gram(smooth(f, t))
                for f, t in zip(self._style_feats(feats), self._temps(), strict=True)
            ]

    def _style_feats(self, feats: list[Any]) -> list[Any]:
        return [f for tap, f in zip(self.taps, feats, strict=True) if tap in STYLE_TAPS]

    def _temps(self) -> list[Any]:
        return [t for tap, t in zip(self.taps, self.temps, strict=True) if tap in STYLE_TAPS]

    def style_losses(self, feats: list[Any]) -> tuple[Any, Any]:
        """(plain, softmax) style losses of features at :attr:`taps`."""
        styled = self._style_feats(feats)
        plain = sum(
            relative(gram(f), g.expand(f.shape[0], -1, -1))
            for f, g in zip(styled, self.target_plain, strict=True)
        ) / len(styled)
        soft = sum(
            relative(gram(smooth(f, t)), g.expand(f.shape[0], -1, -1))
            for f, t, g in zip(styled, self._temps(), self.target_soft, strict=True)
        ) / len(styled)
        return plain, soft

    def __call__(self, out: Any, content: Any) -> dict[str, Any]:
        torch = _torch()
        feats = self.net.features(out, self.taps)
        with torch.no_grad():
            target = self.net.features(content, (CONTENT_TAP,))[0]
        content_loss = relative(feats[self.taps.index(CONTENT_TAP)], target)
        plain, soft = self.style_losses(feats)
        dy = (out[:, :, 1:] - out[:, :, :-1]).abs().mean()
        dx = (out[:, :, :, 1:] - out[:, :, :, :-1]).abs().mean()
        tv = dx + dy
        sw, cw, tw = self.weights
        style_loss = soft if self.treat == "softmax" else plain
        total = sw * style_loss + cw * content_loss + tw * tv
        return {
            "total": total,
            "content": content_loss,
            "style": style_loss,
            "style_plain": plain,
            "style_softmax": soft,
            "tv": tv,
        }


def flow_warp(image: Any, flow: Any) -> Any:
    """Backward warp of 1 x C x H x W ``image`` by H x W x 2 ``flow`` (pixels), differentiable
    (bilinear, edges repeated): out[y, x] = image[y + flow_y, x + flow_x]."""
    torch = _torch()
    h, w = flow.shape[:2]
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=flow.dtype), torch.arange(w, dtype=flow.dtype), indexing="ij"
    )
    gx = (xs + flow[..., 0]) / max(w - 1, 1) * 2 - 1
    gy = (ys + flow[..., 1]) / max(h - 1, 1) * 2 - 1
    grid = torch.stack([gx, gy], dim=-1)[None]
    return torch.nn.functional.grid_sample(
        image, grid, mode="bilinear", padding_mode="border", align_corners=True
    )


def temporal_loss(outputs: Any, frames: Any, flow: Any, mask: Any) -> Any:
    """ReCoNet's output-level temporal loss on one pair: the change of the output between two
    consecutive frames, after warping the first output onto the second along the input's flow,
    should be the change of the input (lighting, and what the flow misses): so the residual
    (output minus input) warped from the first frame should equal the second's, over the
    pixels where the flow is reliable. ``outputs`` and ``frames`` are 2 x 3 x H x W (first,
    second); a mean square in 0..1 units (0 for the identity, whatever the motion)."""
    residual = outputs - frames
    d = residual[1] - flow_warp(residual[:1], flow)[0]
    return (mask * d**2).sum() / (3 * mask.sum().clamp_min(1.0))
