#include "signaling/sdp/simulcast.hpp"

#include <algorithm>

#include "signaling/sdp/sdp_text.hpp"

namespace chorus::sdp {
namespace {

using detail::next_field;
using detail::next_token;

// RFC 8851 §10: rid-id = 1*(alpha-numeric / "-" / "_").
bool is_rid_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxRidLength) return false;
  return std::ranges::all_of(id, [](char c) { return detail::is_alpha_numeric(c) || c == '-' || c == '_'; });
}

// RFC 8851 §10: rid-param = 1*(alpha-numeric / "-") ["=" param-val], param-val = *(%x20-3A / %x3C-7E).
bool is_rid_param(std::string_view param) {
  const auto equals = param.find('=');
  const std::string_view name = param.substr(0, equals);
  if (name.empty()) return false;
  if (!std::ranges::all_of(name, [](char c) { return detail::is_alpha_numeric(c) || c == '-'; })) return false;
  if (equals == std::string_view::npos) return true;
  return std::ranges::all_of(param.substr(equals + 1), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u <= 0x7e && c != ';';
  });
}

// "pt=96,97": the fmt-list of RFC 8851 §10.
AttributeFault parse_payload_types(std::string_view list, std::vector<int>& out) {
  if (list.empty()) return "rid pt= lists no payload type";
  while (true) {
    const auto pt = detail::parse_int(next_field(list, ','), 127);
    if (!pt) return "rid pt= entry is not a payload type";
    if (out.size() == kMaxRidPayloadTypes) return "rid pt= lists too many payload types";
    out.push_back(*pt);
    if (list.empty()) return {};
  }
}

// sc-str-list = sc-alt-list *(";" sc-alt-list); sc-alt-list = sc-id *("," sc-id).
AttributeFault parse_streams(std::string_view list, std::size_t& ids, std::vector<SimulcastStreamView>& out) {
  if (list.empty()) return "simulcast direction lists no stream";
  while (true) {
    std::string_view alternatives = next_field(list, ';');
    SimulcastStreamView& stream = out.emplace_back();
    while (true) {
      std::string_view id = next_field(alternatives, ',');
      SimulcastIdView entry;
      if (!id.empty() && id.front() == '~') {
        entry.paused = true;
        id.remove_prefix(1);
      }
      if (!is_rid_id(id)) return "simulcast names a malformed rid";
      if (++ids > kMaxSimulcastIds) return "simulcast names too many rids";
      entry.rid = id;
      stream.push_back(entry);
      if (alternatives.empty()) break;
    }
    if (list.empty()) return {};
  }
}

bool names_twice(const SimulcastView& sc) {
  std::vector<std::string_view> seen;
  for (const auto* streams : {&sc.send, &sc.recv}) {
    for (const auto& stream : *streams) {
      for (const auto& id : stream) {
        if (std::ranges::find(seen, id.rid) != seen.end()) return true;
        seen.push_back(id.rid);
      }
    }
  }
  return false;
}

}  // namespace

std::expected<RidView, AttributeFault> parse_rid(std::string_view value) {
  std::string_view rest = value;
  RidView out;
  out.id = next_token(rest);
  if (!is_rid_id(out.id)) return std::unexpected("rid id is not 1-16 letters, digits, - or _");
  const std::string_view direction = next_token(rest);
  if (direction == "send") {
    out.direction = RidDirection::kSend;
  } else if (direction == "recv") {
    out.direction = RidDirection::kRecv;
  } else {
    return std::unexpected("rid direction is neither send nor recv");
  }
  // Tolerance: some writers put a space after each ';'.
  std::string_view params = detail::trim(rest);
  if (params.starts_with("pt=")) {
    std::string_view list = detail::trim(next_field(params, ';'));
    if (AttributeFault f = parse_payload_types(list.substr(3), out.payload_types); !f.empty()) {
      return std::unexpected(f);
    }
    params = detail::trim(params);
  }
  out.restrictions = params;
  while (!params.empty()) {
    if (!is_rid_param(detail::trim(next_field(params, ';')))) return std::unexpected("rid restriction is malformed");
  }
  return out;
}

std::expected<SimulcastView, AttributeFault> parse_simulcast(std::string_view value) {
  std::string_view rest = value;
  SimulcastView out;
  bool seen_send = false;
  bool seen_recv = false;
  std::size_t ids = 0;
  for (auto direction = next_token(rest); !direction.empty(); direction = next_token(rest)) {
    // RFC 8853 §5.1: %s"send" / %s"recv", case-sensitive.
    bool* seen = direction == "send" ? &seen_send : direction == "recv" ? &seen_recv : nullptr;
    if (seen == nullptr) return std::unexpected("simulcast direction is neither send nor recv");
    if (*seen) return std::unexpected("simulcast gives a direction twice");
    *seen = true;
    auto& streams = direction == "send" ? out.send : out.recv;
    if (AttributeFault f = parse_streams(next_token(rest), ids, streams); !f.empty()) return std::unexpected(f);
  }
  if (!seen_send && !seen_recv) return std::unexpected("simulcast has no direction");
  if (names_twice(out)) return std::unexpected("simulcast names a rid twice");
  return out;
}

}  // namespace chorus::sdp
