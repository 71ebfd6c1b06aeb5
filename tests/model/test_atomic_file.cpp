// write_file_atomically: the target is either the old or the new complete file, and failures leave the
// old file and no temporary files behind.
#include <pcv/atomic_file.hpp>
#include <pcv/error.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace pcv {
namespace {

namespace fs = std::filesystem;
using test::entries_of;
using test::read_file;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class AtomicFileTest : public test::TempDirTest {};

TEST_F(AtomicFileTest, CreatesNewFile) {
  const fs::path target = dir_ / "new.txt";
  write_file_atomically(target, "hello");
  EXPECT_EQ(read_file(target), "hello");
  EXPECT_THAT(entries_of(dir_), ElementsAre("new.txt"));
}

TEST_F(AtomicFileTest, ReplacesExistingFile) {
  const fs::path target = dir_ / "data.bin";
  write_file_atomically(target, "old contents, longer than the new");
  write_file_atomically(target, [](std::ostream& out) { out << "new " << 42; });
  EXPECT_EQ(read_file(target), "new 42");
  EXPECT_THAT(entries_of(dir_), ElementsAre("data.bin"));
}

TEST_F(AtomicFileTest, WritesLargeAndSmallPiecesInOrder) {
  const fs::path target = dir_ / "big.bin";
  const std::string block(3 << 20, 'x');  // larger than the stream's buffer: written directly
  write_file_atomically(target, [&](std::ostream& out) {
    out << "head";
    out.write(block.data(), static_cast<std::streamsize>(block.size()));
    for (int i = 0; i < 100000; ++i) out.put(static_cast<char>('a' + i % 26));
  });
  const std::string contents = read_file(target);
  ASSERT_EQ(contents.size(), 4 + block.size() + 100000);
  EXPECT_EQ(contents.substr(0, 4), "head");
  EXPECT_EQ(contents.substr(4, block.size()), block);
  EXPECT_EQ(contents.back(), static_cast<char>('a' + 99999 % 26));
}

TEST_F(AtomicFileTest, ThrowingWriterLeavesOldFileAndNoTemporaryFile) {
  const fs::path target = dir_ / "model.safetensors";
  write_file_atomically(target, "old");
  auto throwing_writer = [](std::ostream& out) {
    out << std::string(200000, 'p');  // a partial file, already partly on disk
    throw std::runtime_error("writer gave up");
  };
  try {
    write_file_atomically(target, throwing_writer);
    FAIL() << "the writer's exception did not propagate";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "writer gave up");  // the caller's own exception, unchanged
  }
  EXPECT_EQ(read_file(target), "old");
  EXPECT_THAT(entries_of(dir_), ElementsAre("model.safetensors"));
}

TEST_F(AtomicFileTest, ThrowingWriterWithoutOldFileLeavesNothing) {
  const fs::path target = dir_ / "never.txt";
  EXPECT_THROW(write_file_atomically(target, [](std::ostream&) { throw std::logic_error("no"); }),
               std::logic_error);
  EXPECT_THAT(entries_of(dir_), ElementsAre());
}

TEST_F(AtomicFileTest, WriterLeavingStreamFailedIsAnError) {
  const fs::path target = dir_ / "f.txt";
  write_file_atomically(target, "old");
  try {
    write_file_atomically(target, [](std::ostream& out) { out.setstate(std::ios::failbit); });
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr(target.string()), HasSubstr("failed state")));
  }
  EXPECT_EQ(read_file(target), "old");
  EXPECT_THAT(entries_of(dir_), ElementsAre("f.txt"));
}

TEST_F(AtomicFileTest, MissingDirectoryIsAClearError) {
  const fs::path target = dir_ / "no" / "such" / "dir" / "f.txt";
  try {
    write_file_atomically(target, "x");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr(target.string()), HasSubstr("No such file or directory"),
                                HasSubstr("temporary file")));
  }
  EXPECT_THAT(entries_of(dir_), ElementsAre());
}

TEST_F(AtomicFileTest, TargetThatIsADirectoryIsRefusedAndCleanedUp) {
  const fs::path target = dir_ / "sub";
  fs::create_directory(target);
  fs::path file_inside = target / "keep.txt";
  std::ofstream(file_inside) << "keep";
  try {
    write_file_atomically(target, "x");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr(target.string()), HasSubstr("rename")));
  }
  EXPECT_TRUE(fs::is_directory(target));
  EXPECT_EQ(read_file(file_inside), "keep");
  EXPECT_THAT(entries_of(dir_), ElementsAre("sub"));
}

TEST_F(AtomicFileTest, PathWithoutFileNameIsRefused) {
  try {
    write_file_atomically(dir_ / "", "x");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("names no file"));
  }
}

// A file size limit makes write() fail the way a full disk does (EFBIG instead of ENOSPC).
TEST_F(AtomicFileTest, WriteFailureReportsTheOsReasonAndKeepsOldFile) {
  const fs::path target = dir_ / "f.bin";
  write_file_atomically(target, "old");
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto* saved_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit limited = saved;
  limited.rlim_cur = 64 * 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limited), 0);
  std::string message;
  try {
    write_file_atomically(target, std::string(1 << 20, 'z'));
  } catch (const Error& e) {
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &saved);
  ::signal(SIGXFSZ, saved_handler);
  EXPECT_THAT(message, AllOf(HasSubstr(target.string()), HasSubstr("File too large")));
  EXPECT_EQ(read_file(target), "old");
  EXPECT_THAT(entries_of(dir_), ElementsAre("f.bin"));
}

TEST_F(AtomicFileTest, KeepsPermissionsOfReplacedFile) {
  const fs::path target = dir_ / "private.txt";
  write_file_atomically(target, "old");
  fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  write_file_atomically(target, "new");
  EXPECT_EQ(fs::status(target).permissions(),
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
}

TEST_F(AtomicFileTest, NewFileGetsUmaskPermissionsNotTemporaryOnes) {
  const fs::path target = dir_ / "new.txt";
  const mode_t old_mask = ::umask(022);
  write_file_atomically(target, "x");
  ::umask(old_mask);
  EXPECT_EQ(fs::status(target).permissions(),
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
}

TEST_F(AtomicFileTest, RelativePathWritesInCurrentDirectory) {
  const fs::path saved = fs::current_path();
  fs::current_path(dir_);
  write_file_atomically("relative.txt", "here");
  fs::current_path(saved);
  EXPECT_EQ(read_file(dir_ / "relative.txt"), "here");
  EXPECT_THAT(entries_of(dir_), ElementsAre("relative.txt"));
}

TEST_F(AtomicFileTest, ReadersNeverSeeAPartialFile) {
  const fs::path target = dir_ / "shared.bin";
  constexpr std::size_t kSize = 256 * 1024;
  write_file_atomically(target, std::string(kSize, 'a'));
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 20; ++i) write_file_atomically(target, std::string(kSize, i % 2 ? 'a' : 'b'));
    done = true;
  });
  int reads = 0;
  while (!done || reads == 0) {
    const std::string contents = read_file(target);
    ++reads;
    ASSERT_EQ(contents.size(), kSize);
    ASSERT_EQ(contents.find_first_not_of(contents.front()), std::string::npos);
  }
  writer.join();
  EXPECT_THAT(entries_of(dir_), ElementsAre("shared.bin"));
}

}  // namespace
}  // namespace pcv
