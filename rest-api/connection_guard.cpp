#include "rest-api/connection_guard.hpp"

namespace chorus::rest {

boost::asio::ip::address canonical_address(const boost::asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
  }
  return address;
}

bool PerAddressCounter::try_acquire(const boost::asio::ip::address& address) {
  const auto key = canonical_address(address);
  auto it = counts_.find(key);
  if (it == counts_.end()) {
    counts_.emplace(key, 1);  // any limit admits a first connection (0 means none)
    return true;
  }
  if (limit_ != 0 && it->second >= limit_) return false;
  ++it->second;
  return true;
}

void PerAddressCounter::release(const boost::asio::ip::address& address) {
  const auto it = counts_.find(canonical_address(address));
  if (it == counts_.end()) return;
  if (--it->second == 0) counts_.erase(it);
}

std::size_t PerAddressCounter::count(const boost::asio::ip::address& address) const {
  const auto it = counts_.find(canonical_address(address));
  return it == counts_.end() ? 0 : it->second;
}

std::optional<std::uint64_t> LogGate::pass(TimePoint now) {
  if (last_ && now - *last_ < interval_) {
    ++held_back_;
    return std::nullopt;
  }
  last_ = now;
  const std::uint64_t held_back = held_back_;
  held_back_ = 0;
  return held_back;
}

}  // namespace chorus::rest
