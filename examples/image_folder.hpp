// A labelled image set laid out as torchvision's ImageFolder reads it: DIR/CLASS/.../IMAGE, one
// subfolder per class. The classes are the subfolders sorted by name (class i is the i-th), and
// the images of a class are the files below its folder, at any depth (symbolic links followed),
// whose names end in one of ImageFolder's extensions, in the order torchvision lists them:
// folder by folder (sorted by path), each folder's files sorted by name.
#pragma once

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace examples {

/// A directory that is no ImageFolder tree: the message names it and says what is wrong.
class image_folder_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// torchvision.datasets.folder.IMG_EXTENSIONS, compared without regard to case. ctresnet-classify
/// decodes JPEG, PNG, PGM and PPM; a BMP, TIFF or WebP file is an error naming the file.
inline constexpr std::array<std::string_view, 9> image_folder_extensions = {
    ".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"};

inline bool has_image_extension(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::any_of(image_folder_extensions.begin(), image_folder_extensions.end(), [&](std::string_view ext) {
    return lower.size() >= ext.size() && lower.compare(lower.size() - ext.size(), ext.size(), ext) == 0;
  });
}

struct image_folder {
  struct item {
    std::string path;
    int label = 0;  // the index of its class in `classes`
  };
  std::vector<std::string> classes;  // the subfolders' names, sorted
  std::vector<item> images;          // class by class
};

/// The ImageFolder tree at `root`. Like torchvision, an error if there is no class folder or a
/// class folder holds no image file.
inline image_folder read_image_folder(const std::string& root) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::is_directory(root, error))
    throw image_folder_error("cannot read the image folder '" + root + "': it is not a directory");
  image_folder set;
  // Python sorts str by code point, which for UTF-8 names is the order of their bytes, as here.
  for (const fs::directory_entry& entry : fs::directory_iterator(root))
    if (entry.is_directory()) set.classes.push_back(entry.path().filename().string());
  std::sort(set.classes.begin(), set.classes.end());
  if (set.classes.empty())
    throw image_folder_error("cannot find any class folder in '" + root + "' (ImageFolder's layout: DIR/CLASS/IMAGE)");

  std::vector<std::string> empty_classes;
  for (std::size_t label = 0; label < set.classes.size(); ++label) {
    const fs::path class_dir = fs::path(root) / set.classes[label];
    // os.walk(followlinks=True), sorted by folder path, then each folder's file names sorted.
    std::vector<fs::path> folders = {class_dir};
    for (auto it = fs::recursive_directory_iterator(class_dir, fs::directory_options::follow_directory_symlink);
         it != fs::recursive_directory_iterator(); ++it)
      if (it->is_directory()) folders.push_back(it->path());
    const auto by_path = [](const fs::path& a, const fs::path& b) { return a.string() < b.string(); };
    std::sort(folders.begin(), folders.end(), by_path);
    const std::size_t before = set.images.size();
    for (const fs::path& folder : folders) {
      std::vector<std::string> names;
      for (const fs::directory_entry& entry : fs::directory_iterator(folder))
        if (!entry.is_directory() && has_image_extension(entry.path().filename().string()))
          names.push_back(entry.path().filename().string());
      std::sort(names.begin(), names.end());
      for (const std::string& name : names) set.images.push_back({(folder / name).string(), static_cast<int>(label)});
    }
    if (set.images.size() == before) empty_classes.push_back(set.classes[label]);
  }
  if (!empty_classes.empty()) {
    std::string list;
    for (const std::string& name : empty_classes) list += (list.empty() ? "'" : ", '") + name + "'";
    throw image_folder_error("the image folder '" + root + "' has no image file for the class(es) " + list +
                             " (the extensions ImageFolder reads: .jpg .jpeg .png .ppm .bmp .pgm .tif .tiff .webp)");
  }
  return set;
}

}  // namespace examples
