#!/usr/bin/python3
"""Quantizable versions of resnet_models' networks, for PyTorch's eager-mode static quantization.

Each model has the float model's state_dict keys, so a float checkpoint loads into it as it is,
and adds what eager-mode post-training quantization needs:
  quant, dequant    a QuantStub before the stem and a DeQuantStub after the classifier
  add               each block's residual sum and ReLU as a FloatFunctional (`add_relu`), which
                    convert() turns into quantized::add_relu with its own output scale
  fuse_model()      fuses each conv with its BatchNorm (and its ReLU where one follows)

  torchvision, v1   torchvision.models.quantization's QuantizableResNet with QuantizableBasicBlock
                    or QuantizableBottleneck, for every depth (torchvision only builds 18, 50 and
                    the ResNeXts), grouped (ResNeXt), widened (Wide ResNet) or dilated as torchvision's
                    constructors make them; v1 moves each bottleneck's stride to its first 1x1 conv.
  stage_projection  StageProjectionResNet whose blocks add with FloatFunctional.add_relu; fusion
                    lists follow its nn.Sequential indices (conv1.0+conv1.1+conv1.2,
                    layerS.B.basicblock.0+1+2 and 3+4, or bottleneck.0+1+2, 3+4+5, 6+7;
                    downsample.0+1).
  cifar             CifarResNet with QuantizableBasicBlock; its option-A shortcut (every second
                    row and column, channels zero-padded on both sides) runs on quantized tensors
                    as it is: slicing keeps the scale and zero point, and constant_pad_nd fills
                    the new channels with the zero point, i.e. with exactly 0.0.

build(layout, depth, ...) and build_cifar(depth, shortcut, ...) mirror resnet_models' functions and
return the model in eval() mode, not yet fused.
"""
import torch
from torch import nn
from torch.ao.quantization import DeQuantStub, QuantStub, fuse_modules
from torchvision.models.quantization.resnet import QuantizableBasicBlock, QuantizableBottleneck, QuantizableResNet

import resnet_models


def _fuse(module, groups):
    fuse_modules(module, groups, inplace=True)


def _replace_relu(module):
    """ReLU(inplace=True) -> ReLU(): eager-mode quantization, like torchvision's, wants no in-place ReLUs."""
    for name, child in module.named_children():
        _replace_relu(child)
        if type(child) is nn.ReLU:
            module._modules[name] = nn.ReLU(inplace=False)


class _QuantizableCifarBasicBlock(QuantizableBasicBlock):
    """torchvision's quantizable BasicBlock whose downsample may be the parameter-free ZeroPadShortcut."""

    def fuse_model(self, is_qat=None):
        _fuse(self, [["conv1", "bn1", "relu"], ["conv2", "bn2"]])
        if isinstance(self.downsample, nn.Sequential):
            _fuse(self.downsample, ["0", "1"])


def _make_torchvision(depth, num_classes, replace_stride_with_dilation=None, width_per_group=64, groups=1):
    block = QuantizableBottleneck if depth in resnet_models.BOTTLENECK_DEPTHS else QuantizableBasicBlock
    model = QuantizableResNet(block, list(resnet_models.BLOCKS_PER_STAGE[depth]), num_classes=num_classes,
                              replace_stride_with_dilation=replace_stride_with_dilation,
                              width_per_group=width_per_group, groups=groups)
    _replace_relu(model)
    return model


class _QuantizableStageProjectionBlock(nn.Module):
    """Wraps a StageProjectionBasicBlock or -Bottleneck: the same submodules, so the same keys."""

    def __init__(self, block):
        super().__init__()
        self.family = "bottleneck" if hasattr(block, "bottleneck") else "basicblock"
        setattr(self, self.family, getattr(block, self.family))
        self.downsample = block.downsample
        self.add_relu = torch.nn.quantized.FloatFunctional()

    def forward(self, x):
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.add_relu.add_relu(getattr(self, self.family)(x), shortcut)

    def fuse_model(self):
        if self.family == "bottleneck":
            _fuse(self.bottleneck, [["0", "1", "2"], ["3", "4", "5"], ["6", "7"]])
        else:
            _fuse(self.basicblock, [["0", "1", "2"], ["3", "4"]])
        if self.downsample is not None:
            _fuse(self.downsample, ["0", "1"])


class QuantizableStageProjectionResNet(nn.Module):
    """resnet_models.StageProjectionResNet with stubs and FloatFunctional adds; same state_dict keys."""

    def __init__(self, depth, num_classes=resnet_models.DEFAULT_NUM_CLASSES["stage_projection"]):
        super().__init__()
        float_model = resnet_models.StageProjectionResNet(depth, num_classes)
        self.quant = QuantStub()
        self.conv1 = float_model.conv1
        for stage in range(1, 5):
            layer = getattr(float_model, f"layer{stage}")
            setattr(self, f"layer{stage}", nn.Sequential(*[_QuantizableStageProjectionBlock(b) for b in layer]))
        self.fc = float_model.fc
        self.avgpool = float_model.avgpool
        self.dequant = DeQuantStub()
        _replace_relu(self)

    def forward(self, x):
        x = self.conv1(self.quant(x))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.avgpool(x)
        return self.dequant(self.fc(torch.flatten(x, 1)))

    def fuse_model(self):
        _fuse(self.conv1, ["0", "1", "2"])
        for module in self.modules():
            if isinstance(module, _QuantizableStageProjectionBlock):
                module.fuse_model()


class QuantizableCifarResNet(resnet_models.CifarResNet):
    """resnet_models.CifarResNet with stubs and torchvision's quantizable BasicBlock; same state_dict keys."""

    def __init__(self, depth, shortcut="A", num_classes=10, in_channels=3):
        super().__init__(depth, shortcut, num_classes, in_channels)
        for stage in range(1, 4):
            layer = getattr(self, f"layer{stage}")
            blocks = []
            for block in layer:
                quantizable = _QuantizableCifarBasicBlock(block.conv1.in_channels, block.conv1.out_channels,
                                                          block.stride, block.downsample)
                quantizable.load_state_dict(block.state_dict())
                blocks.append(quantizable)
            setattr(self, f"layer{stage}", nn.Sequential(*blocks))
        self.quant = QuantStub()
        self.dequant = DeQuantStub()
        _replace_relu(self)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(self.quant(x))))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.dequant(self.fc(torch.flatten(self.avgpool(x), 1)))

    def fuse_model(self):
        _fuse(self, ["conv1", "bn1", "relu"])
        for module in self.modules():
            if isinstance(module, _QuantizableCifarBasicBlock):
                module.fuse_model()


def build(layout, depth, num_classes=None, width_per_group=64, groups=1, replace_stride_with_dilation=None):
    """The quantizable (layout, depth) model in eval() mode, unfused, with resnet_models.build's keys
    (width_per_group=128: a Wide ResNet's bottlenecks; groups=32, width_per_group=4: ResNeXt-50
    32x4d's; replace_stride_with_dilation as torchvision's)."""
    if layout not in resnet_models.LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {resnet_models.LAYOUTS}")
    if depth not in resnet_models.DEPTHS:
        raise ValueError(f"unsupported depth {depth!r}; expected one of {resnet_models.DEPTHS}")
    if num_classes is None:
        num_classes = resnet_models.DEFAULT_NUM_CLASSES[layout]
    if layout == "stage_projection":
        model = QuantizableStageProjectionResNet(depth, num_classes)
    else:
        model = _make_torchvision(depth, num_classes, replace_stride_with_dilation, width_per_group, groups)
        if layout == "v1":
            resnet_models._move_bottleneck_strides_to_first_conv(model)
    return model.eval()


def build_cifar(depth, shortcut, num_classes=10, in_channels=3):
    """The quantizable CIFAR ResNet in eval() mode, unfused, with resnet_models.build_cifar's keys."""
    return QuantizableCifarResNet(depth, shortcut, num_classes, in_channels).eval()


