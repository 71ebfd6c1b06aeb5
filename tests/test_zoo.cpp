// The bad-plugin zoo: every way a plugin can be broken gives a clear error naming the file and
// the reason, and the host goes on working.
#include <pcv/error.hpp>
#include <pcv/registry.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "support/test_plugins.hpp"

namespace pcv {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

const fs::path kZoo = PCV_TEST_ZOO_DIR;

// The message of the error that loading `file` into `r` gives ("" if it loads).
std::string load_error(Registry& r, const fs::path& file) {
  try {
    r.load(file);
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

// Loading zoo plugin `name` fails with a message naming the file and containing `reason`;
// afterwards the same registry still loads and runs a good plugin.
void expect_refused(const std::string& name, const std::string& reason) {
  Registry r;
  const fs::path file = kZoo / ("zoo_" + name + ".so");
  const std::string message = load_error(r, file);
  EXPECT_THAT(message, HasSubstr("cannot load plugin " + file.string() + ": "));
  EXPECT_THAT(message, HasSubstr(reason));
  EXPECT_TRUE(r.plugins().empty());

  r.load(test::kPluginDir / "pcv_nn.so");
  const auto y = r.create_kernel("nn.relu").forward({Tensor::from<float>({2}, {-1.f, 2.f})});
  EXPECT_EQ(y[0].to_vector<float>(), (std::vector<float>{0.f, 2.f}));
}

TEST(Zoo, WrongMajorVersionNamesBothVersions) {
  expect_refused("wrong_major",
                 "the plugin was built for pcv ABI 2.4 but this host speaks ABI 1.1; rebuild the plugin "
                 "against the pcv 1.x SDK");
}

TEST(Zoo, NewerMinorVersionIsAcceptedAndRuns) {
  Registry r;
  const PluginInfo& p = r.load(kZoo / "zoo_newer_minor.so");
  EXPECT_EQ(p.abi_major, 1u);
  EXPECT_EQ(p.abi_minor, PCV_ABI_VERSION_MINOR + 3u);
  const auto y = r.create_kernel("zoo_newer_minor.identity").forward({Tensor::from<double>({3}, {1, 2, 3})});
  EXPECT_EQ(y[0].to_vector<double>(), (std::vector<double>{1, 2, 3}));
}

TEST(Zoo, MissingEntrySymbolQuotesDlerror) {
  expect_refused("missing_entry", "no 'pcv_plugin_entry' symbol, so not a pcv plugin");
  expect_refused("missing_entry", "undefined symbol: pcv_plugin_entry");
}

TEST(Zoo, EntryReturningAnErrorPassesItsMessageOn) {
  expect_refused(
      "entry_error",
      "pcv_plugin_entry failed (not supported): this plugin needs a CUDA device and none was found");
}

TEST(Zoo, EntryThatThrowsIsCaughtInsideThePlugin) {
  expect_refused("entry_throws", "pcv_plugin_entry failed (internal error): the op table could not be built");
}

TEST(Zoo, TooSmallStructSizeIsMalformed) {
  expect_refused("small_struct", "malformed descriptor: op #0: pcv_op_desc.struct_size is 8, below the " +
                                     std::to_string(PCV_SIZE_THROUGH(pcv_op_desc, backward)) +
                                     " bytes of ABI 1.0");
}

TEST(Zoo, DuplicateOpNameInOnePluginIsMalformed) {
  expect_refused("duplicate_op", "malformed descriptor: op #1: duplicate op name 'zoo_duplicate_op.twice'");
}

TEST(Zoo, PluginNameAlreadyTakenIsRefused) {
  Registry r;
  r.load(test::kPluginDir / "pcv_nn.so");
  const std::string message = load_error(r, kZoo / "zoo_name_taken.so");
  EXPECT_THAT(message, HasSubstr("zoo_name_taken.so: plugin name 'nn' is already taken by "));
  EXPECT_THAT(message, HasSubstr("pcv_nn.so"));
  EXPECT_EQ(r.plugins().size(), 1u);
  EXPECT_EQ(r.op("nn.relu").doc, "Rectified linear unit: y = max(x, 0), elementwise.");
}

TEST(Zoo, FileThatIsNotASharedLibrary) {
  const fs::path dir = fs::path(::testing::TempDir()) / "pcv_zoo_text";
  fs::create_directories(dir);
  const fs::path file = dir / "notes.so";
  // Longer than an ELF header, so the loader reads it and rejects it as not ELF.
  std::ofstream(file) << std::string(8, '-') << " these are notes about plugins, not a plugin "
                      << std::string(80, '-') << "\n";
  Registry r;
  const std::string message = load_error(r, file);
  EXPECT_THAT(message, HasSubstr("cannot load plugin " + file.string() + ": not a loadable shared library"));
  EXPECT_THAT(message, HasSubstr("invalid ELF header"));
}

TEST(Zoo, ScanningTheZooLoadsTheGoodAndReportsEachBadOne) {
  Registry r;
  r.load(test::kPluginDir / "pcv_nn.so");
  const auto failures = r.load_all({kZoo});
  std::vector<std::string> failed;
  for (const auto& f : failures) failed.push_back(f.path.filename().string());
  EXPECT_THAT(failed, ::testing::UnorderedElementsAre("zoo_wrong_major.so", "zoo_missing_entry.so",
                                                      "zoo_entry_error.so", "zoo_entry_throws.so",
                                                      "zoo_small_struct.so", "zoo_duplicate_op.so",
                                                      "zoo_name_taken.so"));
  ASSERT_NE(r.find_plugin("zoo_newer_minor"), nullptr);
  ASSERT_NE(r.find_op("nn.add"), nullptr);
}

}  // namespace
}  // namespace pcv
