// File downloads as REST responses (recordings of meetings: hundreds of MB), with single byte
// ranges (RFC 9110 §14) so a client can resume or seek.
//
// A route builds the response with file_download(), which opens the file there and then: the
// response carries the open descriptor (a FileSlice in HttpResponse::file), so the file may be
// renamed or unlinked afterwards and the download still completes. The session writes the header,
// then reads and writes the slice in bounded chunks (http_session.cpp), so a download never sits
// in memory. The size is the one fstat saw at the open: should the file shrink under a download,
// the session closes the connection short of Content-Length, which the client sees as an
// incomplete response (RFC 9112 §8).
//
// Threading: file_download() on any thread (the route's, i.e. the control loop); a FileSlice is
// immutable once built and is read on the REST thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <memory>
#include <span>
#include <string_view>
#include <system_error>

#include "rest-api/byte_range.hpp"
#include "rest-api/http_message.hpp"

namespace chorus::rest {

// RFC 9110 §15.5.17; a slug next to problem.hpp's (rest-api/README.md lists it).
inline constexpr std::string_view kProblemRangeNotSatisfiable = "range-not-satisfiable";

// An open regular file and the bytes of it a response sends. Owns the descriptor.
class FileSlice {
 public:
  // Opens `path` read-only (non-blocking, so a FIFO put there cannot hang the caller). Anything but
  // a regular file fails with errc::no_such_file_or_directory. The slice is the whole file.
  static std::expected<std::shared_ptr<FileSlice>, std::error_code> open(const std::filesystem::path& path);
  ~FileSlice();
  FileSlice(const FileSlice&) = delete;
  FileSlice& operator=(const FileSlice&) = delete;

  // Narrows the slice to `range`, which lies within file_size() (parse_byte_range's kRange does).
  void select(ByteRange range);

  [[nodiscard]] std::uint64_t file_size() const { return file_size_; }  // at open()
  [[nodiscard]] std::uint64_t offset() const { return offset_; }
  [[nodiscard]] std::uint64_t length() const { return length_; }  // the body's Content-Length

  // Up to buffer.size() bytes from `position` bytes into the slice (pread: no shared file offset,
  // so copies of a response could even be read concurrently). 0: the file now ends before there.
  [[nodiscard]] std::expected<std::size_t, std::error_code> read(std::uint64_t position, std::span<char> buffer) const;

 private:
  FileSlice(int fd, std::uint64_t size);

  int fd_;
  std::uint64_t file_size_;
  std::uint64_t offset_ = 0;
  std::uint64_t length_;
};

// The response for a download of `path`:
//   200 with the whole file, `Accept-Ranges: bytes` (RFC 9110 §14.3);
//   206 with `Content-Range: bytes first-last/size` and `Accept-Ranges: bytes` (§15.3.7);
//   416 problem+json with `Content-Range: bytes */size` (§15.5.17);
//   404 problem+json when `path` does not exist or is not a regular file;
//   500 problem+json (and a log line) when it exists but cannot be opened (permissions, no
//       descriptors left): a server fault, not the client's.
// Content-Type is `content_type` on 200/206; the session sets Content-Length from the slice.
// `range_header`: the request's Range value to honour, normally range_to_honour(request).
// The route decides whether the caller may see the file; nothing here checks that.
[[nodiscard]] HttpResponse file_download(const std::filesystem::path& path, std::string_view content_type,
                                         std::string_view range_header);

// The Range value a download should honour: the header's value on a GET, else empty. RFC 9110
// §14.2: range handling is defined for GET only. §13.1.5: with If-Range, Range applies only when
// the validator matches ours; file_download() sends no validator, so none can match and the whole
// file is sent.
[[nodiscard]] std::string_view range_to_honour(const BeastRequest& request);

}  // namespace chorus::rest
