// The digits model's 360 held-out images as examples/digits/test/labels.txt lists them, for the
// main-job tests.
#pragma once

#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

struct digits_test_image {
  std::string file;
  int label = 0;
};

/// Every line of DIGITS_DIR/test/labels.txt: a PGM file name and its digit.
inline std::vector<digits_test_image> read_digits_labels(const std::string& digits_dir) {
  std::ifstream list(digits_dir + "/test/labels.txt");
  REQUIRE(list);
  std::vector<digits_test_image> images;
  digits_test_image entry;
  while (list >> entry.file >> entry.label) images.push_back(entry);
  return images;
}
