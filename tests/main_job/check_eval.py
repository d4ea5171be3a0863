#!/usr/bin/python3
"""ctresnet-classify --eval --json on the held-out digits as an ImageFolder tree, against the same
images through --labels: the JSON parses, its top-1 count is the --labels mode's, each image's
top-1 class agrees with the --labels mode's mistakes, and the per-class counts, the confusion
matrix, the labels (the folder's index) and the probabilities are consistent.

    check_eval.py CLASSIFY WEIGHTS LABELS_FILE FOLDER
"""
import json
import re
import subprocess
import sys
from pathlib import Path


def run(*args):
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} exited with {done.returncode}:\n{done.stderr}")
    return done.stdout


def main():
    classify, weights, labels_file, folder = sys.argv[1:]
    labelled = run(classify, "--model", "digits", "--weights", weights, "--labels", labels_file)
    correct, total = map(int, re.search(r"^accuracy: (\d+)/(\d+) = ", labelled, re.M).groups())
    # "mistake: 0017_label3.pgm is 3, classified as 5 (61.23 %)"
    mistakes = {name: int(guess) for name, guess in
                re.findall(r"^mistake: (\S+) is \d+, classified as (\d+) ", labelled, re.M)}

    report = json.loads(run(classify, "--model", "digits", "--weights", weights, "--eval", folder, "--json",
                            "--batch", "8", "--top", "3"))
    problems = []

    def expect(condition, what):
        if not condition:
            problems.append(what)

    expect(len(mistakes) == total - correct, f"{len(mistakes)} mistakes read from --labels' output")
    expect(report["images"] == total == 360, f"images: {report['images']}, --labels: {total}")
    expect(report["top1_correct"] == correct, f"top-1: {report['top1_correct']}, --labels: {correct}")
    expect(abs(report["top1_accuracy"] - correct / total) < 1e-12, "top1_accuracy")
    expect(report["top1_correct"] <= report["top5_correct"] <= report["images"], "top5_correct")
    expect([c["name"] for c in report["classes"]] == [str(d) for d in range(10)], "class names")
    expect(sum(c["images"] for c in report["classes"]) == total, "per-class image counts")
    matrix = report["confusion_matrix"]
    expect(len(matrix) == 10 and all(len(row) == 11 for row in matrix), "confusion matrix shape")
    expect(sum(matrix[k][k] for k in range(10)) == correct, "confusion matrix diagonal")
    expect(sum(map(sum, matrix)) == total, "confusion matrix total")
    expect(report["seconds"] > 0 and report["images_per_second"] > 0, "timing")
    expect(report["batch"] == 8, "batch")
    expect(len(report["results"]) == total, "results")
    for result in report["results"]:
        path = Path(result["path"])
        expect(result["label"] == int(path.parent.name), f"{path}: label {result['label']}")
        top = result["top"]
        expect(len(top) == 3, f"{path}: {len(top)} classes, not --top 3")
        probabilities = [t["probability"] for t in top]
        expect(probabilities == sorted(probabilities, reverse=True) and 0 < sum(probabilities) <= 1 + 1e-9,
               f"{path}: probabilities {probabilities}")
        expect(all(t["name"] == str(t["class"]) for t in top), f"{path}: class names")
        expected_top1 = mistakes.get(path.name, result["label"])
        expect(top[0]["class"] == expected_top1, f"{path}: top-1 {top[0]['class']}, --labels: {expected_top1}")
    if problems:
        sys.exit("--eval --json disagrees:\n  " + "\n  ".join(problems[:20]))
    print(f"--eval --json: {report['top1_correct']}/{report['images']} top-1, as --labels; "
          f"{len(report['results'])} image results consistent")


if __name__ == "__main__":
    main()
