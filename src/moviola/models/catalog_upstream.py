"""Models whose only home is upstream (Hugging Face, a GitHub release): no registry package
holds them, so they are fetched only when the user asks (``moviola models fetch ID``).

Each entry is pinned: a repository commit, and the sha256 and size the hub lists for the file
(for LFS files, the LFS sha256). Where the pins were read is recorded beside each entry. None of
these files was run on the project's machines (they have no internet); their loading and pre-
and post-processing are tested on models the tests build with the same inputs and outputs.
"""

from __future__ import annotations

from .catalog_base import F, converted
from .openvoice import CONFIG_NAME as OPENVOICE_CONFIG
from .openvoice import CONVERTER_ONNX as OPENVOICE_CONVERTER
from .openvoice import TONE_COLOR_ONNX as OPENVOICE_TONE_COLOR
from .sources import CombinedSource, HFSource, URLSource
from .spec import Conversion, ModelSpec
from .srvgg import ONNX_NAME

# Pins: huggingface.co/onnx-community/depth-anything-v2-small, blob onnx/model.onnx (LFS sha256
# afb6a5c2...), revision 4472b736... with 99 060 839 bytes as several projects that pin the same
# commit record it.
DEPTH_ANYTHING_V2_SMALL = ModelSpec(
    id="depth-anything-v2-small",
    task="monocular depth",
    description=(
        "Depth-Anything-V2-Small (ViT-S, 25 M parameters), ONNX export by onnx-community "
        "(Transformers.js). Input pixel_values N x 3 x H x W float32, ImageNet mean/std, sides "
        "multiples of 14 (short side 518); output predicted_depth N x H x W, relative inverse "
        "depth (near = large). Used by depth and parallax for photos and static shots."
    ),
    license="Apache-2.0",
    notes="Only the Small model is Apache-2.0; Depth-Anything-V2 Base/Large are CC-BY-NC-4.0.",
    homepage="https://huggingface.co/depth-anything/Depth-Anything-V2-Small",
    files=[
        F(
            "model.onnx",
            "afb6a5c28f3b6bf1618c6e43f02073ef9dfdc70e937502d51603e57b0a1df10c",
            99060839,
        )
    ],
    sources=[
        HFSource(
            "onnx-community/depth-anything-v2-small",
            "4472b7362082ad9968fee890ca0f1e5aca36b93d",
            {"model.onnx": "onnx/model.onnx"},
        )
    ],
)

# Pins: huggingface.co/Carve/LaMa-ONNX at c3c0c9e4 (its head; lama_fp32.onnx last changed in
# a3ee2fc), sha256 1faef530... and 208 044 816 bytes as recorded by projects that pin the file
# (one of them through the sapienkit/LaMa-ONNX mirror, the same digest). The hub's scanner marks
# the file "suspicious"; an ONNX file is a protobuf graph, loaded by ONNX Runtime without running
# any code from it, and the sha256 is checked before it is ever opened.
LAMA = ModelSpec(
    id="lama",
    task="inpainting",
    description=(
        "LaMa (big-lama, Fourier convolutions), ONNX export by Carve. Inputs image "
        "N x 3 x 512 x 512 (RGB 0..1) and mask N x 1 x 512 x 512 (1 = fill); output the filled "
        "picture in 0..255. Fills the areas a parallax move reveals behind near things."
    ),
    license="Apache-2.0",
    homepage="https://github.com/advimman/lama",
    files=[
        F(
            "lama_fp32.onnx",
            "1faef5301d78db7dda502fe59966957ec4b79dd64e16f03ed96913c7a4eb68d6",
            208044816,
        )
    ],
    sources=[
        HFSource(
            "Carve/LaMa-ONNX",
            "c3c0c9e468934d62e79c329e35d82dd09ff8c444",
            {"lama_fp32.onnx": "lama_fp32.onnx"},
        )
    ],
)

# Pins: the model card of huggingface.co/toolsmonk/ddcolor-tiny lists the file with its bytes and
# sha256; no commit of that repository was found, so the revision is "main" and the sha256 alone
# decides (a changed file is refused, never used).
DDCOLOR_TINY = ModelSpec(
    id="ddcolor-tiny",
    task="automatic colorization",
    description=(
        "DDColor paper-tiny (ConvNeXt-T encoder, multi-scale colour decoder), ONNX export at "
        "512 x 512 by ToolsMonk with MatMul/Gemm weights in uint8 (its card: 1.1 ab units mean "
        "difference from the fp32 export). Input 1 x 3 x 512 x 512: the grey picture as RGB "
        "0..1; output 1 x 2 x 512 x 512: CIELAB a, b. colorize uses it when no reference or "
        "hints are given."
    ),
    license="Apache-2.0",
    notes="Weights piddnad/ddcolor_paper_tiny (Apache-2.0); export and quantization by a third "
    "party (toolsmonk), not by the DDColor authors.",
    homepage="https://github.com/piddnad/DDColor",
    files=[
        F(
            "ddcolor_tiny_512_int8.onnx",
            "e983347272b8e218edc974a0af2bd66f53b73212abb800e103c64806e4c14a14",
            112723138,
        )
    ],
    sources=[
        HFSource(
            "toolsmonk/ddcolor-tiny",
            "main",
            {"ddcolor_tiny_512_int8.onnx": "ddcolor_tiny_512_int8.onnx"},
        )
    ],
)

# Pins: FaceFusion's ONNX export of GFPGAN v1.4 (facefusion-assets release "models"); sha256 and
# size from a mirror's LFS pointer of the same file (huggingface.co/JCTN/TUMBAJULCA, commit
# 720b6728, facefusion/GFPGANv1.4.onnx). Not pinned by the FaceFusion project's own listing: the
# sha256 decides.
GFPGAN_14 = ModelSpec(
    id="gfpgan-1.4",
    task="face restoration",
    description=(
        "GFPGAN v1.4 (TencentARC; StyleGAN2 prior), ONNX export by FaceFusion. Input "
        "1 x 3 x 512 x 512 RGB in -1..1, a face aligned to the FFHQ layout; output the "
        "restored face, same layout and range. Used by restore-faces and upscale --faces."
    ),
    license="Apache-2.0",
    notes="GFPGAN's code and v1.4 weights are Apache-2.0 (TencentARC/GFPGAN); FaceFusion "
    "converted them to ONNX.",
    homepage="https://github.com/TencentARC/GFPGAN",
    files=[
        F(
            "GFPGANv1.4.onnx",
            "4307bddf127c7e03d227e522434f1e567a737b93b83b1315ab347b9d70013d69",
            340256686,
        )
    ],
    sources=[
        URLSource(
            {
                "GFPGANv1.4.onnx": "https://github.com/facefusion/facefusion-assets/releases/"
                "download/models/GFPGANv1.4.onnx"
            }
        ),
        HFSource(
            "JCTN/TUMBAJULCA",
            "720b67280bd1bce9953dd67185d7081057b41e27",
            {"GFPGANv1.4.onnx": "facefusion/GFPGANv1.4.onnx"},
        ),
    ],
)

# Pins: huggingface.co/Acly/MobileSAM at its head 0d3b4033 (the files came in b5e8e2f), which
# several projects resolve with these digests; bytes and sha256 also listed by
# huggingface.co/t9749/mobilesam-onnx, which mirrors the two files unchanged (the second source).
MOBILESAM = ModelSpec(
    id="mobilesam",
    task="point-prompted segmentation",
    description=(
        "MobileSAM (TinyViT image encoder distilled from SAM, with SAM's prompt encoder and "
        "mask decoder), ONNX export by Acly: the encoder takes the picture scaled to 1024 px "
        "on its longer side (H x W x 3, 0..255) and gives 1 x 256 x 64 x 64 embeddings; the "
        "single-mask decoder takes them with point and box prompts and the previous mask. "
        "Used by matte --point."
    ),
    license="Apache-2.0",
    notes="MobileSAM weights Apache-2.0 (ChaoningZhang/MobileSAM); Acly's export scripts MIT.",
    homepage="https://github.com/ChaoningZhang/MobileSAM",
    files=[
        F(
            "mobile_sam_image_encoder.onnx",
            "580f5fb648ea1062c0aabc26217aed56921985f03f0cbbd852bba81d760cc749",
            28157093,
        ),
        F(
            "sam_mask_decoder_single.onnx",
            "93915fc7c993ab9d59ab8c9ccd3bce37f7509c81ab4150a74abd4d2abbd8570d",
            16501323,
        ),
    ],
    sources=[
        HFSource(
            "Acly/MobileSAM",
            "0d3b403339b4674a82493d5e97964dd78089ddc8",
            {
                "mobile_sam_image_encoder.onnx": "mobile_sam_image_encoder.onnx",
                "sam_mask_decoder_single.onnx": "sam_mask_decoder_single.onnx",
            },
        ),
        HFSource(
            "t9749/mobilesam-onnx",
            "main",
            {
                "mobile_sam_image_encoder.onnx": "mobile_sam_image_encoder.onnx",
                "sam_mask_decoder_single.onnx": "sam_mask_decoder_single.onnx",
            },
        ),
    ],
)

# Pins: huggingface.co/vumichien/AnimeGANv2_Shinkai at 14924f86, the file's LFS pointer (sha256
# and size) in that commit. The repository says Apache-2.0, but these are AnimeGANv2's official
# weights, whose author permits non-commercial use only: gated.
ANIMEGANV2_SHINKAI = ModelSpec(
    id="animeganv2-shinkai",
    task="neural style (anime look)",
    description=(
        "AnimeGANv2 generator, Makoto Shinkai style (TachibanaYoshino's official weights, "
        "ONNX). One NHWC image in and out, RGB in -1..1, any size. stylize --style-model "
        "animegan-shinkai."
    ),
    license="AnimeGANv2 weights: non-commercial use only (code MIT)",
    restrictions="non-commercial use only (academic, personal); commercial use needs the "
    "author's permission",
    homepage="https://github.com/TachibanaYoshino/AnimeGANv2",
    files=[
        F(
            "AnimeGANv2_Shinkai.onnx",
            "4b57475c2bdc71348a52e6d495abc9e346242619fdb0e519a2957c7c7885c4bb",
            8649278,
        )
    ],
    sources=[
        HFSource(
            "vumichien/AnimeGANv2_Shinkai",
            "14924f86716b32dc451808a538d75669eb590660",
            {"AnimeGANv2_Shinkai.onnx": "AnimeGANv2_Shinkai.onnx"},
        )
    ],
    gated=True,
)

# Pins: Qdrant's ONNX exports of OpenAI CLIP ViT-B/32 (the towers FastEmbed uses), vision at
# a636590e, text and tokenizer at 48ca1db2, with the sha256 another project pins them by; no
# listing with their byte sizes was found, so the sizes are not recorded (the digest decides).
CLIP_VIT_B32 = ModelSpec(
    id="clip-vit-b32",
    task="image-text embedding",
    description=(
        "OpenAI CLIP ViT-B/32, ONNX towers exported by Qdrant: vision (pixel_values "
        "N x 3 x 224 x 224, CLIP mean/std) and text (input_ids and attention_mask, 77 tokens, "
        "CLIP BPE tokenizer.json), each giving a 512-d embedding in one space. describe, index "
        "and search use it to find shots by what they look like."
    ),
    license="MIT",
    notes="OpenAI CLIP weights MIT; Qdrant's ONNX export of them.",
    homepage="https://github.com/openai/CLIP",
    files=[
        F("vision.onnx", "c68d3d9a200ddd2a8c8a5510b576d4c94d1ae383bf8b36dd8c084f94e1fb4d63", None),
        F("text.onnx", "4dbe762b11e36488304471e439cde89da053ad7acaddbf9e096745d142ec8d8b", None),
        F(
            "tokenizer.json",
            "b68d571997a1f81bf521fb73806740ddb91e4ed6666cb6e996c066bb289cf55b",
            None,
        ),
    ],
    sources=[
        CombinedSource(
            (
                HFSource(
                    "Qdrant/clip-ViT-B-32-vision",
                    "a636590e595dbbd798647c9dd4550d5652fba969",
                    {"vision.onnx": "model.onnx"},
                ),
                HFSource(
                    "Qdrant/clip-ViT-B-32-text",
                    "48ca1db27cb4063eb311ec2aa7f087a808112876",
                    {"text.onnx": "model.onnx", "tokenizer.json": "tokenizer.json"},
                ),
            )
        )
    ],
)

# Pins: the two checkpoints of Real-ESRGAN's v0.2.5.0 release; sha256 and size of x4v3 from the
# LFS pointers of several Hugging Face mirrors (jhj0517/realesr-general-x4v3 @ 7692becf and
# others, all the same), of wdn-x4v3 from two mirrors' blob pages and the byte count three
# projects that pin the same digest record (the same as x4v3's: the two networks have one shape).
_GENERAL = "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.2.5.0/"
REALESR_GENERAL_X4V3 = ModelSpec(
    id="realesr-general-x4v3",
    task="super-resolution with adjustable denoising",
    description=(
        "Real-ESRGAN general-x4v3 and its weak-denoise twin (SRVGGNetCompact, 1.2 M "
        "parameters each), converted on fetch into one ONNX model whose 'strength' input mixes "
        "the two networks' weights as Real-ESRGAN's --denoise_strength does. upscale --denoise."
    ),
    license="BSD-3-Clause",
    homepage="https://github.com/xinntao/Real-ESRGAN",
    files=[F(ONNX_NAME, None, None)],
    sources=[
        URLSource(
            {
                "realesr-general-x4v3.pth": _GENERAL + "realesr-general-x4v3.pth",
                "realesr-general-wdn-x4v3.pth": _GENERAL + "realesr-general-wdn-x4v3.pth",
            }
        )
    ],
    conversion=Conversion(
        inputs=[
            F(
                "realesr-general-x4v3.pth",
                "8dc7edb9ac80ccdc30c3a5dca6616509367f05fbc184ad95b731f05bece96292",
                4885111,
            ),
            F(
                "realesr-general-wdn-x4v3.pth",
                "1641f8c4464b9f097c9fdda5589273713f67cf59f3d909e0bd688f0cee269dca",
                4885111,
            ),
        ],
        func=converted(
            "srvgg", "convert", "realesr-general-x4v3.pth", "realesr-general-wdn-x4v3.pth"
        ),
        description="both checkpoints -> one ONNX with a strength input (weights mixed in-graph)",
        requires=("torch", "onnx", "onnxruntime"),
    ),
)

# Pins: huggingface.co/myshell-ai/OpenVoiceV2, converter/checkpoint.pth (LFS sha256 9652c27e...,
# 131 320 490 bytes) and converter/config.json (sha256 9dfff603..., 838 bytes), as the hub lists
# them at revision f36e7edf. A second commit, fd981100, is pinned elsewhere with the same digests
# and sizes (the converter files did not change between the two); the sha256 decides in either
# case. Not the V1 converter (myshell-ai/OpenVoice, converter/checkpoint.pth, sha256 89ae83aa...),
# whose config lacks zero_g. Never run on the project's machines (no internet there): the
# conversion is tested on random weights in these shapes (tests/test_openvoice.py) and against
# OpenVoice's own code (bench/openvoice_reference.py).
OPENVOICE_V2_CONVERTER = ModelSpec(
    id="openvoice-v2-converter",
    task="voice conversion (tone colour)",
    description=(
        "OpenVoice V2's tone-colour converter (MyShell): a VITS-style posterior encoder, "
        "normalising flow and HiFi-GAN generator that move speech toward another voice's tone "
        "colour, and the extractor of that 256-d tone colour from a recording. Converted on "
        "fetch into two ONNX graphs (tone_color.onnx, converter.onnx) run at 22.05 kHz. "
        "speak --like REF --convert."
    ),
    license="MIT",
    notes="Code and checkpoints MIT (myshell-ai/OpenVoice, myshell-ai/OpenVoiceV2). The "
    "upstream code also adds a WavMark watermark to converted audio; moviola marks its speech "
    "with C2PA Content Credentials and a tag instead.",
    homepage="https://github.com/myshell-ai/OpenVoice",
    files=[
        F(OPENVOICE_CONVERTER, None, None),
        F(OPENVOICE_TONE_COLOR, None, None),
        F(OPENVOICE_CONFIG, None, None),
    ],
    sources=[
        HFSource(
            "myshell-ai/OpenVoiceV2",
            "f36e7edfe1684461a8343844af60babc2efbb727",
            {"checkpoint.pth": "converter/checkpoint.pth", "config.json": "converter/config.json"},
        )
    ],
    conversion=Conversion(
        inputs=[
            F(
                "checkpoint.pth",
                "9652c27e92b6b2a91632590ac9962ef7ae2b712e5c5b7f4c34ec55ee2b37ab9e",
                131320490,
            ),
            F(
                "config.json",
                "9dfff60350b8c63f2c664efd92a61b2516efb22671466960f0e5dfebd881fa47",
                838,
            ),
        ],
        func=converted("openvoice", "convert", "checkpoint.pth", "config.json"),
        description="checkpoint -> tone_color.onnx + converter.onnx (weight norm folded)",
        requires=("torch", "onnx", "onnxruntime"),
    ),
)

UPSTREAM_MODELS: tuple[ModelSpec, ...] = (
    REALESR_GENERAL_X4V3,
    CLIP_VIT_B32,
    ANIMEGANV2_SHINKAI,
    DEPTH_ANYTHING_V2_SMALL,
    LAMA,
    DDCOLOR_TINY,
    GFPGAN_14,
    MOBILESAM,
    OPENVOICE_V2_CONVERTER,
)
