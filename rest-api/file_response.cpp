#include "rest-api/file_response.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/log.hpp"
#include "rest-api/problem.hpp"

namespace chorus::rest {

namespace http = boost::beast::http;

namespace {

std::error_code last_error() {
  return {errno, std::generic_category()};
}

bool is_missing(std::error_code error) {
  return error == std::errc::no_such_file_or_directory || error == std::errc::not_a_directory;
}

HttpResponse range_not_satisfiable(std::uint64_t size) {
  auto response = problem_response(
      Problem{.status = http::status::range_not_satisfiable,
              .slug = kProblemRangeNotSatisfiable,
              .title = "Range not satisfiable",
              .detail = "the requested range starts past the end of the file (" + std::to_string(size) + " bytes)"});
  response.message.set(http::field::content_range, unsatisfied_content_range(size));
  return response;
}

}  // namespace

FileSlice::FileSlice(int fd, std::uint64_t size) : fd_(fd), file_size_(size), length_(size) {}

FileSlice::~FileSlice() {
  ::close(fd_);
}

std::expected<std::shared_ptr<FileSlice>, std::error_code> FileSlice::open(const std::filesystem::path& path) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer; on a regular file it
  // changes nothing.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return std::unexpected(last_error());
  struct stat info{};
  if (::fstat(fd, &info) != 0) {
    const auto error = last_error();
    ::close(fd);
    return std::unexpected(error);
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    return std::unexpected(std::make_error_code(std::errc::no_such_file_or_directory));
  }
  return std::shared_ptr<FileSlice>(new FileSlice(fd, static_cast<std::uint64_t>(info.st_size)));
}

void FileSlice::select(ByteRange range) {
  offset_ = range.first;
  length_ = range.length();
}

std::expected<std::size_t, std::error_code> FileSlice::read(std::uint64_t position, std::span<char> buffer) const {
  if (position >= length_) return 0;
  const auto wanted = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), length_ - position));
  while (true) {
    const auto got = ::pread(fd_, buffer.data(), wanted, static_cast<off_t>(offset_ + position));
    if (got >= 0) return static_cast<std::size_t>(got);
    if (errno != EINTR) return std::unexpected(last_error());
  }
}

HttpResponse file_download(const std::filesystem::path& path, std::string_view content_type,
                           std::string_view range_header) {
  auto opened = FileSlice::open(path);
  if (!opened) {
    if (is_missing(opened.error())) return not_found("no such file");
    // The path names a file the server cannot read: its fault (permissions, descriptors), logged
    // here because the client is only told 500.
    CHORUS_LOG(kWarn, "rest", "file download failed", {"path", path.string()}, {"error", opened.error().message()});
    return internal_error("the file cannot be read");
  }
  auto& file = *opened;
  const auto selection = parse_byte_range(range_header, file->file_size());
  if (selection.kind == RangeSelection::Kind::kUnsatisfiable) return range_not_satisfiable(file->file_size());

  HttpResponse response;
  if (selection.kind == RangeSelection::Kind::kRange) {
    file->select(selection.range);
    response.message.result(http::status::partial_content);
    response.message.set(http::field::content_range, content_range(selection.range, file->file_size()));
  } else {
    response.message.result(http::status::ok);
  }
  response.message.set(http::field::content_type, beast_view(content_type));
  response.message.set(http::field::accept_ranges, "bytes");  // RFC 9110 §14.3
  response.file = std::move(file);
  return response;
}

std::string_view range_to_honour(const BeastRequest& request) {
  if (request.method() != http::verb::get) return {};
  if (request.find(http::field::if_range) != request.end()) return {};
  const auto it = request.find(http::field::range);
  return it == request.end() ? std::string_view{} : std_view(it->value());
}

}  // namespace chorus::rest
