#!/usr/bin/python3
"""Every ResNet variant ctresnet supports, built by (layout, depth).

Layouts differ in module structure (hence state_dict keys) or stride placement:
  torchvision  torchvision.models.resnetN, stride of a Bottleneck on its 3x3 conv.
  stage_projection
               a ResNet written by hand with nn.Sequential containers (keys
               conv1.0.weight, layerX.Y.basicblock.K.*), a projection shortcut in
               the first block of every stage, AvgPool2d(7).
  v1           torchvision's model with the Bottleneck stride on the first 1x1
               conv, as in the original paper; same keys as torchvision.

CIFAR ResNets (He et al. 2015, section 4.2; depth 6n+2) are built by
build_cifar(depth, shortcut): a 3x3 stem with 16 channels and no max-pool, three
stages of n torchvision BasicBlocks with 16, 32, 64 channels, and torchvision's
keys (conv1, bn1, layerS.B.{conv1,bn1,conv2,bn2}, layerS.0.downsample.{0,1}, fc).
"""
import math

import torch
import torchvision
from torch import nn

LAYOUTS = ("torchvision", "stage_projection", "v1")
DEPTHS = (18, 34, 50, 101, 152)
DEFAULT_NUM_CLASSES = {"torchvision": 1000, "v1": 1000, "stage_projection": 5}
BLOCKS_PER_STAGE = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
BOTTLENECK_DEPTHS = (50, 101, 152)

# The stage-projection model ends in AvgPool2d(7, stride=1) + Linear(512 or 2048), so
# its last feature map must be 7x7: input sizes whose ceil(size / 32) == 7.
STAGE_PROJECTION_INPUT_SIZES = range(193, 225)

# Side of the random image that calibrates conv scales; valid for every ImageNet
# layout (a model's calibration_size attribute overrides it: CIFAR ResNets use 32).
CALIBRATION_SIZE = 224

CIFAR_DEPTHS = (20, 32, 44, 56, 110, 1202)
# "A": parameter-free shortcut (subsample, zero-pad channels), the paper's choice
# for CIFAR; "B": 1x1 conv + BN projection, as torchvision's downsample.
CIFAR_SHORTCUTS = ("A", "B")
CIFAR_WIDTHS = (16, 32, 64)
CIFAR_INPUT_SIZE = 32


def _init_like_torchvision_(model):
    """Kaiming-normal (fan_out) convs, BatchNorm weight 1 and bias 0: torchvision's init."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.constant_(module.weight, 1)
            nn.init.constant_(module.bias, 0)


def _conv_bn(in_channels, out_channels, kernel_size, stride):
    """Bias-free conv with "same" padding followed by BN, as in every ResNet."""
    return [
        nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2, bias=False),
        nn.BatchNorm2d(out_channels),
    ]


def _projection(in_channels, out_channels, stride):
    return nn.Sequential(*_conv_bn(in_channels, out_channels, 1, stride))


def _add_shortcut(out, x, downsample, relu):
    out += x if downsample is None else downsample(x)
    return relu(out)


class StageProjectionBasicBlock(nn.Module):
    """Two 3x3 convs; the branch lives in `basicblock` to give the stage-projection layout's keys."""

    expansion = 1

    def __init__(self, in_channels, width, stride=1, project_shortcut=False):
        super().__init__()
        self.basicblock = nn.Sequential(
            *_conv_bn(in_channels, width, 3, stride),
            nn.ReLU(inplace=True),
            *_conv_bn(width, width, 3, 1),
        )
        self.downsample = _projection(in_channels, width, stride) if project_shortcut else None
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return _add_shortcut(self.basicblock(x), x, self.downsample, self.relu)


class StageProjectionBottleneck(nn.Module):
    """1x1 -> 3x3 (strided) -> 1x1 x4; the branch lives in `bottleneck` for the stage-projection layout's keys."""

    expansion = 4

    def __init__(self, in_channels, width, stride=1, project_shortcut=False):
        super().__init__()
        out_channels = width * self.expansion
        self.bottleneck = nn.Sequential(
            *_conv_bn(in_channels, width, 1, 1),
            nn.ReLU(inplace=True),
            *_conv_bn(width, width, 3, stride),
            nn.ReLU(inplace=True),
            *_conv_bn(width, out_channels, 1, 1),
        )
        self.downsample = _projection(in_channels, out_channels, stride) if project_shortcut else None
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return _add_shortcut(self.bottleneck(x), x, self.downsample, self.relu)


class StageProjectionResNet(nn.Module):
    """The stage-projection ResNet: its modules register in the order of its state_dict keys."""

    def __init__(self, depth, num_classes=DEFAULT_NUM_CLASSES["stage_projection"]):
        super().__init__()
        block = StageProjectionBottleneck if depth in BOTTLENECK_DEPTHS else StageProjectionBasicBlock
        self.conv1 = nn.Sequential(
            *_conv_bn(3, 64, 7, 2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )
        in_channels = 64
        for stage, (width, num_blocks) in enumerate(zip((64, 128, 256, 512), BLOCKS_PER_STAGE[depth]), start=1):
            stride = 1 if stage == 1 else 2
            # Unlike torchvision, the first block of EVERY stage has a projection
            # shortcut, even when shapes already match (layer1 of ResNet-18/34).
            blocks = [block(in_channels, width, stride, project_shortcut=True)]
            in_channels = width * block.expansion
            blocks += [block(in_channels, width) for _ in range(1, num_blocks)]
            setattr(self, f"layer{stage}", nn.Sequential(*blocks))
        self.fc = nn.Linear(in_channels, num_classes)
        self.avgpool = nn.AvgPool2d(7, stride=1)

        # Its own initialisation, as PyTorch code of this layout writes it.
        _init_like_torchvision_(self)

    def forward(self, x):
        x = self.conv1(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.avgpool(x)
        return self.fc(torch.flatten(x, 1))


class ZeroPadShortcut(nn.Module):
    """Option A shortcut: keep every second row and column, zero-pad channels on both sides.

    This is the widely used PyTorch CIFAR convention,
    F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4)):
    the identity channels land in the middle, so for 16 -> 32 channels input
    channel c becomes output channel 8 + c and channels 0..7 and 24..31 are zero.
    It has no parameters, hence no state_dict entries.
    """

    def __init__(self, in_channels, out_channels):
        super().__init__()
        if out_channels < in_channels or (out_channels - in_channels) % 2:
            raise ValueError(f"cannot zero-pad {in_channels} channels equally on both sides to {out_channels}")
        self.pad = (out_channels - in_channels) // 2

    def forward(self, x):
        return nn.functional.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))


class CifarResNet(nn.Module):
    """He et al.'s CIFAR ResNet: 3x3 stem, no max-pool, 3 stages of n BasicBlocks, depth 6n + 2."""

    calibration_size = CIFAR_INPUT_SIZE  # randomize_ calibrates on an image of this side

    def __init__(self, depth, shortcut="A", num_classes=10, in_channels=3):
        super().__init__()
        if depth not in CIFAR_DEPTHS:
            raise ValueError(f"unsupported CIFAR depth {depth!r}; expected one of {CIFAR_DEPTHS}")
        if shortcut not in CIFAR_SHORTCUTS:
            raise ValueError(f"unknown shortcut option {shortcut!r}; expected one of {CIFAR_SHORTCUTS}")
        blocks_per_stage = (depth - 2) // 6
        self.conv1, self.bn1 = _conv_bn(in_channels, CIFAR_WIDTHS[0], 3, 1)
        self.relu = nn.ReLU(inplace=True)
        channels = CIFAR_WIDTHS[0]
        for stage, width in enumerate(CIFAR_WIDTHS, start=1):
            stride = 1 if stage == 1 else 2
            downsample = None
            if stride != 1 or channels != width:
                if shortcut == "A":
                    downsample = ZeroPadShortcut(channels, width)
                else:
                    downsample = _projection(channels, width, stride)
            blocks = [torchvision.models.resnet.BasicBlock(channels, width, stride, downsample)]
            blocks += [torchvision.models.resnet.BasicBlock(width, width) for _ in range(1, blocks_per_stage)]
            setattr(self, f"layer{stage}", nn.Sequential(*blocks))
            channels = width
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)

        # torchvision's initialisation, so that a trained model starts like one.
        _init_like_torchvision_(self)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def _move_bottleneck_strides_to_first_conv(model):
    """Turn torchvision's ResNet (v1.5) into v1: strided 1x1 then unstrided 3x3."""
    for module in model.modules():
        if isinstance(module, torchvision.models.resnet.Bottleneck) and module.conv2.stride != (1, 1):
            module.conv1.stride, module.conv2.stride = module.conv2.stride, (1, 1)
    return model


def build(layout, depth, num_classes=None, replace_stride_with_dilation=None, width_per_group=64, groups=1):
    """Return the (layout, depth) model in eval() mode with PyTorch's default initialisation.

    width_per_group=128 widens a bottleneck's 3x3 conv as torchvision's Wide ResNets do; groups=32
    with width_per_group=4 makes it ResNeXt-50 32x4d's grouped conv."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {LAYOUTS}")
    if depth not in DEPTHS:
        raise ValueError(f"unsupported depth {depth!r}; expected one of {DEPTHS}")
    if num_classes is None:
        num_classes = DEFAULT_NUM_CLASSES[layout]
    if layout == "stage_projection":
        model = StageProjectionResNet(depth, num_classes)
    else:
        model = getattr(torchvision.models, f"resnet{depth}")(
            weights=None, num_classes=num_classes, replace_stride_with_dilation=replace_stride_with_dilation,
            width_per_group=width_per_group, groups=groups)
        if layout == "v1":
            _move_bottleneck_strides_to_first_conv(model)
    return model.eval()


# torchvision's grouped (ResNeXt) and widened bottleneck ResNets, by constructor name.
VARIANT_DEPTHS = {"resnext50_32x4d": 50, "resnext101_32x8d": 101, "wide_resnet50_2": 50, "wide_resnet101_2": 101}


def build_variant(name, num_classes=None):
    """Return torchvision's ResNeXt or Wide ResNet `name` (a key of VARIANT_DEPTHS) in eval() mode."""
    if name not in VARIANT_DEPTHS:
        raise ValueError(f"unknown model {name!r}; expected one of {tuple(VARIANT_DEPTHS)}")
    classes = DEFAULT_NUM_CLASSES["torchvision"] if num_classes is None else num_classes
    return getattr(torchvision.models, name)(weights=None, num_classes=classes).eval()


def build_cifar(depth, shortcut, num_classes=10, in_channels=3):
    """Return the CIFAR ResNet-depth with shortcut option "A" or "B" in eval() mode, torchvision-initialised."""
    return CifarResNet(depth, shortcut, num_classes, in_channels).eval()


@torch.no_grad()
def randomize_(model, seed):
    """Fill every parameter and buffer with seeded, distinguishable values; returns model in eval().

    Non-trivial BN statistics and affine terms make any tensor that a loader
    swaps, transposes or skips change the output.
    """
    generator = torch.Generator().manual_seed(seed)

    def uniform_(tensor, low, high):
        tensor.uniform_(low, high, generator=generator)

    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            # Kaiming normal (fan_out, relu); the std is recalibrated below.
            fan_out = module.out_channels * math.prod(module.kernel_size) // module.groups
            module.weight.normal_(0.0, math.sqrt(2.0 / fan_out), generator=generator)
            if module.bias is not None:
                uniform_(module.bias, -0.2, 0.2)
        elif isinstance(module, nn.BatchNorm2d):
            uniform_(module.weight, 0.5, 1.5)
            uniform_(module.bias, -0.2, 0.2)
            uniform_(module.running_mean, -0.2, 0.2)
            uniform_(module.running_var, 0.5, 2.0)
            # Unused at inference; a distinct value still exercises I64 loading.
            module.num_batches_tracked.random_(1, 100_000, generator=generator)
        elif isinstance(module, nn.Linear):
            bound = 1.0 / math.sqrt(module.in_features)  # nn.Linear's default range
            uniform_(module.weight, -bound, bound)
            uniform_(module.bias, -bound, bound)
    _calibrate_conv_scales_(model.eval(), generator)
    return model


def _calibrate_conv_scales_(model, generator):
    """Rescale every conv so that its output has about unit std on a random image.

    Eval-mode BN with random running statistics does not normalise, so with any
    single Kaiming factor the input's contribution either drowned under the BN
    offsets (logits of two different images agreed to 2e-4) or grew to 1e7 in
    ResNet-152. Scales are rounded to quarter octaves so that last-bit
    differences between machines almost never change the weights.
    """

    def rescale(conv, inputs, output):
        scale = 2.0 ** (round(4 * math.log2(output.std().item())) / 4)
        conv.weight /= scale
        return output / scale

    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    in_channels = convs[0].in_channels  # the stem is registered first in every layout
    size = getattr(model, "calibration_size", CALIBRATION_SIZE)
    hooks = [conv.register_forward_hook(rescale) for conv in convs]
    try:
        model(torch.randn(1, in_channels, size, size, generator=generator))
    finally:
        for hook in hooks:
            hook.remove()


def load_strict(model, state_dict):
    """load_state_dict(strict=True), but a mismatch raises ValueError with a short summary.

    Absent num_batches_tracked entries are filled with 0 first: they do not
    affect inference, and old torchvision checkpoints and other writers omit them.
    """
    state_dict = dict(state_dict)
    for name, module in model.named_modules():
        if isinstance(module, nn.BatchNorm2d):
            state_dict.setdefault(f"{name}.num_batches_tracked", torch.tensor(0))
    mismatch = _describe_mismatch(model.state_dict(), state_dict)
    if mismatch:
        raise ValueError(mismatch)
    model.load_state_dict(state_dict, strict=True)


def _describe_mismatch(expected, actual, shown=8):
    """Missing, unexpected and wrongly shaped tensors, a few of each (load_state_dict lists them all)."""

    def listing(title, names):
        names = sorted(names)
        more = f", ... ({len(names) - shown} more)" if len(names) > shown else ""
        return f"  {len(names)} {title}: {', '.join(names[:shown])}{more}\n" if names else ""

    wrong_shapes = [
        f"{name} {list(actual[name].shape)}!={list(tensor.shape)}"
        for name, tensor in expected.items()
        if name in actual and actual[name].shape != tensor.shape
    ]
    return (
        listing("missing", expected.keys() - actual.keys())
        + listing("unexpected", actual.keys() - expected.keys())
        + listing("with wrong shape (file!=model)", wrong_shapes)
    ).rstrip()


def parameter_count(model):
    return sum(parameter.numel() for parameter in model.parameters())
