#include <pcv/atomic_file.hpp>
#include <pcv/error.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>
#include <streambuf>
#include <string>
#include <system_error>
#include <vector>

namespace pcv {
namespace {

namespace fs = std::filesystem;

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

[[noreturn]] void throw_os_error(const std::string& what, int err) {
  throw Error(what + ": " + std::system_category().message(err));
}

fs::path directory_of(const fs::path& path) {
  fs::path dir = path.parent_path();
  return dir.empty() ? fs::path(".") : dir;
}

// Six random characters: enough that concurrent writers of the same file do not collide in practice,
// and O_EXCL makes a collision a retry rather than a clash.
std::string random_suffix() {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 engine{std::random_device{}()};
  std::uniform_int_distribution<std::size_t> pick(0, sizeof(kAlphabet) - 2);
  std::string s(6, ' ');
  for (char& c : s) c = kAlphabet[pick(engine)];
  return s;
}

// A std::streambuf over a file descriptor that remembers the first write error (errno), so that
// "disk full" can be reported as such rather than as a stream that merely went bad.
class FdStreamBuf : public std::streambuf {
 public:
  explicit FdStreamBuf(int fd) : fd_(fd), buffer_(std::size_t{1} << 16) { reset_buffer(); }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type ch) override {
    if (!flush_buffer()) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }

  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (n < static_cast<std::streamsize>(buffer_.size())) return std::streambuf::xsputn(s, n);
    // Large blocks (tensor data) go straight to the file instead of through the buffer.
    if (!flush_buffer() || !write_all(s, static_cast<std::size_t>(n))) return 0;
    return n;
  }

  int sync() override { return flush_buffer() ? 0 : -1; }

 private:
  void reset_buffer() { setp(buffer_.data(), buffer_.data() + buffer_.size()); }

  bool flush_buffer() {
    const bool ok = write_all(pbase(), static_cast<std::size_t>(pptr() - pbase()));
    reset_buffer();
    return ok;
  }

  bool write_all(const char* data, std::size_t size) {
    if (error_ != 0) return false;
    while (size > 0) {
      const ssize_t written = ::write(fd_, data, size);
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) {
        error_ = written < 0 ? errno : EIO;
        return false;
      }
      data += written;
      size -= static_cast<std::size_t>(written);
    }
    return true;
  }

  int fd_;
  int error_ = 0;
  std::vector<char> buffer_;
};

// The temporary file next to the target: removed again unless it was renamed over the target.
class TempFile {
 public:
  explicit TempFile(const fs::path& target) : target_(target) {
    const fs::path dir = directory_of(target);
    // Keep the name within NAME_MAX (255) after adding the dot and the suffix.
    const std::string name = "." + target.filename().string().substr(0, 200) + ".tmp-";
    for (int attempt = 0; attempt < 100 && fd_ < 0; ++attempt) {
      path_ = dir / (name + random_suffix());
      // 0666 lets the umask decide, as for any newly created file (mkstemp would force 0600).
      fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd_ < 0 && errno != EEXIST) break;
    }
    if (fd_ < 0)
      throw_os_error("cannot write " + quoted(target) + ": cannot create a temporary file in " + quoted(dir),
                     errno);
    keep_permissions_of_target();
  }

  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!renamed_) ::unlink(path_.c_str());
  }

  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  int fd() const { return fd_; }

  std::string describe() const { return quoted(target_) + " (temporary file " + quoted(path_) + ")"; }

  // Makes the data durable before the rename, so that the rename can never expose an empty file.
  void sync_and_close() {
    if (::fsync(fd_) != 0) throw_os_error("cannot sync " + describe(), errno);
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) throw_os_error("cannot close " + describe(), errno);
  }

  void rename_over_target() {
    if (::rename(path_.c_str(), target_.c_str()) != 0)
      throw_os_error("cannot rename temporary file " + quoted(path_) + " over " + quoted(target_), errno);
    renamed_ = true;
  }

 private:
  // Replacing a file should not change who may read it. Best effort: some file systems (FAT, say)
  // have no permission bits to set.
  void keep_permissions_of_target() {
    struct stat st {};
    if (::lstat(target_.c_str(), &st) == 0 && S_ISREG(st.st_mode)) ::fchmod(fd_, st.st_mode & 07777);
  }

  fs::path target_;
  fs::path path_;
  int fd_ = -1;
  bool renamed_ = false;
};

// The rename is only durable once the directory entry is on disk.
void sync_directory_of(const fs::path& target) {
  const fs::path dir = directory_of(target);
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    throw_os_error("replaced " + quoted(target) + " but cannot open its directory to sync it", errno);
  const int result = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  // EINVAL: the file system cannot sync directories; there is nothing more to do.
  if (result != 0 && err != EINVAL)
    throw_os_error("replaced " + quoted(target) + " but cannot sync its directory", err);
}

}  // namespace

void write_file_atomically(const fs::path& path, const std::function<void(std::ostream&)>& write) {
  if (!path.has_filename()) throw Error("cannot write " + quoted(path) + ": the path names no file");
  TempFile temp(path);
  {
    FdStreamBuf buffer(temp.fd());
    std::ostream out(&buffer);
    write(out);
    out.flush();
    if (buffer.error() != 0) throw_os_error("cannot write " + temp.describe(), buffer.error());
    if (!out) throw Error("cannot write " + quoted(path) + ": the writer left the stream in a failed state");
  }
  temp.sync_and_close();
  temp.rename_over_target();
  sync_directory_of(path);
}

void write_file_atomically(const fs::path& path, std::string_view contents) {
  write_file_atomically(path, [contents](std::ostream& out) {
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  });
}

}  // namespace pcv
