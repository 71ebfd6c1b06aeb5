// Datasets from class folders and file lists, hold-out splits, class counts, and batch loading: failures
// reported per item, results independent of the thread count.
#include <pcv/dataset.hpp>
#include <pcv/error.hpp>
#include <pcv/image.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/errors.hpp"
#include "support/temp_dir.hpp"

namespace pcv {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using test::error_of;

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// A small random cloud around a class-specific offset, with normals.
PointCloud tiny_cloud(int label, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  PointCloud c;
  for (int i = 0; i < 40; ++i) {
    for (int a = 0; a < 3; ++a) c.points.push_back(u(rng) + 3.0f * static_cast<float>(label));
    for (int a = 0; a < 3; ++a) c.normals.push_back(u(rng));
  }
  return c;
}

std::vector<std::string> names_of(const PointCloudDataset& d) {
  std::vector<std::string> names;
  for (const Sample& s : d.samples()) names.push_back(s.path.filename().string());
  return names;
}

std::vector<std::int64_t> labels_of(const PointCloudDataset& d) {
  std::vector<std::int64_t> labels;
  for (const Sample& s : d.samples()) labels.push_back(s.label);
  return labels;
}

class DatasetTest : public test::TempDirTest {
 protected:
  // root/cone (2 files), root/cube (3), root/sphere (4), in mixed formats, plus files the dataset must
  // ignore: a README, a hidden file and a hidden folder.
  fs::path make_class_folders() {
    const fs::path root = dir_ / "data";
    const char* files[][4] = {{"cone", "c1.pcd", "c0.txt", nullptr},
                              {"cube", "b2.xyz", "b0.pcd", "b1.ply"},
                              {"sphere", "s3.pcd", "s1.txt", "s0.csv"}};
    std::uint64_t seed = 1;
    for (int label = 0; label < 3; ++label)
      for (int f = 1; f < 4 && files[label][f]; ++f)
        write(root / files[label][0] / files[label][f], tiny_cloud(label, seed++));
    write(root / "sphere" / "s2.bin", PointCloud{tiny_cloud(2, seed++).points, {}, {}});
    write_text(root / "sphere" / "README.md", "not a cloud");
    write_text(root / "sphere" / ".hidden.pcd", "not a cloud either");
    write_text(root / ".cache" / "x.txt", "1 2 3\n");
    write_text(root / "notes.txt", "a loose file at the top level is no class");
    return root;
  }

  static void write(const fs::path& path, const PointCloud& c) {
    fs::create_directories(path.parent_path());
    write_point_cloud(path, c);
  }
};

TEST_F(DatasetTest, FromClassFolders) {
  const PointCloudDataset d = PointCloudDataset::from_class_folders(make_class_folders());
  EXPECT_THAT(d.labels(), ElementsAre("cone", "cube", "sphere"));
  EXPECT_EQ(d.size(), 9u);
  EXPECT_THAT(names_of(d), ElementsAre("c0.txt", "c1.pcd", "b0.pcd", "b1.ply", "b2.xyz", "s0.csv", "s1.txt",
                                       "s2.bin", "s3.pcd"));
  EXPECT_THAT(labels_of(d), ElementsAre(0, 0, 1, 1, 1, 2, 2, 2, 2));
  EXPECT_THAT(d.class_counts(), ElementsAre(2, 3, 4));
}

TEST_F(DatasetTest, GivenLabelsFixTheOrder) {
  const fs::path root = make_class_folders();
  const PointCloudDataset d =
      PointCloudDataset::from_class_folders(root, {"sphere", "torus", "cone", "cube"});
  EXPECT_THAT(d.labels(), ElementsAre("sphere", "torus", "cone", "cube"));
  EXPECT_THAT(d.class_counts(), ElementsAre(4, 0, 2, 3));  // a label without a folder has no samples
  EXPECT_EQ(d.samples().front().label, 0);
  EXPECT_EQ(d.samples().front().path.filename(), "s0.csv");

  EXPECT_THAT(error_of([&] {
                PointCloudDataset::from_class_folders(root, {"cone", "cube"});
              }),
              AllOf(HasSubstr("sphere"), HasSubstr("is not one of the given labels (cone, cube)")));
  EXPECT_THAT(error_of([&] {
                PointCloudDataset::from_class_folders(root, {"cone", "cube", "cone"});
              }),
              HasSubstr("'cone' is listed twice"));
}

TEST_F(DatasetTest, ClassFolderErrors) {
  const fs::path root = make_class_folders();
  fs::create_directories(root / "empty");
  write_text(root / "empty" / "readme.md", "no clouds here");
  EXPECT_THAT(error_of([&] { PointCloudDataset::from_class_folders(root); }),
              AllOf(HasSubstr((root / "empty").string()),
                    HasSubstr("class folder has no point-cloud or image files")));
  EXPECT_THAT(error_of([&] { PointCloudDataset::from_class_folders(dir_ / "nope"); }),
              AllOf(HasSubstr("nope"), HasSubstr("not found")));
  fs::create_directories(dir_ / "flat");
  write_text(dir_ / "flat" / "a.txt", "1 2 3\n");
  EXPECT_THAT(error_of([&] { PointCloudDataset::from_class_folders(dir_ / "flat"); }),
              HasSubstr("no class folders"));
  EXPECT_THAT(error_of([&] { PointCloudDataset::from_class_folders(dir_ / "flat" / "a.txt"); }),
              HasSubstr("not a folder"));
}

TEST_F(DatasetTest, FromFileList) {
  const fs::path root = make_class_folders();
  const fs::path absolute = root / "cube" / "b0.pcd";
  write_text(dir_ / "lists" / "train.txt",
             "# path label\n"
             "\n"
             "../data/sphere/s0.csv sphere\n"
             "../data/cone/c1.pcd,cone\n"
             "  " +
                 absolute.string() +
                 "   cube  \n"
                 "../data/sphere/s1.txt, sphere\r\n");
  const PointCloudDataset d = PointCloudDataset::from_file_list(dir_ / "lists" / "train.txt");
  EXPECT_THAT(d.labels(), ElementsAre("cone", "cube", "sphere"));  // distinct names, sorted
  EXPECT_THAT(names_of(d), ElementsAre("s0.csv", "c1.pcd", "b0.pcd", "s1.txt"));
  EXPECT_THAT(labels_of(d), ElementsAre(2, 0, 1, 2));
  EXPECT_THAT(d.class_counts(), ElementsAre(1, 1, 2));
  EXPECT_TRUE(fs::exists(d.samples()[0].path));

  const PointCloudDataset fixed =
      PointCloudDataset::from_file_list(dir_ / "lists" / "train.txt", {"sphere", "cube", "cone", "x"});
  EXPECT_THAT(labels_of(fixed), ElementsAre(0, 2, 1, 0));
}

TEST_F(DatasetTest, FileListErrorsNameTheLine) {
  const fs::path root = make_class_folders();
  const fs::path list = root / "list.txt";
  write_text(list, "cone/c0.txt cone\n# comment\ncone/missing.pcd cone\n");
  EXPECT_THAT(
      error_of([&] { PointCloudDataset::from_file_list(list); }),
      AllOf(HasSubstr(list.string() + ":3: "), HasSubstr("file not found"), HasSubstr("missing.pcd")));
  write_text(list, "cone/c0.txt\n");
  EXPECT_THAT(error_of([&] { PointCloudDataset::from_file_list(list); }),
              AllOf(HasSubstr(list.string() + ":1: "), HasSubstr("expected 'path label'")));
  write_text(list, "cone/c0.txt cone\ncube/b0.pcd cube\n");
  EXPECT_THAT(
      error_of([&] { PointCloudDataset::from_file_list(list, {"cone"}); }),
      AllOf(HasSubstr(list.string() + ":2: "), HasSubstr("label 'cube' is not one of the given labels")));
  write_text(list, "sphere/README.md sphere\n");
  EXPECT_THAT(error_of([&] { PointCloudDataset::from_file_list(list); }),
              AllOf(HasSubstr(list.string() + ":1: "), HasSubstr("unsupported extension")));
  EXPECT_THAT(error_of([&] { PointCloudDataset::from_file_list(dir_ / "none.txt"); }),
              AllOf(HasSubstr("none.txt"), HasSubstr("cannot open")));
}

TEST_F(DatasetTest, SplitEveryHoldsOutEveryKthOfEachClassInNameOrder) {
  const PointCloudDataset d = PointCloudDataset::from_class_folders(make_class_folders());
  const auto [train, val] = d.split_every(2);
  EXPECT_EQ(train.labels(), d.labels());
  EXPECT_EQ(val.labels(), d.labels());
  // cone: c0 c1 -> c1 held out; cube: b0 b1 b2 -> b1; sphere: s0 s1 s2 s3 -> s1, s3.
  EXPECT_THAT(names_of(train), ElementsAre("c0.txt", "b0.pcd", "b2.xyz", "s0.csv", "s2.bin"));
  EXPECT_THAT(names_of(val), ElementsAre("c1.pcd", "b1.ply", "s1.txt", "s3.pcd"));
  EXPECT_THAT(val.class_counts(), ElementsAre(1, 1, 2));

  const auto [all, none] = d.split_every(10);
  EXPECT_EQ(all.size(), 9u);
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(d.split_every(1).second.size(), 9u);
  EXPECT_THAT(error_of([&] { d.split_every(0); }), HasSubstr("at least 1"));
}

TEST_F(DatasetTest, SplitOrderIsByNameEvenIfTheListIsNot) {
  const fs::path root = make_class_folders();
  write_text(root / "list.txt",
             "sphere/s3.pcd sphere\nsphere/s0.csv sphere\nsphere/s2.bin sphere\nsphere/s1.txt sphere\n");
  const auto [train, val] = PointCloudDataset::from_file_list(root / "list.txt").split_every(2);
  EXPECT_THAT(names_of(train), ElementsAre("s0.csv", "s2.bin"));  // the list's order is kept
  EXPECT_THAT(names_of(val), ElementsAre("s3.pcd", "s1.txt"));
}

TEST_F(DatasetTest, ConstructorChecksLabels) {
  EXPECT_THAT(error_of([] {
                PointCloudDataset({"a"}, {{"x.txt", 1}});
              }),
              HasSubstr("label 1 is not in [0, 1)"));
  EXPECT_THAT(error_of([] { PointCloudDataset({"a", ""}, {}); }), HasSubstr("empty"));
}

// ---------------------------------------------------------------------------------------------------
// Batches.

TEST_F(DatasetTest, LoadBatchSkipsACorruptFileAndLoadsTheRest) {
  const fs::path root = make_class_folders();
  write_text(root / "cube" / "b1.ply", "ply\nthis is not a ply file\n");  // corrupt one item
  const PointCloudDataset d = PointCloudDataset::from_class_folders(root);
  std::vector<std::size_t> indices(d.size());
  std::iota(indices.begin(), indices.end(), std::size_t{0});
  Preprocessing pre;
  pre.num_points = 32;
  const Batch b = load_batch(d, indices, pre, nullptr, 1, 2);
  ASSERT_EQ(b.failures.size(), 1u);
  EXPECT_THAT(b.failures[0], AllOf(HasSubstr("b1.ply"), HasSubstr("not a readable PLY file")));
  EXPECT_THAT(b.indices, ElementsAre(0, 1, 2, 4, 5, 6, 7, 8));
  ASSERT_EQ(b.clouds.shape(), (Shape{8, 3, 32}));
  EXPECT_THAT(b.labels.to_vector<std::int64_t>(), ElementsAre(0, 0, 1, 1, 2, 2, 2, 2));
  // Each row is the item preprocessed on its own (no augmentation here, and FPS ignores the seed).
  for (std::size_t j = 0; j < b.indices.size(); ++j) {
    const Tensor one = preprocess(read_point_cloud(d.samples()[b.indices[j]].path), pre, 0);
    const std::vector<float> row(b.clouds.data<float>() + j * 96, b.clouds.data<float>() + (j + 1) * 96);
    EXPECT_EQ(row, one.to_vector<float>()) << j;
  }
}

TEST_F(DatasetTest, LoadBatchIsIndependentOfTheThreadCount) {
  const PointCloudDataset d = PointCloudDataset::from_class_folders(make_class_folders());
  const std::vector<std::size_t> indices = {8, 0, 3, 3, 5, 1, 7};  // repeats get their own randomness
  Preprocessing pre;
  pre.num_points = 64;  // more than the 40 points: the fill-up is random too
  pre.sampling = "random";
  Augmentation aug;
  aug.rotate_up = true;
  aug.scale_min = 0.8;
  aug.scale_max = 1.2;
  aug.jitter_sigma = 0.01;
  aug.shift = 0.1;
  aug.point_dropout = 0.5;
  const Batch one = load_batch(d, indices, pre, &aug, 77, 1);
  ASSERT_EQ(one.clouds.shape(), (Shape{7, 3, 64}));
  EXPECT_THAT(one.failures, IsEmpty());
  for (int threads : {2, 3, 8}) {
    const Batch many = load_batch(d, indices, pre, &aug, 77, threads);
    EXPECT_EQ(many.clouds.to_vector<float>(), one.clouds.to_vector<float>()) << threads << " threads";
    EXPECT_EQ(many.labels.to_vector<std::int64_t>(), one.labels.to_vector<std::int64_t>());
    EXPECT_EQ(many.indices, one.indices);
  }
  // The repeated index 3 was augmented differently in its two places; another seed changes the batch.
  const std::vector<float> v = one.clouds.to_vector<float>();
  EXPECT_FALSE(std::equal(v.begin() + 2 * 192, v.begin() + 3 * 192, v.begin() + 3 * 192));
  EXPECT_NE(load_batch(d, indices, pre, &aug, 78, 2).clouds.to_vector<float>(), v);
}

TEST_F(DatasetTest, LoadBatchWithNormalsAndChannelsLast) {
  const PointCloudDataset d = PointCloudDataset::from_class_folders(make_class_folders());
  Preprocessing pre;
  pre.num_points = 16;
  pre.normals = true;
  pre.layout = "channels_last";
  const std::vector<std::size_t> indices = {0, 6, 7};  // s2.bin has no normals
  const Batch b = load_batch(d, indices, pre, nullptr, 0, 2);
  EXPECT_THAT(b.indices, ElementsAre(0, 6));
  ASSERT_EQ(b.clouds.shape(), (Shape{2, 16, 6}));
  ASSERT_EQ(b.failures.size(), 1u);
  EXPECT_THAT(b.failures[0], AllOf(HasSubstr("s2.bin"), HasSubstr("the cloud has none")));
}

TEST_F(DatasetTest, LoadBatchWhereEveryItemFailsIsEmpty) {
  write_text(dir_ / "bad" / "a" / "x.pcd", "garbage");
  write_text(dir_ / "bad" / "a" / "y.txt", "1 2\n");
  const PointCloudDataset d = PointCloudDataset::from_class_folders(dir_ / "bad");
  const std::vector<std::size_t> indices = {0, 1};
  const Batch b = load_batch(d, indices, Preprocessing{}, nullptr, 0, 4);
  EXPECT_EQ(b.clouds.shape(), (Shape{0, 3, 1024}));
  EXPECT_EQ(b.labels.shape(), (Shape{0}));
  EXPECT_THAT(b.indices, IsEmpty());
  EXPECT_THAT(b.failures,
              ElementsAre(HasSubstr("x.pcd"), AllOf(HasSubstr("y.txt:1: "), HasSubstr("found 2"))));
}

TEST_F(DatasetTest, LoadBatchReportsDroppedPointsAndRejectsBadIndices) {
  write_text(dir_ / "nan" / "a" / "x.txt", "1 2 3\nnan 0 0\n4 5 6\n");
  const PointCloudDataset d = PointCloudDataset::from_class_folders(dir_ / "nan");
  const std::vector<std::size_t> ok = {0};
  const Batch b = load_batch(d, ok, Preprocessing{}, nullptr, 0, 1);
  EXPECT_EQ(b.labels.numel(), 1);
  EXPECT_THAT(b.warnings, ElementsAre(AllOf(HasSubstr("x.txt"), HasSubstr("dropped 1 of 3 points"))));
  const std::vector<std::size_t> bad = {0, 1};
  EXPECT_THAT(error_of([&] { load_batch(d, bad, Preprocessing{}, nullptr, 0, 1); }),
              HasSubstr("index 1 is out of range"));
  const Batch none = load_batch(d, {}, Preprocessing{}, nullptr, 0, 4);
  EXPECT_EQ(none.clouds.shape(), (Shape{0, 3, 1024}));
}

// ---------------------------------------------------------------------------------------------------
// Per-point labels (segmentation).

// Points on a line along x; a point's label is 1 where x > 0.
PointCloud labelled_line(int n, float offset) {
  PointCloud c;
  for (int i = 0; i < n; ++i) {
    const float x = offset + static_cast<float>(i) - static_cast<float>(n) / 2;
    c.points.insert(c.points.end(), {x, 0.5f * x, 1.0f});
    c.labels.push_back(x > 0 ? 1 : 0);
  }
  return c;
}

TEST_F(DatasetTest, PerPointLabelsFollowTheChosenPoints) {
  write(dir_ / "seg" / "a.ply", labelled_line(100, 0));
  write(dir_ / "seg" / "b.pcd", labelled_line(30, 10));
  write(dir_ / "seg" / "unlabelled.ply", tiny_cloud(0, 1));
  write_text(dir_ / "seg" / "README.md", "not a cloud");
  const PointCloudDataset d = PointCloudDataset::from_labelled_clouds(dir_ / "seg", {"left", "right"});
  EXPECT_TRUE(d.per_point());
  EXPECT_THAT(names_of(d), ElementsAre("a.ply", "b.pcd", "unlabelled.ply"));
  Preprocessing pre;
  pre.num_points = 64;  // b has fewer: all its points, then repeats
  pre.sampling = "random";
  pre.center = pre.unit_sphere = false;
  pre.layout = "channels_last";
  const std::vector<std::size_t> all = {0, 1, 2};
  const Batch batch = load_batch(d, all, pre, nullptr, 3, 2);
  EXPECT_EQ(batch.labels.shape(), (Shape{2, 64}));
  EXPECT_THAT(batch.indices, ElementsAre(0, 1));
  EXPECT_THAT(batch.failures,
              ElementsAre(AllOf(HasSubstr("unlabelled.ply"), HasSubstr("no per-point labels"))));
  for (std::int64_t i = 0; i < 2 * 64; ++i)
    EXPECT_EQ(batch.labels.data<std::int64_t>()[i], batch.clouds.data<float>()[3 * i] > 0 ? 1 : 0) << i;

  // Labels outside the classes fail the item; point dropout would separate points from labels.
  const PointCloudDataset one_class = PointCloudDataset::from_labelled_clouds(dir_ / "seg", {"only"});
  const std::vector<std::size_t> first = {0};
  EXPECT_THAT(load_batch(one_class, first, pre, nullptr, 0, 1).failures,
              ElementsAre(AllOf(HasSubstr("a.ply"), HasSubstr("label 1, but there are 1 classes"))));
  Augmentation dropout;
  dropout.point_dropout = 0.5;
  EXPECT_THAT(error_of([&] { load_batch(d, first, pre, &dropout, 0, 1); }), HasSubstr("point_dropout"));
  EXPECT_THAT(error_of([&] { PointCloudDataset::from_labelled_clouds(dir_ / "seg", {}); }),
              HasSubstr("needs its class names"));
  EXPECT_THAT(error_of([&] { PointCloudDataset::from_labelled_clouds(dir_ / "nowhere", {"a"}); }),
              HasSubstr("not a folder"));
}

// ---------------------------------------------------------------------------------------------------
// Images.

Tensor uniform_image(int height, int width, int channels, std::uint8_t value) {
  return Tensor::from<std::uint8_t>(
      {height, width, channels},
      std::vector<std::uint8_t>(static_cast<std::size_t>(height * width * channels), value));
}

// Image preprocessing of the given size, channels and layout.
Preprocessing image_preprocessing(std::int64_t height, std::int64_t width, std::int64_t channels,
                                  const std::string& layout = "channels_first") {
  Preprocessing pre;
  pre.input = "image";
  pre.height = height;
  pre.width = width;
  pre.image_channels = channels;
  pre.layout = layout;
  return pre;
}

TEST_F(DatasetTest, ImageClassFoldersGiveResizedNormalisedBatches) {
  fs::create_directories(dir_ / "faces" / "s1");
  fs::create_directories(dir_ / "faces" / "s2");
  write_image(dir_ / "faces" / "s1" / "a.png", uniform_image(40, 30, 3, 200));
  write_image(dir_ / "faces" / "s2" / "b.png", uniform_image(20, 10, 1, 56));
  write_text(dir_ / "faces" / "s2" / "c.png", "not an image");
  const PointCloudDataset d = PointCloudDataset::from_class_folders(dir_ / "faces");
  EXPECT_THAT(names_of(d), ElementsAre("a.png", "b.png", "c.png"));
  const Preprocessing pre = image_preprocessing(16, 12, 1);
  const std::vector<std::size_t> all = {0, 1, 2};
  const Batch b = load_batch(d, all, pre, nullptr, 0, 2);
  EXPECT_EQ(b.clouds.shape(), (Shape{2, 1, 16, 12}));
  EXPECT_THAT(b.labels.to_vector<std::int64_t>(), ElementsAre(0, 1));
  EXPECT_THAT(b.failures, ElementsAre(AllOf(HasSubstr("c.png"), HasSubstr("not a readable image"))));
  // (v - 127.5) / 128 of the grey value: BGR (200, 200, 200) is grey 200.
  EXPECT_FLOAT_EQ(b.clouds.data<float>()[0], (200 - 127.5f) / 128);
  EXPECT_FLOAT_EQ(b.clouds.data<float>()[16 * 12 + 5], (56 - 127.5f) / 128);
  // Cloud augmentation does not apply to images.
  Augmentation rotate;
  rotate.rotate_up = true;
  EXPECT_THAT(load_batch(d, all, pre, &rotate, 0, 1).failures[0],
              HasSubstr("images take 'flip', 'translate'"));
}

TEST(ImageAugmentation, FlipMirrorsRowsForSomeSeeds) {
  const Preprocessing pre = image_preprocessing(2, 3, 3, "channels_last");
  std::vector<float> values(18);
  std::iota(values.begin(), values.end(), 0.0f);
  Augmentation flip;
  flip.flip = true;
  int flipped = 0;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    Tensor t = Tensor::from<float>({2, 3, 3}, values);
    augment_image(t, pre, flip, seed);
    const std::vector<float> out = t.to_vector<float>();
    if (out == values) continue;
    ++flipped;
    // Pixel (row 0, column 0) now holds what was at column 2, its 3 channels in order.
    EXPECT_THAT(std::vector<float>(out.begin(), out.begin() + 3), ElementsAre(6, 7, 8));
    EXPECT_THAT(std::vector<float>(out.begin() + 9, out.begin() + 12), ElementsAre(15, 16, 17));
  }
  EXPECT_GT(flipped, 10);
  EXPECT_LT(flipped, 30);
}

TEST(ImageAugmentation, TranslateMovesContentByWholePixelsAndRepeatsTheEdge) {
  const Preprocessing pre = image_preprocessing(3, 4, 1, "channels_first");
  std::vector<float> values(12);
  std::iota(values.begin(), values.end(), 0.0f);  // value = 4 y + x
  Augmentation move;
  move.translate = 1;
  std::set<std::pair<int, int>> offsets;
  for (std::uint64_t seed = 0; seed < 60; ++seed) {
    Tensor t = Tensor::from<float>({1, 3, 4}, values);
    augment_image(t, pre, move, seed);
    const std::vector<float> out = t.to_vector<float>();
    // The centre pixel (1, 1) now holds the source pixel (1 - dy, 1 - dx).
    const int source = static_cast<int>(out[5]), dy = 1 - source / 4, dx = 1 - source % 4;
    ASSERT_LE(std::abs(dx), 1);
    ASSERT_LE(std::abs(dy), 1);
    offsets.emplace(dx, dy);
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 4; ++x)
        EXPECT_EQ(out[y * 4 + x], 4 * std::clamp(y - dy, 0, 2) + std::clamp(x - dx, 0, 3)) << seed;
  }
  EXPECT_EQ(offsets.size(), 9u);  // every offset in [-1, 1]^2 turns up
}

TEST(ImageAugmentation, ContrastAndBrightnessScaleAndShiftValues) {
  const Preprocessing pre = image_preprocessing(1, 2, 1);
  Augmentation light;
  light.contrast = 0.2;
  light.brightness = 0.1;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    Tensor t = Tensor::from<float>({1, 1, 2}, {0.0f, 1.0f});
    augment_image(t, pre, light, seed);
    const float offset = t.to_vector<float>()[0], gain = t.to_vector<float>()[1] - offset;
    EXPECT_LE(std::abs(offset), 0.1f + 1e-6f);
    EXPECT_GE(gain, 0.8f - 1e-6f);
    EXPECT_LE(gain, 1.2f + 1e-6f);
  }
  light.contrast = 1.0;
  EXPECT_THAT(error_of([&] { light.validate(); }), HasSubstr("'contrast' must be in [0, 1)"));
}

}  // namespace
}  // namespace pcv
