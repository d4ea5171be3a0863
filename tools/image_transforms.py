#!/usr/bin/python3
"""The image transforms the reference scripts apply, written with torchvision's transforms.

  imagenet(resize=256, crop=224)   torchvision's evaluation transform of an ImageNet model:
                                   convert("RGB") -> Resize(resize) -> CenterCrop(crop) ->
                                   ToTensor() -> Normalize(IMAGENET_MEAN, IMAGENET_STD)
  digits(image)                    the digits model's: Grayscale() -> Resize((8, 8)) -> ToTensor()
                                   -> nearest x2 (16x16) -> Normalize([0.5], [0.5])

Each takes a PIL image and returns a float32 CHW tensor.
"""
import torchvision.transforms as T

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def imagenet(resize=256, crop=224):
    transform = T.Compose([T.Resize(resize), T.CenterCrop(crop), T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    return lambda image: transform(image.convert("RGB"))


def digits(image):
    x = T.ToTensor()(T.Resize((8, 8))(T.Grayscale()(image)))
    x = x.repeat_interleave(2, dim=1).repeat_interleave(2, dim=2)
    return T.Normalize([0.5], [0.5])(x)
