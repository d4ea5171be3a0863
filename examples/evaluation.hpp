// The results of classifying a labelled image set (ctresnet-classify --eval): top-1 and top-5
// accuracy, per class and in all, the confusion matrix, the time, and each image's most probable
// classes; printed as a table or as JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

namespace examples {

class evaluation {
 public:
  /// One image's result: its most probable classes (model class indices), most probable first,
  /// with their probabilities.
  struct image_result {
    std::string path;
    int label = 0;
    std::vector<int> top;
    std::vector<double> probabilities;
  };

  /// `classes` names the set's classes (label i is classes[i], and also the model's class i);
  /// `model_classes` names all of the model's classes.
  evaluation(std::vector<std::string> classes, std::vector<std::string> model_classes)
      : classes_(std::move(classes)),
        model_classes_(std::move(model_classes)),
        per_class_(classes_.size()),
        confusion_(classes_.size(), std::vector<long>(classes_.size() + 1)) {}

  void add(image_result result) {
    const auto label = static_cast<std::size_t>(result.label);
    counts& c = per_class_[label];
    ++c.images;
    const int first = result.top.empty() ? -1 : result.top.front();
    c.top1 += first == result.label;
    const std::size_t five = std::min<std::size_t>(5, result.top.size());
    c.top5 += std::find(result.top.begin(), result.top.begin() + static_cast<std::ptrdiff_t>(five), result.label) !=
              result.top.begin() + static_cast<std::ptrdiff_t>(five);
    // The last column counts predictions of a class the set does not have.
    const bool in_set = first >= 0 && first < static_cast<int>(classes_.size());
    ++confusion_[label][in_set ? static_cast<std::size_t>(first) : classes_.size()];
    results_.push_back(std::move(result));
  }

  void set_timing(double seconds, int batch, int threads) {
    seconds_ = seconds;
    batch_ = batch;
    threads_ = threads;
  }

  /// The report as text: the accuracies, a table per class, the confusion matrix (up to
  /// `max_confusion_classes` classes) and the speed.
  void print(std::ostream& out, int max_confusion_classes = 20) const {
    const counts all = total();
    out << "top-1 accuracy: " << all.top1 << '/' << all.images << " = " << percent(all.top1, all.images) << '\n';
    out << "top-5 accuracy: " << all.top5 << '/' << all.images << " = " << percent(all.top5, all.images) << '\n';

    std::size_t name_width = 5;
    for (const std::string& name : classes_) name_width = std::max(name_width, name.size());
    out << "\nper class:\n" << pad("class", name_width) << "  images     top-1     top-5\n";
    for (std::size_t k = 0; k < classes_.size(); ++k) {
      const counts& c = per_class_[k];
      char row[96];
      std::snprintf(row, sizeof row, "  %6ld  %8s  %8s\n", c.images, percent(c.top1, c.images).c_str(),
                    percent(c.top5, c.images).c_str());
      out << pad(classes_[k], name_width) << row;
    }

    if (static_cast<int>(classes_.size()) <= max_confusion_classes) {
      const bool other =
          std::any_of(confusion_.begin(), confusion_.end(), [](const auto& row) { return row.back() > 0; });
      std::size_t cell = 5;
      for (const std::string& name : classes_) cell = std::max(cell, name.size() + 1);
      out << "\nconfusion matrix (rows: true class, columns: predicted class"
          << (other ? "; other: a class of the model that the set does not have" : "") << "):\n"
          << pad("", name_width);
      for (const std::string& name : classes_) out << pad_left(name, cell);
      if (other) out << pad_left("other", cell + 1);
      out << '\n';
      for (std::size_t k = 0; k < classes_.size(); ++k) {
        out << pad(classes_[k], name_width);
        for (std::size_t j = 0; j < classes_.size(); ++j) out << pad_left(std::to_string(confusion_[k][j]), cell);
        if (other) out << pad_left(std::to_string(confusion_[k].back()), cell + 1);
        out << '\n';
      }
    } else {
      out << "\n(no confusion matrix: " << classes_.size() << " classes, more than " << max_confusion_classes << ")\n";
    }

    char timing[160];
    std::snprintf(timing, sizeof timing,
                  "\ntime: %.3f s for %ld images, %.1f images/s (decoding and preprocessing on one thread, "
                  "inference in batches of %d on %d thread%s)\n",
                  seconds_, all.images, all.images / std::max(seconds_, 1e-9), batch_, threads_,
                  threads_ == 1 ? "" : "s");
    out << timing;
  }

  /// The report as JSON: per image its path, label and `top` most probable classes with their
  /// probabilities; per class and in all the accuracies; the confusion matrix; the time.
  nlohmann::ordered_json json(int top_count) const {
    nlohmann::ordered_json report;
    const counts all = total();
    report["images"] = all.images;
    report["top1_correct"] = all.top1;
    report["top5_correct"] = all.top5;
    report["top1_accuracy"] = fraction(all.top1, all.images);
    report["top5_accuracy"] = fraction(all.top5, all.images);
    report["seconds"] = seconds_;
    report["images_per_second"] = all.images / std::max(seconds_, 1e-9);
    report["batch"] = batch_;
    report["threads"] = threads_;
    report["classes"] = nlohmann::ordered_json::array();
    for (std::size_t k = 0; k < classes_.size(); ++k) {
      const counts& c = per_class_[k];
      report["classes"].push_back({{"name", classes_[k]},
                                   {"images", c.images},
                                   {"top1_accuracy", fraction(c.top1, c.images)},
                                   {"top5_accuracy", fraction(c.top5, c.images)}});
    }
    report["confusion_matrix"] = confusion_;  // [true class][predicted class, then "other"]
    report["results"] = nlohmann::ordered_json::array();
    for (const image_result& r : results_) {
      nlohmann::ordered_json top = nlohmann::ordered_json::array();
      for (std::size_t i = 0; i < r.top.size() && i < static_cast<std::size_t>(top_count); ++i)
        top.push_back({{"class", r.top[i]},
                       {"name", model_classes_[static_cast<std::size_t>(r.top[i])]},
                       {"probability", r.probabilities[i]}});
      report["results"].push_back({{"path", r.path}, {"label", r.label}, {"top", top}});
    }
    return report;
  }

 private:
  struct counts {
    long images = 0, top1 = 0, top5 = 0;
  };

  counts total() const {
    counts all;
    for (const counts& c : per_class_) {
      all.images += c.images;
      all.top1 += c.top1;
      all.top5 += c.top5;
    }
    return all;
  }
  static double fraction(long part, long whole) { return whole > 0 ? static_cast<double>(part) / whole : 0.0; }
  static std::string percent(long part, long whole) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f %%", 100.0 * fraction(part, whole));
    return text;
  }
  static std::string pad(const std::string& text, std::size_t width) {
    return text + std::string(width > text.size() ? width - text.size() : 0, ' ');
  }
  static std::string pad_left(const std::string& text, std::size_t width) {
    return std::string(width > text.size() ? width - text.size() : 0, ' ') + text;
  }

  std::vector<std::string> classes_, model_classes_;
  std::vector<counts> per_class_;
  std::vector<std::vector<long>> confusion_;
  std::vector<image_result> results_;
  double seconds_ = 0;
  int batch_ = 1, threads_ = 1;
};

}  // namespace examples
