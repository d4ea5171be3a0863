#!/usr/bin/python3
"""A real photograph end to end: ctresnet-classify --model resnet18 --eval --json on sklearn's two
JPEG photographs, against torchvision's pipeline from the same files (PIL, transforms, model;
tools/make_photo_refs.py): the same five most probable classes in the same order, each probability
within 1e-4.

    check_photos.py CLASSIFY REFERENCE_DIR
"""
import json
import subprocess
import sys
from pathlib import Path

TOLERANCE = 1e-4


def main():
    classify, reference_dir = sys.argv[1], Path(sys.argv[2])
    references = json.loads((reference_dir / "references.json").read_text())
    done = subprocess.run([classify, "--model", "resnet18", "--weights", str(reference_dir / "resnet18_random.safetensors"),
                           "--eval", str(reference_dir / "image_folder"), "--json", "--batch", "2"],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        sys.exit(f"ctresnet-classify exited with {done.returncode}:\n{done.stderr}")
    results = {Path(r["path"]).name: r["top"] for r in json.loads(done.stdout)["results"]}
    if sorted(results) != sorted(references):
        sys.exit(f"ctresnet-classify classified {sorted(results)}, the references are of {sorted(references)}")
    failed = False
    for name, expected in references.items():
        got = results[name]
        classes = [t["class"] for t in got]
        gaps = [abs(t["probability"] - r["probability"]) for t, r in zip(got, expected)]
        ok = classes == [r["class"] for r in expected] and max(gaps) <= TOLERANCE
        failed |= not ok
        print(f"{name}: {'ok' if ok else 'DIFFERS'}: classes {classes} (torchvision: {[r['class'] for r in expected]}), "
              f"largest probability difference {max(gaps):.2g}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
