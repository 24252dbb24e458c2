#include "media/rtcp/app.hpp"

#include "media/rtcp/byte_io.hpp"

namespace chorus::media::rtcp {

std::optional<App> App::parse(const RtcpHeader& header) {
  if (!header.is(PacketType::kApp)) return std::nullopt;
  const auto body = header.body();
  if (body.size() < 8) return std::nullopt;
  App app;
  app.subtype = header.count();
  app.ssrc = read_u32(body, 0);
  for (std::size_t i = 0; i < 4; ++i) app.name[i] = static_cast<char>(body[4 + i]);
  app.data = body.subspan(8);
  return app;
}

std::optional<std::size_t> App::write(std::span<std::uint8_t> out) const {
  const std::size_t total = size();
  if (subtype > kMaxCount || data.size() % 4 != 0 || out.size() < total) return std::nullopt;
  if (!write_header(out, subtype, static_cast<std::uint8_t>(PacketType::kApp), total)) return std::nullopt;
  write_u32(out, 4, ssrc);
  for (std::size_t i = 0; i < 4; ++i) out[8 + i] = static_cast<std::uint8_t>(name[i]);
  std::ranges::copy(data, out.begin() + 12);
  return total;
}

}  // namespace chorus::media::rtcp
