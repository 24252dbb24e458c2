#include "media/rtcp/compound_builder.hpp"

namespace chorus::media::rtcp {

namespace {

template <class Report>
std::optional<std::size_t> write_report_and_cname(const Report& report, std::string_view cname,
                                                  std::span<std::uint8_t> out) {
  Sdes sdes;
  sdes.chunks.push_back(SdesChunk{report.sender_ssrc, {SdesItem{SdesItemType::kCname, cname}}});
  CompoundBuilder builder(out);
  builder.add(report);
  builder.add(sdes);
  return builder.finish();
}

}  // namespace

std::optional<std::size_t> write_minimal_compound(const ReceiverReport& report, std::string_view cname,
                                                  std::span<std::uint8_t> out) {
  return write_report_and_cname(report, cname, out);
}

std::optional<std::size_t> write_minimal_compound(const SenderReport& report, std::string_view cname,
                                                  std::span<std::uint8_t> out) {
  return write_report_and_cname(report, cname, out);
}

}  // namespace chorus::media::rtcp
